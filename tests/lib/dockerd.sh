# dockerd.sh: the whole cutaway stack for the stage 4 tests (sourced after
# tests/lib/tap.sh, tap_tmproot and stages/3-containerd/testdata/ctd-test.sh).
#
#   dkd_start_stack     cutaway-containerd and cutawayd under $T, the busybox
#                       fixture imported as cutaway.test/busybox; exports
#                       DOCKER_HOST for the real docker CLI and sets DKD_PID
#   dkd_start [flags]   (re)start cutawayd only
#   dkd_stop            SIGTERM cutawayd (its containers keep running)
#   dkd_docker          the docker CLI to use ("" when none is installed)
#
# The default bridge gets a name and a /24 of its own per test
# ("cutaway-" + 6 hex, 10.213.N.1/24), so tests never share one, and the
# suite's leak check sees a bridge or veth left behind.  Everything started
# is stopped by PID at exit (containers first, then the daemons).

DKD_BRIDGE=cutaway-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
DKD_BIP=10.213.$((RANDOM % 200 + 20)).1/24

dkd_docker() {
  local d
  for d in /usr/local/bin/docker /usr/bin/docker; do
    [[ -x $d ]] && { echo "$d"; return 0; }
  done
  return 1
}

dkd_start() {
  cutawayd --root "$T/dk" --exec-root "$T/dkx" -H "unix://$T/docker.sock" \
    --containerd "$CTD_ADDR" --bridge "$DKD_BRIDGE" --bip "$DKD_BIP" "$@" \
    >>"$T/cutawayd.log" 2>&1 </dev/null &
  DKD_PID=$!
  disown "$DKD_PID" 2>/dev/null
  local i
  for ((i = 0; i < 200; i++)); do
    curl -sf --unix-socket "$T/docker.sock" http://x/_ping >/dev/null 2>&1 && return 0
    kill -0 "$DKD_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "# cutawayd did not start:" >&2
  sed 's/^/# /' "$T/cutawayd.log" >&2
  return 1
}

dkd_stop() {
  [[ -n ${DKD_PID:-} ]] || return 0
  kill "$DKD_PID" 2>/dev/null
  local i
  for ((i = 0; i < 250; i++)); do
    kill -0 "$DKD_PID" 2>/dev/null || break
    sleep 0.02
  done
  kill -9 "$DKD_PID" 2>/dev/null
  DKD_PID=
}

# Remove every container through the API (network namespaces, veths and
# mounts go with them), stop cutawayd, then containerd, then the bridge.
dkd_cleanup() {
  local id
  if [[ -n ${DKD_PID:-} ]]; then
    for id in $(curl -s --unix-socket "$T/docker.sock" 'http://x/containers/json?all=1' |
      jq -r '.[].Id' 2>/dev/null); do
      curl -s -X DELETE --unix-socket "$T/docker.sock" "http://x/containers/$id?force=1" >/dev/null
    done
  fi
  dkd_stop
  ctd_cleanup
  ip link del "$DKD_BRIDGE" >/dev/null 2>&1
  return 0
}

dkd_start_stack() {
  on_exit dkd_cleanup
  ctd_image "$T/img" cutaway.test/busybox:latest 0 || return 1
  ctd_start ctd || return 1
  cutaway-ctr images import "$T/img" >/dev/null || return 1
  dkd_start || return 1
  export DOCKER_HOST=unix://$T/docker.sock
}
