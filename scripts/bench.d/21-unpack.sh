#!/bin/bash
# 21-unpack: flattening a multi-layer image into a rootfs, side by side:
#   cutaway-image unpack    (gzip decode, diff_id hashing, confined *at() extraction)
#   umoci unpack            (the OCI reference tool, where installed)
#   tar -xzf per layer      (GNU tar, no whiteouts, no digest check: a floor)
# on the same OCI layout (scripts/fixtures/make-bench-image.sh, ~78 MB
# compressed, 5 layers).  Warm page cache; best of 3 runs each; the figures
# are ratios measured in this one run.  cutaway is timed with and without
# its final syncfs(2); umoci and tar never sync, so "+sync" rows add one.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CUTAWAY_TRACE=off
work=$(mktemp -d /tmp/cutaway-bench-unpack.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
img=$work/layout
scripts/fixtures/make-bench-image.sh "$img" >/dev/null 2>&1
I=${CUTAWAY_IMAGE_BIN:-bin/cutaway-image}

# best_of CMD...: the fastest of 3 runs in seconds; $work/out is emptied
# before each run (not timed).
best_of() {
  local best=""
  for _ in 1 2 3; do
    rm -rf --one-file-system "$work/out" "$work"/out.*
    sync
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
    t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000))
    [[ -z $best || $ms -lt $best ]] && best=$ms
  done
  echo "$best"
}

umoci_unpack() { umoci unpack --image "$img:bench" "$work/out"; }
umoci_sync() { umoci_unpack && sync -f "$work"; }
tar_layers() {
  mkdir -p "$work/out"
  for d in $(jq -r '.layers[].digest' "$img/blobs/sha256/$(jq -r '.manifests[0].digest' "$img/index.json" | cut -d: -f2)"); do
    tar -xzf "$img/blobs/sha256/${d#sha256:}" -C "$work/out"
  done
}
tar_sync() { tar_layers && sync -f "$work"; }

size=$(du -cb "$img"/blobs/sha256/* | tail -1 | cut -f1)
c_nosync=$(best_of $I --layout "$img" unpack --no-sync bench "$work/out")
entries=$(find "$work/out" | wc -l)
unpacked=$(du -sb "$work/out" | cut -f1)
c_sync=$(best_of $I --layout "$img" unpack bench "$work/out")
printf 'image: %d MB compressed, %d MB unpacked, %d entries, 5 layers\n' \
  $((size / 1000000)) $((unpacked / 1000000)) "$entries"
printf '%-34s %8s\n' "unpack" "ms"
printf '%-34s %8d\n' "cutaway-image unpack --no-sync" "$c_nosync"
printf '%-34s %8d\n' "cutaway-image unpack (syncfs)" "$c_sync"
t_tar=$(best_of tar_layers)
t_tar_sync=$(best_of tar_sync)
printf '%-34s %8d\n' "tar -xzf per layer" "$t_tar"
printf '%-34s %8d\n' "tar -xzf per layer + sync" "$t_tar_sync"
if command -v umoci >/dev/null; then
  t_umoci=$(best_of umoci_unpack)
  t_umoci_sync=$(best_of umoci_sync)
  printf '%-34s %8d\n' "umoci unpack" "$t_umoci"
  printf '%-34s %8d\n' "umoci unpack + sync" "$t_umoci_sync"
  awk -v a="$t_umoci" -v b="$c_nosync" -v c="$t_umoci_sync" -v d="$c_sync" 'BEGIN {
    printf "ratio umoci / cutaway: %.1fx (no sync), %.1fx (both synced)\n", a / b, c / d }'
else
  echo "umoci not installed: skipped"
fi
awk -v a="$t_tar" -v b="$c_nosync" 'BEGIN { printf "ratio tar / cutaway: %.1fx (no sync)\n", a / b }'
