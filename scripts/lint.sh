#!/bin/bash
# lint.sh: `make lint` runs clang-tidy (.clang-tidy) and cppcheck over every
# C source we track; any finding fails the target.
set -u
cd "$(dirname "$0")/.."
files=("$@")
[[ ${#files[@]} -gt 0 ]] || mapfile -t files < <(git ls-files '*.c')
flags=(-std=gnu11 -D_GNU_SOURCE -I. -Icommon -Itracing -include scripts/lint-models.h
  $(pkg-config --cflags libseccomp libcap libcjson libcurl libarchive openssl libmicrohttpd libgvc libmnl 2>/dev/null))

status=0
echo "lint: clang-tidy on ${#files[@]} files" >&2
printf '%s\n' "${files[@]}" | xargs -P 2 -n 8 sh -c 'clang-tidy --quiet "$@" -- '"${flags[*]}"' 2>&1 | grep -v -E "^[0-9]+ warnings? generated|^Suppressed|^Use -header-filter" ' sh > /tmp/cutaway-lint.$$ || true
if grep -q -E 'warning:|error:' /tmp/cutaway-lint.$$; then
  cat /tmp/cutaway-lint.$$
  status=1
fi
rm -f /tmp/cutaway-lint.$$
echo "lint: cppcheck" >&2
if ! cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
  --suppress=missingIncludeSystem --suppress=ctuuninitvar --suppress=preprocessorErrorDirective --std=c11 -D_GNU_SOURCE -I common -I tracing --suppress=unknownMacro "${files[@]}"; then
  status=1
fi
[[ $status -eq 0 ]] && echo "lint: clean" >&2
exit $status
