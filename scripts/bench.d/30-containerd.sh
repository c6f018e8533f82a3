#!/bin/bash
# 30-containerd: `cutaway-ctr run --rm IMAGE ID true` through
# cutaway-containerd (runtime cutaway-runc, then runc), side by side with
# `ctr run --rm` on Debian's real containerd (its own private root, state,
# socket and config, the same busybox image imported with
# `ctr images import`), median of N sequential runs each, as ratios measured
# in this one run; then the idle RSS of cutaway-containerd and of one shim
# next to containerd's and containerd-shim-runc-v2's.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
export PATH=$TOP/bin:$PATH
N=${BENCH_RUNS:-30}
[[ $(id -u) -eq 0 ]] || { echo "30-containerd: needs root, skipped"; exit 0; }
[[ -x bin/cutaway-containerd && -x bin/cutaway-runc ]] || { echo "30-containerd: run make first"; exit 1; }
W=$(mktemp -d /tmp/cutaway-bench-ctd.XXXXXX)
PIDS=()
cleanup() {
  local f p
  # Shims first (each deletes its container), then daemons, then mounts.
  for f in "$W"/*/exec/tasks/*/shim.pid; do
    [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null
  done
  if [[ -S $W/real/containerd.sock ]]; then
    ctr -a "$W/real/containerd.sock" -n cutaway-bench tasks kill -s KILL cutaway-bench-idle >/dev/null 2>&1
    sleep 0.2
    ctr -a "$W/real/containerd.sock" -n cutaway-bench tasks rm -f cutaway-bench-idle >/dev/null 2>&1
    ctr -a "$W/real/containerd.sock" -n cutaway-bench containers rm cutaway-bench-idle >/dev/null 2>&1
  fi
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
  done
  sleep 0.2
  grep -F " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  # ctr puts containers in cgroup /<namespace>/<id>: remove the empty parent.
  for d in /sys/fs/cgroup/*/cutaway-bench /sys/fs/cgroup/cutaway-bench; do
    [[ -d $d ]] && rmdir "$d" 2>/dev/null
  done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
export CUTAWAY_TRACE=off

stages/3-containerd/testdata/mkimage.sh "$W/img" cutaway.test/busybox:latest 0 >/dev/null || exit 1

median_ms() { # median_ms CMD... ("%i" becomes the run number)
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
    printf "%.1f\n", $n % 2 ? $t[$n/2] : ($t[$n/2-1] + $t[$n/2]) / 2;' "$N" "$@"
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }

start_ours() { # start_ours NAME RUNTIME
  local d=$W/$1
  mkdir -p "$d"
  cutaway-containerd --root "$d/root" --exec-root "$d/exec" --address "$d/ctd.sock" --runtime "$2" \
    >"$d/log" 2>&1 </dev/null &
  PIDS+=($!)
  OURS_PID=$!
  for _ in $(seq 200); do [[ -S $d/ctd.sock ]] && break; sleep 0.02; done
  cutaway-ctr --address "$d/ctd.sock" images import "$W/img" >/dev/null
  cutaway-ctr --address "$d/ctd.sock" run --rm cutaway.test/busybox cutaway-bench-warm true
}

declare -A ms
start_ours ours "$TOP/bin/cutaway-runc"
: >"$W/err"
ms[ours]=$(median_ms cutaway-ctr --address "$W/ours/ctd.sock" run --rm cutaway.test/busybox cutaway-bench-%i true)
[[ ${ms[ours]} == FAIL ]] && ms[ours]="FAIL: $(head -1 "$W/err")"
cutaway-ctr --address "$W/ours/ctd.sock" run -d cutaway.test/busybox cutaway-bench-idle sleep 1000
sleep 0.3
shim=$(cat "$W"/ours/exec/tasks/cutaway-bench-idle/shim.pid 2>/dev/null)
rss_ours=$(rss_kb "$OURS_PID")
rss_shim=$(rss_kb "$shim")

if command -v runc >/dev/null; then
  start_ours withrunc "$(command -v runc)"
  ms[ours_runc]=$(median_ms cutaway-ctr --address "$W/withrunc/ctd.sock" run --rm cutaway.test/busybox cutaway-bench-%i true)
fi

# Debian's containerd in a private root, with the same image.
if command -v containerd >/dev/null && command -v ctr >/dev/null; then
  mkdir -p "$W/real"
  cat >"$W/real/config.toml" <<EOF
version = 2
root = "$W/real/root"
state = "$W/real/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/real/containerd.sock"
[ttrpc]
  address = "$W/real/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
  containerd --config "$W/real/config.toml" >"$W/real/log" 2>&1 </dev/null &
  PIDS+=($!)
  REAL_PID=$!
  for _ in $(seq 250); do [[ -S $W/real/containerd.sock ]] && break; sleep 0.02; done
  C=(ctr -a "$W/real/containerd.sock" -n cutaway-bench)
  tar -C "$W/img" -cf "$W/img.tar" .
  if "${C[@]}" images import "$W/img.tar" >/dev/null 2>"$W/err" &&
    "${C[@]}" run --rm cutaway.test/busybox:latest cutaway-bench-warm true >/dev/null 2>>"$W/err"; then
    ms[real]=$(median_ms "${C[@]}" run --rm cutaway.test/busybox:latest cutaway-bench-%i true)
    "${C[@]}" run -d cutaway.test/busybox:latest cutaway-bench-idle sleep 1000 >/dev/null 2>&1
    sleep 0.5
    rss_real=$(rss_kb "$REAL_PID")
    rshim=$(pgrep -f "containerd-shim-runc-v2 -namespace cutaway-bench" | head -1)
    rss_rshim=$([[ -n $rshim ]] && rss_kb "$rshim")
  else
    ms[real]="cannot run here: $(head -1 "$W/err")"
  fi
else
  ms[real]="not installed"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
num() { [[ $1 =~ ^[0-9.]+$ ]]; }
printf '  %-52s %s\n' "run --rm IMAGE true (median of $N runs)" "ms"
printf '  %-52s %8s\n' "cutaway-ctr -> cutaway-containerd -> cutaway-runc" "${ms[ours]}"
[[ -n ${ms[ours_runc]:-} ]] && printf '  %-52s %8s\n' "cutaway-ctr -> cutaway-containerd -> runc" "${ms[ours_runc]}"
if num "${ms[real]}" && num "${ms[ours]}"; then
  printf '  %-52s %8s   cutaway is %sx faster (target: 3x)\n' "ctr -> containerd -> containerd-shim-runc-v2 -> runc" \
    "${ms[real]}" "$(ratio "${ms[real]}" "${ms[ours]}")"
else
  printf '  %-52s %s\n' "ctr -> containerd (real)" "${ms[real]}"
fi
printf '\n  %-52s %s\n' "idle RSS" "KiB"
printf '  %-52s %8s\n' "cutaway-containerd" "${rss_ours:-?}" "cutaway-shim (one container)" "${rss_shim:-?}"
[[ -n ${rss_real:-} ]] && printf '  %-52s %8s   (%sx cutaway-containerd)\n' "containerd" "$rss_real" \
  "$(ratio "$rss_real" "${rss_ours:-1}")"
[[ -n ${rss_rshim:-} ]] && printf '  %-52s %8s   (%sx cutaway-shim)\n' "containerd-shim-runc-v2" "$rss_rshim" \
  "$(ratio "$rss_rshim" "${rss_shim:-1}")"
exit 0
