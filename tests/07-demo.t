#!/bin/bash
# `make demo` (the main job) run into a private directory, then graded with
# lab 00's checker, which must pass right after a demo.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
export CUTAWAY_DEMO_OUT=$T/demo
out=$("$TOP/scripts/demo.sh" 2>&1)
rc=$?
is "$rc" 0 "the demo runs to the end"
[[ $rc -eq 0 ]] || diag "$out"
like "$out" "trace: +$T/demo/trace.jsonl" "the demo prints where its trace is"
ok "every line of the demo's trace is valid JSON" jq -e . "$T/demo/trace.jsonl"
grade=$(CUTAWAY_DEMO_OUT=$T/demo "$TOP/labs/00-setup/check" 2>&1)
is "$?" 0 "lab 00's checker passes after the demo"
[[ $grade == *"BAD"* ]] && diag "$grade"
grade=$(CUTAWAY_DEMO_OUT=$T/nothing "$TOP/labs/00-setup/check" 2>&1)
like "$grade" "demo_trace: BAD|the demo wrote a complete trace: BAD" "lab 00's checker fails without a demo"
done_testing
