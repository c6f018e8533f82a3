# Tier 1: the OCI runtime.  A busybox bundle is built from Debian's
# busybox-static, and `cutaway-runc run` starts a container in it: clone
# with new namespaces, mounts, pivot_root, cgroups, capabilities, seccomp,
# execve, all traced.
# needs: cutaway-trace cutaway-runc

demo_run() {
  local bundle=$DEMO_ROOT/bundle
  bash "$TOP/tests/fixtures/mkbundle.sh" "$bundle" /bin/sh -c \
    'echo "hello from $(hostname), pid $$ in its own namespaces"' >/dev/null
  say "cutaway-runc run (bundle $bundle)"
  cutaway-runc --root "$DEMO_ROOT/state" run --bundle "$bundle" cutaway-demo
}
