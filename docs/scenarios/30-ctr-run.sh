#!/bin/bash
# 30-ctr-run: the diagrams of docs/stages/3-containerd.md, from a real
# `cutaway-ctr run --rm` through cutaway-containerd, cutaway-shim and
# cutaway-runc, with tracing on; drawn with cutaway-trace into
# docs/img/30-ctr-run-*.  No diagram is drawn by hand.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
[[ $(id -u) -eq 0 ]] || { echo "30-ctr-run: needs root, skipped" >&2; exit 0; }
for t in jq busybox; do
  command -v $t >/dev/null || { echo "30-ctr-run: $t not installed, skipped" >&2; exit 0; }
done
[[ -x bin/cutaway-containerd && -x bin/cutaway-runc ]] || { echo "30-ctr-run: run make first" >&2; exit 1; }
tap_tmproot
source stages/3-containerd/testdata/ctd-test.sh
on_exit ctd_cleanup
ctd_image "$T/img" cutaway.test/busybox:latest 2
ctd_start docs || { echo "30-ctr-run: containerd did not start" >&2; exit 1; }
cutaway-ctr images import "$T/img" >/dev/null
cutaway-ctr run --rm cutaway.test/busybox cutaway-docs-web sh -c 'echo hello from $(hostname)' >/dev/null ||
  { echo "30-ctr-run: the run failed" >&2; exit 1; }
out=docs/img
mkdir -p "$out"
tr=$(jq -r 'select(.name=="ctr.run" and .ev=="begin") | .trace' "$CUTAWAY_TRACE" | tail -1)
jq -c --arg t "$tr" 'select(.trace == $t)' "$CUTAWAY_TRACE" | sed "s#$T#/tmp/cutaway#g" >"$out/30-ctr-run-trace.jsonl"
f=$out/30-ctr-run-trace.jsonl
cutaway-trace path last --file "$f" -o "$out/30-ctr-run-path.svg" || echo "30-ctr-run: path failed" >&2
cutaway-trace seq last --file "$f" -o "$out/30-ctr-run-seq.svg" || echo "30-ctr-run: seq failed" >&2
cutaway-trace seq last --file "$f" --mermaid -o "$out/30-ctr-run-seq.mmd" || echo "30-ctr-run: mermaid failed" >&2
cutaway-trace show last --file "$f" >"$out/30-ctr-run-show.txt" 2>&1 || true
echo "30-ctr-run: wrote $out/30-ctr-run-{path.svg,seq.svg,seq.mmd,show.txt,trace.jsonl}" >&2
