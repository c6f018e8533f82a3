# Tier 2: images.  Debian's docker-registry is started on 127.0.0.1; a
# busybox rootfs (from busybox-static) is imported as a one-layer image and
# pushed to it; then the image is pulled back into a fresh store, unpacked
# while it downloads, and run with cutaway-runc.  One trace holds it all:
# the demo opens a root span and every tool below inherits TRACEPARENT.
# needs: cutaway-trace cutaway-runc cutaway-image

demo_run() {
  T=$DEMO_ROOT
  on_exit() { DEMO_CLEANUP+="$*;"; }
  source "$TOP/tests/lib/registry.sh"
  reg_start registry plain || { echo "demo: docker-registry did not start" >&2; return 1; }
  local bundle=$DEMO_ROOT/bundle ref=$REG/cutaway/busybox:demo
  bash "$TOP/tests/fixtures/mkbundle.sh" "$DEMO_ROOT/src" >/dev/null
  cutaway-image --layout "$DEMO_ROOT/build-store" import "$DEMO_ROOT/src/rootfs" "$ref" >/dev/null

  TRACEPARENT=$(cutaway-trace emit --ev begin --comp cutaway-demo --kind client --name demo.Run \
    --attr image="$ref")
  export TRACEPARENT
  DEMO_TRACE=$(cut -d- -f2 <<<"$TRACEPARENT")
  say "cutaway-image push $ref"
  cutaway-image --layout "$DEMO_ROOT/build-store" push "$ref" >&2
  say "cutaway-image pull --unpack (a fresh store: every blob crosses the wire)"
  mkdir -p "$bundle"
  cutaway-image --layout "$DEMO_ROOT/store" pull --unpack "$bundle/rootfs" "$ref" >&2
  jq '.process.args = ["/bin/sh", "-c", "echo hello from $(hostname), pid $$, image '"$ref"'"]' \
    "$DEMO_ROOT/src/config.json" >"$bundle/config.json"
  say "cutaway-runc run"
  cutaway-runc --root "$DEMO_ROOT/state" run --bundle "$bundle" cutaway-demo
  cutaway-trace emit --ev end --comp cutaway-demo --kind client --name demo.Run
  unset TRACEPARENT
}
