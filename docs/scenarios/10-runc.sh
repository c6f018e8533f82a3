#!/bin/bash
# 10-runc: the diagrams of docs/stages/1-runc.md, from a real `run`.
# Builds the busybox bundle of the tests in a private temp dir, runs one
# container (Docker's capabilities, a seccomp profile, noNewPrivileges, a
# memory limit) with tracing on, and draws that run with cutaway-trace into
# docs/img/10-runc-*.  No diagram is drawn by hand.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
[[ $(id -u) -eq 0 ]] || { echo "10-runc: needs root, skipped" >&2; exit 0; }
for t in jq busybox; do
  command -v $t >/dev/null || { echo "10-runc: $t not installed, skipped" >&2; exit 0; }
done
[[ -x bin/cutaway-runc && -x build/fixtures/probe ]] || { echo "10-runc: run make first" >&2; exit 1; }
tap_tmproot
B=$T/bundle
tests/fixtures/mkbundle.sh "$B" /probe hostname >/dev/null
caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID",
"CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
jq --argjson c "$caps" '.hostname = "web" |
  .process.capabilities = {bounding: $c, effective: $c, permitted: $c, inheritable: [], ambient: []} |
  .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 64} |
  .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [{names: ["keyctl", "add_key", "request_key", "kexec_load"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' \
  "$B/config.json" >"$B/config.json.new" && mv "$B/config.json.new" "$B/config.json"

export CUTAWAY_TRACE=$T/trace.jsonl
(cd "$B" && cutaway-runc --root "$T/state" run cutaway-docs-web </dev/null >/dev/null) ||
  { echo "10-runc: the run failed" >&2; exit 1; }
out=docs/img
mkdir -p "$out"
# Keep the raw trace next to the pictures (temp paths made stable): the
# doc quotes lines from it.
sed "s#$T#/tmp/cutaway#g" "$T/trace.jsonl" >"$out/10-runc-trace.jsonl"
views=$(cutaway-trace --help 2>&1)
if [[ $views != *" path "* || $views != *" seq "* ]]; then
  echo "10-runc: this cutaway-trace has no path/seq views yet; trace kept in $out/10-runc-trace.jsonl" >&2
  exit 0
fi
f=$out/10-runc-trace.jsonl
cutaway-trace path last --file "$f" -o "$out/10-runc-path.svg" || echo "10-runc: path failed" >&2
cutaway-trace seq last --file "$f" -o "$out/10-runc-seq.svg" || echo "10-runc: seq failed" >&2
cutaway-trace seq last --file "$f" --mermaid -o "$out/10-runc-seq.mmd" || echo "10-runc: mermaid failed" >&2
cutaway-trace show last --file "$f" >"$out/10-runc-show.txt" 2>&1 || true
echo "10-runc: wrote $out/10-runc-{path.svg,seq.svg,seq.mmd,show.txt,trace.jsonl}" >&2
