#!/bin/bash
# cutaway-runc's command line and the OCI lifecycle: spec, create, start,
# state, kill, delete, run, list, and the errors the runtime-spec requires
# (start twice, delete of a running container, kill of a stopped one, an
# unknown or duplicate id).
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B" /probe sleep 30

# spec
mkdir -p "$T/spec"
ok "spec writes a config.json" runc spec --bundle "$T/spec"
is "$(jq -r .root.path "$T/spec/config.json")" "rootfs" "spec's config points at ./rootfs"
nok "spec refuses to overwrite a config.json" runc spec --bundle "$T/spec"

# run: the exit code is the container's
mkbundle "$T/b-exit" /probe exit 3
runc run --bundle "$T/b-exit" cutaway-exit >/dev/null 2>&1
is "$?" "3" "run returns the container's exit code"
[[ -e $RSTATE/cutaway-exit ]] && fail "run leaves its state behind" || pass "run removes its state"
out=$(cd "$T/b-exit" && cfg . '.process.args = ["/probe","hostname"]' && runc run cutaway-cwd 2>&1)
is "$out" "cutaway" "run uses the bundle in the current directory by default"

# create -> created
ok "create" quiet runc create --bundle "$B" --pid-file "$T/pid" cutaway-life
st=$(runc state cutaway-life)
is "$(jq -r .status <<<"$st")" "created" "state after create: created"
is "$(jq -r .id <<<"$st")" "cutaway-life" "state has the id"
is "$(jq -r .pid <<<"$st")" "$(cat "$T/pid")" "the pid file holds the init's pid"
is "$(jq -r .bundle <<<"$st")" "$B" "state has the bundle"
like "$(jq -r .ociVersion <<<"$st")" '^1\.' "state has an ociVersion"
like "$(runc list)" 'cutaway-life +[0-9]+ +created' "list shows the created container"
is "$(runc list --format json | jq -r '.[] | select(.id=="cutaway-life") | .status')" "created" \
  "list --format json"
nok "create with a duplicate id fails" quiet runc create --bundle "$B" cutaway-life
like "$(runc create --bundle "$B" cutaway-life 2>&1)" 'already exists' "... saying it exists"
is "$(runc state cutaway-life | jq -r .status)" "created" "... and leaves the first one alone"

# start -> running
ok "start" runc start cutaway-life
is "$(runc state cutaway-life | jq -r .status)" "running" "state after start: running"
nok "start twice fails" runc start cutaway-life
like "$(runc start cutaway-life 2>&1)" 'running' "... saying the container is running"
nok "delete of a running container without --force fails" runc delete cutaway-life
is "$(runc state cutaway-life | jq -r .status)" "running" "... and it keeps running"

# kill -> stopped
ok "kill with a signal name" runc kill cutaway-life KILL
ok "the container stops" wait_status cutaway-life stopped
is "$(runc state cutaway-life | jq -r .pid)" "0" "a stopped container reports pid 0"
nok "kill of a stopped container fails" runc kill cutaway-life 9
like "$(runc kill cutaway-life 9 2>&1)" 'not running' "... saying it is not running"
ok "delete of a stopped container" runc delete cutaway-life
nok "state of a deleted container fails" runc state cutaway-life
[[ -n $(find /sys/fs/cgroup -maxdepth 4 -name cutaway-life) ]] && fail "delete removes the cgroup" ||
  pass "delete removes the cgroup"

# kill by number, delete --force
quiet runc create --bundle "$B" cutaway-num && runc start cutaway-num
ok "kill with a signal number" runc kill cutaway-num 9
ok "... stops it" wait_status cutaway-num stopped
runc delete cutaway-num
quiet runc create --bundle "$B" cutaway-force && runc start cutaway-force
ok "delete --force of a running container" runc delete --force cutaway-force
nok "... removes it" runc state cutaway-force

# delete of a created container is allowed (as runc does) and kills the init
quiet runc create --bundle "$B" cutaway-created
pid=$(runc state cutaway-created | jq -r .pid)
ok "delete of a created container" runc delete cutaway-created
[[ -e /proc/$pid ]] && [[ $(awk '{print $3}' /proc/$pid/stat 2>/dev/null) != Z ]] &&
  fail "... kills its init" || pass "... kills its init"

# unknown ids
for cmd in state start delete "kill"; do
  like "$(runc $cmd cutaway-nosuch 2>&1)" 'cutaway-nosuch does not exist' "$cmd of an unknown id"
done
nok "an id with a slash is rejected" runc create --bundle "$B" ../cutaway-evil
mkdir -p "$RSTATE/cutaway-half"
nok "delete of a half-made state directory (no state.json) fails" runc delete cutaway-half
ok "... delete --force removes it" runc delete --force cutaway-half
[[ -e $RSTATE/cutaway-half ]] && fail "... and it is gone" || pass "... and it is gone"

# run --detach
ok "run --detach returns" quiet runc run --detach --bundle "$B" cutaway-det
is "$(runc state cutaway-det | jq -r .status)" "running" "... with the container running"
ok "kill --all" runc kill --all cutaway-det KILL
wait_status cutaway-det stopped
runc delete cutaway-det

# global flags
nok "--systemd-cgroup is refused" runc --systemd-cgroup list
like "$(runc --systemd-cgroup list 2>&1)" 'systemd cgroup driver is not supported' \
  "... with a clear message"
runc --log "$T/log.json" --log-format json state cutaway-nosuch 2>/dev/null
is "$(jq -r .level "$T/log.json" | tail -1)" "error" "--log-format json writes an error record"
like "$(jq -r .msg "$T/log.json" | tail -1)" 'does not exist' "... with the message"
n=$(runc state cutaway-nosuch 2>&1 | wc -l)
is "$n" "1" "an error is one line"

done_testing
