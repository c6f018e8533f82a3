#!/bin/bash
# Twenty containers started at once through one cutaway-containerd: each
# gets its own shim, snapshot, cgroup and log, all run concurrently, and
# all are stopped and removed without leftovers.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
tap_tmproot
on_exit ctd_cleanup
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
ctd_image "$T/img" cutaway.test/busybox:latest 1
ctd_start ctd || fail "containerd starts"
cutaway-ctr images import "$T/img" >/dev/null
N=20
tok=$(rand_token)
pids=()
for i in $(seq 1 $N); do
  cutaway-ctr run -d cutaway.test/busybox "cutaway-p$i" sh -c "echo $tok-$i; exec sleep 1000" \
    >"$T/run-$i.out" 2>&1 &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
is "$failed" 0 "$N runs started at once all succeed"
is "$(cutaway-ctr tasks ls | grep -c ' running$')" "$N" "$N tasks running"
is "$(ls "$CTD_EXEC/tasks" | wc -l)" "$N" "$N bundles"
shims=0
for f in "$CTD_EXEC"/tasks/*/shim.pid; do kill -0 "$(cat "$f")" 2>/dev/null && shims=$((shims + 1)); done
is "$shims" "$N" "one shim per container"
logs_ok() {
  local i
  for i in $(seq 1 $N); do
    grep -q "\"$tok-$i\\\\n\"" "$CTD_ROOT/containers/cutaway-p$i/cutaway-p$i-json.log" 2>/dev/null || return 1
  done
}
ok "every container logged its own line" wait_for logs_ok
is "$(grep -c " $CTD_EXEC/tasks/.*/rootfs " /proc/self/mountinfo)" "$N" "$N overlay rootfs mounted"

# (wait on our own PIDs only: a bare `wait` would wait for the daemon too)
kp=()
for i in $(seq 1 $N); do
  cutaway-ctr tasks kill -s KILL "cutaway-p$i" >"$T/kill-$i.out" 2>&1 &
  kp+=($!)
done
kfail=0
for i in "${!kp[@]}"; do
  if ! wait "${kp[$i]}"; then
    kfail=$((kfail + 1))
    diag "kill cutaway-p$((i + 1)): $(cat "$T/kill-$((i + 1)).out")"
    cutaway-ctr tasks kill -s KILL "cutaway-p$((i + 1))" # a second try, so the test can finish
  fi
done
is "$kfail" 0 "$N kills sent at once all succeed"
codes=""
for i in $(seq 1 $N); do codes+="$(cutaway-ctr tasks wait "cutaway-p$i") "; done
like "$codes" "^(137 ){$N}$" "all $N exit with 137"
rp=()
for i in $(seq 1 $N); do
  (cutaway-ctr tasks rm "cutaway-p$i" && cutaway-ctr containers rm "cutaway-p$i") >/dev/null 2>&1 &
  rp+=($!)
done
for p in "${rp[@]}"; do wait "$p"; done
is "$(cutaway-ctr containers ls | tail -n +2)" "" "all removed"
is "$(ls "$CTD_EXEC/tasks")" "" "no bundles left"
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "no mounts left"
is "$(find /sys/fs/cgroup -maxdepth 3 -name 'cutaway-*-cutaway-p*' | wc -l)" 0 "no cgroups left"
ctd_stop
done_testing
