#!/bin/bash
# Lab 04's checker tested on itself: a known-good solution scores full
# marks, a known-bad one (each step subtly wrong) fails every check, one
# check runs by name, a lab not started is reported as such, and the lab
# leaves nothing behind (processes, mounts, its bridge).
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
[[ -x $BIN/cutawayd && -x $BIN/cutaway-containerd && -x $BIN/cutaway-runc ]] || skip_all "run make first"
[[ -x /usr/local/bin/docker || -x /usr/bin/docker ]] || skip_all "no docker CLI installed"
for t in jq curl busybox; do command -v $t >/dev/null || skip_all "$t not installed"; done
export LAB04_DIR=$T/lab
L=$TOP/labs/04-dockerd
SOL=$TOP/stages/4-dockerd/testdata/lab04-solution.sh
on_exit "$L/setup stop"

out=$("$L/check" 2>&1)
like "$out" 'lab not started' "checking before setup says the lab is not started"
ok "setup start" "$L/setup" start
like "$("$L/setup" env)" "export TOKEN=lab-[0-9a-f]{6,16} EXITCODE=[0-9]+" "setup env exports the random values"
out=$("$L/check" 2>&1)
like "$out" 'Score: 0/100' "an untouched lab scores 0/100"
[[ $out == *'Score: 0/100'* ]] || diag "$out"
bash "$SOL" good >"$T/good.out" 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 100/100' "the known-good solution scores 100/100"
[[ $out == *'Score: 100/100'* ]] || diag "$out" "$(cat "$T/good.out")" "$(tail -20 "$LAB04_DIR/cutawayd.log")"
is "$rc" 0 "... and the checker exits 0"
is "$(grep -c ': GOOD' <<<"$out")" 5 "... five GOOD lines"
out=$(cd "$TOP" && LAB04_DIR=$T/lab scripts/grade.sh 04 frames 2>&1)
like "$out" '2\. stdcopy frames.*GOOD' "make grade LAB=04 CHECK=frames runs one check"
is "$(grep -c 'GOOD\|BAD' <<<"$out")" 1 "... only that one"
bridge=$(sed -n 's/^BRIDGE=//p' "$LAB04_DIR/state")
ok "setup stop" "$L/setup" stop

ok "setup start again (new random values)" "$L/setup" start
bash "$SOL" bad >/dev/null 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 0/100' "the known-bad solution scores 0/100"
[[ $rc -ne 0 ]] && pass "... and the checker exits non-zero" || fail "... and the checker exits non-zero"
like "$out" 'lab-run exited with \$EXITCODE: got .0.' "a wrong exit status is caught"
like "$out" "the trace id of lab-run's start request: got" "the create trace given for the start trace is caught"
like "$out" 'to stderr: got' "swapped streams are caught"
like "$out" 'no network.attach for it' "a container off the bridge is caught"
like "$out" 'was not restarted after lab-live' "restarting the container instead of cutawayd is caught"
like "$out" 'no create was refused' "the planned failure not attempted is caught"
bridge2=$(sed -n 's/^BRIDGE=//p' "$LAB04_DIR/state")
"$L/setup" stop
is "$(pgrep -f "$T/lab" | wc -l)" 0 "the lab leaves no process behind"
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "... no mount"
ip link show "$bridge" >/dev/null 2>&1 || ip link show "$bridge2" >/dev/null 2>&1
is "$?" 1 "... and no bridge"
done_testing
