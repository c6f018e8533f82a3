#!/bin/bash
# cutaway, the docker-compatible CLI (stage 5), against cutawayd: run with
# docker's output and exit codes (0, 3, 127), stdin with -i, -d + ps + logs
# + exec + stop + rm, inspect (byte for byte what the docker CLI prints),
# volumes, errors, a missing image pulled from a local registry, signals
# forwarded to the container (sig-proxy), and ONE trace for one
# `cutaway run`, from the CLI down to execve.  Then the same core checks
# against Debian's real dockerd, when it is installed.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
source "$TOP/tests/lib/dockerd.sh"
source "$TOP/tests/lib/registry.sh"
source "$TOP/tests/lib/runc-peers.sh"
[[ -x $BIN/cutaway && -x $BIN/cutawayd ]] || skip_all "bin/cutaway or bin/cutawayd not built"
DOCKER=$(dkd_docker) || DOCKER=
tap_tmproot
dkd_start_stack || { fail "the stack starts"; done_testing; exit 1; }
IMG=cutaway.test/busybox
# cw ARGS...: the CLI, bounded (a hang is a failure, not a stuck suite).
cw() { timeout -s KILL 60 cutaway "$@"; }
dk() { timeout -s KILL 60 "$DOCKER" "$@"; }
# untimed TABLE: a `ps` table with its ages blurred ("3 seconds ago" and
# "Up 2 seconds" differ when a second ticks between two commands), padded
# columns squeezed, so two tables can be compared.
untimed() {
  sed -E 's/(Less than a second|About a minute|[0-9]+ (seconds?|minutes?|hours?))/T/g; s/  +/  /g' <<<"$1"
}

# ---- handshake and usage errors
like "$(cw version)" 'API version: +1\.41' "version: API 1.41 negotiated with cutawayd"
cw run --bogus $IMG true 2>/dev/null
is "$?" "125" "an unknown flag: exit 125 (docker's)"
cw nosuchcommand 2>/dev/null
is "$?" "1" "an unknown command: exit 1"
like "$(cutaway -H unix://$T/nothing.sock ps 2>&1)" 'Cannot connect to the Docker daemon at unix://.*nothing\.sock' \
  "no daemon: docker's 'Cannot connect' line"

# ---- run: output, exit codes, removal
tok=$(rand_token)
is "$(cw run --rm $IMG echo "hello $tok")" "hello $tok" "run --rm: the output comes back"
is "$(cw ps -aq | wc -l)" "0" "run --rm: the container is gone"
cw run --rm $IMG sh -c 'exit 3'
is "$?" "3" "run: the container's exit status"
out=$(cw run --rm $IMG /nonexistent 2>&1)
is "$?" "127" "a missing program: exit 127"
like "$out" '^cutaway: Error response from daemon: .*no such file or directory' "... one line, the daemon's reason"
is "$(cw ps -aq | wc -l)" "0" "... and --rm removed it"
is "$(cw run --rm $IMG sh -c 'echo out; echo err >&2' 2>/dev/null)" "out" "stdout and stderr stay apart (stdout)"
is "$(cw run --rm $IMG sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" "err" "... (stderr)"
is "$(printf 'one\ntwo\n' | cw run --rm -i $IMG wc -l)" "2" "run -i: piped stdin reaches the process, then EOF"
is "$(cw run --rm -e A=$tok $IMG sh -c 'echo $A')" "$tok" "run -e: the environment"
if command -v script >/dev/null; then
  out=$(timeout -s KILL 30 script -qec "cutaway run --rm -t $IMG tty" /dev/null </dev/null | tr -d '\r\0')
  like "$out" '^/dev/pts/[0-9]+$' "run -t: the process has a terminal ($out)"
else
  skip "script (bsdutils) not installed"
fi
if [[ -n $DOCKER ]]; then
  for args in "echo hi" "sh -c 'echo a; echo b >&2; exit 4'" "/nonexistent"; do
    a=$(eval "cw run --rm $IMG $args" 2>/dev/null)
    ra=$?
    b=$(eval "dk run --rm $IMG $args" 2>/dev/null)
    rb=$?
    is "$a|$ra" "$b|$rb" "run --rm $args: stdout and exit code equal docker's"
  done
