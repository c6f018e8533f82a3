#!/bin/bash
# demo.sh: `make demo`, the main job.  It runs the highest stage that works
# on this checkout, in a private root, with tracing on, then draws the path
# of the request through the stack and prints where the pictures are.  It
# needs no network: the image is built from Debian's busybox-static and
# served by a registry started here on 127.0.0.1.  Everything it starts, it
# stops (by PID) before it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
export PATH="$TOP/bin:$PATH"
OUT=${CUTAWAY_DEMO_OUT:-$TOP/out/demo}
mkdir -p "$OUT"
export CUTAWAY_TRACE=$OUT/trace.jsonl
: >"$CUTAWAY_TRACE"
DEMO_ROOT=$(mktemp -d /tmp/cutaway-demo.XXXXXX)
pids=()
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  if [[ -n ${DEMO_CLEANUP:-} ]]; then eval "$DEMO_CLEANUP" >/dev/null 2>&1 || true; fi
  { grep -F " $DEMO_ROOT" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$DEMO_ROOT"
  exit "$rc"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
have() { [[ -x $TOP/bin/$1 ]]; }

# Each tier is a script under scripts/demo.d/; the highest one whose
# binaries are built runs.  A tier prints the trace id of its request.
tier=""
for t in scripts/demo.d/[0-9]*.sh; do
  need=$(sed -n 's/^# needs: //p' "$t")
  need_cmd=$(sed -n 's/^# needs-cmd: //p' "$t")
  ok=1
  for b in $need; do have "$b" || ok=0; done
  for c in $need_cmd; do command -v "$c" >/dev/null || ok=0; done
  ((ok)) && tier=$t
done
say "running $(basename "$tier" .sh) (the highest stage built)"
source "$tier"
DEMO_TRACE=last # a tier that opens its own root span names its trace here
DEMO_VIEW=()    # ... or the views' arguments (--container NAME)
demo_run
((${#DEMO_VIEW[@]})) || DEMO_VIEW=("$DEMO_TRACE")

say "the request, as a tree of spans"
cutaway-trace show "${DEMO_VIEW[@]}" --file "$CUTAWAY_TRACE" >&2 || true
if cutaway-trace path "${DEMO_VIEW[@]}" --file "$CUTAWAY_TRACE" -o "$OUT/path.svg" 2>/dev/null; then
  cutaway-trace html "${DEMO_VIEW[@]}" --file "$CUTAWAY_TRACE" -o "$OUT/trace.html" 2>/dev/null || true
  cutaway-trace seq "${DEMO_VIEW[@]}" --mermaid --file "$CUTAWAY_TRACE" -o "$OUT/sequence.md" 2>/dev/null ||
    true
fi
say "done"
echo "trace:    $CUTAWAY_TRACE"
[[ -f $OUT/path.svg ]] && echo "path:     $OUT/path.svg"
[[ -f $OUT/trace.html ]] && echo "page:     $OUT/trace.html"
[[ -f $OUT/sequence.md ]] && echo "sequence: $OUT/sequence.md"
exit 0
