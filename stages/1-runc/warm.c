/* warm.c: see warm.h.  The thread uses no malloc and no stdio (only
 * open/read/write/close on stack buffers) and never exits, so a raw
 * clone(2) of the main thread, which copies only the calling thread, never
 * inherits a lock it holds. */
#include "warm.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

/* The cgroup.procs file of this process in the first usable hierarchy
 * listed in /proc/self/cgroup ("N:ctrls:/path"): v1 "pids:/x" ->
 * /sys/fs/cgroup/pids/x, v2 "0::/x" -> /sys/fs/cgroup/x. */
static int
own_procs_file(char *out, size_t len)
{
  char buf[2048];
  int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2) {
      *c2 = '\0';
      const char *ctrls = c1 + 1, *path = c2 + 1;
      /* A named v1 hierarchy ("name=systemd") is mounted under its name. */
      const char *dir = strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
      if (strchr(dir, ',') == NULL) {
        int r = dir[0] ? snprintf(out, len, "/sys/fs/cgroup/%s%s/cgroup.procs", dir, path)
                       : snprintf(out, len, "/sys/fs/cgroup%s/cgroup.procs", path);
        if (r > 0 && (size_t)r < len && access(out, W_OK) == 0)
          return 0;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  return -1;
}

/* The caller's span, so the warm-up write is drawn inside the command that
 * started it rather than as a trace of its own (trace spans are per thread). */
static char warm_parent[TRACEPARENT_LEN];

static __attribute__((noreturn)) void *
warm(void *arg)
{
  const char *parent = arg;
  char path[1024], pid[16];
  if (own_procs_file(path, sizeof path) == 0) {
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    trace_span sp;
    trace_begin_remote(&sp, TRACE_SYSCALL, "cgroup.write", parent, TA_STR("path", path),
                       TA_STR("value", pid),
                       TA_STR("why", "rcu_sync warm-up: the next cgroup move will not wait"));
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t w = -1;
    if (fd >= 0) {
      w = write(fd, pid, strlen(pid));
      close(fd);
    }
    trace_end_sys(&sp, w < 0 ? -1 : 0);
  }
  /* Never return: a thread that exits frees its glibc state under locks
   * (the malloc arena's, the stack cache's), and a clone of the main thread
   * taken at that instant would inherit them held and deadlock.  Parked
   * here, holding nothing, it dies with the process. */
  for (;;)
    pause();
}

void
rc_cgroup_warm_start(void)
{
  static int started;
  if (started++)
    return;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  bool have_parent = trace_traceparent(NULL, warm_parent);
  pthread_create(&t, &attr, warm, have_parent ? warm_parent : NULL);
  pthread_attr_destroy(&attr);
}
