#!/bin/bash
# Real dockerd (Debian's 20.10) with `--add-runtime cutaway=bin/cutaway-runc`:
# `docker run --runtime cutaway` with memory, pids and cpu limits (checked
# in the cgroup the kernel enforces), `docker exec`, and `docker run -it`.
# Every container dockerd makes carries a prestart hook (libnetwork-setkey),
# so this also proves the hooks path.  (dockerd adds that hook when the
# container gets a network namespace of its own: `--network none` here,
# since --bridge=none leaves the default network disabled.)  dockerd and its containerd are
# started here with every directory and socket under the test's temp root.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/runc-peers.sh"
need_root
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
command -v dockerd >/dev/null || skip_all "dockerd (docker.io) not installed"
command -v docker >/dev/null || skip_all "docker CLI not installed"
command -v containerd >/dev/null || skip_all "containerd not installed"
peers_busybox >/dev/null || skip_all "busybox-static not installed"
tap_tmproot

D=$T/ctrd
K=$T/docker
mkdir -p "$K"
peers_containerd "$D"

echo '{}' >"$K/daemon.json"
dockerd --config-file "$K/daemon.json" --data-root "$K/data" --exec-root "$K/exec" \
  -H "unix://$K/docker.sock" --pidfile "$K/docker.pid" --containerd "$D/containerd.sock" \
  --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
  --exec-opt native.cgroupdriver=cgroupfs --add-runtime "cutaway=$BIN/cutaway-runc" \
  >"$K/dockerd.log" 2>&1 &
dpid=$!
on_exit "kill $dpid; wait $dpid"
export DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli
for _ in $(seq 300); do
  docker version >/dev/null 2>&1 && break
  sleep 0.05
done
ok "dockerd is up on its private socket" docker version
like "$(docker info --format '{{json .Runtimes}}')" '"cutaway"' "dockerd lists the cutaway runtime"

peers_image_tar "$T/busybox.tar" cutaway/busybox:test
ok "docker load of a busybox docker-archive" docker load -i "$T/busybox.tar"
img=cutaway/busybox:test

tok=$(rand_token)
out=$(docker run --rm --network none --runtime cutaway "$img" sh -c "echo hello-$tok; hostname")
like "$out" "hello-$tok" "docker run --runtime cutaway runs a container"

id=lim-$tok
on_exit "docker rm -f $id"
ok "docker run -d with --memory --pids-limit --cpus" \
  docker run -d --name "$id" --network none --runtime cutaway --memory 64m --pids-limit 50 --cpus 0.5 \
  "$img" sleep 1000
pid=$(docker inspect -f '{{.State.Pid}}' "$id")
cgfile() { # controller file
  local p
  p=$(awk -F: -v c="$1" '$2 ~ "(^|,)" c "(,|$)" {print $3}' /proc/$pid/cgroup)
  if [[ -n $p ]]; then
    cat "/sys/fs/cgroup/$1$p/$2"
  else
    p=$(awk -F: '$1 == 0 {print $3}' /proc/$pid/cgroup)
    cat "/sys/fs/cgroup$p/$3"
  fi
}
is "$(cgfile memory memory.limit_in_bytes memory.max)" "67108864" "the memory limit is in the cgroup"
is "$(cgfile pids pids.max pids.max)" "50" "the pids limit is in the cgroup"
like "$(cgfile cpu cpu.cfs_quota_us cpu.max)" '^50000' "the cpu quota is in the cgroup"

out=$(docker exec "$id" sh -c "echo exec-$tok; cat /proc/1/cmdline | tr '\\0' ' '")
like "$out" "exec-$tok" "docker exec runs in the container"
like "$out" "sleep 1000" "and sees the container's pid 1"
docker exec "$id" sh -c 'exit 3'
is "$?" "3" "docker exec returns the exit status"
if command -v script >/dev/null; then
  out=$(script -qec "docker exec -it $id tty" /dev/null </dev/null | tr -d '\r')
  like "$out" '/dev/pts/[0-9]+' "docker exec -it: a pty through the console socket"
else
  skip "script (bsdutils) not installed"
fi
like "$(docker top "$id")" 'sleep 1000' "docker top (runc ps)"
ok "docker pause" docker pause "$id"
is "$(docker inspect -f '{{.State.Status}}' "$id")" "paused" "paused"
ok "docker unpause" docker unpause "$id"
ok "docker update --pids-limit" docker update --pids-limit 40 "$id"
is "$(cgfile pids pids.max pids.max)" "40" "docker update reached the cgroup"
ok "docker rm -f" docker rm -f "$id"

if command -v script >/dev/null; then
  out=$(script -qec "docker run -it --rm --network none --runtime cutaway $img sh -c 'tty; echo it-ok'" \
    /dev/null </dev/null | tr -d '\r')
  like "$out" '/dev/pts/0' "docker run -it: a pty from the container's own devpts"
  like "$out" 'it-ok' "and its output reaches our terminal"
else
  skip "script (bsdutils) not installed"
  skip "script (bsdutils) not installed"
fi

grep '"name":"hook.prestart"' "$CUTAWAY_TRACE" | grep -q '/exe'
is "$?" "0" "our trace holds dockerd's libnetwork-setkey prestart hook" ||
  diag "$(grep -c '"name":"hook' "$CUTAWAY_TRACE") hook events; $(grep '"name":"hook' "$CUTAWAY_TRACE" | head -2)"
[[ -n ${KEEP_TRACE:-} ]] && cp "$CUTAWAY_TRACE" "$KEEP_TRACE"
for verb in create start exec kill delete; do
  grep -q "\"name\":\"runc.$verb\"" "$CUTAWAY_TRACE"
  is "$?" "0" "our trace holds runc.$verb spans under dockerd"
done

docker rmi -f "$img" >/dev/null 2>&1
kill "$dpid"
wait "$dpid" 2>/dev/null
kill "$PEERS_CONTAINERD_PID"
wait "$PEERS_CONTAINERD_PID" 2>/dev/null
is "$(grep -c " $T" /proc/self/mountinfo)" "0" "no mounts left under the test root"

done_testing
