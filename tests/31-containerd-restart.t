#!/bin/bash
# What survives a restart of cutaway-containerd, and what a crash leaves:
#  - kill -9 with a running container: the shim keeps it running and keeps
#    logging; after a restart the task is found again and `wait` returns the
#    real exit status (also for a container that exited while we were down);
#  - killed in the middle of an import (a blob half written, a layer half
#    unpacked), of a container create and of a task create (failpoints make
#    the daemon SIGKILL itself at that exact step): the restart removes the
#    half state, and the same operation then succeeds.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
tap_tmproot
on_exit ctd_cleanup
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
ctd_image "$T/img" cutaway.test/busybox:latest 2
ctd_start ctd || fail "containerd starts"
cutaway-ctr images import "$T/img" >/dev/null

tok=$(rand_token)
cutaway-ctr run -d cutaway.test/busybox cutaway-live sh -c "i=0; while true; do echo $tok-\$i; i=\$((i+1)); sleep 0.05; done"
# This one exits with 42 when /tmp/go appears in its rootfs.
cutaway-ctr run -d cutaway.test/busybox cutaway-exits sh -c 'while [ ! -e /tmp/go ]; do sleep 0.02; done; exit 42'
log=$CTD_ROOT/containers/cutaway-live/cutaway-live-json.log
wait_for grep -q "$tok-2" "$log"

ctd_kill9
pass "containerd killed with SIGKILL"
like "$(tr '\0' ' ' <"/proc/$(cat "$CTD_EXEC/tasks/cutaway-live/shim.pid")/cmdline")" 'cutaway-shim' "the shim outlives containerd"
log_grows() { [[ $(grep -c "$tok" "$log") -gt $1 ]]; }
n1=$(grep -c "$tok" "$log")
ok "the container keeps logging while containerd is down" wait_for log_grows "$((n1 + 3))"
touch "$CTD_EXEC/tasks/cutaway-exits/rootfs/tmp/go"
ok "the other container exits while containerd is down (the shim records it)" \
  wait_for test -s "$CTD_EXEC/tasks/cutaway-exits/exit.json"

ctd_start ctd || fail "containerd restarts"
like "$(cutaway-ctr tasks ls)" 'cutaway-live +[0-9]+ +running' "the running task is found again"
like "$(cutaway-ctr tasks ls)" 'cutaway-exits +[0-9]+ +stopped' "the exited task is found as stopped"
out=$(cutaway-ctr tasks wait cutaway-exits)
is "$?/$out" "42/42" "wait returns the exit status recorded while containerd was down"
out=$(cutaway-ctr tasks exec cutaway-live sh -c 'echo exec-after-restart')
is "$out" "exec-after-restart" "exec works after the restart"
cutaway-ctr tasks wait cutaway-live >"$T/wait.out" &
WP=$!
n2=$(grep -c "$tok" "$log")
ok "still logging after the restart" wait_for log_grows "$((n2 + 2))"
# (SIGTERM would be ignored: sh is pid 1 of its namespace, with no handler.)
cutaway-ctr tasks kill -s KILL cutaway-live
wait $WP
is "$?/$(cat "$T/wait.out")" "137/137" "wait on the reconnected task returns its exit status"
ok "delete the tasks" cutaway-ctr tasks rm cutaway-live
ok "and the stopped one" cutaway-ctr tasks rm cutaway-exits
ok "delete the containers" cutaway-ctr containers rm cutaway-live cutaway-exits

# A second kill -9, with nothing running: restart is clean.
ctd_kill9
ctd_start ctd || fail "containerd restarts again"
is "$(cutaway-ctr tasks ls | tail -n +2)" "" "no tasks after a clean cycle"

# ---- crashes in the middle of operations (failpoints) ----
snapdirs_ok() {
  local d
  for d in "$CTD_ROOT"/snapshots/[0-9]*; do
    [[ -f $d/info.json ]] || return 1
  done
  return 0
}

# crash_at FAILPOINT NAME CMD...: run CMD against a daemon that SIGKILLs
# itself at FAILPOINT, then restart it normally.  (Not under `ok`: it must
# run in the test's shell, which owns the daemons.)
crash_at() {
  local fp=$1 name=$2
  shift 2
  ctd_stop
  CUTAWAY_FAILPOINT=$fp ctd_start ctd || return 1
  "$@" >/dev/null 2>&1
  local rc=0
  ctd_gone "$CTD_PID" || { rc=1; ctd_stop; } # still alive: the failpoint was never reached
  grep -q "failpoint $fp: killing myself" "$T/ctd/containerd.log" || rc=1
  ctd_start ctd || rc=1
  ((rc == 0)) && pass "$name" || fail "$name (failpoint $fp not reached)"
}

ctd_image "$T/img3" cutaway.test/busybox:crash 3 salted
crash_at content.ingest.mid_blob "killed mid-blob during an import" cutaway-ctr images import "$T/img3"
is "$(find "$CTD_ROOT/content/ingest" -type f 2>/dev/null | wc -l)" 0 "no ingest temp file left after restart"
is "$(cutaway-ctr images ls | grep -c crash)" 0 "the image is not there"
crash_at images.unpack.mid_layer "killed mid-unpack during an import" cutaway-ctr images import "$T/img3"
ok "every snapshot dir has its info.json (the half layer was removed)" snapdirs_ok
is "$(cutaway-ctr images import "$T/img3")" "cutaway.test/busybox:crash" "the import then succeeds"
out=$(cutaway-ctr run --rm cutaway.test/busybox:crash cutaway-after sh -c 'cat /etc/layer-3')
is "$out" "layer 3" "and the image runs"

crash_at containers.create.before_record "killed during a container create" \
  cutaway-ctr run -d cutaway.test/busybox cutaway-half true
is "$(ls "$CTD_ROOT/containers")" "" "no container record or dir left"
ok "the same id can be created now" cutaway-ctr run --rm cutaway.test/busybox cutaway-half true

crash_at tasks.create.before_state "killed during a task create (shim running, state not written)" \
  cutaway-ctr run -d cutaway.test/busybox cutaway-halftask sleep 1000
is "$(ls "$CTD_EXEC/tasks")" "" "the half task's bundle is removed"
is "$(grep -c "$CTD_EXEC" /proc/self/mountinfo)" 0 "its rootfs is unmounted"
procs=$(pgrep -f "cutaway-shim --id cutaway-halftask" || true)
is "$procs" "" "its shim is stopped"
cg=$(find /sys/fs/cgroup -maxdepth 3 -name '*cutaway-halftask*' 2>/dev/null)
is "$cg" "" "its container (and cgroup) is gone"
like "$(cutaway-ctr containers ls)" 'cutaway-halftask' "the container record (written before) is kept"
ok "and can be deleted" cutaway-ctr containers rm cutaway-halftask
ctd_stop
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "no mounts left"
done_testing
