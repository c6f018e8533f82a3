#!/bin/bash
# 40-docker-run: the diagrams of docs/stages/4-dockerd.md, from the real
# docker CLI driving cutawayd: `docker run --name demo ... echo hello`, then
# `docker exec`, through cutaway-containerd, cutaway-shim and cutaway-runc,
# with tracing on; drawn with cutaway-trace into docs/img/40-docker-run-*.
# No diagram is drawn by hand.
#
# The docker CLI sends no traceparent, so each of its requests starts a
# trace of its own; `cutaway-trace --container ID` puts the ones that name
# the container back together.  40-docker-run-requests.txt lists every
# request cutawayd served for the run, in the order they arrived, with
# their status: create 201, attach 101, wait 200, start 204.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/tap.sh
skip() { echo "40-docker-run: $*, skipped" >&2; exit 0; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
for t in jq busybox curl; do command -v $t >/dev/null || skip "$t not installed"; done
[[ -x bin/cutawayd && -x bin/cutaway-containerd && -x bin/cutaway-runc ]] ||
  { echo "40-docker-run: run make first" >&2; exit 1; }
tap_tmproot
source stages/3-containerd/testdata/ctd-test.sh
source tests/lib/dockerd.sh
DOCKER=$(dkd_docker) || skip "no docker CLI installed"
dkd_start_stack || { echo "40-docker-run: the stack did not start" >&2; exit 1; }
export DOCKER_CONFIG=$T/cli

t0=$(date +%s%N)
out=$("$DOCKER" run --name demo cutaway.test/busybox echo hello 2>&1)
[[ $out == hello ]] || { echo "40-docker-run: docker run printed '$out'" >&2; exit 1; }
id=$("$DOCKER" inspect -f '{{.Id}}' demo) || { echo "40-docker-run: inspect failed" >&2; exit 1; }
"$DOCKER" rm demo >/dev/null
t1=$(date +%s%N)
"$DOCKER" run -d --name web cutaway.test/busybox sleep 1000 >/dev/null
wid=$("$DOCKER" inspect -f '{{.Id}}' web)
t2=$(date +%s%N)
"$DOCKER" exec web hostname >/dev/null || { echo "40-docker-run: docker exec failed" >&2; exit 1; }
t3=$(date +%s%N)
"$DOCKER" rm -f web >/dev/null

img=docs/img
mkdir -p "$img"
# Paths under the private root become /tmp/cutaway: the figures do not
# change with the temp dir's random name.
window() { jq -c --argjson a "$1" --argjson b "$2" 'select(.ts >= $a and .ts <= $b)' "$CUTAWAY_TRACE" |
  sed "s#$T#/tmp/cutaway#g"; }
f=$img/40-docker-run-trace.jsonl
window "$t0" "$t1" >"$f"
{
  echo "# docker run --name demo cutaway.test/busybox echo hello: what cutawayd served, in order"
  echo "# (begin time in ms from the first request, span, HTTP status; one trace each)"
  jq -r --argjson a "$t0" 'select(.comp == "cutawayd" and .kind == "server") |
      [.ts, .span, .ev, .name, (.attrs["http.status_code"] // "")] | @tsv' "$f" |
    awk -F'\t' -v t0="$t0" '$3 == "begin" { start[$2] = $1; name[$2] = $4; order[n++] = $2 }
      $3 == "end" { st[$2] = $5 }
      END { for (i = 0; i < n; i++) { s = order[i]
              printf "%8.3f  %-32s %s\n", (start[s] - t0) / 1e6, name[s], st[s] } }'
} >"$img/40-docker-run-requests.txt"
cutaway-trace path --container "$id" --file "$f" -o "$img/40-docker-run-path.svg" ||
  echo "40-docker-run: path failed" >&2
cutaway-trace seq --container "$id" --file "$f" -o "$img/40-docker-run-seq.svg" ||
  echo "40-docker-run: seq failed" >&2
cutaway-trace seq --container "$id" --file "$f" --mermaid -o "$img/40-docker-run-seq.mmd" ||
  echo "40-docker-run: mermaid failed" >&2
cutaway-trace show --container "$id" --file "$f" >"$img/40-docker-run-show.txt" 2>&1 || true

# docker exec: its own requests (inspect, exec create, exec start, exec
# inspect); exec.Start carries the container's id.
f=$img/40-docker-exec-trace.jsonl
window "$t2" "$t3" >"$f"
cutaway-trace seq --container "$wid" --file "$f" --mermaid -o "$img/40-docker-exec-seq.mmd" ||
  echo "40-docker-run: exec mermaid failed" >&2
cutaway-trace seq --container "$wid" --file "$f" -o "$img/40-docker-exec-seq.svg" ||
  echo "40-docker-run: exec seq failed" >&2
cutaway-trace show --container "$wid" --file "$f" >"$img/40-docker-exec-show.txt" 2>&1 || true
echo "40-docker-run: wrote $img/40-docker-run-{path.svg,seq.svg,seq.mmd,show.txt,trace.jsonl,requests.txt}" \
  "and $img/40-docker-exec-*" >&2
