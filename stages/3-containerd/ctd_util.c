/* ctd_util.c: small helpers of cutaway-containerd (ids, timestamps, where
 * our sibling binaries live). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctd.h"

/* Container ids end up in paths, cgroup names and socket names: the same
 * rule as Docker's names, [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 bytes, so
 * "../x", "a/b" or "." can never reach a path (security-catalogue A3). */
bool
ctd_valid_id(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > CTD_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = id[i];
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
      return false;
  }
  return true;
}

/* RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints it
 * (Docker's json-file log and containerd's timestamps). */
void
ctd_now_rfc3339(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 40 - n, ".%09dZ", (int)(ts.tv_nsec % 1000000000));
}

/* The directory of /proc/self/exe: sibling binaries (cutaway-shim,
 * cutaway-runc) are found next to ours, whatever PATH says. */
int
ctd_self_dir(char *out, size_t len)
{
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  snprintf(out, len, "%s", dirname(buf));
  return 0;
}

/* snprintf that reports truncation instead of silently cutting a path. */
int
ctd_fmt(char *out, size_t len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, len, fmt, ap);
  va_end(ap);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Failpoints for the crash tests: CUTAWAY_FAILPOINT=<name> makes the daemon
 * SIGKILL itself when it reaches that point, which is exactly "containerd
 * killed in the middle of a create/pull", but deterministic. */
void
ctd_failpoint(const char *name)
{
  const char *fp = getenv("CUTAWAY_FAILPOINT");
  if (fp && strcmp(fp, name) == 0) {
    fprintf(stderr, "cutaway-containerd: failpoint %s: killing myself\n", name);
    raise(SIGKILL);
  }
}

/* A logical error (not a failed syscall): the message as written, no
 * strerror suffix, and `code` kept in errnum so the API picks its status
 * (ENOENT 404, EEXIST 409, EINVAL 400). */
int
ctd_err(cut_err *err, int code, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  err->errnum = code;
  return -1;
}

/* Atomic but not durable: temp file + rename(2), no fsync.  For EXEC_ROOT
 * state only (task.json, shim.pid, exit.json, the bundle's config.json):
 * it lives on /run, a tmpfs, in production and is meaningless after a
 * reboot, so an fsync would buy nothing and cost a journal commit per
 * file; the rename still guarantees a reader sees the old or the new file,
 * never a torn one.  ROOT state (container records, snapshots, content)
 * keeps cut_write_file_atomic's fsyncs. */
int
ctd_write_volatile(const char *path, const void *data, size_t len, cut_err *err)
{
  char tmp[PATH_MAX];
  if (ctd_fmt(tmp, sizeof tmp, "%s.tmp.%d.%lx", path, (int)getpid(),
              (unsigned long)pthread_self()) < 0)
    return cut_error(err, ENAMETOOLONG, "write %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return cut_error(err, errno, "write %s", tmp);
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      unlink(tmp);
      return cut_error(err, e, "write %s", tmp);
    }
    p += w;
    left -= (size_t)w;
  }
  if (close(fd) < 0 || rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return cut_error(err, e, "write %s", path);
  }
  return 0;
}

int
ctd_json_write_volatile(const char *path, const cJSON *doc, bool pretty, cut_err *err)
{
  char *text = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
  if (text == NULL)
    return cut_error(err, ENOMEM, "write %s", path);
  int r = ctd_write_volatile(path, text, strlen(text), err);
  free(text);
  return r;
}
