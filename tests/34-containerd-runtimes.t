#!/bin/bash
# The runtime is a path: the same lifecycle through cutaway-containerd with
# cutaway-runc, Debian's runc and crun (each when installed), with the
# exact runc command lines containerd's shim uses (--root, --log,
# --log-format json, create --bundle --pid-file).
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
tap_tmproot
on_exit ctd_cleanup
ctd_image "$T/img" cutaway.test/busybox:latest 1

lifecycle() { # lifecycle NAME RUNTIME_PATH
  local name=$1 rt=$2 tok
  tok=$(rand_token)
  ctd_start "$name" --runtime "$rt" || { fail "$name: containerd starts"; return; }
  cutaway-ctr images import "$T/img" >/dev/null
  local out rc
  out=$(cutaway-ctr run --rm cutaway.test/busybox "cutaway-$name-1" sh -c "echo hi-$tok; exit 3" 2>&1)
  rc=$?
  is "$rc/$out" "3/hi-$tok" "$name: run --rm, output and exit status"
  cutaway-ctr run -d --memory 33554432 cutaway.test/busybox "cutaway-$name-2" sleep 1000
  like "$(cutaway-ctr tasks ls)" "cutaway-$name-2 +[0-9]+ +running" "$name: detached task running"
  out=$(cutaway-ctr tasks exec "cutaway-$name-2" sh -c 'grep -E "^CapEff" /proc/self/status')
  like "$out" 'a80425fb' "$name: exec with Docker's capabilities"
  like "$(cutaway-ctr tasks ps "cutaway-$name-2")" $'PID\n[0-9]+' "$name: ps"
  ok "$name: pause" cutaway-ctr tasks pause "cutaway-$name-2"
  ok "$name: resume" cutaway-ctr tasks resume "cutaway-$name-2"
  like "$(cutaway-ctr tasks metrics "cutaway-$name-2" | jq -r .memory.limit)" '^33554432$' "$name: memory limit enforced in the cgroup"
  ok "$name: kill" cutaway-ctr tasks kill -s KILL "cutaway-$name-2"
  out=$(cutaway-ctr tasks wait "cutaway-$name-2")
  is "$out" 137 "$name: wait"
  ok "$name: delete" cutaway-ctr tasks rm "cutaway-$name-2"
  ok "$name: container rm" cutaway-ctr containers rm "cutaway-$name-2"
  local log
  log=$(ls "$T/$name"/exec/tasks 2>/dev/null)
  is "$log" "" "$name: no bundle left"
  # The runtime's own state dir (--root) holds no container any more (only
  # cutaway-runc's seccomp program cache, which is meant to stay).
  is "$(ls -I @seccomp-cache "$T/$name/exec/runtime")" "" "$name: the runtime's state is gone"
  ctd_stop
}

if [[ -x $BIN/cutaway-runc ]]; then lifecycle cutaway-runc "$BIN/cutaway-runc"; else skip "cutaway-runc not built"; fi
if command -v runc >/dev/null; then lifecycle runc "$(command -v runc)"; else skip "runc not installed"; fi
# crun (1.8) refuses a hybrid cgroup host whose cgroup2 mount has a
# controller attached ("cgroups in hybrid mode not supported"): a property
# of the host, checked here the way crun checks it.
hybrid_v2_controllers=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)
if ! command -v crun >/dev/null; then
  skip "crun not installed"
elif [[ -n $hybrid_v2_controllers ]]; then
  skip "crun: hybrid cgroups with '$hybrid_v2_controllers' on the cgroup2 mount, which crun refuses"
else
  lifecycle crun "$(command -v crun)"
fi
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "no mounts left"
done_testing
