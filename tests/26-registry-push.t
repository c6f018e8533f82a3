#!/bin/bash
# 26-registry-push: cutaway-image push to Debian's docker-registry:
# monolithic and chunked uploads, HEAD skipping blobs the registry has, a
# cross-repository mount, the manifest last; skopeo reads back what we
# pushed with the same digests.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/registry.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
command -v umoci >/dev/null || skip_all "umoci not installed"
tap_tmproot
export DOCKER_CONFIG=$T/docker

reg_start src plain || { fail "source registry starts"; done_testing; exit 1; }
SRC=$REG
reg_start dst plain || { fail "destination registry starts"; done_testing; exit 1; }
DST=$REG
reg_fixture "$T/oci" img 3 256 || fail "fixture"
REG=$SRC ok "skopeo pushes the fixture" reg_push_skopeo "$T/oci:img" test/img:v1
I=(cutaway-image --layout "$T/lay")
ok "pull it" "${I[@]}" pull -q "$SRC/test/img:v1"
mdigest=$(jq -r '.manifests[0].digest' "$T/lay/index.json")

: >"$T/trace.jsonl"
out=$("${I[@]}" push "$SRC/test/img:v1" "$DST/mono/img:v1" 2>"$T/err")
is "$out" "$DST/mono/img:v1@$mdigest" "push prints dest@digest"
is "$(grep -c Pushed "$T/err")" 4 "three layers and the config uploaded"
names=$(jq -r 'select(.ev=="begin" and .kind=="client") | .name' "$T/trace.jsonl")
is "$(grep -c '^HEAD /v2/mono/img/blobs/' <<<"$names")" 4 "a HEAD per blob first"
is "$(grep -c '^PUT /v2/mono/img/blobs/uploads/' <<<"$names")" 4 "monolithic: one PUT per blob"
is "$(grep -c '^PATCH' <<<"$names")" 0 "no PATCH without --chunk-size"
like "$(tail -n 1 <<<"$names")" "^PUT /v2/mono/img/manifests/v1$" "the manifest goes last"
# Uploads run side by side (one curl multi handle): every blob's HEAD is
# sent before the first blob is done, as the order of trace lines shows.
order=$(jq -r 'select((.ev=="begin" and (.name | startswith("HEAD "))) or (.ev=="end" and .name=="push.blob")) | .ev' "$T/trace.jsonl" | head -5 | tr '\n' ' ')
is "$order" "begin begin begin begin end " "the 4 blobs are pushed in parallel (4 HEADs before the first blob ends)"

got=$(skopeo inspect --raw --tls-verify=false "docker://$DST/mono/img:v1" | sha256sum | cut -d' ' -f1)
is "sha256:$got" "$mdigest" "skopeo reads back the same manifest bytes"
ok "skopeo copies it back to an OCI layout" \
  skopeo copy -q --src-tls-verify=false "docker://$DST/mono/img:v1" "oci:$T/back:v1"
is "$(jq -r '.manifests[0].digest' "$T/back/index.json")" "$mdigest" "same digest after the round trip"
umoci unpack --image "$T/back:v1" "$T/back-bundle" >/dev/null 2>&1
umoci unpack --image "$T/oci:img" "$T/orig-bundle" >/dev/null 2>&1
ok "umoci unpacks the round trip to the same tree" diff -r "$T/back-bundle/rootfs" "$T/orig-bundle/rootfs"

: >"$T/trace.jsonl"
out=$("${I[@]}" push "$SRC/test/img:v1" "$DST/mono/img:v1" 2>&1)
is "$(grep -c 'Layer already exists' <<<"$out")" 4 "a second push skips every blob (HEAD 200)"
is "$(jq -r 'select(.ev=="begin") | .name' "$T/trace.jsonl" | grep -c '^POST')" 0 "... and starts no upload"

: >"$T/trace.jsonl"
ok "chunked push" "${I[@]}" push -q --chunk-size 65536 "$SRC/test/img:v1" "$DST/chunked/img:c"
names=$(jq -r 'select(.ev=="begin" and .kind=="client") | .name' "$T/trace.jsonl")
patches=$(grep -c '^PATCH /v2/chunked/img/blobs/uploads/' <<<"$names")
(( patches >= 12 )) && pass "chunked: several PATCHes per layer ($patches)" || fail "chunked: $patches PATCHes"
got=$(skopeo inspect --raw --tls-verify=false "docker://$DST/chunked/img:c" | sha256sum | cut -d' ' -f1)
is "sha256:$got" "$mdigest" "the chunked image reads back"
ok "skopeo copies the chunked image" \
  skopeo copy -q --src-tls-verify=false "docker://$DST/chunked/img:c" "oci:$T/back2:c"

: >"$T/trace.jsonl"
ok "pull the pushed image back" "${I[@]}" pull -q "$DST/mono/img:v1"
out=$("${I[@]}" push "$DST/mono/img:v1" "$DST/mounted/img:m" 2>&1)
is "$(grep -c 'Mounted from mono/img' <<<"$out")" 4 "another repository on the same registry: blobs mounted"
like "$(jq -r 'select(.ev=="begin" and .kind=="client") | .attrs.url' "$T/trace.jsonl" | grep mount= | head -1)" \
  "/v2/mounted/img/blobs/uploads/\?mount=sha256:[0-9a-f]{64}&from=mono/img" "the mount request names the source"
got=$(skopeo inspect --raw --tls-verify=false "docker://$DST/mounted/img:m" | sha256sum | cut -d' ' -f1)
is "sha256:$got" "$mdigest" "the mounted image reads back"

out=$("${I[@]}" push "$SRC/not/there:v1" "$DST/x/y:z" 2>&1)
like "$out" "not found" "pushing an image the layout lacks is a clear error"
out=$("${I[@]}" push "$SRC/test/img:v1" "$DST/x/y@sha256:$(printf '1%.0s' {1..64})" 2>&1)
like "$out" "needs a tag" "a digest-only destination is refused"
like "$(jq -r 'select(.ev=="begin") | .name' "$T/trace.jsonl" | sort -u | tr '\n' ' ')" \
  "image.push.*push.blob" "trace has image.push and push.blob spans"
done_testing
