#!/bin/bash
# 40-trace-views.t: cutaway-trace's views on fixture trace files.
#
# Golden outputs (tests/fixtures/traces/golden/) pin the text views and the
# DOT/SVG/JSON we generate ourselves; Graphviz's own SVG and PNG are checked
# for well-formedness only.  Fixtures: request.jsonl (two traces of one
# container, CLI -> daemon -> containerd -> shim -> runc -> kernel, with
# registry calls), crash.jsonl (a process that died with spans open) and
# torn.jsonl (torn, invalid and glued lines among good ones).
# Regenerate the goldens after an intended change: UPDATE_GOLDEN=1 prove tests/40-trace-views.t
source "$(dirname "$0")/lib/tap.sh"
tap_tmproot
FX=$TOP/tests/fixtures/traces
G=$FX/golden
CT="$BIN/cutaway-trace"
[[ -x $CT ]] || skip_all "bin/cutaway-trace not built"
command -v xmllint >/dev/null || skip_all "xmllint missing (make deps)"
command -v jq >/dev/null || skip_all "jq missing (make deps)"

# golden NAME CMD...: stdout of CMD equals golden/NAME.
golden() {
  local name=$1
  shift
  local got
  got=$("$@" 2>"$T/stderr")
  local rc=$?
  if [[ ${UPDATE_GOLDEN:-} == 1 ]]; then
    mkdir -p "$G"
    printf '%s\n' "$got" >"$G/$name"
  fi
  if [[ $rc -ne 0 ]]; then
    fail "golden $name (exit $rc)" "$(cat "$T/stderr")"
    return
  fi
  if diff -u "$G/$name" <(printf '%s\n' "$got") >"$T/diff"; then
    pass "golden $name"
  else
    fail "golden $name" "$(head -30 "$T/diff")"
  fi
}

R=$FX/request.jsonl
C=$FX/crash.jsonl
N=$FX/torn.jsonl
A=4bf92f3577b34da6a3ce929d0e0e4736
B=5c0a3e6f1d2b4a7c8e9f00112233aa01

# --- choosing a request and the text views ---------------------------------
golden list.txt "$CT" list --file "$R"
golden show-start.txt "$CT" show --file "$R" last
golden show-create.txt "$CT" show --file "$R" 4bf9
golden show-container.txt "$CT" show --file "$R" --container web
golden show-crash.txt "$CT" show --file "$C" last
golden show-torn.txt "$CT" show --file "$N" last
golden list-torn.txt "$CT" list --file "$N"
golden diff.txt "$CT" diff --file "$R" $A $B

out=$("$CT" show --file "$R" --container "${B:0:0}c0ffee01" 2>&1)
like "$out" "trace $A.*trace $B" "--container by id prefix merges create and start"
is "$(CUTAWAY_TRACE=$R "$CT" show last | head -1)" "trace $B" "default file is \$CUTAWAY_TRACE"

"$CT" show --file "$N" last >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "cutaway-trace: skipped 6 lines (2 torn, 4 invalid)" \
  "torn and invalid lines are counted on stderr"
out=$("$CT" show --file "$C" last)
like "$out" "mount .*OPEN: process died" "a span left by a dead process is marked died"
out=$("$CT" show --file "$R" last)
like "$out" "execve .*execed" "an open execve is the execve rule, not a death"

# --- diagrams ----------------------------------------------------------------
golden path-start.dot "$CT" path --file "$R" $B --format dot
golden path-crash.dot "$CT" path --file "$C" last --format dot
golden seq-start.mmd "$CT" seq --file "$R" $B --mermaid
golden seq-crash.mmd "$CT" seq --file "$C" last --mermaid
golden seq-start.svg "$CT" seq --file "$R" $B
golden timeline-crash.svg "$CT" timeline --file "$C" last
golden arch.dot "$CT" arch --file "$R" --format dot

