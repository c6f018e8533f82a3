# runc-peers.sh: fixtures for the runtime's interop tests (sourced after
# tap.sh): a busybox rootfs and bundle built from Debian's busybox-static,
# and the same rootfs as a docker-archive image tarball that both
# `ctr images import` and `docker load` accept.
#
#   peers_rootfs DIR              busybox with its applet links in DIR
#   peers_bundle DIR [args...]    DIR/rootfs + DIR/config.json (`spec`,
#                                 args set, terminal off)
#   peers_image_tar FILE NAME     a docker-archive tarball of the rootfs

peers_busybox() {
  # busybox-static installs /bin/busybox (no libc needed inside a rootfs).
  local bb
  for bb in /bin/busybox /usr/bin/busybox; do
    if [[ -x $bb ]] && ! ldd "$bb" >/dev/null 2>&1; then
      echo "$bb"
      return 0
    fi
  done
  return 1
}

peers_rootfs() {
  local dir=$1 bb
  bb=$(peers_busybox) || return 1
  mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin}
  cp "$bb" "$dir/bin/busybox"
  local a
  for a in $("$bb" --list); do
    [[ $a == busybox ]] && continue
    [[ -e $dir/bin/$a ]] || ln -s busybox "$dir/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
}

# A bundle whose process runs "$@" (default: sh).
peers_bundle() {
  local dir=$1
  shift
  mkdir -p "$dir"
  peers_rootfs "$dir/rootfs" || return 1
  (cd "$dir" && cutaway-runc spec) || return 1
  local args
  args=$(printf '%s\n' "${@:-sh}" | jq -R . | jq -s -c .)
  jq --argjson a "$args" '.process.args = $a | .process.terminal = false | .root.readonly = false' \
    "$dir/config.json" >"$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

# docker-archive: manifest.json + image config + one layer tar.
peers_image_tar() {
  local out=$1 name=$2 work
  work=$(mktemp -d "${T:-/tmp}/image.XXXXXX")
  peers_rootfs "$work/rootfs" || return 1
  mkdir -p "$work/tar/layer"
  tar --numeric-owner -C "$work/rootfs" -cf "$work/tar/layer/layer.tar" .
  local diff cfg cfgsha
  diff=$(sha256sum "$work/tar/layer/layer.tar" | cut -d' ' -f1)
  cfg=$(jq -n -c --arg d "sha256:$diff" '{architecture:"amd64",os:"linux",
    config:{Cmd:["sh"],Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
    rootfs:{type:"layers",diff_ids:[$d]},
    history:[{created_by:"cutaway tests: busybox-static"}]}')
  printf '%s' "$cfg" >"$work/tar/config.json"
  cfgsha=$(sha256sum "$work/tar/config.json" | cut -d' ' -f1)
  mv "$work/tar/config.json" "$work/tar/$cfgsha.json"
  jq -n -c --arg c "$cfgsha.json" --arg n "$name" \
    '[{Config:$c,RepoTags:[$n],Layers:["layer/layer.tar"]}]' >"$work/tar/manifest.json"
  tar -C "$work/tar" -cf "$out" manifest.json "$cfgsha.json" layer
  rm -rf "$work"
}

# peers_containerd DIR: Debian's containerd with its root, state, sockets and
# config all under DIR (no CRI plugin, only the overlay snapshotter), started
# in the background and stopped by PID at exit (on_exit).  Waits until
# `ctr version` answers on DIR/containerd.sock (10 s at most).  Its pid is
# left in PEERS_CONTAINERD_PID.
peers_containerd() {
  local d=$1
  mkdir -p "$d"
  cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
TOML
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  PEERS_CONTAINERD_PID=$!
  on_exit "kill $PEERS_CONTAINERD_PID; wait $PEERS_CONTAINERD_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    ctr -a "$d/containerd.sock" version >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
