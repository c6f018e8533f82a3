#!/bin/bash
# A config without a mount namespace runs in the runtime's, as the spec
# requires (config-linux.md#namespaces; the OCI suite's linux_ns_itype): the
# root is entered with chroot, "/" keeps its propagation, a read-only root
# never touches the host's root mount, exec lands in the container's root,
# and delete unmounts every mount the container made in the host's
# namespace, but none that was already under the rootfs.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B" /probe readlink /proc/self/ns/mnt
cfg "$B" '.linux.namespaces |= map(select(.type != "mount"))'
# mounts at or under the bundle, as the host sees them
mounts_under() { awk -v d="$B/" 'index($5 "/", d) == 1 {print $5}' /proc/self/mountinfo; }
root_line() { awk '$5 == "/" {print $6, $7}' /proc/self/mountinfo | head -1; }
before_root=$(root_line)

is "$(runc run --bundle "$B" cutaway-nm1 </dev/null 2>&1)" "$(readlink /proc/self/ns/mnt)" \
  "no mount namespace in the config: the container is in the runtime's"
is "$(mounts_under)" "" "run leaves no mount behind"
is "$(root_line)" "$before_root" "the host's / keeps its options and propagation"

# create: the container's mounts are visible on the host until delete
cfg "$B" '.process.args = ["/probe", "sleep", "60"] | .root.readonly = true'
quiet runc create --bundle "$B" cutaway-nm2
is "$(runc state cutaway-nm2 | jq -r .status)" "created" "create without a mount namespace"
like "$(mounts_under | tr '\n' ' ')" "$B/rootfs $B/rootfs/proc .*$B/rootfs/dev" \
  "its rootfs bind, /proc and /dev are mounts in the host's namespace"
ok "start" runc start cutaway-nm2
like "$(runc exec cutaway-nm2 /probe ls / 2>&1 | tr '\n' ' ')" '(^| )probe ' "exec runs in the container's root"
like "$(runc exec cutaway-nm2 /probe write /cutaway-x y 2>&1)" 'Read-only file system' \
  "root.readonly holds in the container"
[[ -w / ]] && touch "$T/host-rw" && pass "... while the host's / stays writable" ||
  fail "... while the host's / stays writable"
is "$(root_line)" "$before_root" "... and keeps its options"
ok "delete --force" runc delete --force cutaway-nm2
is "$(mounts_under)" "" "delete unmounts everything the container mounted"

# a mount already under the rootfs (a containerd overlay, say) stays
mkdir -p "$B/rootfs/mnt/pre"
mount -t tmpfs cutaway-pre "$B/rootfs/mnt/pre"
on_exit "umount $B/rootfs/mnt/pre 2>/dev/null"
echo kept >"$B/rootfs/mnt/pre/file"
cfg "$B" '.process.args = ["/probe", "cat", "/mnt/pre/file"] | .root.readonly = false'
is "$(runc run --bundle "$B" cutaway-nm3 </dev/null 2>&1)" "kept" "a mount already under the rootfs is seen"
is "$(mounts_under)" "$B/rootfs/mnt/pre" "... and it is the only mount left after the run"
umount "$B/rootfs/mnt/pre"

# a failed create unmounts too
cfg "$B" '.process.args = ["/no/such/program"]'
out=$(runc create --bundle "$B" cutaway-nm4 </dev/null 2>&1)
like "$out" 'process.args\[0\] /no/such/program' "a failed create without a mount namespace fails"
is "$(leftovers cutaway-nm4)" "" "... and leaves no mount, state or cgroup"

done_testing
