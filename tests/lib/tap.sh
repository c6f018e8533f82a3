# tap.sh: TAP helpers for cutaway's bash integration tests (sourced).
#
#   source "$(dirname "$0")/lib/tap.sh"
#   tap_tmproot            # private temp root in $T, removed at exit
#   ok "name" cmd args...  # runs cmd; ok when it exits 0
#   is "$got" "$want" "name"
#   like "$got" 'regex' "name"
#   skip_all "reason"      # only for what the host lacks
#   done_testing
#
# Every test cleans up after itself: tap_cleanup runs the functions pushed
# with `on_exit` in reverse order, then removes $T without crossing mounts.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$TOP/bin
export PATH="$BIN:$PATH"
_tap_n=0
_tap_failed=0
_tap_exit_hooks=()

ok() {
  local name=$1
  shift
  _tap_n=$((_tap_n + 1))
  local out
  if out=$("$@" 2>&1); then
    echo "ok $_tap_n - $name"
  else
    local rc=$?
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $name"
    echo "#   command: $* (exit $rc)"
    printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
  fi
}

# `nok name cmd...`: ok when cmd fails.
nok() {
  local name=$1
  shift
  _tap_n=$((_tap_n + 1))
  if "$@" >/dev/null 2>&1; then
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $name"
    echo "#   command succeeded but should have failed: $*"
  else
    echo "ok $_tap_n - $name"
  fi
}

is() {
  _tap_n=$((_tap_n + 1))
  if [[ "$1" == "$2" ]]; then
    echo "ok $_tap_n - $3"
  else
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $3"
    printf '#   got:      %s\n#   expected: %s\n' "${1:0:400}" "${2:0:400}"
  fi
}

like() {
  _tap_n=$((_tap_n + 1))
  if [[ "$1" =~ $2 ]]; then
    echo "ok $_tap_n - $3"
  else
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $3"
    printf '#   got:      %s\n#   expected to match: %s\n' "${1:0:400}" "$2"
  fi
}

pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
  _tap_n=$((_tap_n + 1))
  _tap_failed=$((_tap_failed + 1))
  echo "not ok $_tap_n - $1"
  [[ $# -gt 1 ]] && printf '%s\n' "$2" | head -20 | sed 's/^/#   /'
  return 0
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $1"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

skip_all() {
  echo "1..0 # SKIP $1"
  exit 0
}

need_root() { [[ $(id -u) -eq 0 ]] || skip_all "needs root"; }

on_exit() { _tap_exit_hooks+=("$*"); }

tap_cleanup() {
  local i
  for ((i = ${#_tap_exit_hooks[@]} - 1; i >= 0; i--)); do
    eval "${_tap_exit_hooks[$i]}" >/dev/null 2>&1 || true
  done
  if [[ -n ${T:-} && -d $T ]]; then
    # Unmount anything a failed test left under $T (deepest first), then
    # remove the tree without ever crossing into another filesystem.
    grep -F " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf --one-file-system "$T"
  fi
}

# A private temp root for this test: $T; traces go to $T/trace.jsonl.
tap_tmproot() {
  T=$(mktemp -d /tmp/cutaway-test.XXXXXX)
  export T
  export CUTAWAY_TRACE=$T/trace.jsonl
  trap tap_cleanup EXIT
}

done_testing() {
  echo "1..$_tap_n"
  [[ $_tap_failed -eq 0 ]]
}

# A random token, so checks cannot be satisfied by hard-coded answers.
rand_token() { head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