ok "path -o x.svg" "$CT" path --file "$R" $B -o "$T/path.svg"
ok "path -o x.png" "$CT" path --file "$R" $B -o "$T/path.png"
ok "arch -o x.svg" "$CT" arch --file "$R" -o "$T/arch.svg"
"$CT" seq --file "$R" $B -o "$T/seq.svg"
"$CT" timeline --file "$R" $B -o "$T/timeline.svg"
"$CT" path --file "$C" last -o "$T/crash.svg"
for f in path seq timeline arch crash; do
  ok "$f.svg is well-formed XML" xmllint --noout "$T/$f.svg"
done
is "$(head -c 8 "$T/path.png" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a" "path.png is a PNG"
like "$(cat "$T/crash.svg")" 'died' "crash path marks the dead process"
like "$(grep -c 'stroke="red"' "$T/crash.svg")" '^[1-9]' "crash path draws errors in red"
is "$(ls "$T" | grep -c tmp)" "0" "no temporary file left next to the outputs"

# --- chrome: strictly nested slices per pid/tid, flows between processes ----
ok "chrome export" "$CT" chrome --file "$R" --container web -o "$T/chrome.json"
golden chrome-crash.json "$CT" chrome --file "$C" last
nesting() {
  jq -r '.traceEvents[] | select(.ph=="X") | "\(.pid) \(.tid) \(.ts) \(.dur)"' "$1" |
    sort -k1,1n -k2,2n -k3,3g -k4,4gr |
    awk '{ key = $1 " " $2; s = $3 + 0; e = $3 + $4
           if (key != prev) { n = 0; prev = key }
           while (n > 0 && stack[n] <= s + 1e-6) n--
           if (n > 0 && e > stack[n] + 1e-6) { print "overlap: " $0; bad = 1 }
           stack[++n] = e }
         END { exit bad }'
}
ok "chrome X events nest strictly per pid/tid" nesting "$T/chrome.json"
ok "chrome crash events nest strictly" nesting <("$CT" chrome --file "$C" last)
is "$(jq '[.traceEvents[] | select(.ph=="s")] | length' "$T/chrome.json")" \
  "$(jq '[.traceEvents[] | select(.ph=="f")] | length' "$T/chrome.json")" "flow starts match flow ends"
like "$(jq '[.traceEvents[] | select(.ph=="s")] | length' "$T/chrome.json")" '^[1-9]' \
  "flow arrows between processes"
# Overlapping spans in one process go to a second track rather than break nesting.
cat >"$T/overlap.jsonl" <<'JSONL'
{"ts":1000000,"trace":"11111111111111111111111111111111","span":"0000000000000001","ev":"begin","comp":"cutawayd","pid":7,"kind":"server","name":"a"}
{"ts":2000000,"trace":"11111111111111111111111111111111","span":"0000000000000002","ev":"begin","comp":"cutawayd","pid":7,"kind":"server","name":"b"}
{"ts":3000000,"trace":"11111111111111111111111111111111","span":"0000000000000001","ev":"end","comp":"cutawayd","pid":7,"kind":"server","name":"a","status":"ok"}
{"ts":4000000,"trace":"11111111111111111111111111111111","span":"0000000000000002","ev":"end","comp":"cutawayd","pid":7,"kind":"server","name":"b","status":"ok"}
JSONL
"$CT" chrome --file "$T/overlap.jsonl" last -o "$T/overlap.json"
ok "overlapping spans are moved so nesting stays strict" nesting "$T/overlap.json"
is "$(jq '[.traceEvents[] | select(.ph=="X") | .dur] | add' "$T/overlap.json")" "4000" \
  "and keep their true durations"

# --- OTLP/JSON shape ---------------------------------------------------------
"$CT" otlp --file "$R" --container web -o "$T/otlp.json"
golden otlp-crash.json "$CT" otlp --file "$C" last
ok "otlp: resourceSpans with service.name" jq -e '
  (.resourceSpans | type == "array" and length > 0) and
  all(.resourceSpans[]; any(.resource.attributes[]; .key == "service.name" and
      (.value.stringValue | type == "string")))' "$T/otlp.json"
