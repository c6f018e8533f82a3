#!/bin/bash
# Pull through cutaway-containerd (stage 2's image_pull into the content
# store, each layer unpacked while it downloads and turned into a snapshot
# keyed by its chain ID) from Debian's docker-registry on 127.0.0.1, run the
# pulled image, and a daemon killed in the middle of a pull.
source "$(dirname "$0")/lib/tap.sh"
need_root
source "$TOP/tests/lib/registry.sh"
source "$TOP/stages/3-containerd/testdata/ctd-test.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
tap_tmproot
on_exit ctd_cleanup
reg_start reg plain || { fail "registry starts"; done_testing; exit 1; }
ctd_image "$T/img" cutaway.test/busybox:latest 2
ok "skopeo pushes the busybox image" reg_push_skopeo "$T/img:cutaway.test/busybox:latest" cutaway/busybox:v1
ctd_start ctd || fail "containerd starts"

out=$(cutaway-ctr images pull "$REG/cutaway/busybox:v1" 2>&1)
like "$out" "^$REG/cutaway/busybox:v1: sha256:[0-9a-f]{64}$" "images pull prints the name and manifest digest"
insp=$(cutaway-ctr images inspect "$REG/cutaway/busybox:v1")
is "$(jq -r '[.layers[].unpacked] | all' <<<"$insp")" true "every pulled layer is a snapshot"
out=$(cutaway-ctr run --rm "$REG/cutaway/busybox:v1" cutaway-pulled sh -c 'cat /etc/layer-2; test -e /etc/motd || echo no-motd')
is "$out" $'layer 2\nno-motd' "the pulled image runs, whiteout applied"
tr=$(jq -r 'select(.name=="ctr.pull" and .ev=="begin") | .trace' "$CUTAWAY_TRACE" | tail -1)
names=$(jq -r --arg t "$tr" 'select(.trace==$t and .ev=="begin") | .name' "$CUTAWAY_TRACE" | sort -u | tr '\n' ' ')
like "$names" 'images.Pull' "the pull trace has containerd's images.Pull"
like "$names" 'GET /v2/' "and stage 2's registry requests"
like "$names" 'snapshot.commit' "and the snapshot commits"

ok "images rm" cutaway-ctr images rm "$REG/cutaway/busybox:v1"
cutaway-ctr gc >/dev/null
ctd_stop
CUTAWAY_FAILPOINT=images.pull.before_snapshots ctd_start ctd || fail "containerd starts (failpoint)"
cutaway-ctr images pull "$REG/cutaway/busybox:v1" >/dev/null 2>&1
ctd_gone "$CTD_PID" && pass "containerd killed mid-pull" || fail "containerd killed mid-pull"
ls "$CTD_ROOT"/snapshots | grep -q '^pull-' && pass "a half pull left its temp dir" || fail "a half pull left its temp dir"
ctd_start ctd || fail "containerd restarts"
is "$(ls "$CTD_ROOT"/snapshots | grep -c '^pull-')" 0 "the restart removed the half pull"
# stage 2 tags the image only once every blob is verified, so the tag may
# be there; its layers are then not snapshots yet, and are unpacked from the
# content store on first use.
insp=$(cutaway-ctr images inspect "$REG/cutaway/busybox:v1" 2>/dev/null)
if [[ -n $insp ]]; then
  is "$(jq -r '[.layers[].unpacked] | any' <<<"$insp")" false "the killed pull tagged a complete image, no snapshot yet"
else
  pass "the killed pull left no tag"
fi
out=$(cutaway-ctr run --rm "$REG/cutaway/busybox:v1" cutaway-pulled2 cat /etc/layer-1 2>&1)
is "$out" "layer 1" "a run unpacks what is missing from the content store"
like "$(cutaway-ctr images pull "$REG/cutaway/busybox:v1" 2>&1)" 'sha256:' "pulling again succeeds"
out=$(cutaway-ctr run --rm "$REG/cutaway/busybox:v1" cutaway-pulled3 cat /etc/layer-1)
is "$out" "layer 1" "and the image runs"
ctd_stop
done_testing
