#!/bin/bash
# 28-registry-hostile: a registry that lies.  Tampered, short and long
# blobs, unknown media types, oversized manifests, redirects to another
# host (credentials must not follow), redirect loops, and a pull killed
# halfway: each is a clear error naming the problem, and the layout keeps
# no tag, no partial blob and nothing unverified.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/registry.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v umoci >/dev/null || skip_all "umoci not installed"
command -v curl >/dev/null || skip_all "curl not installed"
[[ -x $REG_HELPERS/registry_tokend ]] || skip_all "test registry helper not built (make)"
tap_tmproot
export DOCKER_CONFIG=$T/docker

reg_start reg plain || { fail "registry starts"; done_testing; exit 1; }
reg_fixture "$T/oci" img 2 64
reg_push_skopeo "$T/oci:img" test/img:v1 >/dev/null
m=$T/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/oci/index.json" | cut -d: -f2)
layer0=$(jq -r '.layers[0].digest' "$m")
regblob() { echo "$REG_DIR/storage/docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/data"; }

# The layout holds only whole, verified blobs and no tag for a failed pull.
layout_clean() {
  local lay=$1 f
  [[ -e $lay/index.json ]] && (($(jq '.manifests | length' "$lay/index.json") > 0)) && return 1
  for f in "$lay"/blobs/sha256/*; do
    [[ -e $f ]] || continue
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || return 1
  done
  [[ -z $(ls -A "$lay/ingest" 2>/dev/null) ]]
}

put_manifest() { # FILE TAG -> http code
  curl -s -o /dev/null -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary @"$1" "http://$REG/v2/test/img/manifests/$2"
}

# ---- blob content that does not match its digest
data=$(regblob "$layer0")
cp "$data" "$T/saved"
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
out=$(cutaway-image --layout "$T/l1" pull --unpack "$T/r1" "$REG/test/img:v1" 2>&1)
like "$out" "$layer0" "tampered blob: the error names the blob"
like "$out" "digest|diff_id" "... and says the digest does not match"
ok "tampered blob: nothing half-committed" layout_clean "$T/l1"
[[ ! -e $T/r1 ]] && [[ -z $(ls -d "$T"/r1.partial-* 2>/dev/null) ]] && pass "... no rootfs left" ||
  fail "rootfs left behind"

# ---- longer than the descriptor says
cp "$T/saved" "$data" && printf 'extra' >>"$data"
out=$(cutaway-image --layout "$T/l2" pull "$REG/test/img:v1" 2>&1)
like "$out" "$layer0.*(larger|more than|size)" "a blob longer than its descriptor is refused"
ok "... nothing half-committed" layout_clean "$T/l2"

# ---- shorter
head -c 1000 "$T/saved" >"$data"
out=$(cutaway-image --layout "$T/l3" pull "$REG/test/img:v1" 2>&1)
like "$out" "$layer0.*size" "a short blob is refused, naming the size"
ok "... nothing half-committed" layout_clean "$T/l3"
cp "$T/saved" "$data"
ok "restored registry: the same layout now pulls" cutaway-image --layout "$T/l3" pull -q "$REG/test/img:v1"
ok "... completely" diff <(ls "$T/l3/blobs/sha256" | wc -l) <(echo 4)

# ---- unknown layer media type
jq '.layers[1].mediaType = "application/vnd.example.unknown"' "$m" >"$T/unknown.json"
is "$(put_manifest "$T/unknown.json" unknown)" 201 "the registry stores a manifest with an odd layer type"
out=$(cutaway-image --layout "$T/l4" pull "$REG/test/img:unknown" 2>&1)
like "$out" "unsupported media type \"application/vnd.example.unknown\"" "unknown media type: clear error"
is "$(ls "$T/l4/blobs/sha256" 2>/dev/null | wc -l)" 0 "... refused before a single blob is fetched"

# ---- redirects to another host:port must not carry credentials
pa=$(free_port)
pb=$(free_port)
while [[ $pb == "$pa" ]]; do pb=$(free_port); done
"$REG_HELPERS/registry_tokend" --listen "127.0.0.1:$pa" --evil "$pb" --upstream "http://$REG" \
  --user alice:s3cret --log "$T/evil.log" 2>"$T/evil.err" &
evil=$!
on_exit "kill $evil; wait $evil"
wait_port "$pa" && wait_port "$pb" || fail "evil registry listens"
EV=127.0.0.1:$pa
ok "login to the redirecting registry" bash -c "echo s3cret | cutaway-image login -u alice --password-stdin $EV"
: >"$T/trace.jsonl"
ok "pull through two redirects" cutaway-image --layout "$T/l6" pull -q "$EV/test/img:v1"
is "$(grep -c "^$pa GET /v2/test/img/manifests/v1 auth=yes tp=yes" "$T/evil.log")" 1 \
  "the registry itself got the credentials"
is "$(grep -c "^$pb " "$T/evil.log")" "$(grep -c "^$pb .*auth=no" "$T/evil.log")" \
  "the other host:port never did"
(($(grep -c "^$pb " "$T/evil.log") >= 3)) && pass "(manifest and blobs went through it)" ||
  fail "redirect host saw $(grep -c "^$pb " "$T/evil.log") requests"
is "$(jq -r 'select(.name=="http.redirect") | .attrs.credentials' "$T/trace.jsonl" | sort -u | tr '\n' ' ')" \
  "false " "the trace shows every redirect hop without credentials"
out=$(cutaway-image --layout "$T/l7" pull "$EV/loop/img:v1" 2>&1)
like "$out" "more than 10 redirects" "a redirect loop stops after 10"

# ---- manifests no real registry would serve (the same helper fakes them)
out=$(cutaway-image --layout "$T/l5" pull "$EV/big/img:v1" 2>&1)
like "$out" "larger than 4 MiB" "a manifest over 4 MiB is refused"
ok "... nothing stored" layout_clean "$T/l5"
out=$(cutaway-image --layout "$T/l5" pull "$EV/schema1/img:v1" 2>&1)
like "$out" "schema 1 manifest .* not supported" "schema 1 is refused with a clear error"
out=$(cutaway-image --layout "$T/l5" pull "$EV/confused/img:v1" 2>&1)
like "$out" "manifests.*layers|layers.*manifests" "a manifest with both manifests and layers is refused (CVE-2021-41190)"
out=$(cutaway-image --layout "$T/l5" pull "$EV/mismatch/img:v1" 2>&1)
like "$out" "[Mm]edia ?[Tt]ype|mediaType" "Content-Type and mediaType disagreeing is refused"
for x in schema1 confused mismatch; do diag "$x: $(cutaway-image --layout "$T/l5" pull "$EV/$x/img:v1" 2>&1 | tail -1)"; done
ok "... and none of them left anything" layout_clean "$T/l5"

# ---- a pull killed halfway leaves nothing visible; the next one completes
reg_fixture "$T/oci-big" img 2 24576
reg_push_skopeo "$T/oci-big:img" test/big:v1 >/dev/null
cutaway-image --layout "$T/l8" pull -q -j 1 "$REG/test/big:v1" >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 400; i++)); do
  [[ -n $(ls -A "$T/l8/ingest" 2>/dev/null) ]] && break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
diag "killed after $i polls; ingest: $(ls "$T/l8/ingest" 2>/dev/null | wc -l) temp files"
n=$(jq '.manifests | length' "$T/l8/index.json" 2>/dev/null || echo 0)
bad=0
for f in "$T"/l8/blobs/sha256/*; do
  [[ -e $f ]] || continue
  [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || bad=1
done
is "$bad" 0 "killed pull: every visible blob is whole and verified"
ok "the next pull completes" cutaway-image --layout "$T/l8" pull -q "$REG/test/big:v1"
is "$(ls -A "$T/l8/ingest" | wc -l)" 0 "... and the dead pull's temp files are gone"
is "$(jq '.manifests | length' "$T/l8/index.json")" 1 "... and the image is tagged"
diag "(tag present before the retry: $n)"
done_testing
