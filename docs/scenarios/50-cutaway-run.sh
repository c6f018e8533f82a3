#!/bin/bash
# 50-cutaway-run: the diagrams of docs/stages/5-docker-cli.md, from our own
# CLI: `cutaway run --rm cutaway.test/busybox echo hello` through cutawayd,
# cutaway-containerd, cutaway-shim and cutaway-runc, with tracing on; drawn
# with cutaway-trace into docs/img/50-cutaway-run-*.  No diagram is drawn
# by hand.
#
# Unlike the docker CLI, cutaway sends a traceparent with every request, so
# the whole run, from the CLI's root span `cli.run` down to execve in the
# container's init, is ONE trace: no --container merging is needed.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/tap.sh
skip() { echo "50-cutaway-run: $*, skipped" >&2; exit 0; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
for t in jq busybox curl; do command -v $t >/dev/null || skip "$t not installed"; done
[[ -x bin/cutaway && -x bin/cutawayd && -x bin/cutaway-containerd && -x bin/cutaway-runc ]] ||
  { echo "50-cutaway-run: run make first" >&2; exit 1; }
tap_tmproot
source stages/3-containerd/testdata/ctd-test.sh
source tests/lib/dockerd.sh
dkd_start_stack || { echo "50-cutaway-run: the stack did not start" >&2; exit 1; }

out=$(cutaway run --rm cutaway.test/busybox echo hello 2>&1)
[[ $out == hello ]] || { echo "50-cutaway-run: cutaway run printed '$out'" >&2; exit 1; }
trace=$(jq -r 'select(.name == "cli.run" and .ev == "begin") | .trace' "$CUTAWAY_TRACE" | tail -1)
[[ -n $trace ]] || { echo "50-cutaway-run: no cli.run span" >&2; exit 1; }

img=docs/img
mkdir -p "$img"
# Paths under the private root become /tmp/cutaway: the figures do not
# change with the temp dir's random name.
f=$img/50-cutaway-run-trace.jsonl
jq -c --arg t "$trace" 'select(.trace == $t)' "$CUTAWAY_TRACE" | sed "s#$T#/tmp/cutaway#g" >"$f"
cutaway-trace path "$trace" --file "$f" -o "$img/50-cutaway-run-path.svg" ||
  echo "50-cutaway-run: path failed" >&2
cutaway-trace seq "$trace" --file "$f" -o "$img/50-cutaway-run-seq.svg" ||
  echo "50-cutaway-run: seq failed" >&2
cutaway-trace seq "$trace" --file "$f" --mermaid -o "$img/50-cutaway-run-seq.mmd" ||
  echo "50-cutaway-run: mermaid failed" >&2
cutaway-trace show "$trace" --file "$f" >"$img/50-cutaway-run-show.txt" 2>&1 || true
echo "50-cutaway-run: wrote $img/50-cutaway-run-{path.svg,seq.svg,seq.mmd,show.txt,trace.jsonl}"
