#!/bin/bash
# run-tests.sh: the whole suite under prove: the C unit tests (build/tests/*),
# then the integration tests (tests/*.t, in name order), ending with the leak
# check tests/zz-leak-check.t.  `make test` calls this after building.
# Trace events of tests that do not choose their own file go to a file of
# this run's, never to the machine's default trace file.
set -uo pipefail
cd "$(dirname "$0")/.."
units=()
for t in build/tests/*; do
  [[ -f $t && -x $t ]] && units+=("$t")
done
scripts=(tests/*.t)
suite=$(mktemp -d /tmp/cutaway-suite.XXXXXX)
export CUTAWAY_TRACE=$suite/trace.jsonl
# A test that hangs fails after 10 minutes instead of holding up the run.
prove --timer --exec 'timeout -k 10 600' "${units[@]}" "${scripts[@]}"
rc=$?
rm -rf "$suite"
exit $rc
