#!/bin/bash
# make-docs.sh: `make docs` runs every docs/scenarios/*.sh.  Each scenario
# drives the real stack in a private root with tracing on and writes its
# diagrams under docs/img/ with cutaway-trace: no diagram is drawn by hand.
set -eu
cd "$(dirname "$0")/.."
mkdir -p docs/img
for s in docs/scenarios/*.sh; do
  [[ -e $s ]] || continue
  echo "docs: $(basename "$s")" >&2
  bash "$s"
done
