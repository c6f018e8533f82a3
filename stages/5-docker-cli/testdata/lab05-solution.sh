#!/bin/bash
# lab05-solution.sh good|bad: a scripted answer to lab 05 (labs/05-cli),
# for the test of its checker (tests/65-cli-lab.t).  "good" does every step
# the way the README asks; "bad" gets each one subtly wrong.
set -u
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
eval "$("$TOP/labs/05-cli/setup" env)"
mode=${1:-good}
T_DOCKER=$LAB/docker.traces
img=cutaway.lab/busybox
q() { "$@" >/dev/null 2>&1; }

# The trace of the `cutaway run` that created container NAME, the README's jq.
run_trace() { # NAME
  jq -r --arg n "$1" 'select(.comp == "cutawayd" and .name == "POST /containers/create" and .ev == "end"
                       and .attrs.name == $n) | .trace' "$CUTAWAY_TRACE" | tail -n 1
}
# The client spans of that run: NAME STATUS, in the order they began.
client_spans() { # TRACE
  jq -rs --arg t "$1" 'map(select(.trace == $t and .comp == "cutaway")) as $ev
    | ($ev | map(select(.ev == "end")) | map({key: .span, value: .attrs["http.status_code"]}) | from_entries) as $st
    | $ev | map(select(.ev == "begin" and .kind == "client")) | sort_by(.ts)[] | "\(.name) \($st[.span])"' \
    "$CUTAWAY_TRACE"
}
# The frames of a stdcopy file as "HEADER PAYLOAD" in hex, one per line.
frames() { # FILE
  od -An -tx1 -v "$1" | tr -s ' \n' '\n\n' | grep -v '^$' |
    awk 'function nib(c) { return index("0123456789abcdef", c) - 1 }
         function byte(x) { return nib(substr(x, 1, 1)) * 16 + nib(substr(x, 2, 1)) }
         { b[n++] = $1 }
         END { for (i = 0; i + 8 <= n; i += 8 + l) {
           l = ((byte(b[i+4]) * 256 + byte(b[i+5])) * 256 + byte(b[i+6])) * 256 + byte(b[i+7]); h = ""; p = ""
           for (k = 0; k < 8; k++) h = h b[i+k]
           for (k = 8; k < 8 + l; k++) p = p b[i+k]
           print h, p } }'
}
unhex() { sed 's/../\\x&/g' | xargs -0 printf '%b'; }

# A cutaway run whose CLI gets SIGTERM once the container is ready.
sig_run() { # NAME SIGNAL-THE-CLI?
  local out=$LAB/sig.out pid
  cutaway run --name "$1" $img sh -c "trap 'exit $SIGCODE' TERM; echo ready; while :; do sleep 0.1; done" \
    >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 250); do grep -qs ready "$out" && break; sleep 0.02; done
  if [[ $2 == cli ]]; then kill -TERM "$pid"; else q cutaway kill -s TERM "$1"; fi
  wait "$pid"
}

if [[ $mode == good ]]; then
  q cutaway run --name lab-one $img echo "$TOKEN"
  t=$(run_trace lab-one)
  echo "$t $(jq -r --arg t "$t" 'select(.trace == $t) | .pid' "$CUTAWAY_TRACE" | sort -u | wc -l)" >"$LAB/answers/one"
  if [[ -n $DOCKER ]]; then
    n0=$(wc -l <"$CUTAWAY_TRACE")
    q "$DOCKER" run --name lab-docker $img echo "$TOKEN"
    tail -n +$((n0 + 1)) "$CUTAWAY_TRACE" | jq -r 'select(.comp == "cutawayd" and .kind == "server" and
        .ev == "begin" and .parent == null) | .trace' >"$T_DOCKER"
    { wc -l <"$T_DOCKER"; cat "$T_DOCKER"; } >"$LAB/answers/docker"
  fi

  q cutaway run --name lab-seq $img sh -c "echo $TOKEN; exit $EXITCODE"
  t=$(run_trace lab-seq)
  { echo "$t"; client_spans "$t"; } >"$LAB/answers/sequence"

  q cutaway run --name lab-frames $img sh -c "echo out-$TOKEN; head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' >&2"
  curl -s --unix-socket "$S" "http://x/v1.41/containers/lab-frames/logs?stdout=1&stderr=1" -o "$LAB/answers/frames.bin"
  frames "$LAB/answers/frames.bin" | awk '{print $1}' >"$LAB/answers/headers"
  frames "$LAB/answers/frames.bin" | awk '$1 ~ /^02/ {printf "%s", $2}' | unhex >"$LAB/answers/stderr"

  q cutaway run --name lab-127 $img "/bin/$TOKEN"
  q cutaway run --name lab-126 $img /etc/passwd "$TOKEN"
  q cutaway run --name lab-exit $img sh -c "exit $EXITCODE"
  printf '127 start %s\n126 start %s\n%s wait %s\n' "$(run_trace lab-127)" "$(run_trace lab-126)" \
    "$EXITCODE" "$(run_trace lab-exit)" >"$LAB/answers/exit-codes"

  sig_run lab-sig cli
else
  # A span id for the trace id; docker's ping left out; the client spans
  # sorted by name; the streams swapped; 126 from the container's own exit
  # and "start" for the wait's code; the container signalled with
  # `cutaway kill` instead of the CLI.
  q cutaway run --name lab-one $img echo "$TOKEN"
  t=$(jq -r 'select(.comp == "cutaway" and .name == "HEAD /_ping" and .ev == "begin") | .span' "$CUTAWAY_TRACE" |
    tail -n 1)
  echo "$t 5" >"$LAB/answers/one"
  if [[ -n $DOCKER ]]; then
    q "$DOCKER" run --name lab-docker $img echo "$TOKEN"
    jq -r 'select(.comp == "cutawayd" and .kind == "server" and .ev == "begin" and .parent == null
      and .name != "HEAD /_ping") | .trace' "$CUTAWAY_TRACE" | tail -n 4 >"$T_DOCKER"
    { echo 4; cat "$T_DOCKER"; } >"$LAB/answers/docker"
  fi

  q cutaway run --name lab-seq $img sh -c "echo $TOKEN"
  t=$(run_trace lab-seq)
  { echo "$t"; client_spans "$t" | sort; } >"$LAB/answers/sequence"

  q cutaway run --name lab-frames $img sh -c "echo out-$TOKEN >&2; head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n'"
  curl -s --unix-socket "$S" "http://x/v1.41/containers/lab-frames/logs?stdout=1&stderr=1" -o "$LAB/answers/frames.bin"
  frames "$LAB/answers/frames.bin" | awk '{print $1}' >"$LAB/answers/headers"
  frames "$LAB/answers/frames.bin" | awk '$1 ~ /^01/ {printf "%s", $2}' | unhex >"$LAB/answers/stderr"

  q cutaway run --name lab-127 $img "/bin/$TOKEN"
  q cutaway run --name lab-126 $img sh -c 'exit 126'
  q cutaway run --name lab-exit $img sh -c "exit $EXITCODE"
  printf '127 start %s\n126 start %s\n%s start %s\n' "$(run_trace lab-127)" "$(run_trace lab-126)" \
    "$EXITCODE" "$(run_trace lab-exit)" >"$LAB/answers/exit-codes"

  sig_run lab-sig container
fi
exit 0
