#!/bin/bash
# 21-unpack: flattening a multi-layer image into a rootfs, side by side:
#   cutaway-image unpack    (gzip decode, diff_id hashing, confined *at() extraction)
#   umoci unpack            (the OCI reference tool, where installed)
#   tar -xzf per layer      (GNU tar, no whiteouts, no digest check: a floor)
# on the same OCI layout (scripts/fixtures/make-bench-image.sh, ~78 MB
# compressed, 5 layers).  Warm page cache; best of 3 rounds; the figures
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

# Best of 3, in rounds: each round runs every contender once, in turn, so
# that a busy moment of the machine does not fall on one tool only.  Every
# run writes into a fresh $out; old outputs are removed only at the end: on
# ext4 without a journal (as on some build VMs) every file created within a
# minute of a big rm -rf makes the kernel skip each recently freed inode,
# which would time the rm, not the tool.  BEST[name] is in milliseconds.
declare -A BEST
rounds() {
  local i name t0 t1 ms
  for i in 1 2 3; do
    for name in "$@"; do
      out=$(mktemp -u "$work/out.XXXXXX")
      sync
      t0=$(date +%s%N)
      "$name" >/dev/null 2>&1 || { echo "FAILED: $name" >&2; return 1; }
      t1=$(date +%s%N)
      ms=$(((t1 - t0) / 1000000))
      if [[ -z ${BEST[$name]:-} || $ms -lt ${BEST[$name]} ]]; then BEST[$name]=$ms; fi
    done
  done
  return 0
}

umoci_unpack() { umoci unpack --image "$img:bench" "$out"; }
umoci_sync() { umoci_unpack && sync -f "$work"; }
tar_layers() {
  mkdir -p "$out"
  for d in $(jq -r '.layers[].digest' "$img/blobs/sha256/$(jq -r '.manifests[0].digest' "$img/index.json" | cut -d: -f2)"); do
    tar -xzf "$img/blobs/sha256/${d#sha256:}" -C "$out"
  done
}
tar_sync() { tar_layers && sync -f "$work"; }

size=$(du -cb "$img"/blobs/sha256/* | tail -1 | cut -f1)
ours_nosync() { $I --layout "$img" unpack --no-sync bench "$out"; }
ours_sync() { $I --layout "$img" unpack bench "$out"; }
contenders=(ours_nosync ours_sync tar_layers tar_sync)
command -v umoci >/dev/null && contenders+=(umoci_unpack umoci_sync)
rounds "${contenders[@]}"
first=$(ls -d "$work"/out.* | head -1)
entries=$(find "$first" | wc -l)
unpacked=$(du -sb "$first" | cut -f1)
c_nosync=${BEST[ours_nosync]} c_sync=${BEST[ours_sync]}
printf 'image: %d MB compressed, %d MB unpacked, %d entries, 5 layers\n' \
  $((size / 1000000)) $((unpacked / 1000000)) "$entries"
printf '%-34s %8s\n' "unpack" "ms"
printf '%-34s %8d\n' "cutaway-image unpack --no-sync" "$c_nosync"
printf '%-34s %8d\n' "cutaway-image unpack (syncfs)" "$c_sync"
t_tar=${BEST[tar_layers]} t_tar_sync=${BEST[tar_sync]}
printf '%-34s %8d\n' "tar -xzf per layer" "$t_tar"
printf '%-34s %8d\n' "tar -xzf per layer + sync" "$t_tar_sync"
if [[ -n ${BEST[umoci_unpack]:-} ]]; then
  t_umoci=${BEST[umoci_unpack]} t_umoci_sync=${BEST[umoci_sync]}
  printf '%-34s %8d\n' "umoci unpack" "$t_umoci"
  printf '%-34s %8d\n' "umoci unpack + sync" "$t_umoci_sync"
  awk -v a="$t_umoci" -v b="$c_nosync" -v c="$t_umoci_sync" -v d="$c_sync" 'BEGIN {
    printf "ratio umoci / cutaway: %.1fx (no sync), %.1fx (both synced)\n", a / b, c / d }'
else
  echo "umoci not installed: skipped"
fi
awk -v a="$t_tar" -v b="$c_nosync" 'BEGIN { printf "ratio tar / cutaway: %.1fx (no sync)\n", a / b }'
