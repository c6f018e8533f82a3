#!/bin/bash
# 11-runc-dockerd: the diagrams of docs/stages/1-runc-complete.md, from a
# real `docker run` and `docker exec` under Debian's dockerd 20.10 with
# `--add-runtime cutaway=bin/cutaway-runc`.  dockerd and its containerd run
# in a private temp root (as in tests/17-runc-dockerd.t); only our runtime
# is traced, so the trace shows what dockerd's stack asked of the runtime
# and every kernel step the runtime took.  No diagram is drawn by hand.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/runc-peers.sh
skip() { echo "11-runc-dockerd: $*, skipped" >&2; exit 0; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
for t in dockerd docker containerd ctr jq; do command -v $t >/dev/null || skip "$t not installed"; done
peers_busybox >/dev/null || skip "busybox-static not installed"
[[ -x bin/cutaway-runc ]] || { echo "11-runc-dockerd: run make first" >&2; exit 1; }
tap_tmproot

D=$T/ctrd K=$T/docker
mkdir -p "$K"
peers_containerd "$D" || { echo "11-runc-dockerd: containerd did not start" >&2; exit 1; }
echo '{}' >"$K/daemon.json"
dockerd --config-file "$K/daemon.json" --data-root "$K/data" --exec-root "$K/exec" \
  -H "unix://$K/docker.sock" --pidfile "$K/docker.pid" --containerd "$D/containerd.sock" \
  --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
  --exec-opt native.cgroupdriver=cgroupfs --add-runtime "cutaway=$TOP/bin/cutaway-runc" \
  >"$K/log" 2>&1 &
dpid=$!
on_exit "kill $dpid; wait $dpid"
export DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli
for _ in $(seq 300); do docker version >/dev/null 2>&1 && break; sleep 0.05; done
peers_image_tar "$T/busybox.tar" cutaway/busybox:docs
docker load -q -i "$T/busybox.tar" >/dev/null || { echo "11-runc-dockerd: docker load failed" >&2; exit 1; }

# Only the runtime's own events: the docker CLI and dockerd are not traced.
export CUTAWAY_TRACE=$T/trace.jsonl
docker run -d --name web --network none --runtime cutaway --memory 64m --pids-limit 64 \
  cutaway/busybox:docs sleep 1000 >/dev/null
docker exec web hostname >/dev/null
docker rm -f web >/dev/null
unset CUTAWAY_TRACE

out=docs/img
mkdir -p "$out"
sed "s#$T#/tmp/cutaway#g" "$T/trace.jsonl" >"$out/11-dockerd-trace.jsonl"
f=$out/11-dockerd-trace.jsonl
# One trace per runtime command (dockerd passes no traceparent down).
cutaway-trace list --all --file "$f" >"$out/11-dockerd-calls.txt" 2>&1
create=$(jq -r 'select(.name == "runc.create" and .ev == "begin") | .trace' "$f" | head -1)
exec=$(jq -r 'select(.name == "runc.exec" and .ev == "begin") | .trace' "$f" | head -1)
cutaway-trace show "$create" --file "$f" >"$out/11-dockerd-create-show.txt" 2>&1
cutaway-trace show "$exec" --file "$f" >"$out/11-dockerd-exec-show.txt" 2>&1
cutaway-trace seq "$create" --file "$f" -o "$out/11-dockerd-create-seq.svg" ||
  echo "11-runc-dockerd: seq failed" >&2
cutaway-trace seq "$exec" --file "$f" --mermaid -o "$out/11-dockerd-exec-seq.mmd" ||
  echo "11-runc-dockerd: mermaid failed" >&2
cutaway-trace seq "$exec" --file "$f" -o "$out/11-dockerd-exec-seq.svg" || true
docker rmi -f cutaway/busybox:docs >/dev/null 2>&1
echo "11-runc-dockerd: wrote $out/11-dockerd-*" >&2