else
  skip "no docker CLI to compare with"
fi

# ---- a long-running container
id=$(cw run -d --name web $IMG sh -c 'echo started; echo oops >&2; exec sleep 300')
like "$id" '^[0-9a-f]{64}$' "run -d prints the full id"
like "$(cw ps)" "${id:0:12} +$IMG +\"sh -c echo started;…\" .* Up .* web" "ps: web is up, docker's columns"
is "$(cw ps -q)" "${id:0:12}" "ps -q: the short id"
[[ -n $DOCKER ]] && is "$(untimed "$(cw ps)")" "$(untimed "$(dk ps)")" "ps: the same table as docker ps"
wait_for sh -c "cutaway logs web 2>&1 | grep -q oops"
is "$(cw logs web 2>/dev/null)" "started" "logs: stdout"
is "$(cw logs web 2>&1 >/dev/null)" "oops" "logs: stderr"
like "$(cw logs -t web 2>/dev/null)" '^20[0-9-]+T[0-9:.]+Z started$' "logs -t: timestamps"
is "$(cw exec web sh -c 'echo in-exec')" "in-exec" "exec: output"
cw exec web sh -c 'exit 7'
is "$?" "7" "exec: the exit status comes back (GET /exec/ID/json)"
is "$(printf 'abc' | cw exec -i web cat)" "abc" "exec -i: stdin"
is "$(cw exec web cat /proc/1/cmdline | tr '\0' ' ')" "sleep 300 " "exec: in the container's pid namespace"
if [[ -n $DOCKER ]]; then
  is "$(cw inspect web)" "$(dk inspect web)" "inspect: byte for byte what docker inspect prints"
else
  like "$(cw inspect web)" '"Id": "'$id'"' "inspect: the container's JSON"
fi
like "$(cw rm web 2>&1)" 'You cannot remove a running container' "rm of a running container is refused"
is "$(cw stop -t 1 web)" "web" "stop prints the name"
like "$(cw ps -a)" 'Exited \(137\)' "ps -a: Exited (137)"
is "$(cw rm web)" "web" "rm prints the name"
is "$(cw ps -aq | wc -l)" "0" "nothing left"

# ---- signals: ^C / SIGTERM to the CLI reach the container (sig-proxy)
cutaway run --rm --name sig $IMG sh -c 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done' \
  >"$T/sig.out" 2>&1 &
spid=$!
wait_for grep -q ready "$T/sig.out"
kill -TERM "$spid"
wait "$spid"
is "$?" "5" "SIGTERM to cutaway is forwarded: the container's trap exits 5"
like "$(cat "$T/sig.out")" 'got-term' "... and its output came through"

# ---- inspect, volumes, networks, errors
out=$(cw inspect nosuchthing 2>&1)
is "$?" "1" "inspect of nothing: exit 1"
is "$out" $'[]\nError: No such object: nosuchthing' "... docker's [] and error"
is "$(cw volume create vol-$tok)" "vol-$tok" "volume create prints the name"
cw run --rm -v vol-$tok:/data $IMG sh -c "echo $tok > /data/f"
is "$(cw run --rm -v vol-$tok:/data:ro $IMG cat /data/f)" "$tok" "a named volume outlives its container"
like "$(cw volume ls)" "local +vol-$tok" "volume ls"
is "$(cw volume rm vol-$tok)" "vol-$tok" "volume rm"
is "$(cw network ls | awk 'NR > 1 {print $2}' | tr '\n' ' ')" 'bridge host none ' "network ls: the built-in networks, sorted by name"
like "$(cw logs nosuchthing 2>&1)" '^cutaway: Error response from daemon: No such container: nosuchthing$' \
  "an unknown container: one line"
cw run --rm -v relative:dir $IMG true 2>/dev/null
is "$?" "125" "a bad -v: exit 125"

