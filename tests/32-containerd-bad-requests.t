#!/bin/bash
# Bad requests to cutaway-containerd: each is a 4xx with a one-line
# {"message"} naming the problem, and changes nothing (same containers,
# tasks, snapshots and mounts before and after).
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
tap_tmproot
on_exit ctd_cleanup
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
ctd_image "$T/img" cutaway.test/busybox:latest 0
ctd_start ctd || fail "containerd starts"
cutaway-ctr images import "$T/img" >/dev/null
cutaway-ctr run -d cutaway.test/busybox cutaway-run sleep 1000
cutaway-ctr run -d cutaway.test/busybox cutaway-stopped true
cutaway-ctr tasks wait cutaway-stopped >/dev/null

state() {
  {
    api GET /v1/containers | cut -d' ' -f2- | jq -c '[.containers[] | [.id, .task]]'
    api GET /v1/snapshots | cut -d' ' -f2- | jq -c '[.snapshots[].key] | sort'
    api GET /v1/images | cut -d' ' -f2- | jq -c '[.images[].name]'
    ls "$CTD_EXEC/tasks" "$CTD_ROOT/containers"
    grep -c "$T" /proc/self/mountinfo
  } 2>&1
}
before=$(state)

# check NAME STATUS_REGEX MESSAGE_REGEX METHOD PATH [BODY]
check() {
  local name=$1 want=$2 msg=$3
  shift 3
  local r
  r=$(api "$@")
  like "${r%% *}" "$want" "$name: status"
  like "$(jq -r .message <<<"${r#* }" 2>/dev/null)" "$msg" "$name: message"
  is "$(state)" "$before" "$name: nothing changed"
}

check "invalid JSON" '^400$' 'request body' POST /v1/containers '{"id": "cutaway-x", "image":'
check "trailing garbage" '^400$' 'request body' POST /v1/containers '{"id":"cutaway-x","image":"busybox"} x'
check "not an object" '^400$' 'JSON object' POST /v1/containers '[1,2]'
check "missing field" '^400$' 'image' POST /v1/containers '{"id":"cutaway-x"}'
check "wrong type" '^400$' 'id' POST /v1/containers '{"id":5,"image":"cutaway.test/busybox"}'
check "unknown image" '^404$' 'image .*not found' POST /v1/containers '{"id":"cutaway-x","image":"cutaway.test/nothere"}'
check "duplicate id" '^409$' 'already exists' POST /v1/containers '{"id":"cutaway-run","image":"cutaway.test/busybox"}'
check "path in the id" '^400$' 'invalid' POST /v1/containers '{"id":"../etc","image":"cutaway.test/busybox"}'
check "bad env" '^400$' 'KEY=VALUE' POST /v1/containers '{"id":"cutaway-x","image":"cutaway.test/busybox","env":["=x"]}'
check "bind onto /" '^400$' 'absolute path other than /' POST /v1/containers '{"id":"cutaway-x","image":"cutaway.test/busybox","mounts":[{"source":"/tmp","destination":"/"}]}'
check "unknown user" '^400$' 'no such user' POST /v1/containers '{"id":"cutaway-x","image":"cutaway.test/busybox","user":"nobody-here"}'
check "tiny memory" '^400$' 'memory' POST /v1/containers '{"id":"cutaway-x","image":"cutaway.test/busybox","resources":{"memory":1000}}'
check "delete a container with a running task" '^409$' 'task' DELETE /v1/containers/cutaway-run
check "delete a running task" '^409$' 'running' DELETE /v1/containers/cutaway-run/task
check "exec into a stopped task" '^409$' 'stopped' POST /v1/containers/cutaway-stopped/task/exec '{"exec_id":"cutaway-e","args":["true"]}'
check "second task for a container" '^409$' 'already has a task' POST /v1/containers/cutaway-run/task '{}'
check "task of an unknown container" '^404$' 'not found' POST /v1/containers/cutaway-none/task/start
check "kill a stopped task" '^409$' 'stopped' POST /v1/containers/cutaway-stopped/task/kill '{"signal":9}'
check "bad signal" '^400$' 'signal' POST /v1/containers/cutaway-run/task/kill '{"signal":999}'
check "unknown route" '^404$' 'no route' GET /v1/nothing
check "wrong method" '^405$' 'not allowed' PUT /v1/containers
check "bad digest" '^400$' 'sha256' GET /v1/content/sha256:..etc
check "digest with a path" '^404$' 'no route' GET /v1/content/sha256:../../etc/passwd
check "import a missing dir" '^400$' 'import' POST /v1/images/import '{"path":"/nonexistent-cutaway"}'
{ printf '{"id":"'; head -c 1100000 /dev/zero | tr '\0' a; printf '"}'; } >"$T/big.json"
r=$(curl -s -w ' %{http_code}' --unix-socket "$CTD_ADDR" -H 'Content-Type: application/json' \
  --data-binary @"$T/big.json" http://localhost/v1/containers)
like "$r" ' 413$' "a body over the 1 MiB cap is 413"
is "$(state)" "$before" "oversized body: nothing changed"

# The client prints one line and exits non-zero.
out=$(cutaway-ctr run --rm cutaway.test/nothere cutaway-y true 2>&1)
rc=$?
is "$rc" 1 "ctr: unknown image exits 1"
is "$(wc -l <<<"$out")" 1 "ctr: one line"
like "$out" '^cutaway-ctr: image cutaway.test/nothere: not found$' "ctr: the message names the image"
out=$(cutaway-ctr containers rm cutaway-run 2>&1)
like "$out" '^cutaway-ctr: container cutaway-run: has a running task' "ctr: rm of a running container explains"
out=$(cutaway-ctr --address "$T/none.sock" tasks ls 2>&1)
like "$out" "^cutaway-ctr: GET /v1/tasks on $T/none.sock: .*connect" "ctr: no daemon is one clear line"
is "$(state)" "$before" "after the client errors: nothing changed"

cutaway-ctr tasks kill -s KILL cutaway-run
cutaway-ctr tasks wait cutaway-run >/dev/null
cutaway-ctr tasks rm cutaway-run
cutaway-ctr tasks rm cutaway-stopped
cutaway-ctr containers rm cutaway-run cutaway-stopped
ctd_stop
done_testing
