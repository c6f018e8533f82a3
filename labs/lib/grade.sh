# grade.sh: the lab grader's library, sourced by every labs/NN-*/check.
#
# Modelled on MIT xv6's gradelib: a checker declares checks with points,
# each check prints one GOOD or BAD line, and the run ends with a score.
#
#   source "$(dirname "$0")/../lib/grade.sh"
#   check_hostname() { ...; expect_eq "$got" "$want" "hostname"; }
#   check hostname 10 check_hostname "the container has its own hostname"
#   grade_main "$@"
#
# Inside a check, helpers record failures; the check is GOOD when none did:
#   expect_eq GOT WANT WHAT          expect_match GOT REGEX WHAT
#   expect_cmd WHAT CMD...           (CMD must exit 0)
#   expect_trace_order FILE TRACE NAME1 NAME2 ...
#                                    (spans named so begin in this order)
#   expect_trace_has FILE TRACE NAME [ATTR_KEY ATTR_VALUE]
# and a random token keeps answers from being hard-coded:  tok=$(grade_token)
#
# `make grade LAB=NN` runs every check; `make grade LAB=NN CHECK=name` one.

set -u
GRADE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$GRADE_TOP/bin:$PATH"
_grade_names=()
_grade_points=()
_grade_funcs=()
_grade_titles=()
_grade_errors=()

check() {
  _grade_names+=("$1")
  _grade_points+=("$2")
  _grade_funcs+=("$3")
  _grade_titles+=("${4:-$1}")
}

_grade_fail() { _grade_errors+=("$*"); }

expect_eq() {
  [[ "$1" == "$2" ]] || _grade_fail "$3: got '${1:0:200}', expected '${2:0:200}'"
}

expect_match() {
  [[ "$1" =~ $2 ]] || _grade_fail "$3: '${1:0:200}' does not match /$2/"
}

expect_cmd() {
  local what=$1
  shift
  local out
  out=$("$@" 2>&1) || _grade_fail "$what: '$*' failed: ${out:0:300}"
}

grade_token() { head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The names of the spans of one trace, in the order they began.
grade_trace_names() {
  local file=$1 trace=$2
  jq -r --arg t "$trace" 'select(.trace == $t and (.ev == "begin" or .ev == "event")) | .name' \
    "$file" 2>/dev/null
}

# The id of the newest trace in a file (the trace of the last root span).
grade_last_trace() {
  jq -r 'select(.parent == null and .ev == "begin") | .trace' "$1" 2>/dev/null | tail -n 1
}

expect_trace_order() {
  local file=$1 trace=$2
  shift 2
  local names
  names=$(grade_trace_names "$file" "$trace")
  local want pos=0 line=0 found
  for want in "$@"; do
    found=0
    line=0
    while IFS= read -r n; do
      line=$((line + 1))
      if ((line > pos)) && [[ $n == "$want" ]]; then
        pos=$line
        found=1
        break
      fi
    done <<<"$names"
    if ((found == 0)); then
      _grade_fail "trace order: '$want' does not come after the steps before it (expected order: $*)"
      return
    fi
  done
}

expect_trace_has() {
  local file=$1 trace=$2 name=$3 key=${4:-} value=${5:-}
  local q='select(.trace == $t and .name == $n)'
  [[ -n $key ]] && q+=' | select((.attrs[$k] | tostring) == $v)'
  local hits
  hits=$(jq -c --arg t "$trace" --arg n "$name" --arg k "$key" --arg v "$value" "$q" "$file" \
    2>/dev/null | wc -l)
  ((hits > 0)) || _grade_fail "trace has no '$name'${key:+ with $key=$value}"
}

grade_main() {
  local only=${1:-}
  local total=0 earned=0 i ran=0
  for i in "${!_grade_names[@]}"; do
    [[ -n $only && $only != "${_grade_names[$i]}" ]] && continue
    ran=1
    _grade_errors=()
    local start=$SECONDS
    "${_grade_funcs[$i]}"
    local pts=${_grade_points[$i]} secs=$((SECONDS - start))
    total=$((total + pts))
    if [[ ${#_grade_errors[@]} -eq 0 ]]; then
      earned=$((earned + pts))
      printf '%s: GOOD (%ds) [%d/%d]\n' "${_grade_titles[$i]}" "$secs" "$pts" "$pts"
    else
      printf '%s: BAD (%ds) [0/%d]\n' "${_grade_titles[$i]}" "$secs" "$pts"
      local e
      for e in "${_grade_errors[@]}"; do printf '    %s\n' "$e"; done
    fi
  done
  if ((ran == 0)); then
    echo "grade: no check named '$only'" >&2
    return 2
  fi
  printf 'Score: %d/%d\n' "$earned" "$total"
  ((earned == total))
}
