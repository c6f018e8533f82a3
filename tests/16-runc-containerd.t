#!/bin/bash
# Real containerd (Debian's 1.6, containerd-shim-runc-v2) driving
# cutaway-runc through `ctr run --runc-binary`: run, exec, pause, resume,
# kill, delete, and a terminal (`ctr run -t`, driven through script(1)).
# The shim calls our binary with the command lines in
# reference/runtime-calls.txt; our trace events show up for those runs.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/runc-peers.sh"
need_root
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
command -v containerd >/dev/null || skip_all "containerd not installed"
command -v ctr >/dev/null || skip_all "ctr not installed"
command -v containerd-shim-runc-v2 >/dev/null || skip_all "containerd-shim-runc-v2 not installed"
peers_busybox >/dev/null || skip_all "busybox-static not installed"
tap_tmproot

D=$T/ctrd
peers_containerd "$D"
ok "containerd is up on its private socket" ctr -a "$D/containerd.sock" version

C="ctr -a $D/containerd.sock -n cutaway"
RUNC="--runc-binary $BIN/cutaway-runc --runc-root $D/runc --fifo-dir $D/fifo"
EXEC="--fifo-dir $D/fifo"
img=docker.io/cutaway/busybox:test
peers_image_tar "$T/busybox.tar" cutaway/busybox:test
ok "ctr images import of a busybox docker-archive" $C images import "$T/busybox.tar"

tok=$(rand_token)
id=c-$tok
on_exit "$C tasks kill -s KILL $id; sleep 0.2; $C tasks delete -f $id; $C containers delete $id"
ok "ctr run -d --runc-binary cutaway-runc" $C run -d $RUNC "$img" "$id" sleep 1000
is "$($C tasks ls | awk -v id="$id" '$1 == id {print $3}')" "RUNNING" "the task is running"
[[ -d $D/runc/cutaway/$id ]]
is "$?" "0" "our runtime keeps its state under the shim's --root"

out=$($C tasks exec $EXEC --exec-id e1 "$id" sh -c "echo exec-$tok; cat /proc/1/cmdline | tr '\\0' ' '")
like "$out" "exec-$tok" "ctr tasks exec runs in the container"
like "$out" "sleep 1000" "and sees the container's pid 1"
$C tasks exec $EXEC --exec-id e2 "$id" sh -c 'exit 3'
is "$?" "3" "the exec's exit status comes back through the shim"

if command -v script >/dev/null; then
  out=$(script -qec "$C tasks exec $EXEC -t --exec-id e3 $id tty" /dev/null </dev/null | tr -d '\r')
  like "$out" '/dev/pts/[0-9]+' "ctr tasks exec -t: exec --tty --console-socket gives a pty"
else
  skip "script (bsdutils) not installed"
fi
like "$($C tasks ps "$id")" '[0-9]+' "ctr tasks ps (runc ps --format json)"
ok "ctr tasks pause" $C tasks pause "$id"
is "$($C tasks ls | awk -v id="$id" '$1 == id {print $3}')" "PAUSED" "the task is paused"
ok "ctr tasks resume" $C tasks resume "$id"
is "$($C tasks ls | awk -v id="$id" '$1 == id {print $3}')" "RUNNING" "running again"
ok "ctr tasks kill" $C tasks kill -s KILL "$id"
for _ in $(seq 100); do
  [[ $($C tasks ls | awk -v id="$id" '$1 == id {print $3}') == STOPPED ]] && break
  sleep 0.05
done
is "$($C tasks ls | awk -v id="$id" '$1 == id {print $3}')" "STOPPED" "the task stopped"
ok "ctr tasks delete" $C tasks delete "$id"
ok "ctr containers delete" $C containers delete "$id"
[[ ! -e $D/runc/cutaway/$id ]]
is "$?" "0" "our state for it is gone"

out=$($C run --rm $RUNC "$img" "fg-$tok" sh -c "echo out-$tok; exit 4")
is "$?" "4" "ctr run (foreground) returns the container's exit status"
like "$out" "out-$tok" "and relays its output"

if command -v script >/dev/null; then
  out=$(script -qec "$C run --rm -t $RUNC $img tty-$tok sh -c 'tty; echo tty-ok'" /dev/null \
    </dev/null | tr -d '\r')
  like "$out" '/dev/pts/0' "ctr run -t: the container's stdio is a pty from its own devpts"
  like "$out" 'tty-ok' "and its output reaches our terminal"
else
  skip "script (bsdutils) not installed"
  skip "script (bsdutils) not installed"
fi

for verb in create start exec pause resume kill delete; do
  grep -q "\"name\":\"runc.$verb\"" "$CUTAWAY_TRACE"
  is "$?" "0" "our trace holds runc.$verb spans from the shim's calls"
done
grep -q '"name":"pivot_root"' "$CUTAWAY_TRACE"
is "$?" "0" "and the kernel steps of those containers"

$C images rm "$img" >/dev/null 2>&1
kill "$PEERS_CONTAINERD_PID"
wait "$PEERS_CONTAINERD_PID" 2>/dev/null
is "$(grep -c " $D" /proc/self/mountinfo)" "0" "no mounts left under containerd's root"

done_testing
