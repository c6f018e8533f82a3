#!/bin/bash
# Bad input of every kind: one clear line, a non-zero exit, and nothing
# left behind: no state directory, no mount, no cgroup, no process.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B" /probe hostname
cp "$B/config.json" "$T/good.json"
k=0

# bad NAME REGEX JQ-FILTER: create with config.json edited by the filter must
# fail with one line matching REGEX and leave nothing behind.
bad() {
  local name=$1 want=$2 filter=$3
  k=$((k + 1))
  local id=cutaway-bad$k
  jq "$filter" "$T/good.json" >"$B/config.json"
  local out rc
  out=$(runc create --bundle "$B" "$id" </dev/null 2>&1)
  rc=$?
  if [[ $rc -eq 0 ]]; then
    fail "$name: create fails" "it succeeded"
    runc delete --force "$id" >/dev/null 2>&1
    return
  fi
  like "$out" "$want" "$name: $(head -c 110 <<<"$out")"
  is "$(wc -l <<<"$out")" "1" "$name: the error is one line"
  is "$(leftovers "$id")" "" "$name: nothing left behind"
}

bad "unknown namespace type" 'unknown namespace type "bogus"' '.linux.namespaces += [{type: "bogus"}]'
bad "a namespace listed twice" 'pid listed twice' '.linux.namespaces += [{type: "pid"}]'
bad "a namespace path of the wrong type" '/proc/self/ns/uts is not a network namespace' \
  '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/uts" else . end)'
bad "a namespace path that does not exist" 'network path /nonexistent' \
  '.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent" else . end)'
bad "a missing root" 'root.path .*/no-such-rootfs: No such file or directory' \
  '.root.path = "no-such-rootfs"'
bad "args that do not exist" 'process.args\[0\] /no/such/program' '.process.args = ["/no/such/program"]'
bad "a program not in PATH" 'no-such-cmd: not found in \$PATH' '.process.args = ["no-such-cmd"]'
bad "an unknown capability" 'unknown capability "CAP_TEST"' '.process.capabilities.bounding += ["CAP_TEST"]'
bad "an unknown rlimit" 'unknown rlimit type "RLIMIT_BOGUS"' \
  '.process.rlimits += [{type: "RLIMIT_BOGUS", hard: 1, soft: 1}]'
bad "an unsupported major ociVersion" 'unsupported major version' '.ociVersion = "2.0.0"'
bad "a mount option that is not supported" 'option "idmap" is not supported' \
  '.mounts += [{destination: "/mnt", type: "bind", source: "/tmp", options: ["idmap"]}]'
bad "a wrong type" 'process.args: expected' '.process.args = "sh"'
bad "an unknown seccomp action" 'unknown action "SCMP_ACT_BOGUS"' \
  '.linux.seccomp = {defaultAction: "SCMP_ACT_BOGUS"}'
bad "a relative namespace path" 'must be absolute' \
  '.linux.namespaces |= map(if .type == "network" then .path = "net" else . end)'
bad "hostname without a uts namespace" 'needs a new uts namespace' \
  '.linux.namespaces |= map(select(.type != "uts"))'
bad "a net sysctl without a network namespace" 'net.ipv4.ip_forward: needs the container.s own network namespace' \
  '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces |= map(select(.type != "network"))'
bad "a sysctl that is not namespaced" 'kernel.pid_max: not a namespaced sysctl' \
  '.linux.sysctl = {"kernel.pid_max": "4096"}'

# Errors of the process's privileges surface at `create`, not after `start`:
# a capability outside the runtime's bounding set (setpriv drops
# CAP_SYS_RESOURCE from the runtime's; this VM's own set may lack it too).
jq '.process.capabilities.effective += ["CAP_SYS_RESOURCE"] |
  .process.capabilities.permitted += ["CAP_SYS_RESOURCE"] |
  .process.capabilities.bounding += ["CAP_SYS_RESOURCE"]' "$T/good.json" >"$B/config.json"
out=$(setpriv --bounding-set -sys_resource -- "$BIN/cutaway-runc" --root "$RSTATE" \
  create --bundle "$B" cutaway-capbnd </dev/null 2>&1)
rc=$?
[[ $rc -ne 0 ]] && pass "a capability the runtime lacks fails create" ||
  fail "a capability the runtime lacks fails create" "rc=$rc"
