#!/bin/bash
# mkimage.sh OUTDIR [REF] [EXTRA_LAYERS] [SALT]: an OCI image layout holding a
# busybox image built from Debian's busybox-static (no network), for the
# stage 3 tests, the lab and the benchmark.  Layer 1 is the busybox rootfs;
# EXTRA_LAYERS (default 0) small layers on top exercise snapshot chains.
# The last layer deletes /etc/motd with a whiteout when EXTRA_LAYERS > 0.
# SALT (any word) adds /etc/salt with 256 KiB of random bytes to layer 1, so
# the image shares no blob with the others (the crash tests need big new
# blobs).
set -euo pipefail
out=$1
ref=${2:-cutaway.test/busybox:latest}
extra=${3:-0}
salt=${4:-}
bb=$(command -v busybox || echo /bin/busybox)
[[ -x $bb ]] || { echo "mkimage: busybox-static is not installed" >&2; exit 1; }
work=$(mktemp -d /tmp/cutaway-mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"

blob() { # file -> prints digest, moves into blobs
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  cp "$1" "$out/blobs/sha256/$d"
  echo "sha256:$d"
}

# Layer 1: busybox and its applets, /etc with passwd and group.
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,var,home}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for a in $("$bb" --list); do
  [[ $a == busybox ]] || ln -sf busybox "$root/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:root\nwheel:x:10:root\nnogroup:x:65534:\nuser:x:1000:\n' >"$root/etc/group"
echo "welcome to cutaway" >"$root/etc/motd"
[[ -n $salt ]] && head -c 262144 /dev/urandom >"$root/etc/salt"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$root" -cf "$work/l1.tar" .
diffs=("sha256:$(sha256sum "$work/l1.tar" | cut -d' ' -f1)")
gzip -n -1 -c "$work/l1.tar" >"$work/l1.tgz"
layers=("$(blob "$work/l1.tgz")")
sizes=("$(stat -c %s "$work/l1.tgz")")

for ((i = 1; i <= extra; i++)); do
  l=$work/layer$i
  mkdir -p "$l/etc"
  echo "layer $i" >"$l/etc/layer-$i"
  if ((i == extra)); then
    # An OCI whiteout: this layer deletes /etc/motd from the ones below.
    : >"$l/etc/.wh.motd"
  fi
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$l" -cf "$work/l$i.tar" .
  diffs+=("sha256:$(sha256sum "$work/l$i.tar" | cut -d' ' -f1)")
  layers+=("$(blob "$work/l$i.tar")")
  sizes+=("$(stat -c %s "$work/l$i.tar")")
done

difflist=$(printf '"%s",' "${diffs[@]}")
cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[${difflist%,}]}}
JSON
cfg=$(blob "$work/config.json")
cfgsize=$(stat -c %s "$work/config.json")
ll=""
for i in "${!layers[@]}"; do
  mt=application/vnd.oci.image.layer.v1.tar
  ((i == 0)) && mt=application/vnd.oci.image.layer.v1.tar+gzip
  ll+="{\"mediaType\":\"$mt\",\"digest\":\"${layers[$i]}\",\"size\":${sizes[$i]}},"
done
cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$cfg","size":$cfgsize},"layers":[${ll%,}]}
JSON
man=$(blob "$work/manifest.json")
mansize=$(stat -c %s "$work/manifest.json")
cat >"$out/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$man","size":$mansize,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"$ref","io.containerd.image.name":"$ref"}}]}
JSON
