/* trace.c: the JSON Lines producer (see trace.h and docs/tracing.md).
 *
 * Each event is rendered into one stack buffer of at most TRACE_LINE_MAX
 * bytes and written with a single write(2) on an O_APPEND fd.  For regular
 * files the kernel serialises O_APPEND writes under the inode lock, so lines
 * from many processes never interleave: that is what lets runc's parent, its
 * child, containerd and the shim all share one file without any locking of
 * our own.  Attributes that would overflow the line are shortened (strings
 * cut, then dropped with "truncated":true), never split across lines. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRACE_LINE_MAX 4096

static struct {
  int fd; /* -1: disabled */
  bool initialised;
  char component[64];
  char role[64];
  /* Context inherited through TRACEPARENT: the parent of root spans. */
  bool have_inherited;
  char inherited_trace[TRACE_ID_HEX];
  char inherited_span[SPAN_ID_HEX];
} T = {.fd = -1};

static __thread trace_span *current;

static const char *const kind_names[] = {"internal", "server", "client", "syscall"};

const char *
trace_kind_name(enum trace_kind kind)
{
  return (unsigned)kind < 4 ? kind_names[kind] : "internal";
}

int
trace_kind_parse(const char *name)
{
  for (int i = 0; i < 4; i++)
    if (strcmp(name, kind_names[i]) == 0)
      return i;
  return -1;
}

/* The default file is kept to a size: once it passes the limit
 * ($CUTAWAY_TRACE_MAX_MB, default 256), the process that opens it next moves
 * it to <file>.1 (the previous .1 goes) and starts a new one, as logrotate
 * would.  Processes that still hold the old file keep writing to it (now
 * .1) until they restart; `cutaway-trace --file <file>.1` reads it.  An
 * explicit CUTAWAY_TRACE file is the user's: it rotates only when
 * CUTAWAY_TRACE_MAX_MB is set too. */
static int
rotate_if_large(const char *path, int fd)
{
  const char *m = getenv("CUTAWAY_TRACE_MAX_MB");
  long long max = (m && atoll(m) > 0 ? atoll(m) : 256) << 20;
  struct stat open_st, path_st;
  if (fstat(fd, &open_st) < 0 || open_st.st_size < max)
    return fd;
  char old[PATH_MAX];
  snprintf(old, sizeof old, "%s.1", path);
  /* Another process may have rotated it already: move only the file we
   * opened, never a fresh one that took its place. */
  if (stat(path, &path_st) == 0 && path_st.st_ino == open_st.st_ino &&
      path_st.st_dev == open_st.st_dev)
    rename(path, old);
  int nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (nfd < 0)
    return fd;
  close(fd);
  return nfd;
}

static void
open_sink(void)
{
  const char *path = getenv("CUTAWAY_TRACE");
  if (path && strcmp(path, "off") == 0)
    return;
  bool rotate = getenv("CUTAWAY_TRACE_MAX_MB") != NULL;
  if (path == NULL || path[0] == '\0') {
    path = CUTAWAY_TRACE_DEFAULT;
    rotate = true;
    /* Only the default location is created on demand; an explicit path in a
     * directory that does not exist is a user error we silently ignore. */
    mkdir("/var/log/cutaway", 0755);
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  if (rotate)
    fd = rotate_if_large(path, fd);
  /* Keep the sink off fds 0-2 so a process that closes or redirects stdio
   * never writes a trace line into a container's output. */
  if (fd <= 2) {
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    fd = moved;
  }
  T.fd = fd;
}

void
trace_init(const char *component, const char *role)
{
  snprintf(T.component, sizeof T.component, "%s", component);
  snprintf(T.role, sizeof T.role, "%s", role ? role : component);
  if (!T.initialised)
    open_sink();
  T.initialised = true;
  uint8_t flags;
  const char *tp = getenv("TRACEPARENT");
  T.have_inherited = tp && trace_parse_traceparent(tp, T.inherited_trace, T.inherited_span, &flags);
}

void
trace_set_role(const char *role)
{
  snprintf(T.role, sizeof T.role, "%s", role);
  /* The kernel keeps 15 characters of a task's comm. */
  prctl(PR_SET_NAME, (unsigned long)role, 0, 0, 0);
}

bool
trace_enabled(void)
{
  return T.fd >= 0;
}

int
trace_fd(void)
{
  return T.fd;
}

trace_span *
trace_current(void)
{
  return current;
}

/* ---- ids ------------------------------------------------------------- */

static void
random_hex(char *out, size_t nbytes)
{
  static const char hex[] = "0123456789abcdef";
  uint8_t buf[16];
  for (;;) {
    ssize_t r = getrandom(buf, nbytes, GRND_NONBLOCK);
    if (r != (ssize_t)nbytes) {
      /* No entropy yet (early boot): fall back to time and pid, which is
       * unique enough for ids that only have to differ within a trace. */
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 48);
      for (size_t i = 0; i < nbytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
      }
    }
    bool zero = true;
    for (size_t i = 0; i < nbytes; i++)
      zero = zero && buf[i] == 0;
    if (!zero)
      break;
  }
  for (size_t i = 0; i < nbytes; i++) {
    out[2 * i] = hex[buf[i] >> 4];
    out[2 * i + 1] = hex[buf[i] & 15];
  }
  out[2 * nbytes] = '\0';
}

