#!/bin/bash
# Lab 01 part 2's checker (labs/01-runc/check-exec) tested on itself: a
# known-good solution of EXEC.md scores full marks, a known-bad one fails
# every check with its reason, the values are redrawn by each `setup exec`,
# and `make grade LAB=01 [CHECK=...]` reaches part 2 through labs/01-runc/check.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"
command -v script >/dev/null || skip_all "script (bsdutils) not installed"
export LAB01_DIR=$T/lab
on_exit "$TOP/labs/01-runc/setup stop"
L=$TOP/labs/01-runc

out=$("$L/check-exec" 2>&1)
like "$out" 'lab not started' "checking before setup says the lab is not started"

ok "setup start (part 1 only)" "$L/setup" start
out=$("$L/check-exec" exec 2>&1)
like "$out" 'part 2 not started' "check-exec before setup exec says part 2 is not started"
out=$("$L/check" 2>&1)
like "$out" 'part 2, EXEC.md: not started' "check without part 2 grades part 1 only, and says so"
like "$out" 'Score: 0/60' "... out of part 1's 60 points"

ok "setup exec" "$L/setup" exec
like "$("$L/setup" env)" "export B=.* XTOKEN=x-[0-9a-f]{8} HTOKEN=h-[0-9a-f]{8} XPIDS=[0-9]+" \
  "setup env exports part 2's random values"
bash "$TOP/tests/fixtures/lab01-exec-solution.sh" good >/dev/null 2>&1
out=$("$L/check-exec" 2>&1)
rc=$?
like "$out" 'Score: 60/60' "the known-good solution scores 60/60"
is "$rc" "0" "... and the checker exits 0"
is "$(grep -c ': GOOD' <<<"$out")" "6" "... six GOOD lines"
[[ $rc -eq 0 ]] || diag "$out"

out=$(cd "$TOP" && scripts/grade.sh 01 hooks 2>&1)
like "$out" '11. hooks.*GOOD' "make grade LAB=01 CHECK=hooks reaches part 2's check"
is "$(grep -c 'GOOD\|BAD' <<<"$out")" "1" "... and runs only that one"
out=$("$L/check" 2>&1)
like "$out" 'Score: 60/120' "make grade LAB=01 grades both parts once part 2 is started"
is "$(grep -c ': GOOD' <<<"$out")" "6" "... part 2's six checks GOOD, part 1 not done"
like "$out" "no 'cutaway-runc run ... lab-ns'" "... a part-1 step never run is BAD, not GOOD"

# the values are random: a fresh part 2 makes the old traces worthless
ok "setup exec again" "$L/setup" exec
out=$("$L/check-exec" exec 2>&1)
like "$out" 'exec:.*BAD' "after a new setup exec, the old exec no longer counts"
bash "$TOP/tests/fixtures/lab01-exec-solution.sh" bad >/dev/null 2>&1
out=$("$L/check-exec" 2>&1)
rc=$?
like "$out" 'Score: 0/60' "the known-bad solution scores 0/60"
[[ $rc -ne 0 ]] && pass "... and the checker exits non-zero" || fail "... and the checker exits non-zero"
is "$(grep -c ': BAD' <<<"$out")" "6" "... six BAD lines"
like "$out" "whose program has XTOKEN=" "an exec that is not the learner's is caught"
like "$out" "no 'runc resume cutaway-web' after the pause" "a pause never resumed is caught"
like "$out" 'pids.max = XPIDS' "a wrong pids limit is caught"
like "$out" 'no openpty' "a container without a terminal is caught"
like "$out" 'no prestart hook that succeeded' "missing hooks are caught"
like "$out" 'cutaway-broken failed \(as planned\): got .ok.' "a hook failure that did not fail is caught"
is "$("$BIN/cutaway-runc" --root "$LAB01_DIR/runc" list -q)" "" "the lab leaves no container behind"
is "$(find /sys/fs/cgroup -maxdepth 4 -type d \( -name cutaway-web -o -name cutaway-hooks -o -name cutaway-broken -o -name cutaway-tty \) 2>/dev/null)" \
  "" "nor a cgroup"

done_testing
