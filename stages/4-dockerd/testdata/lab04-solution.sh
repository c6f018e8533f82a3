#!/bin/bash
# lab04-solution.sh good|bad: a scripted answer to lab 04, for the test of
# its checker (tests/55-dockerd-lab.t).  "good" does every step as the
# README asks; "bad" gets each one subtly wrong.
set -u
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
S=$TOP/labs/04-dockerd/setup
eval "$("$S" env)"
mode=${1:-good}
docker=/usr/local/bin/docker
[[ -x $docker ]] || docker=/usr/bin/docker
img=cutaway.lab/busybox
q() { "$@" >/dev/null 2>&1; }

# The requests of one container, as the README's jq does.
start_trace_of() { # ID
  jq -r --arg id "$1" 'select(.name == "POST /containers/{id}/start" and .ev == "begin" and
                              (.attrs["http.target"] | contains($id))) | .trace' "$CUTAWAY_TRACE" | tail -n 1
}
create_trace_of() { # ID
  jq -r --arg id "$1" 'select(.name == "container.Create" and .ev == "begin" and .attrs.id == $id) | .trace' \
    "$CUTAWAY_TRACE" | tail -n 1
}
# od -t u1 of the frames file into "STREAM LENGTH" lines, the README's way.
decode() {
  od -An -tu1 -v "$1" | tr -s ' \n' '\n\n' | grep -v '^$' |
    awk '{ b[n++] = $1 } END { for (i = 0; i + 8 <= n; i += 8 + l) {
           l = b[i+4] * 16777216 + b[i+5] * 65536 + b[i+6] * 256 + b[i+7]; print b[i], l } }'
}

if [[ $mode == good ]]; then
  q $docker run --name lab-run $img sh -c "echo $TOKEN; exit $EXITCODE"
  start_trace_of "$($docker inspect -f '{{.Id}}' lab-run)" >"$LAB/answers/start-trace"

  q $docker run --name lab-frames $img sh -c "echo out-$TOKEN; echo err-$TOKEN$TOKEN >&2"
  curl -s --unix-socket "$S" "http://x/v1.41/containers/lab-frames/logs?stdout=1&stderr=1" -o "$LAB/answers/frames.bin"
  decode "$LAB/answers/frames.bin" >"$LAB/answers/frames.txt"

  id=$($docker run -d --name lab-net $img sleep 1000)
  q $docker exec lab-net ip addr show eth0
  jq -r --arg id "$id" 'select(.name == "network.attach" and .ev == "begin" and (.attrs.netns | endswith($id))) |
      "\(.attrs.address | split("/")[0]) \(.attrs.host_if)"' "$CUTAWAY_TRACE" >"$LAB/answers/net"

  q $docker run -d --name lab-live $img sh -c "while true; do echo $TOKEN; sleep 0.1; done"
  pid=$(cat "$LAB/cutawayd.pid")
  kill "$pid"
  for _ in $(seq 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  sleep 0.5 # lab-live keeps logging with no daemon
  "$TOP/labs/04-dockerd/setup" daemon >/dev/null
  q $docker logs lab-live

  q $docker run --privileged --name lab-port $img true
  q $docker run --name lab-port $img echo "$TOKEN"
else
  # exits 0 and answers the create trace; swaps the streams; no bridge;
  # restarts lab-live instead of cutawayd; never tries --privileged.
  q $docker run --name lab-run $img sh -c "echo $TOKEN"
  create_trace_of "$($docker inspect -f '{{.Id}}' lab-run)" >"$LAB/answers/start-trace"

  q $docker run --name lab-frames $img sh -c "echo out-$TOKEN >&2; echo err-$TOKEN$TOKEN"
  curl -s --unix-socket "$S" "http://x/v1.41/containers/lab-frames/logs?stdout=1&stderr=1" -o "$LAB/answers/frames.bin"
  printf '1 %d\n2 %d\n' $((${#TOKEN} + 5)) $((2 * ${#TOKEN} + 5)) >"$LAB/answers/frames.txt"

  q $docker run -d --name lab-net --network none $img sleep 1000
  echo "10.0.0.2 veth0" >"$LAB/answers/net"

  q $docker run -d --name lab-live $img sh -c "while true; do echo $TOKEN; sleep 0.1; done"
  sleep 0.3
  q $docker restart -t 0 lab-live
  q $docker logs lab-live

  q $docker run --name lab-port $img echo "$TOKEN"
fi
exit 0
