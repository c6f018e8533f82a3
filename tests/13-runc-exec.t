#!/bin/bash
# cutaway-runc exec, ps, pause/resume, update and events on a running
# busybox container: the exec'ed process is in every namespace of the
# container and its cgroup, under the same capabilities and seccomp filter,
# and `exec` returns its exit status.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/runc-peers.sh"
need_root
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
peers_busybox >/dev/null || skip_all "busybox-static not installed"
tap_tmproot

R="cutaway-runc --root $T/state"
# The container inherits create's stdio: keep it off the pipes of $(...).
create() { $R create "$@" >>"$T/container.out" 2>&1 </dev/null; }
B=$T/bundle
tok=$(rand_token)
peers_bundle "$B" sleep 1000
# A hostname to find, Docker's capabilities, and a one-rule seccomp filter
# (mkdir denied with EPERM) so the exec'ed process can be compared.
jq --arg h "h$tok" '.hostname = $h
  | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' \
  "$B/config.json" >"$B/c.json" && mv "$B/c.json" "$B/config.json"

id=exec-$tok
on_exit "$R delete --force $id"
ok "create" create --bundle "$B" "$id"
ok "start" $R start "$id"
pid=$($R state "$id" | jq -r .pid)
# start returns once the init is released; wait until it has exec'ed.
for _ in $(seq 200); do [[ $(tr '\0' ' ' </proc/$pid/cmdline) == "sleep 1000 " ]] && break; sleep 0.02; done

out=$($R exec "$id" hostname 2>&1)
is "$out" "h$tok" "exec joins the uts namespace (hostname from config)"

out=$($R exec "$id" cat /proc/1/cmdline 2>&1 | tr '\0' ' ')
is "$out" "sleep 1000 " "exec joins the pid namespace (pid 1 is the container's init)"

is "$(readlink /proc/$pid/ns/mnt)" "$($R exec "$id" readlink /proc/self/ns/mnt)" \
  "exec joins the mount namespace"
is "$(readlink /proc/$pid/ns/net)" "$($R exec "$id" readlink /proc/self/ns/net)" \
  "exec joins the network namespace"

is "$($R exec "$id" cat /proc/self/cgroup)" "$($R exec "$id" cat /proc/1/cgroup)" \
  "exec joins the container's cgroup (and cgroup namespace)"

is "$($R exec "$id" grep CapEff /proc/self/status)" "$(grep CapEff /proc/$pid/status)" \
  "exec has the container's effective capabilities"
is "$($R exec "$id" grep CapBnd /proc/self/status)" "$(grep CapBnd /proc/$pid/status)" \
  "exec has the container's bounding set"
like "$($R exec "$id" grep Seccomp: /proc/self/status)" 'Seccomp:[[:space:]]+2' \
  "exec runs under the seccomp filter"
out=$($R exec "$id" mkdir /tmp/denied 2>&1)
like "$out" 'Operation not permitted' "the container's seccomp rule holds in exec (mkdir: EPERM)"

$R exec "$id" sh -c 'exit 7'
is "$?" "7" "exec returns the process's exit status"

is "$($R exec --env "TOKEN=$tok" "$id" sh -c 'echo $TOKEN')" "$tok" "--env"
is "$($R exec --cwd /tmp "$id" pwd)" "/tmp" "--cwd"
is "$($R exec --user 65534:65534 "$id" id -u):$($R exec --user 65534:65534 "$id" id -g)" \
  "65534:65534" "--user UID:GID"

jq -n --arg t "$tok" '{args: ["sh", "-c", "echo $T $(pwd)"], env: ["T=\($t)"], cwd: "/etc",
   user: {uid: 0, gid: 0}}' >"$T/process.json"
is "$($R exec --process "$T/process.json" "$id")" "$tok /etc" "--process FILE"

echo "$tok" >"$T/fd3"
is "$($R exec --preserve-fds 1 "$id" sh -c 'cat <&3' 3<"$T/fd3")" "$tok" \
  "--preserve-fds passes fd 3"
out=$($R exec "$id" sh -c 'ls /proc/self/fd | tr "\n" " "' 3<"$T/fd3")
is "$out" "0 1 2 3 " "without --preserve-fds no extra fd leaks in (3 is ls's own)"

detach() { $R exec --detach "$@" >/dev/null 2>&1 </dev/null; }
ok "exec --detach --pid-file" detach --pid-file "$T/e.pid" "$id" sleep 300
epid=$(cat "$T/e.pid" 2>/dev/null)
ok "the detached process is alive" kill -0 "$epid"
is "$(cat /proc/$epid/cgroup)" "$(cat /proc/$pid/cgroup)" "it is in the container's cgroup (host view)"
is "$(readlink /proc/$epid/ns/pid)" "$(readlink /proc/$pid/ns/pid)" \
  "the detached process is in the container's pid namespace"

