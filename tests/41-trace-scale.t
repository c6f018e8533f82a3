#!/bin/bash
# 41-trace-scale.t: a large trace file is read with bounded memory.
# 300,000 synthetic events (~70 MB); list, show last and arch must succeed
# and each keep its peak RSS far below the file's size (the reader streams
# the file; it never holds it).  No timing is asserted: speed is measured by
# scripts/bench.d/40-trace.sh.
source "$(dirname "$0")/lib/tap.sh"
tap_tmproot
CT="$BIN/cutaway-trace"
[[ -x $CT ]] || skip_all "bin/cutaway-trace not built"
[[ -x /usr/bin/time ]] || skip_all "/usr/bin/time missing (make deps)"
f=$T/big.jsonl
ok "synth 300000 events" "$CT" synth --events 300000 -o "$f"
is "$(wc -l <"$f")" "300000" "300000 lines"
size_kb=$(($(stat -c %s "$f") / 1024))
for cmd in "list --all" "show last" "arch --format dot" "chrome last" "diff last last"; do
  /usr/bin/time -f '%M' -o "$T/rss" $CT $cmd --file "$f" >"$T/out" 2>"$T/err"
  rc=$?
  rss=$(tail -1 "$T/rss")
  if [[ $rc -eq 0 && $rss -lt $((size_kb / 2)) ]]; then
    pass "$cmd: ok, peak RSS ${rss} KB for a ${size_kb} KB file"
  else
    fail "$cmd: exit $rc, peak RSS ${rss} KB for a ${size_kb} KB file" "$(cat "$T/err")"
  fi
done
is "$(($(wc -l <"$T/out") > 0))" "1" "diff printed a report"
done_testing
