#!/bin/bash
# bench.sh: `make bench` runs every scripts/bench.d/*.sh in order.  Each entry
# measures one stage side by side with the real peer where it is installed
# and prints its figures as ratios measured in this one run.
set -u
cd "$(dirname "$0")/.."
status=0
for b in scripts/bench.d/*.sh; do
  [[ -e $b ]] || continue
  echo "== $(basename "$b" .sh)"
  bash "$b" || status=1
  echo
done
exit $status
