#!/bin/bash
# 25-registry-pull: cutaway-image pull against Debian's docker-registry:
# images skopeo pushed are pulled into an OCI layout (that skopeo and umoci
# read back), unpacked while downloading, selected by platform from an
# index, and every request is a client span.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/registry.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
command -v umoci >/dev/null || skip_all "umoci not installed"
tap_tmproot
export DOCKER_CONFIG=$T/docker

reg_start reg plain || { fail "registry starts"; done_testing; exit 1; }
reg_fixture "$T/oci" img 3 128 || fail "fixture"
ok "skopeo pushes the fixture" reg_push_skopeo "$T/oci:img" test/img:v1
I=(cutaway-image --layout "$T/lay")

out=$("${I[@]}" pull "$REG/test/img:v1" 2>"$T/progress")
like "$out" "^$REG/test/img:v1@sha256:[0-9a-f]{64}$" "pull prints ref@digest"
mdigest=${out#*@}
want=$(skopeo inspect --raw --tls-verify=false "docker://$REG/test/img:v1" | sha256sum | cut -d' ' -f1)
is "$mdigest" "sha256:$want" "manifest digest is the hash of the registry's bytes"
like "$(cat "$T/progress")" "Download complete" "plain progress lines when not a terminal"
is "$(grep -c 'Downloading \[' "$T/progress")" 0 "no progress bars in a pipe"
ok "skopeo reads the pulled image from the layout" \
  skopeo inspect "oci:$T/lay:$REG/test/img:v1"
is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/lay/index.json")" \
  "$REG/test/img:v1" "index.json tags the normalised reference"
bad=0
for f in "$T/lay/blobs/sha256/"*; do
  [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || bad=1
done
is "$bad" 0 "every blob in the layout hashes to its name"
is "$(ls -A "$T/lay/ingest" 2>/dev/null | wc -l)" 0 "no temp file left in ingest/"

out=$("${I[@]}" pull "$REG/test/img:v1" 2>&1)
is "$(grep -c 'Already exists' <<<"$out")" 3 "a second pull finds every layer already there"
is "$("${I[@]}" pull -q "$REG/test/img:v1" 2>&1)" "$REG/test/img:v1" "-q prints only the reference"
out=$("${I[@]}" pull -q "$REG/test/img@$mdigest" 2>&1)
is "$out" "$REG/test/img@$mdigest" "pull by digest"
zero=sha256:$(printf '0%.0s' {1..64})
out=$("${I[@]}" pull "$REG/test/img@$zero" 2>&1)
like "$out" "manifest: GET 404" "an unknown digest is a clear error"
out=$("${I[@]}" pull "$REG/test/img@sha256:../../etc" 2>&1)
like "$out" "bad digest" "a malformed digest is refused before any request"

# Streaming unpack: the flattened rootfs equals what umoci makes.
ok "pull --unpack" "${I[@]}" pull -q --unpack "$T/root" "$REG/test/img:v1"
umoci unpack --image "$T/oci:img" "$T/umoci" >/dev/null 2>&1
ok "the rootfs matches umoci's" diff -r "$T/root" "$T/umoci/rootfs"
mkdir -p "$T/full" && touch "$T/full/x"
out=$(cutaway-image --layout "$T/lay2" pull --unpack "$T/full" "$REG/test/img:v1" 2>&1)
like "$out" "must be empty" "unpack into a non-empty directory is refused"
is "$(jq '.manifests | length' "$T/lay2/index.json")" 0 "... and nothing was tagged"
ok "fresh layout: download and unpack at once" \
  cutaway-image --layout "$T/lay3" pull -q --unpack "$T/root3" "$REG/test/img:v1"
ok "same rootfs" diff -r "$T/root3" "$T/umoci/rootfs"
ok "--layers: one directory per layer" \
  cutaway-image --layout "$T/lay4" pull -q --layers "$T/layers" "$REG/test/img:v1"
is "$(ls "$T/layers" | wc -l)" 3 "three layer directories, named by diff_id"
is "$(ls "$T/layers"/*/data/layer2.txt | wc -l)" 1 "layer 2's file is in its own directory only"

# An index: the default platform is linux/amd64; another must be asked for.
m=$(jq -r '.manifests[0].digest' "$T/oci/index.json")
msize=$(jq -r '.manifests[0].size' "$T/oci/index.json")
reg_fixture "$T/oci-arm" img 1 8
reg_push_skopeo "$T/oci-arm:img" test/img:arm >/dev/null
marm=$(jq -r '.manifests[0].digest' "$T/oci-arm/index.json")
marmsize=$(jq -r '.manifests[0].size' "$T/oci-arm/index.json")
cat >"$T/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$marm","size":$marmsize,
  "platform":{"architecture":"arm64","os":"linux"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$m","size":$msize,
  "platform":{"architecture":"amd64","os":"linux"}}]}
JSON
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
  -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
  --data-binary @"$T/index.json" "http://$REG/v2/test/img/manifests/multi")
is "$code" 201 "an index is in the registry"
out=$("${I[@]}" pull --platform linux/amd64 "$REG/test/img:multi" 2>/dev/null)
is "${out#*@}" "$m" "the index resolves to the linux/amd64 manifest"
out=$("${I[@]}" pull --platform linux/arm64 "$REG/test/img:multi" 2>/dev/null)
is "${out#*@}" "$marm" "--platform linux/arm64 picks the arm64 manifest"
out=$("${I[@]}" pull --platform linux/s390x "$REG/test/img:multi" 2>&1)
like "$out" "s390x" "a platform the index lacks is a clear error"

# Traces: a client span per request, with the registry as peer.
tr=$T/trace.jsonl
is "$(jq -r 'select(.ev=="begin" and .kind=="client") | .attrs.peer' "$tr" | sort -u)" "$REG" \
  "every client span names the registry as peer"
like "$(jq -r 'select(.ev=="begin" and .kind=="client") | .name' "$tr" | sort -u | tr '\n' ' ')" \
  "GET /v2/test/img/blobs/sha256:[0-9a-f]{64}.*GET /v2/test/img/manifests/v1" \
  "spans are named METHOD /path"
is "$(jq -r 'select(.ev=="end" and .kind=="client" and .attrs.status==200) | .attrs.bytes' "$tr" |
  grep -c .)" "$(jq -r 'select(.ev=="end" and .kind=="client" and .attrs.status==200)|.name' "$tr" |
  grep -c .)" "client spans carry status and bytes"
for s in image.pull pull.resolve pull.fetch content.verify image.unpack unpack.layer; do
  like "$(jq -r 'select(.ev=="begin") | .name' "$tr" | sort -u | tr '\n' ' ')" "$s" "trace has $s"
done
done_testing
