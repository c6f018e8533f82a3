#!/bin/bash
# The lab grader tested on itself: a known-good and a known-bad checker run,
# a single check by name, and the trace-order helper on a fixture trace.
source "$(dirname "$0")/lib/tap.sh"
tap_tmproot

# A fixture trace: one request whose spans begin in a known order.
cat >"$T/trace.fixture" <<'JSONL'
{"ts":1,"trace":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span":"1111111111111111","ev":"begin","comp":"cutaway-runc","role":"runc","pid":1,"kind":"internal","name":"runc.create"}
{"ts":2,"trace":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span":"2222222222222222","parent":"1111111111111111","ev":"begin","comp":"cutaway-runc","role":"runc:[1:CHILD]","pid":2,"kind":"syscall","name":"clone","attrs":{"flags":"CLONE_NEWPID"}}
{"ts":3,"trace":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span":"2222222222222222","parent":"1111111111111111","ev":"end","comp":"cutaway-runc","role":"runc:[1:CHILD]","pid":2,"kind":"syscall","name":"clone","status":"ok"}
{"ts":4,"trace":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span":"3333333333333333","parent":"1111111111111111","ev":"begin","comp":"cutaway-runc","role":"runc:[2:INIT]","pid":3,"kind":"syscall","name":"pivot_root"}
{"ts":5,"trace":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span":"4444444444444444","parent":"1111111111111111","ev":"begin","comp":"cutaway-runc","role":"runc:[2:INIT]","pid":3,"kind":"syscall","name":"execve"}
JSONL

F=$T/trace.fixture
ID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
cat >"$T/check" <<CHECK
#!/bin/bash
source "$TOP/labs/lib/grade.sh"
good_eq() { expect_eq "\$(echo hi)" "hi" "echo"; }
good_order() { expect_trace_order "$F" $ID clone pivot_root execve; }
good_attr() { expect_trace_has "$F" $ID clone flags CLONE_NEWPID; }
bad_order() { expect_trace_order "$F" $ID pivot_root clone; }
bad_cmd() { expect_cmd "false runs" false; }
check good_eq 5 good_eq
check good_order 10 good_order
check good_attr 5 good_attr
if [[ -n \${GRADE_BAD:-} ]]; then
  check bad_order 10 bad_order
  check bad_cmd 5 bad_cmd
fi
grade_main "\$@"
CHECK
chmod +x "$T/check"

out=$("$T/check" 2>&1)
is "$?" 0 "a known-good run exits 0"
like "$out" "good_order: GOOD" "the trace-order check is GOOD when the steps are in order"
like "$out" "Score: 20/20" "the known-good run scores full marks"

out=$(GRADE_BAD=1 "$T/check" 2>&1)
is "$?" 1 "a known-bad run exits 1"
like "$out" "bad_order: BAD" "steps out of order are BAD"
like "$out" "'clone' does not come after" "the BAD line says which step is out of order"
like "$out" "bad_cmd: BAD" "a failing command is BAD"
like "$out" "Score: 20/35" "the known-bad run scores only the good checks"

out=$("$T/check" good_attr 2>&1)
like "$out" "^good_attr: GOOD.*Score: 5/5" "one check runs by name"
"$T/check" no_such >/dev/null 2>&1
is "$?" 2 "an unknown check name is an error"

t1=$(bash -c "source $TOP/labs/lib/grade.sh; grade_token")
t2=$(bash -c "source $TOP/labs/lib/grade.sh; grade_token")
like "$t1" '^[0-9a-f]{12}$' "tokens are 12 hex digits"
[[ $t1 != "$t2" ]] && pass "tokens differ between runs" || fail "tokens differ between runs"

out=$("$TOP/scripts/grade.sh" 99 2>&1)
like "$out" "no lab 99" "the grader names a missing lab"
done_testing
