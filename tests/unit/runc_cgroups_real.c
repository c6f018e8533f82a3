/* runc_cgroups_real.c: the cgroup manager on this host's real cgroupfs
 * (root only; tests/12-runc-cgroups.t runs it too and checks its trace).
 *
 * Limits are checked by their effect, not by reading files back only:
 *   - pids.max 8: a process in the cgroup forks until fork(2) fails; it must
 *     get exactly 7 children (itself + 7 = 8) and then EAGAIN;
 *   - freeze: a spinner's counter does not move while frozen, moves again
 *     after thaw;
 *   - devices: in a cgroup allowing only /dev/null, opening /dev/zero
 *     fails with EPERM (v1 devices.deny, or the v2 eBPF program, which
 *     this hybrid host can run on its cgroup2 tree at unified/);
 *   - destroy kills what is left and removes every directory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/tap.h"
#include "stages/1-runc/cgroups.h"
#include "trace.h"

static char name[64];

/* A child in the test's hands: it waits for one byte, then does `job`. */
typedef struct child {
  pid_t pid;
  int go, result; /* write end of its "go" pipe, read end of its result pipe */
} child;

static child
spawn(void (*job)(int result_fd))
{
  int go[2], res[2];
  child c = {.pid = -1};
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
    return c;
  c.pid = fork();
  if (c.pid == 0) {
    char b;
    close(go[1]);
    close(res[0]);
    if (read(go[0], &b, 1) != 1)
      _exit(1);
    job(res[1]);
    _exit(0);
  }
  close(go[0]);
  close(res[1]);
  c.go = go[1];
  c.result = res[0];
  return c;
}

static void
release(child *c)
{
  if (write(c->go, "g", 1) != 1)
    tap_diag("cannot release child %d", (int)c->pid);
}

static void
result(child *c, char *buf, size_t len)
{
  ssize_t n = read(c->result, buf, len - 1);
  buf[n > 0 ? n : 0] = '\0';
}

static volatile unsigned long *counter; /* shared with the spinner */

/* Fork until the kernel refuses, report, then spin (for the freeze test). */
static void
fork_job(int fd)
{
  int made = 0, e = 0;
  for (int i = 0; i < 20; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p < 0) {
      e = errno;
      break;
    }
    made++;
  }
  dprintf(fd, "made=%d errno=%d", made, e);
  for (;;)
    (*counter)++;
}

static void
devices_job(int fd)
{
  int a = open("/dev/null", O_RDWR);
  int ea = a < 0 ? errno : 0;
  int b = open("/dev/zero", O_RDONLY);
  int eb = b < 0 ? errno : 0;
  dprintf(fd, "null=%d zero=%d", ea, eb);
}

static bool
in_cgroup(pid_t pid, const char *path)
{
  char p[64], buf[4096];
  snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, path) != NULL;
}

/* Has any directory named like ours survived anywhere under root? */
static bool
leftover(const char *root)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "find %s -maxdepth 4 -type d -name '%s' 2>/dev/null | grep -q .", root,
           name);
  return system(cmd) == 0;
}

static const char *
knob(const cg_layout *l, const char *v1ctrl, const char *path, const char *v1file,
     const char *v2file)
{
  static char buf[256];
  char p[1024];
  if (l->mode == CG_V2)
    snprintf(p, sizeof p, "%s%s/%s", l->root, path, v2file);
  else
    snprintf(p, sizeof p, "%s/%s%s/%s", l->root, v1ctrl, path, v1file);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return "<missing>";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

static unsigned long
wait_counter_moves(unsigned long from)
{
  for (int i = 0; i < 5000 && *counter == from; i++) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return *counter;
}

static void
test_limits(const cg_layout *l)
{
  char path[128], buf[256];
  cut_err err;
  snprintf(path, sizeof path, "/cutaway/%s", name);
  cJSON *res = cJSON_Parse("{\"pids\":{\"limit\":8},\"memory\":{\"limit\":33554432},"
                           "\"cpu\":{\"shares\":512}}");
  *counter = 0;
  child c = spawn(fork_job);
  cg_handle h;
  int r = cg_create(l, path, res, c.pid, &h, &err);
  cJSON_Delete(res);
  if (!tap_ok(r == 0, "create %s with pids, memory and cpu limits%s%s", path, r ? ": " : "",
              r ? err.msg : "")) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, NULL, 0);
    return;
  }
  tap_ok(in_cgroup(c.pid, path), "the child is in the new cgroup (/proc/pid/cgroup)");
  tap_is_str(knob(l, "memory", path, "memory.limit_in_bytes", "memory.max"), "33554432",
             "memory limit reads back");
  release(&c);
  result(&c, buf, sizeof buf);
  tap_is_str(buf, "made=7 errno=11", "pids.max 8 stops the 8th process: fork gets EAGAIN");

  pid_t *pids;
  size_t n = 0;
  r = cg_pids(&h, &pids, &n, &err);
  tap_ok(r == 0 && n == 8, "cg_pids lists the 8 processes (%zu)", n);
  if (n)
    free(pids);

  cJSON *st = NULL;
  char *txt = NULL;
  if (cg_stats(&h, &st, &err) == 0)
    txt = cJSON_PrintUnformatted(st);
  const char *t = txt ? txt : err.msg;
  tap_ok(strstr(t, "\"pids\":{\"current\":8,\"limit\":8}") != NULL, "stats pids: %.300s", t);
  tap_ok(strstr(t, "\"limit\":33554432") != NULL, "stats memory limit");
  tap_ok(strstr(t, "\"cpu\":{\"usage\":{\"total\":") != NULL, "stats cpu usage");
  free(txt);
  cJSON_Delete(st);

  wait_counter_moves(0);
  tap_ok(cg_freeze(&h, true, &err) == 0, "freeze%s%s", err.msg[0] ? ": " : "", "");
  unsigned long frozen_at = *counter;
  struct timespec ts = {0, 50000000};
  nanosleep(&ts, NULL);
  tap_ok(*counter == frozen_at, "a frozen spinner does not run");
  tap_ok(cg_freeze(&h, false, &err) == 0, "thaw");
  tap_ok(wait_counter_moves(frozen_at) != frozen_at, "after thaw it runs again");

  cg_handle back;
  cJSON *hj = cg_handle_to_json(&h);
  tap_ok(cg_handle_from_json(hj, &back, &err) == 0, "handle from the state JSON");
  cJSON_Delete(hj);
  r = cg_destroy(&back, &err);
  tap_ok(r == 0, "destroy%s%s", r ? ": " : "", r ? err.msg : "");
  int status = 0;
  waitpid(c.pid, &status, 0);
  tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "destroy SIGKILLed the processes");
  tap_ok(!leftover(l->root), "no directory of the cgroup remains");
  close(c.go);
  close(c.result);
}

