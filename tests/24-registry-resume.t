#!/bin/bash
# 24-registry-resume: a network that fails mid-blob (security-catalogue G9).
# A registry front (tests/helpers/registry_tokend --flaky) cuts the first
# GET of every blob halfway, or stalls it, or ignores Range, or cuts every
# GET.  A cut or stalled layer is resumed with "Range: bytes=N-" from the
# first byte we do not have, its sha256 continuing where it stopped; the
# retries are bounded; the blobs are verified either way; a pull that gives
# up leaves nothing behind.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/registry.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v umoci >/dev/null || skip_all "umoci not installed"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
[[ -x $REG_HELPERS/registry_tokend ]] || skip_all "test registry helper not built (make)"
tap_tmproot
export DOCKER_CONFIG=$T/docker

reg_start reg plain || { fail "registry starts"; done_testing; exit 1; }
reg_fixture "$T/oci" img 3 256
for m in direct reset stall norange broken; do reg_push_skopeo "$T/oci:img" "$m/img:v1" >/dev/null; done
m=$T/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/oci/index.json" | cut -d: -f2)
mapfile -t layers < <(jq -r '.layers[].digest' "$m")

fp=$(free_port)
"$REG_HELPERS/registry_tokend" --listen "127.0.0.1:$fp" --flaky "$T/oci/blobs/sha256" \
  --upstream "http://$REG" --log "$T/flaky.log" 2>"$T/flaky.err" &
flaky=$!
on_exit "kill $flaky; wait $flaky"
wait_port "$fp" || fail "flaky registry listens"
FL=127.0.0.1:$fp

# Every blob in the layout hashes to its name; no temp file is left.
layout_verified() {
  local lay=$1 f
  for f in "$lay"/blobs/sha256/*; do
    [[ -e $f ]] || continue
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$(basename "$f")" ]] || return 1
  done
  [[ -z $(ls -A "$lay/ingest" 2>/dev/null) ]]
}
# GETs of a blob in a mode, as "range=..." lines in arrival order.
gets() { grep " GET /v2/$1/img/blobs/$2 " "$T/flaky.log" | sed 's/.* range=//'; }

ok "a direct pull (the reference tree)" cutaway-image --layout "$T/l0" pull -q --unpack "$T/r0" "$REG/direct/img:v1"

# ---- the connection is cut halfway through every blob, once
: >"$T/trace.jsonl"
ok "reset mid-blob: the pull completes" cutaway-image --layout "$T/l1" pull -q --unpack "$T/r1" "$FL/reset/img:v1"
ok "... every blob verified, no temp file left" layout_verified "$T/l1"
is "$(ls "$T/l1/blobs/sha256" | wc -l)" "$(ls "$T/l0/blobs/sha256" | wc -l)" "... all blobs present"
ok "... the unpacked tree is the direct pull's" diff -r "$T/r0" "$T/r1"
resumed=0
for d in "${layers[@]}"; do
  size=$(stat -c %s "$T/oci/blobs/sha256/${d#sha256:}")
  want="- bytes=$((size / 2))-"
  [[ $(gets reset "$d" | tr '\n' ' ') == "$want " ]] && resumed=$((resumed + 1)) ||
    diag "$d: $(gets reset "$d" | tr '\n' ' ') (wanted: $want)"
done
is "$resumed" "${#layers[@]}" "each layer: one cut GET, then one Range request from the byte where it broke"
is "$(jq -r 'select(.name=="pull.retry") | .attrs.offset > 0' "$T/trace.jsonl" | sort -u)" "true" \
  "the trace has a pull.retry event with the resume offset per layer"
is "$(jq -r 'select(.name=="pull.retry")' "$T/trace.jsonl" | jq -s length)" "${#layers[@]}" "... one per layer"
is "$(jq -r 'select(.name=="http.retry") | .attrs.attempt' "$T/trace.jsonl")" 2 \
  "the config blob (a small GET) is fetched again whole: http.retry"

# ---- the registry ignores Range: the bytes we have are skipped, not doubled
ok "a registry that ignores Range: the pull completes" cutaway-image --layout "$T/l2" pull -q "$FL/norange/img:v1"
ok "... every blob verified" layout_verified "$T/l2"
is "$(gets norange "${layers[0]}" | wc -l)" 2 "... two GETs of a layer"

# ---- the transfer stalls halfway: the stall timeout stops it, then it resumes
: >"$T/trace.jsonl"
ok "a stalled transfer is stopped and resumed" cutaway-image --layout "$T/l3" pull -q --stall-timeout 1 "$FL/stall/img:v1"
ok "... every blob verified" layout_verified "$T/l3"
is "$(jq -r 'select(.name=="pull.retry") | .attrs.reason' "$T/trace.jsonl" | sort -u)" "stalled" \
  "... the trace says why: stalled"

# ---- every GET is cut: bounded retries, a clear error, nothing left
out=$(cutaway-image --layout "$T/l4" pull -q --unpack "$T/r4" "$FL/broken/img:v1" 2>&1)
rc=$?
ok "a blob cut on every try: the pull fails" test "$rc" -ne 0
like "$out" "blob sha256:[0-9a-f]{64}: after 5 attempts: .*" "... naming the blob and the 5 attempts"
failed=$(grep -oE 'blob sha256:[0-9a-f]{64}' <<<"$out" | head -1 | cut -d' ' -f2)
is "$(gets broken "$failed" | wc -l)" 5 "... exactly 5 GETs of it"
ok "... nothing unverified in the layout" layout_verified "$T/l4"
is "$(jq '.manifests | length' "$T/l4/index.json")" 0 "... no tag"
[[ ! -e $T/r4 ]] && [[ -z $(ls -d "$T"/r4.partial-* 2>/dev/null) ]] && pass "... no rootfs left" ||
  fail "rootfs left behind"
done_testing
