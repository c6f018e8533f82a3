# Tier 4: dockerd.  The real docker CLI talks to cutawayd, which pulls the
# image through cutaway-containerd from a local registry and runs it: CLI ->
# cutawayd -> containerd -> shim -> runc -> kernel.  The CLI sends no trace
# context, so its requests (pull, create, attach, wait, start) are separate
# traces; the pictures merge every trace that names the container.
# needs: cutaway-trace cutaway-runc cutaway-image cutaway-containerd cutaway-shim cutaway-ctr cutawayd
# needs-cmd: docker

demo_run() {
  T=$DEMO_ROOT
  on_exit() { DEMO_CLEANUP+="$*;"; }
  source "$TOP/tests/lib/registry.sh"
  source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
  source "$TOP/tests/lib/dockerd.sh"
  reg_start registry plain || { echo "demo: docker-registry did not start" >&2; return 1; }
  local ref=$REG/cutaway/busybox:demo docker
  docker=$(dkd_docker)
  bash "$TOP/tests/fixtures/mkbundle.sh" "$DEMO_ROOT/src" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" import "$DEMO_ROOT/src/rootfs" "$ref" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" push "$ref" >/dev/null 2>&1
  # (not dkd_cleanup: its API calls would be traced after the demo's request)
  DEMO_CLEANUP+="dkd_stop; ctd_cleanup; ip link del \"\$DKD_BRIDGE\";"
  ctd_start containerd || return 1
  dkd_start || return 1
  export DOCKER_HOST=unix://$T/docker.sock
  say "docker pull $ref   (the real docker CLI, talking to cutawayd)"
  "$docker" pull "$ref" >&2
  say "docker run --rm --name cutaway-demo $ref"
  "$docker" run --rm --name cutaway-demo "$ref" sh -c \
    'echo "hello from $(hostname), pid $$, at $(ip -o -4 addr show eth0 | awk "{print \$4}"): docker CLI -> cutawayd -> containerd -> shim -> cutaway-runc"'
  DEMO_VIEW=(--container cutaway-demo)
}
