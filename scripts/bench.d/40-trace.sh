#!/bin/bash
# 40-trace.sh: cutaway-trace on a 1,000,000-event trace file.
# Generates the file with `cutaway-trace synth` (C, a second or so), then
# times list, show last and arch, printing events/s and the peak RSS, which
# stays flat however large the file: the reader streams it, keeps one
# summary per trace, and loads only the selected request.
set -u
cd "$(dirname "$0")/../.."
CT=bin/cutaway-trace
N=${TRACE_BENCH_EVENTS:-1000000}
dir=$(mktemp -d /tmp/cutaway-bench-trace.XXXXXX)
trap 'rm -rf "$dir"' EXIT
f=$dir/trace.jsonl
$CT synth --events "$N" -o "$f" || exit 1
printf 'file: %d events, %d MB\n' "$N" $(($(stat -c %s "$f") / 1048576))
cat "$f" >/dev/null # warm the page cache: we measure the reader, not the disk
for cmd in "list" "show last" "arch --format dot"; do
  out=$( { /usr/bin/time -f '%e %M' $CT $cmd --file "$f" >/dev/null; } 2>&1 | tail -1)
  read -r secs rss <<<"$out"
  rate=$(awk -v n="$N" -v s="$secs" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }')
  printf '%-20s %6.2f s  %10s events/s  max RSS %6d KB\n' "$cmd" "$secs" "$rate" "$rss"
done
