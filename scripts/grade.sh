#!/bin/bash
# grade.sh: `make grade LAB=NN [CHECK=name]` runs labs/NN-*/check.
set -u
lab=${1:-}
only=${2:-}
cd "$(dirname "$0")/.."
if [[ -z $lab ]]; then
  echo "usage: make grade LAB=NN [CHECK=name]   (labs: $(ls -d labs/[0-9]* | xargs -n1 basename | tr '\n' ' '))" >&2
  exit 2
fi
dirs=(labs/"$lab"-*/)
if [[ ! -x ${dirs[0]}check ]]; then
  echo "grade: no lab $lab (no labs/$lab-*/check)" >&2
  exit 2
fi
exec "${dirs[0]}check" $only