ok "otlp: spans have the required fields and types" jq -e '
  [.resourceSpans[].scopeSpans[].spans[]] | length > 0 and all(.[];
    (.traceId | test("^[0-9a-f]{32}$")) and (.spanId | test("^[0-9a-f]{16}$")) and
    ((.parentSpanId // "0000000000000001") | test("^[0-9a-f]{16}$")) and
    (.name | type == "string") and (.kind | IN(1, 2, 3)) and
    (.startTimeUnixNano | test("^[0-9]+$")) and (.endTimeUnixNano | test("^[0-9]+$")) and
    ((.endTimeUnixNano | tonumber) >= (.startTimeUnixNano | tonumber)) and
    (.status.code | IN(0, 1, 2)) and
    all(.attributes[]; (.key | type == "string") and
        (.value | keys | length == 1) and
        (.value | keys[0] | IN("stringValue", "intValue", "boolValue", "doubleValue"))))' "$T/otlp.json"
ok "otlp: syscall spans are INTERNAL with cutaway.kind=syscall" jq -e '
  [.resourceSpans[].scopeSpans[].spans[] | select(any(.attributes[];
     .key == "cutaway.kind" and .value.stringValue == "syscall"))] |
  length > 0 and all(.[]; .kind == 1)' "$T/otlp.json"
ok "otlp: errors carry status code 2" jq -e '
  [.resourceSpans[].scopeSpans[].spans[] | select(.status.code == 2)] | length == 1' "$T/otlp.json"

# --- html: one self-contained page ---------------------------------------------
ok "html page" "$CT" html --file "$R" --container web -o "$T/page.html"
page=$(cat "$T/page.html")
is "$(grep -o '<svg' <<<"$page" | wc -l)" "3" "the page inlines path, sequence and timeline"
like "$page" "<table id=\"events\">" "the page has the event table"
like "$page" "getElementById\\('filter'\\)" "with its inline filter script"
is "$(grep -Eci '(src|href)="(https?:)?//' <<<"$page")" "0" "no external asset"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -n $chromium ]]; then
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --screenshot="$T/page.png" \
    --window-size=1200,900 "file://$T/page.html" >/dev/null 2>&1
  like "$(stat -c %s "$T/page.png" 2>/dev/null || echo 0)" '^[0-9]{4,}$' \
    "headless Chromium renders the page to a non-empty screenshot"
else
  skip "Chromium not installed: page screenshot"
fi

# --- bad input: one clear line, non-zero exit ------------------------------------
one_line_error() {
  local want=$1
  shift
  local err
  err=$("$@" 2>&1 >/dev/null)
  local rc=$?
  [[ $rc -ne 0 && $(wc -l <<<"$err") -eq 1 && $err =~ $want ]] ||
    { echo "exit $rc: $err"; return 1; }
}
ok "missing file" one_line_error "open trace file $T/nope" "$CT" show --file "$T/nope" last
ok "unknown trace" one_line_error "trace ffff: not found" "$CT" show --file "$R" ffff
{ cat "$R"; head -1 "$R" | sed 's/4bf92f3577b34da6a3ce929d0e0e4736/4bf92f3577b34da6a3ce929d0e0e9999/'; } >"$T/two.jsonl"
ok "ambiguous prefix" one_line_error "ambiguous prefix" "$CT" show --file "$T/two.jsonl" 4bf92f
ok "unknown container" one_line_error "mentions container nosuch" "$CT" show --file "$R" --container nosuch
ok "bad format" one_line_error "format must be svg, png or dot" "$CT" path --file "$R" last --format gif
ok "unknown extension" one_line_error "cannot tell the format" "$CT" path --file "$R" last -o "$T/x.gif"
ok "two selectors" one_line_error "choose one request" "$CT" show --file "$R" last --container web
ok "diff needs two" one_line_error "two requests" "$CT" diff --file "$R" last
: >"$T/empty.jsonl"
ok "empty file" one_line_error "no trace in" "$CT" show --file "$T/empty.jsonl" last
is "$("$CT" list --file "$T/empty.jsonl" | wc -l)" "1" "list of an empty file is just the header"
[[ -e $T/x.gif ]] && fail "nothing written on error" || pass "nothing written on error"

done_testing
