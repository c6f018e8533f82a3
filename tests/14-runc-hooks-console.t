#!/bin/bash
# OCI hooks at the points the runtime spec names, with the state on stdin
# and the spec's failure rules; and the terminal: --console-socket hands
# the pty master over SCM_RIGHTS (what containerd's shim expects), the
# pty comes from the container's own devpts and is bound on /dev/console,
# and `run` of a terminal container relays the pty to our own terminal.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/runc-peers.sh"
need_root
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
peers_busybox >/dev/null || skip_all "busybox-static not installed"
tap_tmproot

R="cutaway-runc --root $T/state"
# The container inherits create's stdio: keep it off the pipes of $(...).
create() { $R create "$@" >>"$T/container.out" 2>&1 </dev/null; }
B=$T/bundle
tok=$(rand_token)
peers_bundle "$B" sh -c 'cat /tmp/startContainer >/dev/null 2>&1; sleep 1000'
cp "$B/config.json" "$T/config.base.json"

# Each hook appends its name to a log; prestart and poststart keep stdin.
log=$T/hooks.log
hook() { # kind [extra shell]
  jq -n -c --arg k "$1" --arg log "$log" --arg x "${2:-}" \
    '{path: "/bin/sh", args: ["sh", "-c", "echo \($k) >> \($log); \($x)"]}'
}
jq --argjson pre "$(hook prestart "cat > $T/prestart.state")" \
  --argjson cr "$(hook createRuntime)" --argjson cc "$(hook createContainer)" \
  --argjson post "$(hook poststart "cat > $T/poststart.state")" \
  --argjson stop "$(hook poststop "cat > $T/poststop.state")" \
  '.hooks = {prestart: [$pre], createRuntime: [$cr], createContainer: [$cc],
     startContainer: [{path: "/bin/sh", args: ["sh", "-c", "echo startContainer > /tmp/startContainer"]}],
     poststart: [$post], poststop: [$stop]}
   | .annotations = {"org.cutaway.test": "'"$tok"'"}' \
  "$T/config.base.json" >"$B/config.json"

id=hooks-$tok
on_exit "$R delete --force $id"
ok "create with every kind of hook" create --bundle "$B" "$id"
is "$(tr '\n' ' ' <"$log")" "prestart createRuntime createContainer " \
  "create runs prestart, createRuntime, createContainer in that order"
pid=$($R state "$id" | jq -r .pid)
is "$(jq -r .pid "$T/prestart.state")" "$pid" "prestart gets the init's pid on stdin"
is "$(jq -r .status "$T/prestart.state")" "created" "prestart sees status created"
is "$(jq -r '.annotations["org.cutaway.test"]' "$T/prestart.state")" "$tok" \
  "prestart sees the annotations"
is "$(jq -r .id "$T/prestart.state")" "$id" "prestart sees the id"

ok "start" $R start "$id"
is "$(tr '\n' ' ' <"$log")" "prestart createRuntime createContainer poststart " \
  "start runs poststart before it returns"
is "$(cat "$B/rootfs/tmp/startContainer" 2>/dev/null)" "startContainer" \
  "startContainer ran inside the container (its /tmp)"
is "$(jq -r .status "$T/poststart.state")" "running" "poststart sees status running"

ok "kill" $R kill "$id" KILL
for _ in $(seq 100); do [[ $($R state "$id" | jq -r .status) == stopped ]] && break; sleep 0.05; done
ok "delete" $R delete "$id"
is "$(tail -1 "$log")" "poststop" "delete runs poststop"
is "$(jq -r .id "$T/poststop.state")" "$id" "poststop gets the state on stdin"

grep '"name":"hook.prestart"' "$CUTAWAY_TRACE" | grep -q '"path":"/bin/sh"'
is "$?" "0" "each hook is a traced span with its path"

# --- failure rules ----------------------------------------------------------
jq '.hooks = {prestart: [{path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 3"]}]}' \
  "$T/config.base.json" >"$B/config.json"
