#!/bin/bash
# cutaway-containerd + cutaway-shim + cutaway-ctr, the default runtime
# (cutaway-runc): import an image, run containers, the task API (exec, ps,
# pause, resume, metrics, kill, wait), the json-file log, events, Docker's
# security defaults inside the container, limits, snapshots shared between
# images, export/import, GC, and one trace from cutaway-ctr down to the
# runtime.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
tap_tmproot
on_exit ctd_cleanup

[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
ctd_image "$T/img" cutaway.test/busybox:latest 2
ctd_start ctd && pass "containerd starts with the default runtime" || fail "containerd starts"
like "$(api GET /v1/version)" '^200 .*cutaway-runc' "default runtime is cutaway-runc next to the binary"

cutaway-ctr events >"$T/events.jsonl" 2>/dev/null </dev/null &
EV_PID=$!
on_exit "kill $EV_PID"

out=$(cutaway-ctr images import "$T/img" 2>&1)
is "$out" "cutaway.test/busybox:latest" "images import names the image"
like "$(cutaway-ctr images ls)" 'cutaway.test/busybox:latest +sha256:' "images ls lists it"
insp=$(cutaway-ctr images inspect cutaway.test/busybox)
is "$(jq -r '.layers | length' <<<"$insp")" 3 "inspect shows 3 layers"
is "$(jq -r '[.layers[].unpacked] | all' <<<"$insp")" true "every layer is unpacked into a snapshot"

# run --rm: output, exit status, and nothing left.
tok=$(rand_token)
out=$(cutaway-ctr run --rm cutaway.test/busybox cutaway-r1 sh -c "echo out-$tok; echo err-$tok >&2; exit 7" 2>&1)
rc=$?
is "$rc" 7 "run --rm exits with the container's status"
like "$out" "out-$tok" "stdout reaches the client"
like "$out" "err-$tok" "stderr reaches the client"
is "$(cutaway-ctr containers ls | grep -c cutaway-r1)" 0 "--rm removed the container"
is "$(ls "$CTD_EXEC/tasks")" "" "--rm removed the task bundle"

# Whiteouts and layers through overlayfs; Docker's defaults inside.
masked=/proc/kcore
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
  [[ -e $f ]] && { masked=$f; break; }
done
out=$(cutaway-ctr run --rm cutaway.test/busybox cutaway-r2 sh -c "cat /etc/layer-1 /etc/layer-2; test -e /etc/motd && echo motd-present; grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status; wc -c <$masked; id; hostname" 2>&1)
like "$out" 'layer 1.*layer 2' "files of every layer are visible"
[[ $out == *motd-present* ]] && fail "the whiteout hides /etc/motd" || pass "the whiteout hides /etc/motd"
like "$out" 'CapEff:	00000000a80425fb' "Docker's 14 capabilities are effective"
like "$out" 'CapBnd:	00000000a80425fb' "and bound"
like "$out" 'Seccomp:	2' "seccomp filter mode"
like "$out" $'\n0\n' "$masked is masked (empty)"
like "$out" 'groups=0\(root\),10\(wheel\)' "additional groups from the image's /etc/group"
like "$out" $'\ncutaway-r2' "hostname is the id (first 12 chars)"
out=$(cutaway-ctr run --rm cutaway.test/busybox cutaway-r3 sh -c 'unshare -n true 2>&1; echo rc=$?' 2>&1)
like "$out" 'rc=[1-9]' "unshare is denied (no CAP_SYS_ADMIN, seccomp)"

# Options: env, user, cwd, limits.
out=$(cutaway-ctr run --rm --env FOO=bar-$tok --user 1000:1000 --cwd /tmp --memory 67108864 --pids-limit 33 \
  cutaway.test/busybox cutaway-r4 sh -c 'echo $FOO; id -u; pwd; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null' 2>&1)
like "$out" "bar-$tok" "--env reaches the process"
like "$out" $'\n1000\n' "--user sets the uid"
like "$out" $'\n/tmp\n' "--cwd sets the working directory"
like "$out" '67108864' "--memory sets the cgroup memory limit"
like "$out" $'\n33' "--pids-limit sets pids.max"

# A detached container and the task API.
ok "run -d" cutaway-ctr run -d cutaway.test/busybox cutaway-d1 sh -c "i=0; while true; do echo tick-$tok-\$i; i=\$((i+1)); sleep 0.1; done"
like "$(cutaway-ctr tasks ls)" 'cutaway-d1 +[0-9]+ +running' "tasks ls: running"
pids=$(cutaway-ctr tasks ps cutaway-d1)
like "$pids" $'PID\n[0-9]+' "tasks ps lists the processes"
out=$(cutaway-ctr tasks exec --exec-id cutaway-e1 cutaway-d1 sh -c 'echo exec-ok; exit 3')
is "$?/$out" "3/exec-ok" "tasks exec: output and exit status"
ok "tasks pause" cutaway-ctr tasks pause cutaway-d1
like "$(cutaway-ctr tasks ls)" 'cutaway-d1 +[0-9]+ +paused' "tasks ls: paused"
ok "tasks resume" cutaway-ctr tasks resume cutaway-d1
met=$(cutaway-ctr tasks metrics cutaway-d1)
like "$(jq -r '.memory.usage' <<<"$met")" '^[0-9]+$' "metrics: memory usage from the cgroup"
like "$(jq -r '.pids.current' <<<"$met")" '^[1-9][0-9]*$' "metrics: pids from the cgroup"
log=$CTD_ROOT/containers/cutaway-d1/cutaway-d1-json.log
wait_for grep -q "tick-$tok-3" "$log"
line=$(grep -m1 "tick-$tok-0" "$log")
is "$(jq -c '.log' <<<"$line")" "\"tick-$tok-0\\n\"" "json-file log: the line with its newline"
is "$(jq -r '.stream' <<<"$line")" "stdout" "json-file log: the stream"
like "$(jq -r '.time' <<<"$line")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$' "json-file log: RFC 3339 time"
is "$(grep -c exec-ok "$log")" 0 "exec output is not in the container log"
cutaway-ctr tasks wait cutaway-d1 >"$T/wait.out" &
WAIT_PID=$!
ok "tasks kill -s KILL" cutaway-ctr tasks kill -s KILL cutaway-d1
wait $WAIT_PID
is "$?/$(cat "$T/wait.out")" "137/137" "tasks wait prints and exits with 137"
ok "tasks rm" cutaway-ctr tasks rm cutaway-d1
ok "containers rm" cutaway-ctr containers rm cutaway-d1

# Snapshots: a second image sharing the base layer and layer 1 (its layer 2
# differs: no whiteout) unpacks only its own two upper layers.
n_before=$(api GET /v1/snapshots | cut -d' ' -f2- | jq '.snapshots | length')
ctd_image "$T/img2" cutaway.test/busybox:three 3
ok "import a second image" cutaway-ctr images import "$T/img2"
n_after=$(api GET /v1/snapshots | cut -d' ' -f2- | jq '.snapshots | length')
is "$((n_after - n_before))" 2 "shared layers are not unpacked again (chain IDs)"
chain=$(cutaway-ctr images inspect cutaway.test/busybox:three | jq -r .chain_id)
r=$(api POST /v1/snapshots/prepare "{\"key\":\"cutaway-snap\",\"parent\":\"$chain\"}")
like "$r" '^201 .*lowerdir=' "snapshots prepare returns overlay mounts"
is "$(cut -d' ' -f2- <<<"$r" | jq -r '.mounts[0].options[0]' | tr ':' '\n' | wc -l)" 4 "four lowerdirs, top first"
like "$(api GET /v1/snapshots/cutaway-snap/usage)" '^200 \{"size":[0-9]+,"inodes":[0-9]+\}' "snapshots usage"
like "$(api GET "/v1/snapshots/$chain/mounts")" '^200 ' "snapshots mounts of a layer"
like "$(api POST /v1/snapshots/commit '{"key":"cutaway-snap","name":"cutaway-layer"}')" '^200' "snapshots commit"
like "$(api DELETE /v1/snapshots/cutaway-layer)" '^200' "snapshots remove"

# Export / remove / import again; GC.
ok "images export" cutaway-ctr images export "$T/exported" cutaway.test/busybox:three
ok "images rm" cutaway-ctr images rm cutaway.test/busybox:three
gc=$(cutaway-ctr gc)
is "$(jq -r .snapshots_removed <<<"$gc")" 2 "gc removes the two snapshots only the removed image used"
like "$(jq -r .blobs_removed <<<"$gc")" '^[1-9]' "gc removes its unreferenced blobs"
is "$(cutaway-ctr images import "$T/exported")" "cutaway.test/busybox:three" "an exported layout imports again"
like "$(api GET /v1/content)" '^200 \{"blobs":\[\{"digest":"sha256:' "content list"
dg=$(jq -r '.manifests[0].digest' "$T/img/index.json")
like "$(api GET "/v1/content/$dg")" '^200 .*"size":' "content info"

# One `cutaway-ctr run` is one trace, from the client to the runtime.
cutaway-ctr run --rm cutaway.test/busybox cutaway-t1 true
tr=$(jq -r 'select(.name=="ctr.run" and .ev=="begin") | .trace' "$CUTAWAY_TRACE" | tail -1)
names=$(jq -r --arg t "$tr" 'select(.trace==$t and .ev=="begin") | .comp + ":" + .name' "$CUTAWAY_TRACE")
for want in "cutaway-ctr:POST /v1/containers" "cutaway-containerd:containers.Create" \
  "cutaway-containerd:tasks.Create" "cutaway-containerd:snapshot.prepare" "cutaway-containerd:mount" \
  "cutaway-containerd:shim.Start" "cutaway-shim:POST /create" "cutaway-shim:runtime.create" \
  "cutaway-containerd:tasks.Start" "cutaway-shim:runtime.start" "cutaway-shim:runtime.delete"; do
  like "$names" "$want" "trace of one run has $want"
done
like "$(grep -c '^cutaway-runc:' <<<"$names")" '^[1-9]' "the runtime's spans are in the same trace"
low=$(jq -r --arg t "$tr" 'select(.trace==$t and .name=="mount" and .comp=="cutaway-containerd" and .ev=="begin") | .attrs.lowerdir' "$CUTAWAY_TRACE")
like "$low" '^[0-9]+/fs:[0-9]+/fs:[0-9]+/fs$' "the overlay mount span shows the three lowerdirs (short relative paths)"

kill $EV_PID 2>/dev/null
wait $EV_PID 2>/dev/null
topics=$(jq -r .topic "$T/events.jsonl" | sort -u | tr '\n' ' ')
for t in /images/create /containers/create /containers/delete /tasks/create /tasks/start /tasks/exit /tasks/delete /tasks/paused /tasks/exec-started; do
  like "$topics" "$t" "events stream has $t"
done

ctd_stop
is "$(grep -c "$T" /proc/self/mountinfo)" 0 "no mounts left"
done_testing
