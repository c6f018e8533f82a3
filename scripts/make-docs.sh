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

# The architecture graph drawn from what the scenarios above really did:
# components, and calls between them with counts, p50/p95 and errors.
cat docs/img/*-trace.jsonl >docs/img/all-scenarios.jsonl
bin/cutaway-trace arch --file docs/img/all-scenarios.jsonl -o docs/img/architecture.svg
rm -f docs/img/all-scenarios.jsonl
echo "docs: wrote docs/img/architecture.svg" >&2
