# ctd-test.sh: helpers for the stage 3 tests (sourced after tests/lib/tap.sh
# and tap_tmproot).  Everything lives under $T, every process started is
# stopped by PID at exit (shims first, then the daemon), and every name
# contains "cutaway" so the suite's final leak check sees what we forget.
CTD_TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CTD_PIDS=()

# ctd_image DIR [REF] [EXTRA_LAYERS]: the busybox OCI layout fixture.
ctd_image() { "$CTD_TESTDATA/mkimage.sh" "$@" >/dev/null; }

# ctd_start NAME [--runtime PATH] [more daemon flags]: a daemon with root,
# (call it directly, not under `ok`: it must run in the test's own shell)
# exec-root and socket under $T/NAME; sets CTD_ADDR (and exports it for
# cutaway-ctr) and CTD_PID.
ctd_start() {
  local name=$1
  shift
  local d=$T/$name
  mkdir -p "$d"
  CTD_ROOT=$d/root
  CTD_EXEC=$d/exec
  CTD_ADDR=$d/ctd.sock
  export CUTAWAY_CONTAINERD_ADDRESS=$CTD_ADDR
  # stdout too goes to the log: a daemon must not hold the caller's pipes.
  cutaway-containerd --root "$CTD_ROOT" --exec-root "$CTD_EXEC" --address "$CTD_ADDR" "$@" \
    >>"$d/containerd.log" 2>&1 </dev/null &
  CTD_PID=$!
  # Not a job of this shell: bash reaps it quietly (no "Killed" lines when a
  # test kills it on purpose); we watch it by PID.
  disown "$CTD_PID" 2>/dev/null
  CTD_PIDS+=("$CTD_PID")
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -S $CTD_ADDR ]] && curl -s --unix-socket "$CTD_ADDR" http://x/v1/version >/dev/null && return 0
    kill -0 "$CTD_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "# containerd did not start:" >&2
  sed 's/^/# /' "$d/containerd.log" >&2
  return 1
}

# Stop a daemon by PID (SIGTERM: its containers keep running).
ctd_stop() {
  local pid=${1:-$CTD_PID}
  kill "$pid" 2>/dev/null
  local i
  for ((i = 0; i < 250; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null
  ctd_gone "$pid"
  return 0
}

# Wait (~5 s at most) until PID has exited.
ctd_gone() {
  local i
  for ((i = 0; i < 250; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.02
  done
  return 1
}

# kill -9 the daemon and reap it.
ctd_kill9() {
  kill -9 "$CTD_PID" 2>/dev/null
  ctd_gone "$CTD_PID"
}

# The cleanup every test registers: shims (by their pid files) get SIGTERM,
# which makes each one delete its container before exiting; then daemons;
# then whatever is still mounted under $T.
ctd_cleanup() {
  local f pid i
  for f in "$T"/*/exec/tasks/*/shim.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *cutaway-shim* ]] || continue
    kill "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null
  done
  for pid in "${CTD_PIDS[@]}"; do ctd_stop "$pid"; done
  grep -F " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  return 0
}

# api METHOD PATH [BODY]: curl the daemon; prints "STATUS BODY".
api() {
  local method=$1 path=$2 body=${3-}
  local args=(-s --path-as-is -o "$T/.api-body" -w '%{http_code}' --unix-socket "$CTD_ADDR" -X "$method")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local code
  code=$(curl "${args[@]}" "http://localhost$path")
  printf '%s %s' "$code" "$(cat "$T/.api-body")"
}

# wait_for CMD...: retry up to ~5 s (used for "until the log has N lines").
wait_for() {
  local i
  for ((i = 0; i < 250; i++)); do
    "$@" && return 0
    sleep 0.02
  done
  return 1
}
