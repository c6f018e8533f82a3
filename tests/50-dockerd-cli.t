#!/bin/bash
# The real docker CLI against cutawayd (stage 4) on cutaway-containerd:
# run with its exit codes, stdin, a TTY, -d/ps/logs/exec/inspect/stop/rm,
# limits that truly land in the cgroup, volumes, the bridge network (two
# containers ping each other), none and host networks, a pull from a local
# registry when the image is missing, bad requests as 4xx with Docker's
# messages, a daemon restart that keeps containers running, and one trace
# from the CLI's requests down to execve.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
source "$TOP/tests/lib/dockerd.sh"
source "$TOP/tests/lib/registry.sh"
DOCKER=$(dkd_docker) || skip_all "no docker CLI installed"
[[ -x $BIN/cutawayd ]] || skip_all "bin/cutawayd not built"
tap_tmproot
dkd_start_stack || { fail "the stack starts"; done_testing; exit 1; }
IMG=cutaway.test/busybox
# dk ARGS...: the docker CLI, bounded (a hang is a failure, not a stuck suite).
dk() { timeout -s KILL 60 "$DOCKER" "$@"; }
# api METHOD PATH [BODY]: "STATUS BODY" from cutawayd's socket.
dapi() {
  local args=(-s -o "$T/.dapi" -w '%{http_code}' --unix-socket "$T/docker.sock" -X "$1")
  [[ -n ${3-} ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  printf '%s %s' "$(curl "${args[@]}" "http://x$2")" "$(cat "$T/.dapi")"
}

# ---- the API handshake
like "$(dk version --format '{{.Server.APIVersion}} {{.Client.APIVersion}}')" '^1\.41 1\.41$' \
  "the CLI negotiates API 1.41 with cutawayd"
like "$(curl -sI --unix-socket "$T/docker.sock" http://x/_ping)" 'Api-Version: 1\.41' "HEAD /_ping carries Api-Version"
is "$(dapi GET /v1.99/version | cut -c1-3)" "400" "a client version above 1.41 is refused"

# ---- docker run: output, exit codes, removal
is "$(dk run --rm $IMG echo hello cutaway)" "hello cutaway" "run --rm: the output comes back"
is "$(dk ps -aq | wc -l)" "0" "run --rm: the container is gone"
dk run --rm $IMG sh -c 'exit 3'
is "$?" "3" "run: the container's exit status is docker's"
out=$(dk run --rm $IMG /nonexistent 2>&1)
is "$?" "127" "a missing program: exit 127"
like "$out" 'no such file or directory' "... with the runtime's reason"
is "$(dk ps -aq | wc -l)" "0" "... and --rm removed it even so"
out=$(dk run --rm $IMG /etc 2>&1)
is "$?" "126" "a directory as the program: exit 126"
like "$out" 'is a directory' "... with the runtime's reason"
is "$(dk run --rm $IMG sh -c 'echo out; echo err >&2' 2>/dev/null)" "out" "stdout and stderr stay apart (stdout)"
is "$(dk run --rm $IMG sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" "err" "... (stderr)"
is "$(printf 'one\ntwo\n' | dk run --rm -i $IMG wc -l)" "2" "run -i: piped stdin reaches the process, then EOF"
tty_out=$(timeout -s KILL 30 script -qec "$DOCKER run --rm -t $IMG tty" /dev/null </dev/null | tr -d '\r\0')
like "$tty_out" '^/dev/pts/[0-9]+$' "run -t: the process has a terminal ($tty_out)"

# ---- a long-running container
id=$(dk run -d --name web -e GREETING=hi --memory 64m --pids-limit 50 --cpus 0.5 \
  $IMG sh -c 'echo started; echo oops >&2; exec sleep 300')
like "$id" '^[0-9a-f]{64}$' "run -d prints the full id"
like "$(dk ps --format '{{.Names}} {{.Status}}')" '^web Up ' "ps: web is up"
wait_for sh -c "$DOCKER logs web 2>&1 | grep -q oops"
is "$(dk logs web 2>/dev/null)" "started" "logs: stdout"
is "$(dk logs web 2>&1 >/dev/null)" "oops" "logs: stderr"
like "$(dk logs -t web 2>/dev/null)" '^20[0-9-]+T[0-9:.]+Z started$' "logs -t: RFC 3339 timestamps"
is "$(dk exec web sh -c 'echo $GREETING')" "hi" "exec: in the container, with its env"
dk exec web sh -c 'exit 7'
is "$?" "7" "exec: the exit status comes back"
is "$(dk exec web cat /proc/1/cmdline | tr '\0' ' ')" "sleep 300 " "exec: in the container's pid namespace"
nf=$(ls "$T/dkx/fifos" | wc -l)
dk exec -d web /nonexistent >/dev/null 2>&1 && fail "exec -d of a missing program fails" ||
  pass "exec -d of a missing program fails"
is "$(ls "$T/dkx/fifos" | wc -l)" "$nf" "... and leaves no FIFOs behind"
pid=$(dk inspect -f '{{.State.Pid}}' web)
is "$(dk inspect -f '{{.State.Status}} {{.Name}} {{.Config.Image}}' web)" "running /web $IMG" "inspect: state, name, image"
memcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/$pid/cgroup)
if [[ -n $memcg ]]; then
  is "$(cat /sys/fs/cgroup/memory$memcg/memory.limit_in_bytes)" "67108864" "--memory 64m: the container's cgroup says 64 MiB"
  pidscg=$(awk -F: '$2 == "pids" {print $3}' /proc/$pid/cgroup)
  is "$(cat /sys/fs/cgroup/pids$pidscg/pids.max)" "50" "--pids-limit 50 in the cgroup"
  cpucg=$(awk -F: '$2 ~ /cpu,cpuacct|cpuacct,cpu|^cpu$/ {print $3}' /proc/$pid/cgroup | head -1)
  is "$(cat /sys/fs/cgroup/cpu,cpuacct$cpucg/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu$cpucg/cpu.cfs_quota_us)" \
    "50000" "--cpus 0.5: a 50 ms quota per 100 ms"
else
  cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
  is "$(cat /sys/fs/cgroup$cg/memory.max)" "67108864" "--memory 64m: memory.max (v2)"
  is "$(cat /sys/fs/cgroup$cg/pids.max)" "50" "--pids-limit 50: pids.max (v2)"
  is "$(cat /sys/fs/cgroup$cg/cpu.max)" "50000 100000" "--cpus 0.5: cpu.max (v2)"
fi
st=$(dk stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}' web)
like "$st" '^web\|[0-9.]+[KMG]i?B / 64MiB\|1\|[0-9.]+%$' "docker stats: memory against the 64 MiB limit, 1 pid, CPU % ($st)"
like "$(dk rm web 2>&1)" 'You cannot remove a running container' "rm of a running container is refused"
start=$(date +%s%N)
is "$(dk stop -t 1 web)" "web" "stop prints the name"
is "$(dk inspect -f '{{.State.ExitCode}}' web)" "137" "sleep ignores SIGTERM as pid 1: killed after -t 1 (137)"
like "$(dk ps -a --format '{{.Status}}')" '^Exited \(137\)' "ps -a: Exited (137)"
is "$(dk rm web)" "web" "rm"
is "$(dk ps -aq | wc -l)" "0" "nothing left"

# ---- an attached client that stops reading does not hold the container up
dk create --name big $IMG sh -c 'sleep 0.5; head -c 5000000 /dev/zero' >/dev/null
python3 - "$T/docker.sock" big <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /v1.41/containers/" + sys.argv[2].encode() + b"/attach?stream=1&stdout=1 HTTP/1.1\r\n"
          b"Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
time.sleep(30)  # never reads
PY
stuck=$!
sleep 0.3
dk start big >/dev/null
for ((i = 0; i < 150; i++)); do
  [[ $(dk inspect -f '{{.State.Status}}' big) == exited ]] && break
  sleep 0.1
done
is "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' big)" "exited 0" \
  "a client that stops reading is dropped: the container's exit is recorded"
kill "$stuck" 2>/dev/null
wait "$stuck" 2>/dev/null
dk rm big >/dev/null

# ---- volumes
dk run --rm -v vol1:/data $IMG sh -c 'echo kept > /data/f'
is "$(dk run --rm -v vol1:/data:ro $IMG cat /data/f)" "kept" "a named volume outlives its container"
like "$(dk run --rm -v vol1:/data:ro $IMG sh -c 'echo x > /data/g' 2>&1)" 'Read-only file system' ":ro is read-only"
like "$(dk volume ls --format '{{.Driver}} {{.Name}}')" '^local vol1$' "volume ls"
mkdir -p "$T/hostdir" && echo from-host >"$T/hostdir/h"
is "$(dk run --rm -v "$T/hostdir:/h" $IMG cat /h/h)" "from-host" "a bind mount of a host directory"
is "$(dk volume rm vol1)" "vol1" "volume rm"

# ---- networks
a=$(dk run -d --name na $IMG sleep 300)
ipa=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' na)
like "$ipa" "^${DKD_BIP%.1/24}\.[0-9]+$" "bridge: na has an address of --bip's subnet ($ipa)"
like "$(dk run --rm $IMG ping -c 1 -W 2 "$ipa")" '1 packets received' "a second container pings na over the bridge"
like "$(dk exec na cat /etc/hosts)" "$ipa	${a:0:12}" "/etc/hosts names the container at its address, as Docker's does"
is "$(dk exec na cat /etc/hostname)" "${a:0:12}" "/etc/hostname is the container's"
is "$(dk exec na hostname -i)" "$ipa" "hostname -i resolves through /etc/hosts"
like "$(dk exec na cat /etc/resolv.conf)" 'nameserver' "/etc/resolv.conf is there"
is "$(dk exec na cat /sys/class/net/eth0/address)" "$(dk inspect -f '{{.NetworkSettings.MacAddress}}' na)" \
  "eth0 has Docker's MAC (02:42 + the address)"
is "$(dk run --rm --network none $IMG ls /sys/class/net | tr '\n' ' ')" "lo " "--network none: only lo"
like "$(dk run --rm --network host $IMG ls /sys/class/net | tr '\n' ' ')" "$DKD_BRIDGE" \
  "--network host: the host's interfaces, our bridge among them"
is "$(dk run --rm --network host $IMG hostname)" "$(hostname)" "--network host: the host's name, as Docker gives it"
like "$(dk network ls --format '{{.Name}}' | tr '\n' ' ')" 'bridge host none' "network ls: the three built-in networks"
port=$(free_port)
dk run -d --name webp -p "127.0.0.1:$port:80" $IMG sh -c \
  "mkdir -p /www && echo hello-$port > /www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
wait_for curl -sf "http://127.0.0.1:$port/" -o /dev/null
is "$(curl -s "http://127.0.0.1:$port/")" "hello-$port" "-p 127.0.0.1:$port:80: the host's port reaches the container's httpd"
is "$(dk port webp)" "80/tcp -> 127.0.0.1:$port" "docker port shows the binding"
like "$(dk ps --format '{{.Ports}}' --filter name=webp)" "127.0.0.1:$port->80/tcp" "ps shows it"
dk stop -t 1 webp >/dev/null
curl -s -o /dev/null "http://127.0.0.1:$port/" && fail "stop releases the host's port" ||
  pass "stop releases the host's port"
dk rm webp >/dev/null
veth=$(ip -o link show master "$DKD_BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1)
like "$veth" '^veth' "the host end of na's veth is on the bridge ($veth)"
dk rm -f na >/dev/null
is "$(ip -o link show master "$DKD_BRIDGE" | wc -l)" "0" "rm -f: its veth is gone"

# ---- docker events: what happened, as it happens
"$DOCKER" events >"$T/events.out" 2>&1 &
evpid=$!
sleep 0.3
dk run --rm --name evt $IMG sh -c 'exit 5'
dk volume create evvol >/dev/null && dk volume rm evvol >/dev/null
wait_for grep -q 'volume destroy evvol' "$T/events.out"
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null
evs=$(grep -o 'container [a-z]* [0-9a-f]*\|volume [a-z]* evvol' "$T/events.out" | awk '{print $1, $2}' | tr '\n' ',')
is "$evs" "container create,container start,container die,container destroy,volume create,volume destroy," \
  "docker events: create, start, die, destroy, then the volume's"
like "$(grep 'container die' "$T/events.out")" 'exitCode=5.*name=evt|name=evt.*exitCode=5' "... die carries the exit code and name"

# ---- bad requests: 4xx with Docker's words, nothing changed
before=$(ls "$T/dk/containers" | wc -l)
is "$(dapi POST /v1.41/containers/create '{"Image":' | cut -c1-3)" "400" "invalid JSON: 400"
like "$(dapi POST /v1.41/containers/create '{"Image":"nosuch/image"}')" '^404 .*No such image: nosuch/image:latest' \
  "an unknown image: 404 No such image"
like "$(dk run --network none -p 8080:80 $IMG true 2>&1)" 'port publishing needs the bridge network' \
  "-p without the bridge network: refused with the reason"
like "$(dk run -p 8080:80/udp $IMG true 2>&1)" 'only TCP ports' "-p of a UDP port: refused"
like "$(dk run --name 'bad name!' $IMG true 2>&1)" 'Invalid container name' "a bad name: refused"
like "$(dk run --rm -u nosuchuser $IMG true 2>&1)" 'nosuchuser' "an unknown user: containerd's reason reaches the CLI"
dk create --name r1 $IMG /nonexistent >/dev/null
like "$(dk restart r1 2>&1)" 'no such file or directory' "restart of a broken container: Docker's wording"
is "$(ls "$T/dkx/fifos" 2>/dev/null | grep -c "$(dk inspect -f '{{.Id}}' r1)")" "0" "... and its FIFOs are gone"
dk rm r1 >/dev/null
dk create --name dup $IMG true >/dev/null
like "$(dk create --name dup $IMG true 2>&1)" 'Conflict. The container name "/dup" is already in use' "a duplicate name: 409"
dk rm dup >/dev/null
like "$(dk logs nosuchthing 2>&1)" 'No such container: nosuchthing' "an unknown container: 404"
like "$(dk exec nosuchthing true 2>&1)" 'No such container' "exec into an unknown container: 404"
dk create --name stopped $IMG true >/dev/null
like "$(dk exec stopped true 2>&1)" 'is not running' "exec into a stopped container: 409"
dk rm stopped >/dev/null
like "$(dk run -v 'bad!vol:/data' $IMG true 2>&1)" 'includes invalid characters' "a bad volume name: refused"
like "$(dk run -v vol2:relative $IMG true 2>&1)" 'must be an absolute path' "a relative mount destination: refused"
like "$(dapi POST '/v1.41/containers/x/wait?condition=sometimes')" '^(400|404) ' "a bad wait condition: 4xx"
like "$(dapi GET /v1.41/nosuchroute)" '^404 ' "an unknown route: 404"
head -c $((5 << 20)) /dev/zero | tr '\0' 'x' >"$T/big.json"
is "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/docker.sock" -X POST \
  -H 'Content-Type: application/json' --data-binary @"$T/big.json" http://x/v1.41/containers/create)" "413" \
  "a 5 MiB body: 413"
like "$(dapi POST /v1.41/volumes/create '{"Name":"../etc"}')" '^400 ' "a volume name with ../: 400"
is "$(ls "$T/dk/containers" | wc -l)" "$before" "no record left by any of them"
is "$(ls "$T/dkx/netns" 2>/dev/null | wc -l)" "0" "no network namespace left by any of them"
is "$(ip -o link show master "$DKD_BRIDGE" | wc -l)" "0" "no veth left by any of them"

# ---- the daemon restarts; its containers do not
dk run -d --name survivor $IMG sleep 300 >/dev/null
dk run -d --name ticker $IMG sh -c 'while true; do echo tick; sleep 0.1; done' >/dev/null
spid=$(dk inspect -f '{{.State.Pid}}' survivor)
dkd_stop
kill -0 "$spid" 2>/dev/null && pass "cutawayd stopped: the container still runs" || fail "cutawayd stopped: the container still runs"
dkd_start || fail "cutawayd restarts"
like "$(dk ps --format '{{.Names}} {{.Status}}' | sort | tr '\n' ' ')" '^survivor Up.*ticker Up' \
  "after the restart ps shows them up"
like "$(timeout -s TERM 1 "$DOCKER" attach --no-stdin --sig-proxy=false ticker 2>/dev/null | head -3 | tr '\n' ' ')" \
  '^tick tick' "docker attach after the restart: the output flows again (the FIFOs are read again)"
dk rm -f ticker >/dev/null
kill -9 "$DKD_PID"
dkd_start || fail "cutawayd restarts after kill -9"
dk kill survivor >/dev/null
wait_for sh -c "$DOCKER ps -a --format '{{.Status}}' | grep -q '^Exited (137)'"
like "$(dk ps -a --format '{{.Names}} {{.Status}}')" '^survivor Exited \(137\)' \
  "after kill -9 and a restart the daemon still sees the container exit"
dk rm survivor >/dev/null

# ---- killed in the middle of a create: the restart removes the half
dkd_stop
CUTAWAY_FAILPOINT=dockerd.create.before_record dkd_start || fail "cutawayd starts (failpoint)"
dk create --name half $IMG true >/dev/null 2>&1
ctd_gone "$DKD_PID" && pass "cutawayd killed itself between containerd's create and its record" ||
  fail "cutawayd killed itself between containerd's create and its record"
is "$(cutaway-ctr containers ls | grep -c .)" "2" "... leaving a containerd container behind (and the header)"
like "$(ls "$T/dkx/netns")" '^[0-9a-f]{64}$' "... and its network namespace"
dkd_start || fail "cutawayd restarts"
is "$(cutaway-ctr containers ls | grep -c .)" "1" "the restart removed the half-created containerd container"
is "$(ls "$T/dkx/netns" | wc -l)" "0" "... its network namespace"
is "$(ip -o link show master "$DKD_BRIDGE" | wc -l)" "0" "... and so its veth"
is "$(dk ps -aq | wc -l)" "0" "docker ps -a: nothing"

# ---- one trace from the CLI's requests down to execve
dk run --name traced $IMG echo traced >/dev/null
names=$(cutaway-trace show --container traced 2>/dev/null)
for s in 'POST /containers/create' 'POST /containers/{id}/attach' 'POST /containers/{id}/wait' \
  'POST /containers/{id}/start' 'tasks.Create' 'runc.create' 'netlink.newlink' 'execve'; do
  like "$names" "$(sed 's/[]{}[/.]/\\&/g' <<<"$s")" "cutaway-trace --container traced: $s"
done
dk rm traced >/dev/null

# ---- a missing image is pulled from a registry
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  reg_start reg plain && reg_push_skopeo "$T/img:cutaway.test/busybox:latest" lab/busybox:v1 >/dev/null
  out=$(dk run --rm "$REG/lab/busybox:v1" echo pulled 2>&1)
  like "$out" "Unable to find image '$REG/lab/busybox:v1' locally" "run of a missing image: the CLI asks for a pull"
  like "$out" 'pulled$' "... and the pulled image runs"
  like "$(dk images --format '{{.Repository}}:{{.Tag}}')" "$REG/lab/busybox:v1" "images lists it"
  like "$(dk rmi "$REG/lab/busybox:v1")" "Untagged: $REG/lab/busybox:v1" "rmi untags it"
  like "$(dk pull "$REG/lab/nosuch:v1" 2>&1)" 'not found|unknown' "pull of a missing manifest: an error"
else
  skip "docker-registry or skopeo not installed: no pull test"
fi

done_testing