like "$out" 'CAP_SYS_RESOURCE not available to the runtime' "... naming it: $(head -c 100 <<<"$out")"
is "$(wc -l <<<"$out")" "1" "... in one line"
is "$(leftovers cutaway-capbnd)" "" "... and leaves nothing behind"
# process.apparmorProfile: applied where AppArmor is enabled (a profile the
# kernel does not know then fails create), ignored with a warning in the log
# where it is not (Docker only sets it where it is)
jq '.process.apparmorProfile = "cutaway-no-such-profile"' "$T/good.json" >"$B/config.json"
if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]]; then
  bad "an AppArmor profile the kernel does not know" 'apparmorProfile cutaway-no-such-profile' \
    '.process.apparmorProfile = "cutaway-no-such-profile"'
  skip "AppArmor is enabled: the warning case cannot be seen here"
else
  is "$("$BIN/cutaway-runc" --root "$RSTATE" --log "$T/aa.log" run --bundle "$B" cutaway-aa </dev/null 2>/dev/null)" \
    "cutaway" "apparmorProfile without AppArmor: the container runs"
  like "$(cat "$T/aa.log")" 'level=warning .*apparmorProfile .*cutaway-no-such-profile.* ignored: AppArmor is not enabled' \
    "... and the log says the profile was ignored"
fi

# a program the process's user may not run is found out as that user, at create
install -m 700 "$B/rootfs/probe" "$B/rootfs/probe-root-only"
bad "a program the user may not execute" 'process.args\[0\] /probe-root-only: Permission denied' \
  '.process.user = {uid: 4242, gid: 4242} | .process.args = ["/probe-root-only"]'
rm "$B/rootfs/probe-root-only"

# a mount destination that climbs out of the rootfs through a symlink
ln -s ../../../../../../tmp "$B/rootfs/escape"
bad "a mount destination escaping through a symlink" 'escapes the rootfs' \
  '.mounts += [{destination: "/escape/cutaway-x", type: "tmpfs", source: "tmpfs"}]'
[[ -e /tmp/cutaway-x ]] && fail "... nothing was created on the host" || pass "... nothing was created on the host"
rm "$B/rootfs/escape"
# an absolute symlink is resolved inside the rootfs, as runc does
ln -s /var/lib "$B/rootfs/abs"
jq '.mounts += [{destination: "/abs/cutaway-y", type: "tmpfs", source: "tmpfs"}] |
  .root.readonly = false | .process.args = ["/probe", "ls", "/var/lib"]' "$T/good.json" >"$B/config.json"
is "$(runc run --bundle "$B" cutaway-abs </dev/null 2>&1)" "cutaway-y" \
  "an absolute symlink in a mount destination stays inside the rootfs"
[[ -e /var/lib/cutaway-y ]] && fail "... and the host's /var/lib is untouched" ||
  pass "... and the host's /var/lib is untouched"
rm "$B/rootfs/abs"

# invalid JSON
echo '{"ociVersion": "1.0.2", "root": ' >"$B/config.json"
out=$(runc create --bundle "$B" cutaway-json </dev/null 2>&1)
like "$out" 'config.json: invalid JSON' "invalid JSON is reported with the file name"
is "$(leftovers cutaway-json)" "" "invalid JSON: nothing left behind"
rm "$B/config.json"
like "$(runc create --bundle "$B" cutaway-nocfg </dev/null 2>&1)" 'config.json: No such file' \
  "a bundle without config.json"

# ociVersion 1.3.0 (what the validation suite writes) is accepted
jq '.ociVersion = "1.3.0"' "$T/good.json" >"$B/config.json"
is "$(runc run --bundle "$B" cutaway-v13 </dev/null 2>&1)" "cutaway" "ociVersion 1.3.0 runs"

# a duplicate id leaves the first container alone
cp "$T/good.json" "$B/config.json"
cfg "$B" '.process.args = ["/probe", "sleep", "30"]'
quiet runc create --bundle "$B" cutaway-dup
out=$(runc create --bundle "$B" cutaway-dup </dev/null 2>&1)
like "$out" 'container cutaway-dup already exists' "a duplicate id is refused"
is "$(runc state cutaway-dup | jq -r .status)" "created" "... the first container is untouched"
runc delete --force cutaway-dup

# bad command lines
like "$(runc frobnicate 2>&1)" 'unknown command "frobnicate"' "an unknown command"
like "$(runc create 2>&1)" 'missing container id' "a missing id"
like "$(runc kill cutaway-x BOGUS 2>&1)" 'unknown signal "BOGUS"' "an unknown signal"
like "$(runc --log-format yaml list 2>&1)" 'want text or json' "a bad --log-format"

procs=$(pgrep -f "cutaway-runc --root $RSTATE" || true)
is "$procs" "" "no runtime process left"

done_testing
