#!/bin/bash
# What a container sees from inside, checked by the static probe: its own
# pid 1, hostname and mounts; Docker's 14 capabilities exactly; seccomp;
# masked and read-only paths; the user switch; devices, sysctls, rlimits,
# bind mounts, a user namespace, namespaces joined by path; no host fd, no
# host environment; and the real configs dockerd and ctr hand to runc.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B"
n=0
# probe ARGS...: run the probe in a fresh container of bundle $B.
probe() {
  n=$((n + 1))
  local a
  a=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  cfg "$B" --argjson a "$a" '.process.args = ["/probe"] + $a'
  runc run --bundle "$B" "cutaway-iso$n" </dev/null 2>&1
}

# namespaces
is "$(probe pid)" "1" "the container's process is pid 1"
tok=cutaway-$(rand_token)
cfg "$B" '.hostname = $h | .domainname = "lab.example"' --arg h "$tok"
is "$(probe hostname)" "$tok" "its own hostname"
is "$(probe domainname)" "lab.example" "its own domainname"
is "$(hostname)" "$(cat /proc/sys/kernel/hostname)" "the host's hostname is untouched"
is "$(probe ps | tr '\n' ' ')" "1 " "no host process is visible"
mounts=$(probe mounts)
like "$(head -1 <<<"$mounts")" '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+/rootfs / ' "the rootfs is mounted at /"
[[ $mounts == *"$TOP"* || $mounts == *" /work"* ]] && fail "no host path in the mount table" ||
  pass "no host path in the mount table"
[[ $(probe readlink /proc/self/ns/net) != "$(readlink /proc/self/ns/net)" ]] &&
  pass "its own network namespace" || fail "its own network namespace"

# Docker's 14 capabilities
cfg "$B" --argjson c "$DOCKER_CAPS" \
  '.process.capabilities = {bounding: $c, effective: $c, permitted: $c, inheritable: [], ambient: []}'
caps=$(probe caps)
like "$caps" 'CapEff:	00000000a80425fb' "Docker's 14 capabilities: CapEff 00000000a80425fb"
like "$caps" 'CapPrm:	00000000a80425fb' "... CapPrm the same"
like "$caps" 'CapBnd:	00000000a80425fb' "... CapBnd the same"
like "$caps" 'CapInh:	0000000000000000' "... CapInh empty"
like "$caps" 'CapAmb:	0000000000000000' "... CapAmb empty"
is "$(probe status NoNewPrivs)" "NoNewPrivs:	1" "noNewPrivileges: true sets NoNewPrivs"

# seccomp: getppid (110 on x86_64) denied with errno 42
cfg "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
  syscalls: [{names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: 42},
             {names: ["personality"], action: "SCMP_ACT_ERRNO",
              args: [{index: 0, value: 255, op: "SCMP_CMP_EQ"}]}]}'
is "$(probe seccomp)" "2" "seccomp filter mode (2)"
is "$(probe syscall 110)" "ret=-1 errno=42" "a denied syscall returns the configured errno"
is "$(probe syscall 39)" "ret=1 errno=0" "an allowed syscall works (getpid)"
is "$(probe syscall 135)" "ret=0 errno=0" "an argument condition that does not match lets it through"
cfg "$B" 'del(.linux.seccomp)'

# masked and read-only paths, read-only root
masked=""
for f in /proc/kcore /proc/keys /proc/timer_list; do [[ -e $f ]] && masked=$f && break; done
is "$(probe cat "$masked" | wc -c)" "0" "a masked file reads empty ($masked)"
is "$(probe ls /sys/firmware)" "" "a masked directory is empty (/sys/firmware)"
like "$(probe write /proc/sys/kernel/domainname x 2>&1)" 'Read-only file system' \
  "a read-only path refuses writes (/proc/sys)"
like "$(probe write /cutaway-file x 2>&1)" 'Read-only file system' "root.readonly: / refuses writes"
cfg "$B" '.root.readonly = false'
like "$(probe write /tmp/x hello)" 'wrote' "a writable root takes writes"

# the user switch
cfg "$B" '.process.user = {uid: 1000, gid: 1001, additionalGids: [2000, 3000], umask: 63}'
is "$(probe uid)" "1000" "process.user.uid"
is "$(probe gid)" "1001" "process.user.gid"
is "$(probe groups)" "2000 3000" "process.user.additionalGids"
is "$(probe umask)" "0077" "process.user.umask"
is "$(probe caps | grep CapEff)" "CapEff:	0000000000000000" "a non-root user keeps no effective caps"
cfg "$B" '.process.user = {uid: 0, gid: 0}'

