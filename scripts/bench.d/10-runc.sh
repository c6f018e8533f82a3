#!/bin/bash
# 10-runc: `run` of /bin/true on the busybox bundle, 100 sequential runs
# each, median, for cutaway-runc (tracing off and on) and, when installed,
# runc and crun on the very same bundle; printed as ratios measured in this
# one run.  Each runtime gets its own private --root in one temp dir.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
export PATH=$TOP/bin:$PATH
N=${BENCH_RUNS:-100}
[[ $(id -u) -eq 0 ]] || { echo "10-runc: needs root, skipped"; exit 0; }
[[ -x bin/cutaway-runc && -x build/fixtures/probe ]] || { echo "10-runc: run make first"; exit 1; }
W=$(mktemp -d /tmp/cutaway-bench-runc.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
tests/fixtures/mkbundle.sh "$W/bundle" /bin/true >/dev/null || exit 1

# median_ms RUNTIME-ARGV...: run it N times (no shell in between), print the
# median wall time in ms, or "FAIL <first error line>".
median_ms() {
  perl -MTime::HiRes=time -e '
    my $n = shift; my @t;
    for my $i (1 .. $n) {
      my @cmd = map { s/%i/$i/gr } @ARGV;
      my $t0 = time;
      my $pid = fork // die;
      if ($pid == 0) { open STDOUT, ">", "/dev/null"; open STDERR, ">>", "'"$W"'/err"; exec @cmd; exit 127 }
      waitpid $pid, 0;
      if ($? != 0) { print "FAIL\n"; exit 0 }
      push @t, (time - $t0) * 1000;
    }
    @t = sort { $a <=> $b } @t;
    printf "%.2f\n", $n % 2 ? $t[$n/2] : ($t[$n/2-1] + $t[$n/2]) / 2;' "$N" "$@"
}

cd "$W/bundle"
declare -A ms
ms[off]=$(CUTAWAY_TRACE=off median_ms "$TOP/bin/cutaway-runc" --root "$W/ours" run cutaway-bench-%i)
ms[on]=$(CUTAWAY_TRACE=$W/trace.jsonl median_ms "$TOP/bin/cutaway-runc" --root "$W/ours" run cutaway-bench-%i)
for peer in runc crun; do
  if ! command -v $peer >/dev/null; then
    ms[$peer]="not installed"
    continue
  fi
  : >"$W/err"
  r=$(median_ms "$(command -v $peer)" --root "$W/$peer" run cutaway-bench-%i)
  [[ $r == FAIL ]] && r="cannot run here: $(head -1 "$W/err")"
  ms[$peer]=$r
done
printf '  %-34s %s\n' "runtime (median of $N runs)" "ms"
printf '  %-34s %8s\n' "cutaway-runc (tracing off)" "${ms[off]}"
printf '  %-34s %8s\n' "cutaway-runc (tracing on)" "${ms[on]}"
for peer in runc crun; do
  v=${ms[$peer]}
  if [[ $v =~ ^[0-9.]+$ && ${ms[off]} =~ ^[0-9.]+$ ]]; then
    printf '  %-34s %8s   cutaway-runc is %sx faster (tracing on: %sx)\n' "$peer" "$v" \
      "$(awk -v a="$v" -v b="${ms[off]}" 'BEGIN { printf "%.2f", a / b }')" \
      "$(awk -v a="$v" -v b="${ms[on]}" 'BEGIN { printf "%.2f", a / b }')"
  else
    printf '  %-34s %s\n' "$peer" "$v"
  fi
done
