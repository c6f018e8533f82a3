#!/bin/bash
# 50-dockerd: `docker run --rm IMAGE true` with the real docker CLI against
# cutawayd (on cutaway-containerd and cutaway-runc), side by side with
# Debian's dockerd 20.10 (on Debian's containerd and runc), each in its own
# private root, both with --network none (the real dockerd runs with
# --bridge=none here: no iptables on a test machine); then ours with the
# default bridge network, whose netns + veth setup is part of every run;
# then our own CLI (stage 5) in place of docker's; then the idle RSS of
# cutawayd and dockerd.  Median of N sequential runs.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
export PATH=$TOP/bin:$PATH
N=${BENCH_RUNS:-20}
[[ $(id -u) -eq 0 ]] || { echo "50-dockerd: needs root, skipped"; exit 0; }
[[ -x bin/cutawayd ]] || { echo "50-dockerd: run make first"; exit 1; }
W=$(mktemp -d /tmp/cutaway-bench-dkd.XXXXXX)
T=$W
export CUTAWAY_TRACE=off
source tests/lib/tap.sh >/dev/null 2>&1 || true
on_exit() { :; }
source stages/3-containerd/testdata/ctd-test.sh
source tests/lib/dockerd.sh
source tests/lib/runc-peers.sh
DOCKER=$(dkd_docker) || { echo "50-dockerd: no docker CLI installed, skipped"; rm -rf "$W"; exit 0; }
REAL_PIDS=()
cleanup() {
  dkd_cleanup >/dev/null 2>&1
  local p
  for p in "${REAL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${REAL_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
  grep -F " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  # dockerd's --cgroup-parent, with the containers' cgroups inside: deepest first.
  find /sys/fs/cgroup -maxdepth 6 -type d -name cutaway-bench-dkd 2>/dev/null |
    while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

median_ms() { # median_ms CMD... (run with DOCKER_HOST already set)
  perl -MTime::HiRes=time -e '
    my $n = shift; my @t;
    for my $i (1 .. $n) {
      my $t0 = time;
      my $pid = fork // die;
      if ($pid == 0) { open STDOUT, ">", "/dev/null"; open STDERR, ">>", "'"$W"'/err"; exec @ARGV; exit 127 }
      waitpid $pid, 0;
      if ($? != 0) { print "FAIL\n"; exit 0 }
      push @t, (time - $t0) * 1000;
    }
    @t = sort { $a <=> $b } @t;
    printf "%.1f\n", $n % 2 ? $t[$n/2] : ($t[$n/2-1] + $t[$n/2]) / 2;' "$N" "$@"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
num() { [[ $1 =~ ^[0-9.]+$ ]]; }

declare -A ms
: >"$W/err"
dkd_start_stack >/dev/null 2>&1 || { echo "50-dockerd: the cutaway stack did not start"; exit 1; }
"$DOCKER" run --rm --network none cutaway.test/busybox true >/dev/null 2>&1
ms[ours]=$(median_ms "$DOCKER" run --rm --network none cutaway.test/busybox true)
ms[ours_bridge]=$(median_ms "$DOCKER" run --rm cutaway.test/busybox true)
[[ -x bin/cutaway ]] && ms[cli]=$(median_ms bin/cutaway run --rm --network none cutaway.test/busybox true)
rss_ours=$(rss_kb "$DKD_PID")

if command -v dockerd >/dev/null && command -v containerd >/dev/null; then
  D=$W/ctrd K=$W/docker
  mkdir -p "$K"
  if peers_containerd "$D" >/dev/null 2>&1; then
    REAL_PIDS+=("$PEERS_CONTAINERD_PID")
    echo '{}' >"$K/daemon.json"
    dockerd --config-file "$K/daemon.json" --data-root "$K/data" --exec-root "$K/exec" \
      -H "unix://$K/docker.sock" --pidfile "$K/docker.pid" --containerd "$D/containerd.sock" \
      --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
      --cgroup-parent cutaway-bench-dkd --exec-opt native.cgroupdriver=cgroupfs \
      >"$K/dockerd.log" 2>&1 </dev/null &
    REAL_PIDS=("$!" "${REAL_PIDS[@]}")
    for _ in $(seq 300); do
      DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli "$DOCKER" version >/dev/null 2>&1 && break
      sleep 0.05
    done
    peers_image_tar "$W/busybox.tar" cutaway.test/busybox:latest >/dev/null 2>&1
    export DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli
    if "$DOCKER" load -i "$W/busybox.tar" >/dev/null 2>>"$W/err" &&
      "$DOCKER" run --rm --network none cutaway.test/busybox true >/dev/null 2>>"$W/err"; then
      ms[real]=$(median_ms "$DOCKER" run --rm --network none cutaway.test/busybox true)
      rss_real=$(rss_kb "${REAL_PIDS[0]}")
    else
      ms[real]="cannot run here: $(tail -1 "$W/err")"
    fi
  else
    ms[real]="containerd did not start"
  fi
else
  ms[real]="not installed"
fi

printf '  %-56s %s\n' "docker run --rm IMAGE true (median of $N runs)" "ms"
printf '  %-56s %8s\n' "docker -> cutawayd -> cutaway-containerd (--network none)" "${ms[ours]}"
printf '  %-56s %8s\n' "docker -> cutawayd -> cutaway-containerd (bridge)" "${ms[ours_bridge]}"
[[ -n ${ms[cli]:-} ]] &&
  printf '  %-56s %8s\n' "cutaway -> cutawayd -> cutaway-containerd (--network none)" "${ms[cli]}"
if num "${ms[real]}" && num "${ms[ours]}"; then
  printf '  %-56s %8s   cutaway is %sx faster\n' "docker -> dockerd 20.10 -> containerd -> runc (none)" \
    "${ms[real]}" "$(ratio "${ms[real]}" "${ms[ours]}")"
else
  printf '  %-56s %s\n' "docker -> dockerd (real)" "${ms[real]}"
fi
printf '\n  %-56s %s\n' "idle RSS" "KiB"
printf '  %-56s %8s\n' "cutawayd" "${rss_ours:-?}"
[[ -n ${rss_real:-} ]] && printf '  %-56s %8s   (%sx cutawayd)\n' "dockerd" "$rss_real" \
  "$(ratio "$rss_real" "${rss_ours:-1}")"
exit 0