static void
test_devices(const cg_layout *l, const char *what)
{
  char path[128], buf[128];
  cut_err err;
  snprintf(path, sizeof path, "/cutaway/%s", name);
  cJSON *res = cJSON_Parse("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
                           "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,"
                           "\"access\":\"rwm\"}]}");
  child c = spawn(devices_job);
  cg_handle h;
  int r = cg_create(l, path, res, c.pid, &h, &err);
  cJSON_Delete(res);
  if (tap_ok(r == 0, "%s: create with deny-all + allow c 1:3%s%s", what, r ? ": " : "",
             r ? err.msg : "")) {
    release(&c);
    result(&c, buf, sizeof buf);
    tap_is_str(buf, "null=0 zero=1", "%s: /dev/null opens, /dev/zero gets EPERM", what);
  }
  kill(c.pid, SIGKILL);
  waitpid(c.pid, NULL, 0);
  if (r == 0)
    tap_ok(cg_destroy(&h, &err) == 0 && !leftover(l->root), "%s: destroyed", what);
  close(c.go);
  close(c.result);
}

static void
spin_job(int fd)
{
  (void)fd;
  for (;;)
    (*counter)++;
}

/* Freeze alone, for the hybrid's cgroup2 tree (cgroup.freeze, cgroup.events). */
static void
test_freeze(const cg_layout *l, const char *what)
{
  char path[128];
  cut_err err;
  snprintf(path, sizeof path, "/cutaway/%s", name);
  *counter = 0;
  child c = spawn(spin_job);
  cg_handle h;
  int r = cg_create(l, path, NULL, c.pid, &h, &err);
  if (tap_ok(r == 0, "%s: create%s%s", what, r ? ": " : "", r ? err.msg : "")) {
    release(&c);
    wait_counter_moves(0);
    tap_ok(cg_freeze(&h, true, &err) == 0, "%s: freeze", what);
    unsigned long at = *counter;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    tap_ok(*counter == at, "%s: a frozen spinner does not run", what);
    tap_ok(cg_freeze(&h, false, &err) == 0 && wait_counter_moves(at) != at,
           "%s: thawed, it runs again", what);
    tap_ok(cg_destroy(&h, &err) == 0 && !leftover(l->root), "%s: destroyed", what);
  }
  kill(c.pid, SIGKILL);
  waitpid(c.pid, NULL, 0);
  close(c.go);
  close(c.result);
}

static void
test_bad(const cg_layout *l)
{
  char path[128];
  cut_err err;
  cg_handle h;
  snprintf(path, sizeof path, "/cutaway/%s", name);
  cJSON *res = cJSON_Parse("{\"pids\":{\"limit\":5},\"cpu\":{\"cpus\":\"999\"}}");
  int r = cg_create(l, path, res, 0, &h, &err);
  tap_ok(r < 0 && strstr(err.msg, "write 999 to ") && strstr(err.msg, "cpuset.cpus"),
         "a value the kernel refuses: %s", err.msg);
  tap_ok(!leftover(l->root), "and nothing is left behind");
  cJSON_Delete(res);
}

int
main(void)
{
  if (getuid() != 0) {
    printf("1..0 # SKIP needs root\n");
    return 0;
  }
  cg_layout l;
  cut_err err;
  if (cg_detect(NULL, &l, &err) < 0) {
    printf("1..0 # SKIP no cgroupfs: %s\n", err.msg);
    return 0;
  }
  if (getenv("CUTAWAY_TRACE") == NULL)
    setenv("CUTAWAY_TRACE", "off", 1);
  trace_init("cutaway-runc", "cgroups-test");
  snprintf(name, sizeof name, "cgtest-%d", (int)getpid());
  counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  tap_diag("host layout: %s at %s", l.mode == CG_V2 ? "v2" : "v1", l.root);
  test_limits(&l);
  test_devices(&l, l.mode == CG_V2 ? "v2 eBPF" : "v1 devices");
  test_bad(&l);
  /* A hybrid host also has a cgroup2 tree: drive it as v2 for the eBPF
   * device filter (it needs no controller). */
  cg_layout u;
  cut_err ignored;
  if (l.mode == CG_V1 && cg_detect("/sys/fs/cgroup/unified", &u, &ignored) == 0 &&
      u.mode == CG_V2) {
    test_devices(&u, "v2 eBPF on the hybrid's cgroup2 tree");
    test_freeze(&u, "v2 freeze on the hybrid's cgroup2 tree");
  }
  return tap_done();
}
