# Tier 3: containerd.  A local registry serves a busybox image (built from
# Debian's busybox-static and pushed with cutaway-image); cutaway-containerd
# pulls it into its content store and overlayfs snapshots, and
# `cutaway-ctr run --rm` runs it: client -> containerd -> shim -> runc ->
# kernel, one trace, under the demo's root span.
# needs: cutaway-trace cutaway-runc cutaway-image cutaway-containerd cutaway-shim cutaway-ctr

demo_run() {
  T=$DEMO_ROOT
  on_exit() { DEMO_CLEANUP+="$*;"; }
  source "$TOP/tests/lib/registry.sh"
  source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
  reg_start registry plain || { echo "demo: docker-registry did not start" >&2; return 1; }
  local ref=$REG/cutaway/busybox:demo
  bash "$TOP/tests/fixtures/mkbundle.sh" "$DEMO_ROOT/src" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" import "$DEMO_ROOT/src/rootfs" "$ref" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" push "$ref" >/dev/null 2>&1
  DEMO_CLEANUP+="ctd_cleanup;"
  ctd_start containerd || return 1

  TRACEPARENT=$(cutaway-trace emit --ev begin --comp cutaway-demo --kind client --name demo.Run \
    --attr image="$ref")
  export TRACEPARENT
  DEMO_TRACE=$(cut -d- -f2 <<<"$TRACEPARENT")
  say "cutaway-ctr images pull $ref"
  cutaway-ctr images pull "$ref" >&2
  say "cutaway-ctr run --rm $ref cutaway-demo"
  cutaway-ctr run --rm "$ref" cutaway-demo sh -c 'echo "hello from $(hostname), pid $$, through containerd, the shim and cutaway-runc"'
  cutaway-trace emit --ev end --comp cutaway-demo --kind client --name demo.Run
  unset TRACEPARENT
}