err=$($R create --bundle "$B" "fail-$tok" 2>&1)
is "$?" "1" "a failing prestart hook fails create"
like "$err" 'prestart.*exit status 3' "with an error naming the hook: $err"
nok "and leaves no container behind" $R state "fail-$tok"
is "$(find /sys/fs/cgroup -maxdepth 3 -name "fail-$tok" 2>/dev/null)" "" "nor a cgroup"

jq '.hooks = {prestart: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]}' \
  "$T/config.base.json" >"$B/config.json"
nok "a prestart hook past its timeout fails create" create --bundle "$B" "slow-$tok"
nok "and leaves no container behind" $R state "slow-$tok"

jq '.hooks = {poststart: [{path: "/bin/false"}], poststop: [{path: "/bin/false"}]}' \
  "$T/config.base.json" >"$B/config.json"
id=warn-$tok
on_exit "$R delete --force $id"
ok "create" create --bundle "$B" "$id"
err=$($R start "$id" 2>&1)
is "$?" "0" "a failing poststart hook does not fail start"
like "$err" 'warning.*poststart' "it warns: $err"
is "$($R state "$id" | jq -r .status)" "running" "the container runs"
err=$($R delete --force "$id" 2>&1)
is "$?" "0" "a failing poststop hook does not fail delete"
nok "the container is gone" $R state "$id"

# --- console socket -------------------------------------------------------------
# recvtty: accept one connection, receive the master, print what the
# container writes on its terminal.  Built here: a few lines of C.
cat >"$T/recvtty.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 1)) return 1;
  printf("listening\n"); fflush(stdout);
  int c = accept(l, 0, 0);
  char name[256] = "", ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof name - 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  if (recvmsg(c, &m, 0) < 0 || !CMSG_FIRSTHDR(&m)) return 2;
  int fd; memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
  printf("name=%s\n", name); fflush(stdout);
  char buf[4096]; ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
EOF
if gcc -o "$T/recvtty" "$T/recvtty.c" 2>/dev/null; then
  jq '.process.terminal = true
    | .process.args = ["sh", "-c", "tty; stat -c %t:%T /dev/console; ls /dev/pts | tr \"\\n\" \" \"; echo"]' \
    "$T/config.base.json" >"$B/config.json"
  sock=$T/console.sock
  "$T/recvtty" "$sock" >"$T/tty.out" 2>&1 &
  rpid=$!
  on_exit "kill $rpid"
  for _ in $(seq 500); do [[ -S $sock ]] && break; sleep 0.02; done
  id=tty-$tok
  on_exit "$R delete --force $id"
  ok "create --console-socket" create --bundle "$B" --console-socket "$sock" "$id"
  ok "start" $R start "$id"
  # recvtty ends when the container's side of the pty closes; should create
  # have failed, it would wait in accept(2) for ever: stop it then.
  for _ in $(seq 500); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.02; done
  kill "$rpid" 2>/dev/null
  wait "$rpid" 2>/dev/null
  out=$(tr -d '\r' <"$T/tty.out")
  like "$out" 'name=/dev/ptmx' "the master arrives over SCM_RIGHTS with its name"
  like "$out" $'\n/dev/pts/0\n' "the container's stdio is pty 0 of its own devpts"
  like "$out" $'\n88:0\n' "/dev/console is that pty (136:0) bound in place"
  like "$out" '0 ptmx' "the container's devpts holds only its own pty"
  $R delete --force "$id"
else
  skip "gcc not available to build the console receiver"
fi

if command -v script >/dev/null; then
  jq '.process.terminal = true | .process.args = ["sh", "-c", "tty; exit 5"]' \
    "$T/config.base.json" >"$B/config.json"
  out=$(script -qec "$R run --bundle $B run-tty-$tok" /dev/null </dev/null | tr -d '\r')
  like "$out" '/dev/pts/0' "run of a terminal container relays its pty to ours"
  script -qec "$R run --bundle $B run-tty2-$tok" /dev/null </dev/null >/dev/null
  is "$?" "5" "and returns the container's exit status"
else
  skip "script (bsdutils) not installed"
  skip "script (bsdutils) not installed"
fi

done_testing
