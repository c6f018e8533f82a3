#!/bin/bash
# Lab 03's checker tested on itself: a known-good solution scores full
# marks, a known-bad one (each step subtly wrong) fails every check, one
# check runs by name, a lab not started is reported as such, and the lab
# leaves nothing running.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
[[ -x $BIN/cutaway-containerd && -x $BIN/cutaway-runc ]] || skip_all "run make first"
export LAB03_DIR=$T/lab
L=$TOP/labs/03-containerd
SOL=$TOP/stages/3-containerd/testdata/lab03-solution.sh
on_exit "$L/setup stop"

out=$("$L/check" 2>&1)
like "$out" 'lab not started' "checking before setup says the lab is not started"
ok "setup start" "$L/setup" start
like "$("$L/setup" env)" "export TOKEN=lab-[0-9a-f]{8} EXITCODE=[0-9]+ LAYERS=[0-9]" "setup env exports the random values"
bash "$SOL" good >"$T/good.out" 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 100/100' "the known-good solution scores 100/100"
[[ $out == *'Score: 100/100'* ]] || diag "$out" "$(cat "$T/good.out")" "$(cat "$LAB03_DIR/containerd.log")"
is "$rc" 0 "... and the checker exits 0"
is "$(grep -c ': GOOD' <<<"$out")" 5 "... five GOOD lines"
out=$(cd "$TOP" && LAB03_DIR=$T/lab scripts/grade.sh 03 snapshots 2>&1)
like "$out" '4\. two containers share.*GOOD' "make grade LAB=03 CHECK=snapshots runs one check"
is "$(grep -c 'GOOD\|BAD' <<<"$out")" 1 "... only that one"
ok "setup stop" "$L/setup" stop

ok "setup start again (new random values)" "$L/setup" start
bash "$SOL" bad >/dev/null 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 0/100' "the known-bad solution scores 0/100"
[[ $rc -ne 0 ]] && pass "... and the checker exits non-zero" || fail "... and the checker exits non-zero"
like "$out" 'was not restarted' "no restart is caught"
like "$out" "expected 'running'" "a container stopped before the crash is caught"
like "$out" "got 'stderr', expected 'stdout'" "swapped streams are caught"
like "$out" 'run lab-snap1 and lab-snap2' "a missing second container is caught"
like "$out" 'no exec into lab-exit' "the planned failure not attempted is caught"
"$L/setup" stop
is "$(pgrep -f "$T/lab" | wc -l)" 0 "the lab leaves no process behind"
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "and no mount"
done_testing
