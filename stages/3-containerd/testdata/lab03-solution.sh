#!/bin/bash
# lab03-solution.sh good|bad: a scripted answer to lab 03, for the test of
# its checker (tests/35-containerd-lab.t).  "good" does every step as the
# README asks; "bad" gets each one subtly wrong.
set -u
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
S=$TOP/labs/03-containerd/setup
eval "$("$S" env)"
mode=${1:-good}
ctr=cutaway-ctr
$ctr images import "$LAB/image" >/dev/null
$ctr run -d cutaway.lab/busybox lab-live sh -c "while true; do echo $TOKEN; sleep 0.05; done"
$ctr run -d cutaway.lab/busybox lab-exit sh -c "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit $EXITCODE"
wait_file() { for _ in $(seq 250); do [[ -e $1 ]] && return 0; sleep 0.02; done; return 1; }
if [[ $mode == good ]]; then
  kill -9 "$(cat "$LAB/containerd.pid")"
  touch "$LAB/exec/tasks/lab-exit/rootfs/tmp/go"
  wait_file "$LAB/exec/tasks/lab-exit/exit.json"
  sleep 0.3
  "$S" daemon >/dev/null
  $ctr tasks wait lab-exit >/dev/null
  $ctr run cutaway.lab/busybox lab-logs sh -c "echo out-$TOKEN; echo err-$TOKEN >&2" >/dev/null 2>&1
  $ctr run --rm cutaway.lab/busybox lab-snap1 true
  $ctr run --rm cutaway.lab/busybox lab-snap2 true
  $ctr tasks exec lab-exit true 2>/dev/null
else
  # stops lab-live before the "crash", lets lab-exit end with the daemon up,
  # never restarts, swaps the streams, one snapshot container, exec into a
  # running task.
  $ctr tasks kill -s KILL lab-live
  touch "$LAB/exec/tasks/lab-exit/rootfs/tmp/go"
  $ctr tasks wait lab-exit >/dev/null
  $ctr run cutaway.lab/busybox lab-logs sh -c "echo err-$TOKEN; echo out-$TOKEN >&2" >/dev/null 2>&1
  $ctr run --rm cutaway.lab/busybox lab-snap1 true
  $ctr tasks exec lab-live true 2>/dev/null
fi
exit 0