# ---- a published port
port=$(free_port)
cw run -d --name webp -p "127.0.0.1:$port:80" $IMG sh -c \
  "mkdir -p /www && echo hi-$port > /www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
wait_for curl -sf "http://127.0.0.1:$port/" -o /dev/null
is "$(curl -s "http://127.0.0.1:$port/")" "hi-$port" "run -p 127.0.0.1:$port:80: the host's port reaches the container"
like "$(cw ps)" "127.0.0.1:$port->80/tcp" "ps shows the published port"
cw rm -f webp >/dev/null
like "$(cw run -p 80x $IMG true 2>&1)" 'invalid containerPort: 80x' "a bad -p spec: refused by the CLI"

# ---- one `cutaway run` is one trace: CLI -> daemon -> containerd -> shim -> runc -> execve
cw run --rm $IMG echo "traced-$tok" >/dev/null
tid=$(jq -r "select(.ev==\"begin\" and .name==\"cli.run\" and (.attrs.args // \"\" | contains(\"traced-$tok\"))) | .trace" \
  "$CUTAWAY_TRACE" | head -1)
like "$tid" '^[0-9a-f]{32}$' "cli.run is the root span of a trace"
comps=$(jq -r "select(.trace==\"$tid\") | .comp" "$CUTAWAY_TRACE" | sort -u | tr '\n' ' ')
for comp in cutaway cutawayd cutaway-containerd cutaway-shim cutaway-runc; do
  like "$comps" "(^| )$comp " "the run's trace crosses $comp"
done
is "$(jq -r "select(.trace==\"$tid\" and .ev==\"begin\" and .name==\"execve\") | .name" "$CUTAWAY_TRACE" | head -1)" \
  "execve" "... down to execve"
parent=$(jq -r "select(.trace==\"$tid\" and .ev==\"begin\" and .comp==\"cutawayd\" and .name==\"POST /containers/{id}/start\") | .parent" "$CUTAWAY_TRACE")
is "$(jq -r "select(.span==\"$parent\" and .ev==\"begin\") | .comp + \" \" + .kind + \" \" + .name" "$CUTAWAY_TRACE")" \
  "cutaway client POST /containers/{id}/start" "the daemon's start span is the child of the CLI's client span"
like "$(cutaway-trace show "$tid" 2>&1 | head -4)" 'cli\.run +\[cutaway cli' "cutaway-trace show: the tree starts at cli.run"

# ---- a missing image is pulled from a registry
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  reg_start reg plain && reg_push_skopeo "$T/img:cutaway.test/busybox:latest" lab/busybox:v1 >/dev/null
  out=$(cw run --rm "$REG/lab/busybox:v1" echo pulled 2>&1)
  like "$out" "Unable to find image '$REG/lab/busybox:v1' locally" "run of a missing image: Unable to find... then a pull"
  like "$out" 'Status: Downloaded newer image' "... the pull's progress lines"
  like "$out" 'pulled$' "... and the pulled image runs"
  like "$(cw images)" "$REG/lab/busybox +v1 " "images lists it"
  like "$(cw rmi "$REG/lab/busybox:v1")" "Untagged: $REG/lab/busybox:v1" "rmi untags it"
  out=$(cw pull "$REG/lab/busybox:v1")
  like "$out" "^v1: Pulling from " "pull: the progress lines"
  is "$(tail -1 <<<"$out")" "$REG/lab/busybox:v1" "... then the reference, as docker prints it"
  out=$(cw pull "$REG/lab/nosuch:v1" 2>&1)
  is "$?" "1" "pull of a missing manifest: exit 1"
  like "$out" '^cutaway: Error response from daemon: .*(not found|unknown)' "... with the daemon's message"
  cw rmi "$REG/lab/busybox:v1" >/dev/null
else
  skip "docker-registry or skopeo not installed: no pull test"
fi

