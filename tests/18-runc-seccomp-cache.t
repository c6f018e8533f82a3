#!/bin/bash
# The seccomp program cache (stages/1-runc/seccomp_cache.h): the first
# container of a profile compiles it and stores the program under
# <root>/@seccomp-cache; the next one loads it from there and skips the
# compile; exec uses it too.  A file that is not exactly ours, for exactly
# this profile, is refused (a miss, with the reason in the trace) and
# replaced, so a planted or swapped program never reaches a container.
source "$(dirname "$0")/lib/tap.sh"
need_root
tap_tmproot
source "$TOP/tests/fixtures/runc-lib.sh"
on_exit runc_cleanup
[[ -x $TOP/build/fixtures/probe ]] || skip_all "build/fixtures/probe not built (run make)"

B=$T/bundle
mkbundle "$B"
CACHE=$RSTATE/@seccomp-cache
# profile ERRNO: getppid (110 on x86_64) denied with ERRNO.
profile() {
  cfg "$B" --argjson e "$1" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: $e}]}'
}
n=0
# probe ARGS...: a fresh container running the probe, in a trace of its
# own; its output is left in $OUT and the trace id in $TID.
probe() {
  n=$((n + 1))
  local a
  a=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
  cfg "$B" --argjson a "$a" '.process.args = ["/probe"] + $a'
  TID=$(rand_token)$(rand_token)
  OUT=$(TRACEPARENT=00-$TID-00f067aa0ba902b7-01 runc run --bundle "$B" "cutaway-sc$n" </dev/null 2>&1)
}
# span NAME FIELD: FIELD of NAME's end event in trace $TID (one per line).
span() { jq -r --arg t "$TID" --arg n "$1" "select(.trace == \$t and .name == \$n and .ev == \"end\") | $2" "$CUTAWAY_TRACE"; }
files() { find "$CACHE" -maxdepth 1 -type f -not -name '.*' 2>/dev/null | sort; }

profile 42
probe syscall 110
is "$OUT" "ret=-1 errno=42" "first container: the profile holds (errno 42)"
is "$(span seccomp.cache .attrs.result)" "miss" "... the cache misses"
is "$(span seccomp.cache .attrs.reason)" "absent" "... because it has nothing yet"
insns=$(span seccomp.compile .attrs.instructions)
like "$insns" '^[1-9][0-9]*$' "... the init compiles the program ($insns instructions)"
is "$(span seccomp.cache.store .attrs.stored)" "true" "... and the runtime stores it"
f42=$(files)
like "$(basename "$f42")" '^[0-9a-f]{16}$' "one file, named by the 64-bit hash of the profile"
is "$(stat -c %a "$CACHE") $(stat -c %a "$f42")" "700 600" "the directory is 0700, the file 0600"
is "$(runc list -q | grep -c seccomp)" "0" "list does not take the cache for a container"

probe syscall 110
is "$OUT" "ret=-1 errno=42" "second container: the profile still holds"
is "$(span seccomp.cache .attrs.result)" "hit" "... the cache hits"
is "$(span seccomp.compile .name)" "" "... and nothing is compiled"
is "$(jq -r --arg t "$TID" 'select(.trace == $t and .name == "seccomp.load" and .ev == "begin") | .attrs.instructions' "$CUTAWAY_TRACE")" \
  "$insns" "... seccomp.load loads the same $insns instructions"
probe fds
is "$(tr '\n' ' ' <<<"$OUT")" "0 1 2 3 " "no cache fd reaches the container (hit)"
profile 7
probe fds
is "$(tr '\n' ' ' <<<"$OUT")" "0 1 2 3 " "nor the init's hand-back memfd (miss)"

profile 43
before=$(files)
probe syscall 110
is "$OUT" "ret=-1 errno=43" "another profile gets its own program (errno 43)"
is "$(span seccomp.cache .attrs.result)" "miss" "... a miss, not profile 42's program"
is "$(files | wc -l)" "3" "three profiles, three files"
f43=$(comm -13 <(echo "$before") <(files))

# Attacks on the cache: each is refused, the container gets its own
# profile, and the file is replaced by a good one.
profile 42
cp "$f43" "$f42"
probe syscall 110
is "$OUT" "ret=-1 errno=42" "profile 43's program planted under 42's name: still errno 42"
like "$(span seccomp.cache .attrs.reason)" 'for another profile' "... refused: the identity inside differs"
probe syscall 110
is "$(span seccomp.cache .attrs.result)" "hit" "... and replaced by a good file"

chmod 0620 "$f42"
probe syscall 110
is "$OUT" "ret=-1 errno=42" "a group-writable file: still errno 42"
like "$(span seccomp.cache .attrs.reason)" 'not owned by us alone' "... refused"
is "$(stat -c %a "$f42")" "600" "... and replaced"

chown 65534 "$f42"
probe syscall 110
like "$(span seccomp.cache .attrs.reason)" 'not owned by us alone' "a file owned by another user is refused"

head -c 100 "$f42" >"$T/short" && cat "$T/short" >"$f42"
probe syscall 110
is "$OUT" "ret=-1 errno=42" "a truncated file: still errno 42"
like "$(span seccomp.cache .attrs.reason)" 'shorter than a header|do not match' "... refused"

size=$(stat -c %s "$f42")
printf '\xff' | dd of="$f42" bs=1 seek=$((size - 3)) conv=notrunc status=none
probe syscall 110
is "$OUT" "ret=-1 errno=42" "a damaged program byte: still errno 42"
like "$(span seccomp.cache .attrs.reason)" 'checksum mismatch' "... refused by the checksum"
rm -f "$f42" && ln -s "$f43" "$f42"
probe syscall 110
is "$OUT" "ret=-1 errno=42" "a symlink in the cache: still errno 42"
like "$(span seccomp.cache .attrs.reason)" 'Too many levels of symbolic links' "... refused, not followed"
is "$(stat -c %F "$f42")" "regular file" "... and replaced by a file"

chmod 0777 "$CACHE"
probe syscall 110
like "$(span seccomp.cache .attrs.reason)" 'not owned by us alone' "a world-writable cache directory is refused"
chmod 0700 "$CACHE"

# exec: the runtime compiles for exec itself, through the same cache.
cfg "$B" '.process.args = ["/probe", "sleep", "100"]'
quiet runc run -d --bundle "$B" cutaway-sc-exec
TID=$(rand_token)$(rand_token)
out=$(TRACEPARENT=00-$TID-00f067aa0ba902b7-01 runc exec cutaway-sc-exec /probe syscall 110 2>&1)
is "$out" "ret=-1 errno=42" "exec gets the container's profile"
is "$(span seccomp.cache .attrs.result)" "hit" "... from the cache"
runc delete --force cutaway-sc-exec >/dev/null 2>&1

# A bad profile fails create and stores nothing.
before=$(files | wc -l)
cfg "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_BOGUS"}'
probe pid
like "$OUT" 'unknown action' "an unknown action still fails create"
is "$(files | wc -l)" "$before" "... and nothing is stored for it"

done_testing
