#!/bin/bash
# run-tests.sh: the whole suite under prove: the C unit tests (build/tests/*),
# then the integration tests (tests/*.t, in name order), ending with the leak
# check tests/zz-leak-check.t.  `make test` calls this after building.
set -euo pipefail
cd "$(dirname "$0")/.."
units=()
for t in build/tests/*; do
  [[ -f $t && -x $t ]] && units+=("$t")
done
scripts=(tests/*.t)
exec prove --timer "${units[@]}" "${scripts[@]}"
