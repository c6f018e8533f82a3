#!/bin/bash
# Lab 05's checker tested on itself: before setup it says the lab is not
# started, an untouched lab scores 0, a known-good solution scores full
# marks, a known-bad one (each step subtly wrong) fails every check, one
# check runs by name through scripts/grade.sh, and the lab leaves nothing
# behind (processes, mounts, its bridge).
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
for b in cutaway cutawayd cutaway-containerd cutaway-runc cutaway-trace; do
  [[ -x $BIN/$b ]] || skip_all "bin/$b missing: run make first"
done
for t in jq curl od; do command -v $t >/dev/null || skip_all "$t not installed"; done
export LAB05_DIR=$T/lab
L=$TOP/labs/05-cli
SOL=$TOP/stages/5-docker-cli/testdata/lab05-solution.sh
on_exit "$L/setup stop"
state() { sed -n "s/^$1=//p" "$LAB05_DIR/state"; }

like "$("$L/check" 2>&1)" 'lab not started' "checking before setup says the lab is not started"
ok "setup start" "$L/setup" start
like "$("$L/setup" env)" "export TOKEN=lab-[0-9a-f]{6,16} EXITCODE=[0-9]+ SIGCODE=[0-9]+" \
  "setup env exports the random values"
out=$("$L/check" 2>&1)
like "$out" 'Score: 0/100' "an untouched lab scores 0/100"
[[ -z $(state DOCKER) ]] && diag "no docker CLI: the docker half of check 1 is skipped"

bash "$SOL" good >"$T/good.out" 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 100/100' "the known-good solution scores 100/100"
[[ $out == *'Score: 100/100'* ]] || diag "$out" "$(cat "$T/good.out")" "$(tail -20 "$LAB05_DIR/cutawayd.log")"
is "$rc" 0 "... and the checker exits 0"
is "$(grep -c ': GOOD' <<<"$out")" 5 "... five GOOD lines"
out=$(cd "$TOP" && scripts/grade.sh 05 stdcopy 2>&1)
like "$out" '3\. stdcopy frames.*GOOD' "make grade LAB=05 CHECK=stdcopy runs one check"
is "$(grep -c 'GOOD\|BAD' <<<"$out")" 1 "... only that one"
bridge=$(state BRIDGE)
ok "setup stop" "$L/setup" stop
ip link show "$bridge" >/dev/null 2>&1
is "$?" 1 "setup stop removes the bridge"

ok "setup start again (new random values)" "$L/setup" start
bash "$SOL" bad >"$T/bad.out" 2>&1
out=$("$L/check" 2>&1)
rc=$?
like "$out" 'Score: 0/100' "the known-bad solution scores 0/100"
[[ $out == *'Score: 0/100'* ]] || diag "$out" "$(cat "$T/bad.out")"
[[ $rc -ne 0 ]] && pass "... and the checker exits non-zero" || fail "... and the checker exits non-zero"
like "$out" "answers/one: lab-one's trace id and its number of processes: got" "a span id for the trace id is caught"
if [[ -n $(state DOCKER) ]]; then
  like "$out" "answers/docker: .*got '4 " "docker's uncounted ping is caught"
fi
like "$out" 'lab-seq: cutaway exited with \$EXITCODE: got .0.' "a wrong exit status is caught"
like "$out" "answers/sequence: .*start 204\|POST /containers/\{id\}/wait 200\|', expected" \
  "client spans out of order are caught"
like "$out" 'wrote out-\$TOKEN to stdout: ' "swapped streams are caught"
like "$out" "lab-126: the daemon's answer to start: got '204'" "126 from the container, not from start, is caught"
like "$out" 'answers/exit-codes: .* start [0-9a-f]{32}\|., expected .*wait' "the wait's code called a start error is caught"
like "$out" 'lab-sig: no kill request' "signalling the container instead of the CLI is caught"
bridge2=$(state BRIDGE)
"$L/setup" stop
is "$(pgrep -f "$T/lab" | wc -l)" 0 "the lab leaves no process behind"
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "... no mount"
ip link show "$bridge2" >/dev/null 2>&1
is "$?" 1 "... and no bridge"
done_testing
