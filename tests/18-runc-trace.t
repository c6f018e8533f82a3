#!/bin/bash
# The trace of a container start: a span per command, the kernel steps in
# their order (clone -> mount ... -> pivot_root -> capset -> seccomp.load ->
# execve) with their attributes, errors with errno, process titles by role,
# and the caller's TRACEPARENT honoured (but never passed to the container).
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B" /probe hostname
tok=cutaway-$(rand_token)
cfg "$B" --arg h "$tok" --argjson c "$DOCKER_CAPS" '.hostname = $h |
  .process.capabilities = {bounding: $c, effective: $c, permitted: $c, inheritable: [], ambient: []} |
  .process.noNewPrivileges = true |
  .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["getppid"], action: "SCMP_ACT_ERRNO"}]}'

TID=4bf92f3577b34da6a3ce929d0e0e$(rand_token | head -c 4)
export TRACEPARENT=00-$TID-00f067aa0ba902b7-01
TR=$CUTAWAY_TRACE
out=$(runc run --bundle "$B" cutaway-tr </dev/null 2>&1)
unset TRACEPARENT
is "$out" "$tok" "the container ran"

ev() { jq -c --arg t "$TID" "select(.trace == \$t) | $1" "$TR"; }
names=$(ev 'select(.ev == "begin") | .name' | tr -d '"')
order=$(grep -n -x -E 'runc.run|clone|mount|pivot_root|sethostname|capset|seccomp.load|execve' <<<"$names" |
  awk -F: '!seen[$2]++ {print $2}' | tr '\n' ' ')
is "$order" "runc.run clone mount pivot_root sethostname capset seccomp.load execve " \
  "the kernel steps in order: clone, mount, pivot_root, sethostname, capset, seccomp.load, execve"
is "$(ev 'select(.parent == "00f067aa0ba902b7") | .name' | head -1)" '"runc.run"' \
  "runc.run is a child of the caller's TRACEPARENT"
like "$(ev 'select(.name == "clone" and .ev == "begin") | .attrs.flags')" 'CLONE_NEWPID\|CLONE_NEWNS' \
  "clone carries its flags as text"
like "$(ev 'select(.name == "mount" and .ev == "begin" and .attrs.target == "/proc") | .attrs')" \
  '"source":"proc".*"type":"proc"' "a mount carries source, target, type and flags"
is "$(ev 'select(.name == "sethostname" and .ev == "begin") | .attrs.hostname')" "\"$tok\"" \
  "sethostname carries the hostname"
is "$(ev 'select(.name == "capset" and .ev == "begin") | .attrs.effective')" '"00000000a80425fb"' \
  "capset carries the resulting sets"
like "$(ev 'select(.name == "seccomp.load" and .ev == "begin") | .attrs.rules')" '^[1-9]' \
  "seccomp.load carries its rule count"
n_bpf=$(ev 'select(.name == "seccomp.compile" and .ev == "end") | .attrs.instructions')
like "$n_bpf" '^[1-9]' "seccomp.compile, by the runtime, ends with its BPF instruction count"
is "$(ev 'select(.name == "seccomp.load" and .ev == "begin") | .attrs.instructions')" "$n_bpf" \
  "seccomp.load loads that very program"
is "$(grep -x -E 'seccomp.compile|clone' <<<"$names" | head -1)" "seccomp.compile" \
  "the BPF program is generated before the clone"
is "$(ev 'select(.name == "execve" and .ev == "begin") | .attrs.argv' | jq -c .)" '["/probe","hostname"]' \
  "execve carries argv"
is "$(ev 'select(.name == "execve" and .ev == "end")' | wc -l)" "0" \
  "execve has no end event: the image was replaced"
like "$(ev 'select(.name == "setuid" and .ev == "begin") | .attrs.uid')" '^0$' "setuid is traced"
roles=$(ev '.role' | sort -u | tr -d '"' | tr '\n' ' ')
like "$roles" 'runc:\[2:INIT\]' "the init's events carry its role runc:[2:INIT]"
like "$(ev 'select(.name == "cgroup.write") | .attrs.path' | head -1)" 'cgroup' "cgroup writes are traced"
is "$(ev 'select(.kind == "syscall" and .ev == "begin") | .kind' | wc -l)" \
  "$(ev 'select(.kind == "syscall" and .ev == "begin") | select(.role != null) | .kind' | wc -l)" \
  "every syscall span names its process's role"

# create/start: the init's last steps belong to `start`'s trace
TID2=$(rand_token)$(rand_token)
TID2=${TID2:0:32}
TRACEPARENT=00-$TID2-00f067aa0ba902b7-01 quiet runc create --bundle "$B" cutaway-cs
TID3=$(rand_token)$(rand_token)
TID3=${TID3:0:32}
TRACEPARENT=00-$TID3-00f067aa0ba902b7-01 runc start cutaway-cs
wait_status cutaway-cs stopped
runc delete cutaway-cs
in_trace() { jq -r --arg t "$1" 'select(.trace == $t and .ev == "begin") | .name' "$TR" | tr '\n' ' '; }
like "$(in_trace "$TID2")" 'runc.create .*clone .*pivot_root .*init.setup|runc.create .*clone .*init.setup .*pivot_root' \
  "create's trace: clone, mounts, pivot_root"
like "$(in_trace "$TID2")" 'runc.create .*init.setup .*setuid .*capset' \
  "create's trace: the user switch and capset (a failure there fails create)"
like "$(in_trace "$TID3")" 'runc.start .*init.start .*seccomp.load .*execve' \
  "start's trace: the init's seccomp load and execve, under runc.start"
[[ $(in_trace "$TID3") == *capset* ]] && fail "start's trace has no capset" || pass "start's trace has no capset"

# without noNewPrivileges nor CAP_SYS_ADMIN (dockerd's default), capset holds
# CAP_SYS_ADMIN for the seccomp load; execve drops it: the program has exactly
# the configured set.
cfg "$B" '.process.noNewPrivileges = false | .process.args = ["/probe", "caps"]'
TID4=$(rand_token)$(rand_token)
TID4=${TID4:0:32}
out=$(TRACEPARENT=00-$TID4-00f067aa0ba902b7-01 runc run --bundle "$B" cutaway-held </dev/null 2>&1)
like "$out" 'CapEff:	00000000a80425fb' "no noNewPrivileges: the program has exactly Docker's capabilities"
is "$(jq -r --arg t "$TID4" 'select(.trace == $t and .name == "capset" and .ev == "begin") |
  .attrs.held_until_execve' "$TR")" "0000000000200000" "... capset held CAP_SYS_ADMIN for the seccomp load"
like "$(in_trace "$TID4")" 'capset .*seccomp.load .*execve' "... and seccomp.load still comes last"
cfg "$B" '.process.noNewPrivileges = true'

# an error carries errno
cfg "$B" '.process.args = ["/no/such/program"]'
runc run --bundle "$B" cutaway-err </dev/null >/dev/null 2>&1
is "$(jq -c 'select(.name == "runc.run" and .status == "error") | .errno' "$TR" | tail -1)" "2" \
  "a failed run ends its span with status error and errno 2"

# tracing off: nothing written
n=$(wc -l <"$TR")
cfg "$B" '.process.args = ["/probe", "pid"]'
CUTAWAY_TRACE=off runc run --bundle "$B" cutaway-off </dev/null >/dev/null 2>&1
is "$(wc -l <"$TR")" "$n" "CUTAWAY_TRACE=off writes nothing"

done_testing
