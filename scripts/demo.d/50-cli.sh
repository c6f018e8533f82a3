# Tier 5: the whole stack, with our own CLI on top.  `cutaway pull` and
# `cutaway run --rm` talk to cutawayd, which pulls the image through
# cutaway-containerd from a local registry and runs it: cutaway -> cutawayd
# -> containerd -> shim -> runc -> kernel.  Unlike the docker CLI, cutaway
# sends a traceparent, so the run is ONE trace from the CLI to execve.
# needs: cutaway-trace cutaway-runc cutaway-image cutaway-containerd cutaway-shim cutaway-ctr cutawayd cutaway

demo_run() {
  T=$DEMO_ROOT
  on_exit() { DEMO_CLEANUP+="$*;"; }
  source "$TOP/tests/lib/registry.sh"
  source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
  source "$TOP/tests/lib/dockerd.sh"
  reg_start registry plain || { echo "demo: docker-registry did not start" >&2; return 1; }
  local ref=$REG/cutaway/busybox:demo
  bash "$TOP/tests/fixtures/mkbundle.sh" "$DEMO_ROOT/src" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" import "$DEMO_ROOT/src/rootfs" "$ref" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" push "$ref" >/dev/null 2>&1
  # (not dkd_cleanup: its API calls would be traced after the demo's request)
  DEMO_CLEANUP+="dkd_stop; ctd_cleanup; ip link del \"\$DKD_BRIDGE\";"
  ctd_start containerd || return 1
  dkd_start || return 1
  export DOCKER_HOST=unix://$T/docker.sock
  say "cutaway pull $ref"
  cutaway pull "$ref" >&2
  say "cutaway run --rm $ref"
  cutaway run --rm "$ref" sh -c \
    'echo "hello from $(hostname), pid $$, at $(ip -o -4 addr show eth0 | awk "{print \$4}"): cutaway -> cutawayd -> containerd -> shim -> cutaway-runc"'
  DEMO_TRACE=$(jq -r 'select(.name == "cli.run" and .ev == "begin") | .trace' "$CUTAWAY_TRACE" | tail -1)
}