# ---- the same CLI against Debian's real dockerd
real_dockerd() {
  command -v dockerd >/dev/null || { skip "dockerd (docker.io) not installed"; return; }
  command -v containerd >/dev/null || { skip "containerd not installed"; return; }
  [[ -n $DOCKER ]] || { skip "no docker CLI to load an image"; return; }
  peers_busybox >/dev/null || { skip "busybox-static not installed"; return; }
  local D=$T/ctrd K=$T/docker i
  mkdir -p "$K"
  peers_containerd "$D" || { fail "containerd starts"; return; }
  echo '{}' >"$K/daemon.json"
  dockerd --config-file "$K/daemon.json" --data-root "$K/data" --exec-root "$K/exec" \
    -H "unix://$K/docker.sock" --pidfile "$K/docker.pid" --containerd "$D/containerd.sock" \
    --bridge=none --iptables=false --ip-masq=false --userland-proxy=false \
    --exec-opt native.cgroupdriver=cgroupfs >"$K/dockerd.log" 2>&1 &
  local dpid=$!
  on_exit "kill $dpid; wait $dpid"
  local H=(-H "unix://$K/docker.sock")
  for ((i = 0; i < 300; i++)); do
    cutaway "${H[@]}" version >/dev/null 2>&1 && break
    sleep 0.05
  done
  like "$(cw "${H[@]}" version)" 'Version: +20\.10' "real dockerd: cutaway version talks to dockerd 20.10"
  peers_image_tar "$T/busybox.tar" cutaway/busybox:test
  DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli dk load -i "$T/busybox.tar" >/dev/null
  local img=cutaway/busybox:test
  rdk() { DOCKER_HOST=unix://$K/docker.sock DOCKER_CONFIG=$K/cli dk "$@"; }
  is "$(cw "${H[@]}" run --rm --network none $img echo "real-$tok")" "real-$tok" "real dockerd: run --rm output"
  cw "${H[@]}" run --rm --network none $img sh -c 'exit 3'
  is "$?" "3" "real dockerd: the exit status"
  a=$(cw "${H[@]}" run --rm --network none $img /nonexistent 2>/dev/null)
  ra=$?
  b=$(rdk run --rm --network none $img /nonexistent 2>/dev/null)
  is "$ra" "$?" "real dockerd: a missing program, the same exit code as docker ($ra)"
  is "$(printf 'x\ny\nz\n' | cw "${H[@]}" run --rm -i --network none $img wc -l)" "3" "real dockerd: run -i"
  local rid
  rid=$(cw "${H[@]}" run -d --name rweb --network none $img sh -c 'echo up; exec sleep 300')
  like "$rid" '^[0-9a-f]{64}$' "real dockerd: run -d"
  on_exit "DOCKER_HOST=unix://$K/docker.sock $DOCKER rm -f rweb"
  is "$(cw "${H[@]}" ps -q)" "${rid:0:12}" "real dockerd: ps -q"
  is "$(untimed "$(cw "${H[@]}" ps)")" "$(untimed "$(rdk ps)")" "real dockerd: ps, the same table as docker"
  wait_for sh -c "cutaway ${H[*]} logs rweb | grep -q up"
  is "$(cw "${H[@]}" logs rweb)" "up" "real dockerd: logs"
  cw "${H[@]}" exec rweb sh -c 'exit 6'
  is "$?" "6" "real dockerd: exec exit status"
  is "$(cw "${H[@]}" inspect rweb)" "$(rdk inspect rweb)" "real dockerd: inspect equals docker's"
  is "$(cw "${H[@]}" stop -t 1 rweb)" "rweb" "real dockerd: stop"
  is "$(cw "${H[@]}" rm rweb)" "rweb" "real dockerd: rm"
  like "$(cw "${H[@]}" logs rweb 2>&1)" '^cutaway: Error response from daemon: No such container: rweb' \
    "real dockerd: docker's error message"
  rdk rmi -f $img >/dev/null 2>&1
  kill "$dpid"
  wait "$dpid" 2>/dev/null
  kill "$PEERS_CONTAINERD_PID"
  wait "$PEERS_CONTAINERD_PID" 2>/dev/null
}
real_dockerd

done_testing
