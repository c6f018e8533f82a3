/* cgwarm.c: see cgwarm.h. */
#include "cgwarm.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

int
cut_cgroup_own_procs(char *out, size_t len)
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

void
cut_cgroup_warm_write(const char *traceparent)
{
  char path[1024], pid[16];
  if (cut_cgroup_own_procs(path, sizeof path) < 0)
    return;
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  trace_span sp;
  trace_begin_remote(&sp, TRACE_SYSCALL, "cgroup.write", traceparent, TA_STR("path", path),
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
