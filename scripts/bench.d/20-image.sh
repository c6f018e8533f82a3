#!/bin/bash
# 20-image: pull + unpack of a multi-layer image (~60 MB compressed, five
# layers) from a local docker-registry: cutaway-image (parallel download,
# extraction streaming while the layers download) against skopeo copy +
# umoci unpack, the two-step path of the real tools.  Best of 3 rounds,
# everything in one private temp dir, the registry stopped by PID.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
export PATH=$TOP/bin:$PATH CUTAWAY_TRACE=off
for t in docker-registry cutaway-image; do
  command -v $t >/dev/null || { echo "20-image: $t missing, skipped"; exit 0; }
done
W=$(mktemp -d /tmp/cutaway-bench-image.XXXXXX)
REG_PID=
cleanup() {
  [[ -n $REG_PID ]] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT

gen=scripts/fixtures/make-bench-image.sh
[[ -x $gen || -f $gen ]] || { echo "20-image: $gen missing, skipped"; exit 0; }
bash "$gen" "$W/oci" 2>"$W/gen.log" || { cat "$W/gen.log"; exit 1; }
sed 's/^/  /' "$W/gen.log"

while :; do
  port=$((20000 + RANDOM % 40000))
  ss -Hltn "sport = :$port" | grep -q . || break
done
REG=127.0.0.1:$port
cat >"$W/reg.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/storage}}
http: {addr: $REG}
YML
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 &
REG_PID=$!
for ((i = 0; i < 200; i++)); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.05; done
if command -v skopeo >/dev/null; then
  skopeo copy -q --dest-tls-verify=false "oci:$W/oci:bench" "docker://$REG/bench:v1" ||
    { echo "20-image: skopeo push failed"; exit 1; }
else
  echo "20-image: skopeo missing (needed to seed the registry), skipped"
  exit 0
fi
size=$(du -cb "$W"/oci/blobs/sha256/* | tail -1 | cut -f1)

now() { date +%s.%N; }
# Best of 3, in rounds: each round runs every contender once, in turn, so
# that a busy moment of the machine does not fall on one tool only.  Every
# run writes into a fresh scratch dir ($RUN); old runs are removed only at
# the end: on ext4 without a journal (as on some build VMs) every file
# created within a minute of a big rm -rf makes the kernel skip each
# recently freed inode, which would time the rm, not the tool.
declare -A BEST
rounds() {
  local i name t0 t1 d
  for i in 1 2 3; do
    for name in "$@"; do
      RUN=$(mktemp -d "$W/run.XXXXXX")
      sync
      t0=$(now)
      if ! "$name" >/dev/null 2>"$W/run.err"; then
        echo "FAILED: $name: $(head -3 "$W/run.err")" >&2
        BEST[$name]=0
        continue
      fi
      t1=$(now)
      d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
      if [[ -z ${BEST[$name]:-} ]] || awk -v d="$d" -v b="${BEST[$name]}" 'BEGIN { exit !(d < b) }'; then
        BEST[$name]=$d
      fi
    done
  done
}
ours_unpack() { cutaway-image --layout "$RUN/lay" pull -q --unpack "$RUN/root" "$REG/bench:v1"; }
ours_nosync() { cutaway-image --layout "$RUN/lay" pull -q --no-sync --unpack "$RUN/root" "$REG/bench:v1"; }
ours_pull() { cutaway-image --layout "$RUN/lay" pull -q "$REG/bench:v1"; }
ours_layers() { cutaway-image --layout "$RUN/lay" pull -q --layers "$RUN/layers" "$REG/bench:v1"; }
skopeo_pull() { skopeo copy -q --src-tls-verify=false "docker://$REG/bench:v1" "oci:$RUN/sk:v1"; }
skopeo_umoci() {
  skopeo_pull && umoci unpack --image "$RUN/sk:v1" "$RUN/bundle"
}

printf '  image: %d MB compressed, 5 layers, registry %s\n' $((size / 1000000)) "$REG"
echo "  (ratios > 1: cutaway-image is faster; the issue's reference: docker pull 2.8 s for 56 MB)"
contenders=(ours_pull ours_unpack ours_nosync ours_layers)
command -v skopeo >/dev/null && contenders+=(skopeo_pull)
command -v skopeo >/dev/null && command -v umoci >/dev/null && contenders+=(skopeo_umoci)
rounds "${contenders[@]}"
t_pull=${BEST[ours_pull]} t_unpack=${BEST[ours_unpack]}
t_nosync=${BEST[ours_nosync]} t_layers=${BEST[ours_layers]}
printf '  %-52s %6.2f s\n' "cutaway-image pull (download + verify)" "$t_pull"
printf '  %-52s %6.2f s\n' "cutaway-image pull --unpack (flattened rootfs)" "$t_unpack"
printf '  %-52s %6.2f s\n' "cutaway-image pull --unpack --no-sync" "$t_nosync"
printf '  %-52s %6.2f s\n' "cutaway-image pull --layers (per-layer, parallel)" "$t_layers"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
if [[ -n ${BEST[skopeo_pull]:-} ]]; then
  t_sk=${BEST[skopeo_pull]}
  printf '  %-52s %6.2f s   (skopeo/ours = %s)\n' "skopeo copy docker:// -> oci:" "$t_sk" "$(ratio "$t_sk" "$t_pull")"
fi
if [[ -n ${BEST[skopeo_umoci]:-} ]]; then
  t_sku=${BEST[skopeo_umoci]}
  printf '  %-52s %6.2f s   (theirs/ours --unpack = %s, --layers = %s)\n' \
    "skopeo copy + umoci unpack" "$t_sku" "$(ratio "$t_sku" "$t_unpack")" "$(ratio "$t_sku" "$t_layers")"
fi