# cwd, env, rlimits, sysctl, devices
cfg "$B" '.process.cwd = "/tmp/work/dir"'
is "$(probe cwd)" "/tmp/work/dir" "process.cwd is created and entered"
cfg "$B" '.process.cwd = "/"'
env_out=$(TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 FOO=host probe env | sort)
want=$(jq -r '.process.env[]' "$B/config.json" | sort)
is "$env_out" "$want" "the environment is exactly config.json's (no TRACEPARENT, no CUTAWAY_TRACE)"
is "$(probe rlimit nofile)" "1024 1024" "process.rlimits RLIMIT_NOFILE"
cfg "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
is "$(probe cat /proc/sys/net/ipv4/ip_forward)" "1" "linux.sysctl written in the container's namespace"
cfg "$B" 'del(.linux.sysctl)'
like "$(probe stat /dev/null)" 'rdev 1:3' "/dev/null is the null device"
is "$(probe readlink /dev/ptmx)" "pts/ptmx" "/dev/ptmx points at pts/ptmx"
is "$(probe readlink /dev/fd)" "/proc/self/fd" "/dev/fd points at /proc/self/fd"
is "$(probe readlink /dev/stderr)" "/proc/self/fd/2" "/dev/stderr"
cfg "$B" '.linux.devices = [{path: "/dev/cutaway-zero", type: "c", major: 1, minor: 5, fileMode: 432}]'
like "$(probe stat /dev/cutaway-zero)" 'mode 20660 .* rdev 1:5' "linux.devices creates the node"
cfg "$B" 'del(.linux.devices)'

cfg "$B" 'del(.process.oomScoreAdj) | .linux.rootfsPropagation = "rshared"'
like "$(probe mounts | head -1)" ' / [^ ]+ shared:' "rootfsPropagation rshared: / is a shared mount"
cfg "$B" '.linux.rootfsPropagation = "rprivate"'
root_line=$(probe mounts | head -1)
[[ $root_line == *shared:* || $root_line == *master:* ]] &&
  fail "rootfsPropagation rprivate: / is private" "$root_line" || pass "rootfsPropagation rprivate: / is private"
cfg "$B" 'del(.linux.rootfsPropagation)'

# fds: a host fd open in the caller must not reach the container
exec 7<"$B/config.json"
fds=$(probe fds | tr '\n' ' ')
exec 7<&-
is "$fds" "0 1 2 3 " "only stdio (and the probe's own dir fd) are open in the container"

# bind mounts with options
mkdir -p "$T/vol"
echo hostdata >"$T/vol/f"
cfg "$B" --arg s "$T/vol" '.mounts += [{destination: "/data", type: "bind", source: $s, options: ["rbind", "ro", "nosuid"]}]'
is "$(probe cat /data/f)" "hostdata" "a bind mount shows the host directory"
like "$(probe write /data/g x 2>&1)" 'Read-only file system' "... read-only with the ro option"
cfg "$B" '.mounts |= map(select(.destination != "/data"))'

# a user namespace: root inside is 100000 outside (which must be able to
# reach the rootfs: the temp root is 0700)
chmod 755 "$T"
cfg "$B" '.linux.namespaces += [{type: "user"}] |
  .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
  .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
is "$(probe uid)" "0" "in a user namespace the process is uid 0"
is "$(probe cat /proc/self/uid_map | tr -s ' ')" " 0 100000 65536" "... mapped to 100000 on the host"
cfg "$B" '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'

# namespaces joined by path (the network one: the init joins it; the pid
# one: through runc:[1:CHILD])
mkbundle "$T/host" /probe sleep 30
quiet runc run --detach --bundle "$T/host" cutaway-iso-host
hpid=$(runc state cutaway-iso-host | jq -r .pid)
cfg "$B" --arg p "/proc/$hpid/ns/net" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
is "$(probe readlink /proc/self/ns/net)" "$(readlink /proc/$hpid/ns/net)" "joining a network namespace by path"
cfg "$B" --arg p "/proc/$hpid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)'
is "$(probe ps | tr '\n' ' ')" "1 2 " "joining a pid namespace by path (runc:[1:CHILD])"
runc delete --force cutaway-iso-host
cfg "$B" '.linux.namespaces |= map(del(.path))'

# the configs dockerd and ctr hand to runc (reference/oci-config-samples)
# (copies of ../shared/reference/oci-config-samples, kept in tests/fixtures)
REF=$TOP/tests/fixtures
for sample in dockerd-run-default ctr-run-default; do
  mkdir -p "$T/$sample"
  for f in resolv.conf hostname hosts; do echo "# $f" >"$T/$sample/$f"; done
  jq --arg r "$B/rootfs" --arg d "$T/$sample" '.root.path = $r | .root.readonly = false |
    .process.args = ["/probe", "caps"] | del(.hooks) |
    .linux.cgroupsPath = (if .linux.cgroupsPath then "/cutaway-test/\(.linux.cgroupsPath | split("/") | last)" else null end) |
    .mounts |= map(if .type == "bind" then .source = ($d + "/" + (.destination | split("/") | last)) else . end)' \
    "$REF/$sample.json" >"$T/$sample/config.json"
  out=$(runc run --bundle "$T/$sample" "cutaway-$sample" </dev/null 2>&1)
  like "$out" 'CapEff:	00000000a80425fb' "$sample.json runs (Docker's capabilities)"
done
jq '.process.args = ["/probe", "seccomp"]' "$T/dockerd-run-default/config.json" >"$T/d.json" &&
  mv "$T/d.json" "$T/dockerd-run-default/config.json"
is "$(runc run --bundle "$T/dockerd-run-default" cutaway-dockerd-sec </dev/null 2>&1)" "2" \
  "dockerd's config loads its seccomp profile"
[[ -n $(find /sys/fs/cgroup -maxdepth 3 -name 'cutaway-test' -type d) ]] && find /sys/fs/cgroup -maxdepth 3 -name 'cutaway-test' -type d -exec rmdir {} + 2>/dev/null

done_testing
