/* log.c: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
  int fd;
  enum rc_log_format format;
  bool debug;
} L = {.fd = -1};

void
rc_log_init(const char *path, enum rc_log_format format, bool debug)
{
  L.format = format;
  L.debug = debug;
  if (path == NULL || path[0] == '\0')
    return;
  L.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (L.fd < 0)
    fprintf(stderr, "cutaway-runc: warning: open log %s: %s\n", path, strerror(errno));
}

int
rc_log_fd(void)
{
  return L.fd;
}

/* JSON string body (no quotes) of msg, escaped. */
static size_t
escape_json(char *out, size_t cap, const char *msg)
{
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)msg; *p && n + 8 < cap; p++) {
    if (*p == '"' || *p == '\\') {
      out[n++] = '\\';
      out[n++] = (char)*p;
    } else if (*p < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
    } else {
      out[n++] = (char)*p;
    }
  }
  out[n] = '\0';
  return n;
}

static void
write_record(const char *level, const char *msg)
{
  char ts[64];
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  size_t tl = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + tl, sizeof ts - tl, ".%09ldZ", now.tv_nsec);
  char esc[2400], line[2600];
  escape_json(esc, sizeof esc, msg);
  int n;
  if (L.format == RC_LOG_JSON)
    n = snprintf(line, sizeof line, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level,
                 esc, ts);
  else
    n = snprintf(line, sizeof line, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, esc);
  if (n > (int)sizeof line - 1)
    n = (int)sizeof line - 1;
  if (L.fd >= 0) {
    ssize_t w = write(L.fd, line, (size_t)n);
    (void)w;
  }
}

static void
vlog(const char *level, bool to_stderr, const char *fmt, va_list ap)
{
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt, ap);
  write_record(level, msg);
  if (to_stderr) {
    char line[2100];
    int n = snprintf(line, sizeof line, "cutaway-runc: %s: %s\n", level, msg);
    ssize_t w = write(STDERR_FILENO, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
    (void)w;
  }
}

void
rc_log_debug(const char *fmt, ...)
{
  if (!L.debug)
    return;
  va_list ap;
  va_start(ap, fmt);
  vlog("debug", L.fd < 0, fmt, ap);
  va_end(ap);
}

void
rc_log_warn(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog("warning", true, fmt, ap);
  va_end(ap);
}

void
rc_log_error(const cut_err *err)
{
  cut_err_print("cutaway-runc", err);
  write_record("error", err && err->msg[0] ? err->msg : "unknown error");
}
