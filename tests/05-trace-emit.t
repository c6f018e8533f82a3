#!/bin/bash
# 05-trace-emit.t: events written from the shell with `cutaway-trace emit`
# join one trace through TRACEPARENT, as a component's children do, and
# `cutaway-trace show` draws them; a sink that cannot be written never
# fails the command.
source "$(dirname "$0")/lib/tap.sh"
tap_tmproot
CT="$BIN/cutaway-trace"
[[ -x $CT ]] || skip_all "bin/cutaway-trace not built"
tok=$(rand_token)

tp=$("$CT" emit --ev begin --kind client --comp cutaway --name "POST /containers/create" --attr name=web-$tok)
like "$tp" '^00-[0-9a-f]{32}-[0-9a-f]{16}-01$' "begin prints the span's traceparent"
tp2=$(TRACEPARENT=$tp "$CT" emit --ev begin --kind server --comp cutawayd --name "POST /containers/create")
TRACEPARENT=$tp2 "$CT" emit --ev event --comp cutawayd --name "container.created" --attr id=$tok
TRACEPARENT=$tp2 "$CT" emit --ev begin --kind syscall --comp cutaway-runc --role 'runc:[2:INIT]' --name execve >/dev/null
TRACEPARENT=$tp2 "$CT" emit --ev end --kind server --comp cutawayd --name "POST /containers/create" --err "no such image: $tok"
TRACEPARENT=$tp "$CT" emit --ev end --kind client --comp cutaway --name "POST /containers/create"
is "$(wc -l <"$CUTAWAY_TRACE")" "6" "six events, one line each"
is "$(cut -d- -f2 <<<"$tp")" "$(cut -d- -f2 <<<"$tp2")" "the server span joins the client's trace"

out=$("$CT" show last)
like "$out" "trace $(cut -d- -f2 <<<"$tp")" "show last finds the trace"
like "$out" $'\n  POST /containers/create  \\[cutaway client\\]' "the client span is the root"
like "$out" $'\n!   POST /containers/create  \\[cutawayd server\\].*ERROR: no such image: '"$tok" \
  "the server span is its child, with the error"
like "$out" "execve  \\[cutaway-runc runc:\\[2:INIT\\] syscall\\].*execed" "execve left open is execed"
like "$out" "\\* container.created" "instants are listed"
like "$("$CT" show --container "web-$tok")" "POST /containers/create" "--container finds it by name attr"

bad=$(TRACEPARENT=00-XYZ-bad-01 "$CT" emit --ev begin --comp cutaway --name x 2>"$T/err")
like "$bad" '^00-[0-9a-f]{32}-[0-9a-f]{16}-01$' "malformed TRACEPARENT: a new trace"
like "$(cat "$T/err")" "malformed TRACEPARENT" "and a warning on stderr"

# Rotation: past CUTAWAY_TRACE_MAX_MB the file moves to .1 and a new one starts.
head -c 1100000 /dev/zero | tr '\0' x >"$T/rot.jsonl"
CUTAWAY_TRACE=$T/rot.jsonl CUTAWAY_TRACE_MAX_MB=1 "$CT" emit --ev event --comp cutaway --name rot.one >/dev/null
is "$(stat -c %s "$T/rot.jsonl.1")" "1100000" "a file past the limit is moved to .1"
is "$(jq -r .name "$T/rot.jsonl")" "rot.one" "... and the event starts a new file"
CUTAWAY_TRACE=$T/rot.jsonl "$CT" emit --ev event --comp cutaway --name rot.two >/dev/null
head -c 1100000 /dev/zero | tr '\0' x >>"$T/rot.jsonl"
CUTAWAY_TRACE=$T/rot.jsonl "$CT" emit --ev event --comp cutaway --name rot.three >/dev/null
like "$(tail -c 300 "$T/rot.jsonl")" 'rot.three' "an explicit file without CUTAWAY_TRACE_MAX_MB never rotates"

# Unwritable sinks: the command still succeeds and prints the same thing.
for sink in /proc/version "$T" "$T/missing/dir/trace.jsonl" /dev/full off; do
  out=$(CUTAWAY_TRACE=$sink "$CT" emit --ev begin --comp cutaway --name x 2>&1)
  rc=$?
  [[ $rc -eq 0 && $out =~ ^00- ]] && pass "sink $sink: emit still succeeds" ||
    fail "sink $sink: emit still succeeds" "exit $rc: $out"
done
done_testing
