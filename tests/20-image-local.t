#!/bin/bash
# cutaway-image's local commands on an OCI layout: import a busybox rootfs
# (Debian's busybox-static), inspect it, unpack it and run a binary from it
# with chroot, tag, ls, rm; bad input of each kind leaves nothing behind.
source "$(dirname "$0")/lib/tap.sh"
need_root
[[ -x /bin/busybox ]] || skip_all "busybox-static not installed"
tap_tmproot

L=$T/layout
img() { cutaway-image --layout "$L" "$@"; }

# A minimal busybox rootfs: the static binary, a few applet links, a file
# with a hardlink, a setuid bit and an owner to carry through.
R=$T/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for a in sh echo cat ls stat; do ln -s busybox "$R/bin/$a"; done
tok=$(rand_token)
echo "$tok" >"$R/etc/token"
ln "$R/etc/token" "$R/etc/token.link"
chmod 1777 "$R/tmp"
touch "$R/etc/owned" && chown 123:456 "$R/etc/owned" && chmod 4750 "$R/etc/owned"

ok "import a rootfs directory" img import --cmd sh "$R" busybox
out=$(img ls)
like "$out" 'docker\.io/library/busybox:latest +[0-9a-f]{12} +[0-9.]+[kM]B' "ls shows the normalised ref, short digest, size"

js=$(img inspect busybox)
is "$(jq -r .ref <<<"$js")" "docker.io/library/busybox:latest" "inspect: ref"
is "$(jq -r '.layers | length' <<<"$js")" "1" "inspect: one layer"
is "$(jq -r '.layers[0].mediaType' <<<"$js")" "application/vnd.oci.image.layer.v1.tar+gzip" "inspect: gzip layer"
is "$(jq -r '.config.rootfs.diff_ids[0]' <<<"$js")" "$(jq -r '.layers[0].diffID' <<<"$js")" "inspect: diff_id from the config"
is "$(jq -r '.config.config.Cmd[0]' <<<"$js")" "sh" "inspect: --cmd recorded"
layer=$(jq -r '.layers[0].digest' <<<"$js")
is "sha256:$(sha256sum "$L/blobs/sha256/${layer#sha256:}" | cut -d' ' -f1)" "$layer" "the layer blob hashes to its digest"
diffid=$(gzip -dc "$L/blobs/sha256/${layer#sha256:}" | sha256sum | cut -d' ' -f1)
is "sha256:$diffid" "$(jq -r '.layers[0].diffID' <<<"$js")" "diff_id is the sha256 of the uncompressed tar"

ok "unpack the image" img unpack busybox "$T/out"
is "$(chroot "$T/out" /bin/cat /etc/token)" "$tok" "chroot runs a binary from the unpacked rootfs"
is "$(chroot "$T/out" /bin/sh -c 'echo $((6*7))')" "42" "the shell works inside"
is "$(stat -c %h "$T/out/etc/token")" "2" "the hardlink is a hardlink"
is "$(stat -c '%u:%g %a' "$T/out/etc/owned")" "123:456 4750" "owner and setuid bit kept"
is "$(stat -c %a "$T/out/tmp")" "1777" "sticky /tmp kept"
is "$(readlink "$T/out/bin/sh")" "busybox" "symlinks kept"
ok "skopeo reads the layout" skopeo inspect "oci:$L:docker.io/library/busybox:latest"

# Tarball import: the same tree as a tar file.
tar -C "$R" -cf "$T/rootfs.tar" .
ok "import a tarball" img import "$T/rootfs.tar" local/fromtar:1
ok "unpack it" img unpack local/fromtar:1 "$T/out2"
is "$(cat "$T/out2/etc/token")" "$tok" "tarball import content"

ok "tag" img tag busybox example.com/copy:v2
out=$(img ls)
like "$out" 'example\.com/copy:v2' "ls shows the new tag"
is "$(img inspect example.com/copy:v2 | jq -r .digest)" "$(jq -r .digest <<<"$js")" "the tag names the same manifest"

# Trace: one unpack.layer span with its counts, content.commit verified.
like "$(grep '"unpack.layer"' "$CUTAWAY_TRACE" | grep '"ev":"end"' | head -1)" '"files":[1-9]' "trace: unpack.layer with files"
like "$(grep '"content.commit"' "$CUTAWAY_TRACE" | grep '"ev":"end"' | head -1)" '"verified":true' "trace: content.commit verified"
like "$(grep -c '"image.import"' "$CUTAWAY_TRACE")" '^[1-9]' "trace: image.import"

# Bad input: one line, non-zero, nothing half-committed.
mkdir "$T/full" && touch "$T/full/x"
nok "unpack into a non-empty dir fails" img unpack busybox "$T/full"
is "$(ls "$T/full")" "x" "the non-empty dir is untouched"
nok "unpack of an unknown image fails" img unpack nosuch "$T/out3"
is "$(ls -d "$T"/out3* 2>/dev/null)" "" "nothing created for an unknown image"
err=$(img unpack nosuch "$T/out3" 2>&1)
like "$err" '^cutaway-image: .*not found' "a one-line error naming the image"
echo "just text" >"$T/notatar"
nok "import of a non-tar file fails" img import "$T/notatar" bad/img
nok "no tag for a failed import" img inspect bad/img
nok "an invalid reference is refused" img import "$R" 'UPPER/Case:!!'

# A tampered layer: swap the blob's bytes for another valid gzip tar.
cp -r "$L" "$T/tampered"
echo other >"$T/o.txt"
tar -C "$T" -czf "$T/o.tgz" o.txt
cp "$T/o.tgz" "$T/tampered/blobs/sha256/${layer#sha256:}"
err=$(cutaway-image --layout "$T/tampered" unpack busybox "$T/out4" 2>&1)
like "$err" 'diff_id' "a tampered layer is refused (diff_id mismatch)"
is "$(ls -d "$T"/out4* 2>/dev/null)" "" "and no rootfs (or temp dir) is left"

# rm: untag and collect; the other tag keeps the blobs alive.
ok "rm busybox" img rm busybox
ok "the copy still unpacks" img unpack example.com/copy:v2 "$T/out5"
ok "rm the rest" img rm example.com/copy:v2 local/fromtar:1
is "$(ls "$L/blobs/sha256" | wc -l)" "0" "GC removed every blob"
is "$(ls "$L/ingest" | wc -l)" "0" "no ingest leftovers"
nok "rm of a missing tag fails" img rm busybox

done_testing