void
trace_new_trace_id(char out[TRACE_ID_HEX])
{
  random_hex(out, 16);
}

void
trace_new_span_id(char out[SPAN_ID_HEX])
{
  random_hex(out, 8);
}

static bool
is_lower_hex(const char *s, size_t n)
{
  bool nonzero = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

bool
trace_parse_traceparent(const char *s, char trace_id[TRACE_ID_HEX], char span_id[SPAN_ID_HEX],
                        uint8_t *flags)
{
  /* version "00": exactly 55 characters, dashes at 2, 35 and 52. */
  if (s == NULL || strlen(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
    return false;
  if (s[0] != '0' || s[1] != '0')
    return false;
  if (!is_lower_hex(s + 3, 32) || !is_lower_hex(s + 36, 16))
    return false;
  char fl[3] = {s[53], s[54], 0};
  if (!((fl[0] >= '0' && fl[0] <= '9') || (fl[0] >= 'a' && fl[0] <= 'f')) ||
      !((fl[1] >= '0' && fl[1] <= '9') || (fl[1] >= 'a' && fl[1] <= 'f')))
    return false;
  memcpy(trace_id, s + 3, 32);
  trace_id[32] = '\0';
  memcpy(span_id, s + 36, 16);
  span_id[16] = '\0';
  if (flags)
    *flags = (uint8_t)strtoul(fl, NULL, 16);
  return true;
}

bool
trace_traceparent(const trace_span *sp, char out[TRACEPARENT_LEN])
{
  if (sp == NULL)
    sp = current;
  if (sp != NULL && sp->trace_id[0] && sp->span_id[0]) {
    snprintf(out, TRACEPARENT_LEN, "00-%s-%s-01", sp->trace_id, sp->span_id);
    return true;
  }
  if (T.have_inherited) {
    snprintf(out, TRACEPARENT_LEN, "00-%s-%s-01", T.inherited_trace, T.inherited_span);
    return true;
  }
  return false;
}

bool
trace_env_entry(char out[TRACEPARENT_LEN + 16])
{
  char tp[TRACEPARENT_LEN];
  if (!trace_traceparent(NULL, tp))
    return false;
  snprintf(out, TRACEPARENT_LEN + 16, "TRACEPARENT=%s", tp);
  return true;
}

void
trace_export_env(void)
{
  char tp[TRACEPARENT_LEN];
  if (trace_traceparent(NULL, tp))
    setenv("TRACEPARENT", tp, 1);
}

/* ---- rendering -------------------------------------------------------- */

struct line {
  char buf[TRACE_LINE_MAX];
  size_t len;
  bool overflow;
};

static void
put_raw(struct line *l, const char *s, size_t n)
{
  if (l->overflow || l->len + n >= sizeof l->buf) {
    l->overflow = true;
    return;
  }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void
put_str(struct line *l, const char *s)
{
  put_raw(l, s, strlen(s));
}

/* Length of a valid UTF-8 sequence starting at p, or 0 when invalid. */
static size_t
utf8_len(const unsigned char *p)
{
  if (p[0] < 0x80)
    return 1;
  size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

/* A JSON string, escaped, at most max_bytes of source text (then "...").
 * Invalid UTF-8 becomes U+FFFD so every line stays valid JSON. */
static void
put_json_string(struct line *l, const char *s, size_t max_bytes)
{
  static const char hex[] = "0123456789abcdef";
  put_raw(l, "\"", 1);
  size_t used = 0;
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    if (used >= max_bytes) {
      put_str(l, "...");
      break;
    }
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      put_raw(l, esc, 2);
      p++;
    } else if (*p < 0x20) {
      const char *named = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" : NULL;
      if (named) {
        put_str(l, named);
      } else {
        char uesc[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], '\0'};
        put_raw(l, uesc, 6);
      }
      p++;
    } else {
      size_t n = utf8_len(p);
      if (n == 0) {
        put_str(l, "\\ufffd");
        p++;
      } else {
        put_raw(l, (const char *)p, n);
        p += n;
      }
    }
    used++;
  }
  put_raw(l, "\"", 1);
}

static void
put_int(struct line *l, long long v)
{
  char num[32];
  int n = snprintf(num, sizeof num, "%lld", v);
  put_raw(l, num, (size_t)n);
}

static void
put_attr_value(struct line *l, const trace_attr *a, size_t max_str)
{
  switch (a->type) {
  case TA_T_STR: put_json_string(l, a->s, max_str); break;
  case TA_T_INT: put_int(l, a->i); break;
  case TA_T_BOOL: put_str(l, a->i ? "true" : "false"); break;
  case TA_T_JSON:
    /* Raw JSON from the caller; too long a value is replaced by a string
     * rather than cut, which would break the document. */
    if (a->s && strlen(a->s) <= max_str)
      put_str(l, a->s);
    else
      put_json_string(l, a->s, max_str);
    break;
  }
}

/* Render attrs so the finished line stays under TRACE_LINE_MAX: each value
 * gets a share of what is left, and anything that still does not fit is
 * dropped and flagged. */
static void
put_attrs(struct line *l, const trace_attr *attrs, size_t n)
{
  if (n == 0)
    return;
  put_str(l, ",\"attrs\":{");
  const size_t reserve = 160; /* closing fields, the truncated flag, "}\n" */
  bool truncated = false;
  size_t written = 0;
  for (size_t i = 0; i < n; i++) {
    size_t room = sizeof l->buf - reserve > l->len ? sizeof l->buf - reserve - l->len : 0;
    size_t max_str = room / (n - i + 1);
    if (room < 32 || attrs[i].key == NULL) {
      truncated = truncated || attrs[i].key != NULL;
      continue;
    }
    size_t mark = l->len;
    if (written > 0)
      put_raw(l, ",", 1);
    put_json_string(l, attrs[i].key, 64);
    put_raw(l, ":", 1);
    put_attr_value(l, &attrs[i], max_str > 8 ? max_str - 8 : 1);
    if (l->overflow || l->len > sizeof l->buf - reserve) {
      l->len = mark;
      l->overflow = false;
      truncated = true;
      continue;
    }
    written++;
  }
  put_str(l, "}");
  if (truncated)
    put_str(l, ",\"truncated\":true");
}

void
trace_write_event(const char *ev, enum trace_kind kind, const char *name, const char *trace_id,
                  const char *span_id, const char *parent_id, const char *status,
                  const char *errmsg, int errnum, const trace_attr *attrs, size_t n)
{
  if (T.fd < 0)
    return;
  int saved_errno = errno;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct line l = {.len = 0};
  put_str(&l, "{\"ts\":");
  put_int(&l, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  put_str(&l, ",\"trace\":\"");
  put_str(&l, trace_id);
  put_str(&l, "\",\"span\":\"");
  put_str(&l, span_id ? span_id : "");
  put_str(&l, "\"");
  if (parent_id && parent_id[0]) {
    put_str(&l, ",\"parent\":\"");
    put_str(&l, parent_id);
    put_str(&l, "\"");
  }
  put_str(&l, ",\"ev\":\"");
  put_str(&l, ev);
  put_str(&l, "\",\"comp\":");
  put_json_string(&l, T.component, 64);
  put_str(&l, ",\"role\":");
  put_json_string(&l, T.role, 64);
  put_str(&l, ",\"pid\":");
  put_int(&l, getpid());
  put_str(&l, ",\"kind\":\"");
  put_str(&l, trace_kind_name(kind));
  put_str(&l, "\",\"name\":");
  put_json_string(&l, name, 120);
  if (status) {
    put_str(&l, ",\"status\":\"");
    put_str(&l, status);
    put_str(&l, "\"");
  }
  if (errmsg) {
    put_str(&l, ",\"err\":");
    put_json_string(&l, errmsg, 1024);
    put_str(&l, ",\"errno\":");
    put_int(&l, errnum);
  }
  put_attrs(&l, attrs, n);
  put_str(&l, "}\n");
  if (!l.overflow) {
    ssize_t w = write(T.fd, l.buf, l.len);
    (void)w; /* a failing trace write never fails the operation */
  }
  errno = saved_errno;
}

/* ---- spans ------------------------------------------------------------ */

static void
begin_with_parent(trace_span *sp, enum trace_kind kind, const char *name, const char *trace_id,
                  const char *parent_id, const trace_attr *attrs, size_t n)
{
  snprintf(sp->name, sizeof sp->name, "%s", name);
  sp->kind = kind;
  sp->outer = current;
  sp->active = true;
  current = sp;
  if (T.fd < 0) {
    /* Disabled: no ids to invent, but the parent's context still passes
     * through to children (an empty trace id means there is none). */
    snprintf(sp->trace_id, sizeof sp->trace_id, "%s", trace_id ? trace_id : "");
    snprintf(sp->span_id, sizeof sp->span_id, "%s", parent_id ? parent_id : "");
    sp->parent_id[0] = '\0';
    return;
  }
  if (trace_id) {
    memcpy(sp->trace_id, trace_id, TRACE_ID_HEX);
    snprintf(sp->parent_id, sizeof sp->parent_id, "%s", parent_id ? parent_id : "");
  } else {
    trace_new_trace_id(sp->trace_id);
    sp->parent_id[0] = '\0';
  }
  trace_new_span_id(sp->span_id);
  trace_write_event("begin", kind, sp->name, sp->trace_id, sp->span_id, sp->parent_id, NULL, NULL,
                    0, attrs, n);
}

void
trace_begin_a(trace_span *sp, enum trace_kind kind, const char *name, const trace_attr *attrs,
              size_t n)
{
  if (current)
    begin_with_parent(sp, kind, name, current->trace_id, current->span_id, attrs, n);
  else if (T.have_inherited)
    begin_with_parent(sp, kind, name, T.inherited_trace, T.inherited_span, attrs, n);
  else
    begin_with_parent(sp, kind, name, NULL, NULL, attrs, n);
}

void
trace_begin_remote_a(trace_span *sp, enum trace_kind kind, const char *name,
                     const char *traceparent, const trace_attr *attrs, size_t n)
{
  char tid[TRACE_ID_HEX], pid[SPAN_ID_HEX];
  uint8_t flags;
  if (traceparent && trace_parse_traceparent(traceparent, tid, pid, &flags))
    begin_with_parent(sp, kind, name, tid, pid, attrs, n);
  else
    begin_with_parent(sp, kind, name, NULL, NULL, attrs, n);
}

static void
pop(trace_span *sp)
{
  sp->active = false;
  /* Spans normally end in LIFO order; if one ends out of order, unwind to
   * its outer span so the stack never points at a finished span. */
  if (current == sp)
    current = sp->outer;
  else
    for (trace_span *s = current; s; s = s->outer)
      if (s->outer == sp) {
        s->outer = sp->outer;
        break;
      }
}

void
trace_end_a(trace_span *sp, const cut_err *err, const trace_attr *attrs, size_t n)
{
  if (!sp->active)
    return;
  if (err)
    trace_write_event("end", sp->kind, sp->name, sp->trace_id, sp->span_id, sp->parent_id, "error",
                      err->msg, err->errnum, attrs, n);
  else
    trace_write_event("end", sp->kind, sp->name, sp->trace_id, sp->span_id, sp->parent_id, "ok",
                      NULL, 0, attrs, n);
  pop(sp);
}

long
trace_end_sys(trace_span *sp, long ret)
{
  int saved = errno;
  if (ret < 0) {
    cut_err e;
    cut_error(&e, saved, "%s", sp->name);
    trace_end_a(sp, &e, NULL, 0);
  } else {
    trace_end_a(sp, NULL, NULL, 0);
  }
  errno = saved;
  return ret;
}

int
trace_end_rc(trace_span *sp, int r, const cut_err *err)
{
  trace_end_a(sp, r < 0 ? err : NULL, NULL, 0);
  return r;
}

void
trace_event_a(const char *name, const trace_attr *attrs, size_t n)
{
  if (T.fd < 0)
    return;
  char span_id[SPAN_ID_HEX];
  trace_new_span_id(span_id);
  if (current)
    trace_write_event("event", TRACE_INTERNAL, name, current->trace_id, span_id, current->span_id,
                      NULL, NULL, 0, attrs, n);
  else if (T.have_inherited)
    trace_write_event("event", TRACE_INTERNAL, name, T.inherited_trace, span_id, T.inherited_span,
                      NULL, NULL, 0, attrs, n);
  else {
    char tid[TRACE_ID_HEX];
    trace_new_trace_id(tid);
    trace_write_event("event", TRACE_INTERNAL, name, tid, span_id, NULL, NULL, NULL, 0, attrs, n);
  }
}
