#!/bin/bash
# 20-pull: the diagrams of docs/stages/2-registry.md, from a real pull.
# Starts Debian's docker-registry on 127.0.0.1 in a private temp dir, pushes
# a two-layer image built with umoci, pulls it with tracing on (token auth,
# so the challenge and token fetch are in the picture), and draws the
# request with cutaway-trace into docs/img/20-pull-*.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/registry.sh
for t in docker-registry umoci skopeo jq; do
  command -v $t >/dev/null || { echo "20-pull: $t not installed, skipped" >&2; exit 0; }
done
[[ -x $REG_HELPERS/registry_tokend ]] || { echo "20-pull: run make first" >&2; exit 1; }
tap_tmproot
export DOCKER_CONFIG=$T/docker CUTAWAY_TRACE=off
reg_start reg token || { echo "20-pull: registry did not start" >&2; exit 1; }
reg_fixture "$T/oci" img 2 256
skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$T/oci:img" \
  "docker://$REG/demo/app:v1" || { echo "20-pull: seeding the registry failed" >&2; exit 1; }

export CUTAWAY_TRACE=$T/trace.jsonl
cutaway-image --layout "$T/lay" pull -q --unpack "$T/rootfs" "$REG/demo/app:v1" >/dev/null
out=docs/img
mkdir -p "$out"
# Keep the raw trace next to the pictures: the doc quotes lines from it.
sed "s/$REG/127.0.0.1:5000/g" "$T/trace.jsonl" >"$out/20-pull-trace.jsonl"
views=$(cutaway-trace --help 2>&1)
if [[ $views != *" path "* || $views != *" seq "* ]]; then
  echo "20-pull: this cutaway-trace has no path/seq views yet; trace kept in $out/20-pull-trace.jsonl" >&2
  exit 0
fi
f=$out/20-pull-trace.jsonl
cutaway-trace path last --file "$f" -o "$out/20-pull-path.svg" || echo "20-pull: path failed" >&2
cutaway-trace seq last --file "$f" -o "$out/20-pull-seq.svg" || echo "20-pull: seq failed" >&2
cutaway-trace seq last --file "$f" --mermaid -o "$out/20-pull-seq.mmd" || echo "20-pull: mermaid failed" >&2
cutaway-trace show last --file "$f" >"$out/20-pull-show.txt" 2>&1 || true
echo "20-pull: wrote $out/20-pull-{path.svg,seq.svg,seq.mmd,show.txt,trace.jsonl}" >&2
