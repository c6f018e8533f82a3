#!/bin/bash
# linux.resources truly enforced by the kernel through the cgroup manager:
# a memory hog is OOM-killed under its limit, a fork loop stops at
# pids.max, and a cpu quota slows a spinner.  The cpu check compares CPU
# time consumed against the time the spinner ran, relative to an unlimited
# run, never a wall-clock deadline.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B"
run_probe() {
  local id=$1
  shift
  local a
  a=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  cfg "$B" --argjson a "$a" '.process.args = ["/probe"] + $a'
  runc run --bundle "$B" "$id" </dev/null 2>&1
}

# memory: 32 MiB (and no swap beyond it); the hog wants 256
cfg "$B" '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
out=$(run_probe cutaway-mem memhog 256)
rc=$?
is "$rc" "137" "a memory hog is killed (SIGKILL: 128+9) under a 32 MiB limit"
[[ $out == *"done 256 MB"* ]] && fail "... before it got its 256 MB" || pass "... before it got its 256 MB"
out=$(run_probe cutaway-mem2 memhog 8)
like "$out" 'done 8 MB' "8 MB fits under the limit"
cfg "$B" 'del(.linux.resources.memory)'

# pids: at most 10 tasks; the probe itself is one
cfg "$B" '.linux.resources.pids = {limit: 10}'
out=$(run_probe cutaway-pids forkbomb 50)
n=$(sed -n 's/^forked //p' <<<"$out")
like "$n" '^[0-9]+$' "the fork loop reports how far it got ($out)"
((n < 10)) && pass "a fork loop stops at pids.max (forked $n of 50)" || fail "a fork loop stops at pids.max" "forked $n"
cfg "$B" 'del(.linux.resources.pids)'

# cpu: a 10% quota against no quota, spinning for the same 600 ms
cpu_share() { sed -n 's/^wall_ms \([0-9]*\) cpu_ms \([0-9]*\)$/\2 \1/p' <<<"$1" | awk '{printf "%d", 100 * $1 / $2}'; }
free=$(cpu_share "$(run_probe cutaway-cpu0 spin 600)")
cfg "$B" '.linux.resources.cpu = {quota: 10000, period: 100000}'
limited=$(cpu_share "$(run_probe cutaway-cpu1 spin 600)")
like "$limited" '^[0-9]+$' "the spinner reports its CPU time (unlimited ${free}%, limited ${limited}%)"
((limited * 2 < free)) && pass "a 10% cpu quota slows a spinner (${limited}% of its time vs ${free}%)" ||
  fail "a 10% cpu quota slows a spinner" "limited ${limited}% vs free ${free}%"
cfg "$B" 'del(.linux.resources.cpu)'

is "$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'cutaway-mem*' -o -maxdepth 4 -type d -name 'cutaway-pids' -o -maxdepth 4 -type d -name 'cutaway-cpu*')" \
  "" "run removes every cgroup it made"

done_testing
