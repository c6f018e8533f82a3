#!/bin/bash
# 11-runc-peers: what issue 4's protections and commands cost, side by side
# with runc where installed, as medians of N sequential runs in this one run:
#   - `run` of /bin/true with the sealed exec stub (CVE-2019-5736) and
#     without it (CUTAWAY_RUNC_NO_SEAL=1, for this measurement only);
#   - `exec <id> /bin/true` into a running container, ours and runc's.
# Tracing is off throughout.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
export PATH=$TOP/bin:$PATH CUTAWAY_TRACE=off
N=${BENCH_RUNS:-100}
[[ $(id -u) -eq 0 ]] || { echo "11-runc-peers: needs root, skipped"; exit 0; }
[[ -x bin/cutaway-runc ]] || { echo "11-runc-peers: run make first"; exit 1; }
source tests/lib/tap.sh >/dev/null
source tests/lib/runc-peers.sh
peers_busybox >/dev/null || { echo "11-runc-peers: busybox-static not installed, skipped"; exit 0; }
W=$(mktemp -d /tmp/cutaway-bench-peers.XXXXXX)
cleanup() {
  for rt in ours runc; do
    [[ -d $W/$rt ]] || continue
    if [[ $rt == ours ]]; then
      cutaway-runc --root "$W/ours" delete --force bench-exec >/dev/null 2>&1
    else
      runc --root "$W/runc" delete --force bench-exec >/dev/null 2>&1
    fi
  done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
peers_bundle "$W/bundle" /bin/true >/dev/null || exit 1

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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

cd "$W/bundle"
sealed=$(median_ms "$TOP/bin/cutaway-runc" --root "$W/ours" run seal-%i)
unsealed=$(CUTAWAY_RUNC_NO_SEAL=1 median_ms "$TOP/bin/cutaway-runc" --root "$W/ours" run noseal-%i)

# A long-running container per runtime to exec into.
jq '.process.args = ["sleep", "1000"]' config.json >config.sleep && mv config.sleep config.json
cutaway-runc --root "$W/ours" run --detach bench-exec </dev/null >/dev/null 2>&1
ours_exec=$(median_ms "$TOP/bin/cutaway-runc" --root "$W/ours" exec bench-exec /bin/true)
runc_exec="not installed"
if command -v runc >/dev/null; then
  : >"$W/err"
  if runc --root "$W/runc" run --detach bench-exec </dev/null >/dev/null 2>>"$W/err"; then
    runc_exec=$(median_ms "$(command -v runc)" --root "$W/runc" exec bench-exec /bin/true)
  else
    runc_exec="cannot run here: $(head -1 "$W/err")"
  fi
fi

printf '  %-44s %8s\n' "median of $N runs" "ms"
printf '  %-44s %8s\n' "run /bin/true, sealed exec stub (default)" "$sealed"
printf '  %-44s %8s   the protection costs %s ms (x%s)\n' "run /bin/true, protection off (NO_SEAL=1)" \
  "$unsealed" "$(awk -v a="$sealed" -v b="$unsealed" 'BEGIN { printf "%.2f", a - b }')" \
  "$(ratio "$sealed" "$unsealed")"
printf '  %-44s %8s\n' "cutaway-runc exec /bin/true" "$ours_exec"
if [[ $runc_exec =~ ^[0-9.]+$ ]]; then
  printf '  %-44s %8s   cutaway-runc is %sx faster\n' "runc exec /bin/true" "$runc_exec" \
    "$(ratio "$runc_exec" "$ours_exec")"
else
  printf '  %-44s %s\n' "runc exec /bin/true" "$runc_exec"
fi