if command -v script >/dev/null; then
  out=$(script -qec "$R exec -t $id tty" /dev/null </dev/null | tr -d '\r')
  like "$out" '/dev/pts/[0-9]+' "exec -t: a pty from the container's devpts"
else
  skip "script (bsdutils) not installed"
fi

out=$($R ps --format json "$id")
like "$out" "^\[.*\b$pid\b.*\]$" "ps --format json lists the init"
like "$out" "\b$epid\b" "ps lists the exec'ed process"
like "$($R ps "$id")" 'PID.*CMD.*sleep 1000' "ps prints a table"

ok "pause" $R pause "$id"
is "$($R state "$id" | jq -r .status)" "paused" "state says paused"
nok "exec into a paused container fails" $R exec "$id" true
nok "pause twice fails" $R pause "$id"
ok "resume" $R resume "$id"
is "$($R state "$id" | jq -r .status)" "running" "state says running again"

ok "update --pids-limit --memory" $R update --pids-limit 77 --memory 96m "$id"
cgpids=$(awk -F: '$2 ~ /pids/ {print $3}' /proc/$pid/cgroup)
if [[ -n $cgpids && -f /sys/fs/cgroup/pids$cgpids/pids.max ]]; then
  is "$(cat /sys/fs/cgroup/pids$cgpids/pids.max)" "77" "pids.max follows update (v1)"
  cgmem=$(awk -F: '$2 ~ /memory/ {print $3}' /proc/$pid/cgroup)
  is "$(cat /sys/fs/cgroup/memory$cgmem/memory.limit_in_bytes)" "$((96 << 20))" \
    "memory.limit_in_bytes follows update (v1)"
else
  cg2=$(awk -F: '$1 == 0 {print $3}' /proc/$pid/cgroup)
  is "$(cat /sys/fs/cgroup$cg2/pids.max)" "77" "pids.max follows update (v2)"
  is "$(cat /sys/fs/cgroup$cg2/memory.max)" "$((96 << 20))" "memory.max follows update (v2)"
fi
echo '{"pids": {"limit": 55}}' | $R update --resources - "$id"
is "$?" "0" "update --resources - reads the resources JSON on stdin"
nok "update with a bad value fails" $R update --memory lots "$id"

out=$($R events --stats "$id")
is "$(jq -r .type <<<"$out")" "stats" "events --stats prints a stats event"
is "$(jq -r .id <<<"$out")" "$id" "for this container"

nok "exec of a missing program fails" $R exec "$id" /no/such/program
err=$($R exec "$id" /no/such/program 2>&1)
is "$(wc -l <<<"$err")" "1" "with a one-line error: $err"
nok "exec into an unknown container fails" $R exec "nope-$tok" true
nok "exec without a command fails" $R exec "$id"

grep -q '"name":"setns"' "$CUTAWAY_TRACE" && grep '"name":"setns"' "$CUTAWAY_TRACE" |
  grep -q '"type":"mount"'
is "$?" "0" "the trace holds setns spans with the namespace type"
grep -q '"name":"runc.exec"' "$CUTAWAY_TRACE"
is "$?" "0" "the trace holds a runc.exec span"

# LISTEN_FDS (socket activation): the runtime's fds 3.. pass on, first.
jq '.process.args = ["sh", "-c", "echo $LISTEN_FDS:$LISTEN_PID:$(cat <&3):$(cat <&4)"]' \
  "$B/config.json" >"$T/listen.json"
mkdir -p "$T/lb" && cp "$T/listen.json" "$T/lb/config.json" && ln -s "$B/rootfs" "$T/lb/rootfs"
echo "fd3-$tok" >"$T/fd3" && echo "fd4-$tok" >"$T/fd4"
out=$(LISTEN_FDS=1 $R run --bundle "$T/lb" --preserve-fds 1 "listen-$tok" 3<"$T/fd3" 4<"$T/fd4" 2>&1)
is "$out" "1:1:fd3-$tok:fd4-$tok" "LISTEN_FDS=1: fd 3 and LISTEN_FDS/LISTEN_PID pass in, then --preserve-fds"

ok "kill" $R kill "$id" KILL
for _ in $(seq 100); do [[ $($R state "$id" | jq -r .status) == stopped ]] && break; sleep 0.05; done
nok "exec into a stopped container fails" $R exec "$id" true
ok "delete" $R delete "$id"
ok "the detached exec process died with the container" bash -c "! kill -0 $epid 2>/dev/null"

done_testing
