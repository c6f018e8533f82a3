#!/bin/bash
# Lab 01's checker tested on itself: a known-good solution scores full
# marks, a known-bad one (each step subtly wrong) fails every check, a
# single check runs by name, and a lab not started is reported as such.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"
export LAB01_DIR=$T/lab
on_exit "$TOP/labs/01-runc/setup stop"
L=$TOP/labs/01-runc

out=$("$L/check" 2>&1)
like "$out" 'lab not started' "checking before setup says the lab is not started"

ok "setup start" "$L/setup" start
like "$("$L/setup" env)" "export TOKEN=lab-[0-9a-f]{8}" "setup env exports the random values"
bash "$TOP/tests/fixtures/lab01-solution.sh" good >/dev/null 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 60/60' "the known-good solution scores 60/60"
is "$rc" "0" "... and the checker exits 0"
is "$(grep -c ': GOOD' <<<"$out")" "6" "... six GOOD lines"
out=$(cd "$TOP" && scripts/grade.sh 01 seccomp 2>&1)
like "$out" '5. seccomp.*GOOD' "make grade LAB=01 CHECK=seccomp runs one check"
is "$(grep -c 'GOOD\|BAD' <<<"$out")" "1" "... only that one"

# the values are random: a fresh lab makes the old traces worthless
ok "setup start again" "$L/setup" start
bash "$TOP/tests/fixtures/lab01-solution.sh" bad >/dev/null 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 0/60' "the known-bad solution scores 0/60"
[[ $rc -ne 0 ]] && pass "... and the checker exits non-zero" || fail "... and the checker exits non-zero"
like "$out" "no 'sethostname' with hostname=" "a hostname set without a UTS namespace is caught"
like "$out" 'no read-only remount of /' "a writable root is caught"
like "$out" 'pids.max set to PIDS' "a wrong pids limit is caught"
like "$out" "no 'capset' with effective=" "an extra capability is caught"
like "$out" 'mkdir-error' "a wrong seccomp errno is caught"
like "$out" 'lab-fail failed \(as planned\): got .ok.' "a failure that did not fail is caught"
is "$("$BIN/cutaway-runc" --root "$LAB01_DIR/runc" list -q)" "" "the lab leaves no container behind"

done_testing
