/* httpc.c: see httpc.h.  HTTP/1.1 spoken directly on an AF_UNIX socket.
 *
 * What goes over the socket is exactly what curl --unix-socket would send:
 *
 *     POST /v1/containers HTTP/1.1          <- request line
 *     Host: localhost                       <- required by HTTP/1.1
 *     traceparent: 00-<trace>-<span>-01     <- the span context (W3C)
 *     Content-Type: application/json
 *     Content-Length: 42
 *     Connection: close                     <- one request per connection
 *                                           <- blank line, then the body
 *
 * and the reply is a status line, headers, a blank line and a body whose
 * end is given by Content-Length, by chunked transfer coding (streams such
 * as /events, whose length is not known in advance), or by the server
 * closing the connection.
 *
 * Why not libcurl, which the registry client uses: loading libcurl and the
 * ~30 libraries it links (TLS, Kerberos, LDAP, SSH...) costs ~3 ms of
 * dynamic linking in every short-lived client, which cutaway-ctr is; a
 * local socket needs none of them. */
#include "httpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "trace.h"

#define HTTPC_DEFAULT_MAX (64u << 20)
#define HTTPC_HEADER_MAX (64u << 10) /* status line and headers */

/* Where a reply's body goes: collected into resp (up to max), or, for a
 * 2xx reply with on_data set, handed over chunk by chunk. */
struct sink {
  httpc_resp *resp;
  size_t max;
  bool overflow;
  int (*on_data)(const char *, size_t, void *);
  void *ctx;
  bool stopped; /* on_data asked to stop */
};

/* One connection: the socket, a deadline, and a read buffer. */
struct conn {
  int fd;
  long long deadline_ms; /* 0: none */
  char buf[16384];
  size_t start, end; /* unread bytes are buf[start..end) */
  bool eof;
};

static long long
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int
wait_fd(int fd, short events, long long deadline_ms, cut_err *err)
{
  for (;;) {
    int timeout = -1;
    if (deadline_ms) {
      long long left = deadline_ms - now_ms();
      if (left <= 0)
        return cut_error(err, ETIMEDOUT, "waiting on the socket");
      timeout = (int)left;
    }
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, timeout);
    if (r > 0)
      return 0;
    if (r < 0 && errno != EINTR)
      return cut_error(err, errno, "poll");
  }
}

/* A non-blocking connect, so that a listener whose backlog is full cannot
 * hang us past the connect timeout. */
static int
connect_unix(const char *path, long timeout_ms, cut_err *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return cut_error(err, ENAMETOOLONG, "socket path longer than %zu bytes",
                     sizeof sa.sun_path - 1);
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return cut_error(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return fd;
  if (errno != EAGAIN && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return cut_error(err, e, "connect");
  }
  /* AF_UNIX: EAGAIN means the backlog is full; retry until the deadline. */
  long long deadline = now_ms() + timeout_ms;
  while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    if (e == EISCONN)
      break;
    if ((e != EAGAIN && e != EINPROGRESS && e != EALREADY) || now_ms() >= deadline) {
      close(fd);
      return cut_error(err, e == EAGAIN ? ETIMEDOUT : e, "connect");
    }
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  return fd;
}

static int
send_all(struct conn *c, const char *data, size_t len, cut_err *err)
{
  while (len > 0) {
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n < 0 && errno == EAGAIN) {
      if (wait_fd(c->fd, POLLOUT, c->deadline_ms, err) < 0)
        return -1;
    } else if (n < 0 && errno != EINTR) {
      return cut_error(err, errno, "send");
    }
  }
  return 0;
}

/* Refill the buffer (moving what is unread to its start). 0 at EOF. */
static int
fill(struct conn *c, cut_err *err)
{
  if (c->start > 0) {
    memmove(c->buf, c->buf + c->start, c->end - c->start);
    c->end -= c->start;
    c->start = 0;
  }
  if (c->end == sizeof c->buf)
    return cut_error(err, EMSGSIZE, "reply line too long");
  for (;;) {
    ssize_t n = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, 0);
    if (n > 0) {
      c->end += (size_t)n;
      return 1;
    }
    if (n == 0) {
      c->eof = true;
      return 0;
    }
    if (errno == EAGAIN) {
      if (wait_fd(c->fd, POLLIN, c->deadline_ms, err) < 0)
        return -1;
    } else if (errno != EINTR) {
      return cut_error(err, errno, "recv");
    }
  }
}

/* The next CRLF-terminated line (without it) into line; -1 at EOF. */
static int
read_line(struct conn *c, char *line, size_t len, cut_err *err)
{
  for (;;) {
    char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
    if (nl) {
      size_t n = (size_t)(nl - (c->buf + c->start));
      size_t keep = n > 0 && nl[-1] == '\r' ? n - 1 : n;
      if (keep >= len)
        return cut_error(err, EMSGSIZE, "reply header line too long");
      memcpy(line, c->buf + c->start, keep);
      line[keep] = '\0';
      c->start += n + 1;
      return 0;
    }
    int r = fill(c, err);
    if (r <= 0)
      return r < 0 ? -1 : cut_error(err, ECONNRESET, "connection closed in the reply's headers");
  }
}

static int
deliver(struct sink *s, long status, const char *data, size_t n)
{
  if (s->on_data && status >= 200 && status < 300) {
    if (s->on_data(data, n, s->ctx) != 0)
      s->stopped = true;
    return 0;
  }
  /* An error reply is collected whole, for its message. */
  httpc_resp *r = s->resp;
  if (r->len + n > s->max) {
    s->overflow = true;
    return -1;
  }
  char *nb = realloc(r->body, r->len + n + 1);
  if (nb == NULL)
    return -1;
  r->body = nb;
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = '\0';
  return 0;
}

/* Up to `want` body bytes (all until EOF when want is SIZE_MAX). */
static int
read_body_bytes(struct conn *c, struct sink *s, long status, size_t want, cut_err *err)
{
  while (want > 0 && !s->stopped) {
    if (c->start == c->end) {
      int r = fill(c, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return want == SIZE_MAX ? 0 : cut_error(err, ECONNRESET, "connection closed in the body");
    }
    size_t n = c->end - c->start;
    if (n > want)
      n = want;
    if (deliver(s, status, c->buf + c->start, n) < 0)
      return cut_error(err, s->overflow ? EFBIG : ENOMEM, "reply larger than %zu bytes", s->max);
    c->start += n;
    if (want != SIZE_MAX)
      want -= n;
  }
  return 0;
}

/* Chunked transfer coding: "<hex size>\r\n<data>\r\n" ... "0\r\n\r\n". */
static int
read_chunked(struct conn *c, struct sink *s, long status, cut_err *err)
{
  char line[256];
  while (!s->stopped) {
    if (read_line(c, line, sizeof line, err) < 0)
      return -1;
    char *end;
    errno = 0;
    unsigned long long size = strtoull(line, &end, 16);
    if (end == line || errno || (*end && *end != ';' && *end != ' '))
      return cut_error(err, EPROTO, "bad chunk size \"%.20s\"", line);
    if (size == 0) /* trailers, if any, are not needed */
      return 0;
    if (read_body_bytes(c, s, status, (size_t)size, err) < 0 ||
        (!s->stopped && read_line(c, line, sizeof line, err) < 0))
      return -1;
  }
  return 0;
}

/* Status line and headers; 1xx interim replies are skipped. */
static int
read_head(struct conn *c, long *status, long long *length, bool *chunked, cut_err *err)
{
  char line[8192];
  size_t total = 0;
  do {
    int minor;
    if (read_line(c, line, sizeof line, err) < 0)
      return -1;
    if (sscanf(line, "HTTP/1.%d %ld", &minor, status) != 2 || *status < 100 || *status > 999)
      return cut_error(err, EPROTO, "not an HTTP reply: \"%.40s\"", line);
    *length = -1;
    *chunked = false;
    while (read_line(c, line, sizeof line, err) == 0 && line[0] != '\0') {
      total += strlen(line);
      if (total > HTTPC_HEADER_MAX)
        return cut_error(err, EMSGSIZE, "reply headers too long");
      if (strncasecmp(line, "Content-Length:", 15) == 0)
        *length = strtoll(line + 15, NULL, 10);
      else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strcasestr(line, "chunked"))
        *chunked = true;
    }
    if (line[0] != '\0')
      return -1; /* read_line failed */
  } while (*status < 200);
  return 0;
}

static int
write_request(struct conn *c, const char *method, const char *path, const void *body,
              size_t body_len, const httpc_opts *opts, const char *traceparent, cut_err *err)
{
  char head[4096];
  int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: localhost\r\n", method, path);
  if (traceparent[0])
    n += snprintf(head + n, sizeof head - (size_t)n, "traceparent: %s\r\n", traceparent);
  if (body)
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                  opts->content_type ? opts->content_type : "application/json", body_len);
  else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: 0\r\n");
  n += snprintf(head + n, sizeof head - (size_t)n, "Connection: close\r\n\r\n");
  if (n >= (int)sizeof head)
    return cut_error(err, ENAMETOOLONG, "request line too long");
  if (send_all(c, head, (size_t)n, err) < 0 || (body && send_all(c, body, body_len, err) < 0))
    return -1;
  return 0;
}

/* One exchange on a new connection. */
static int
exchange(const char *socket_path, const char *method, const char *path, const void *body,
         size_t body_len, const httpc_opts *opts, const char *traceparent, struct sink *sink,
         cut_err *err)
{
  struct conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return cut_error(err, ENOMEM, "connection");
  c->deadline_ms = opts->timeout_ms ? now_ms() + opts->timeout_ms : 0;
  c->fd =
      connect_unix(socket_path, opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000, err);
  long long length = -1;
  bool chunked = false;
  int r = c->fd < 0 ? -1 : 0;
  if (r == 0)
    r = write_request(c, method, path, body, body_len, opts, traceparent, err);
  if (r == 0)
    r = read_head(c, &sink->resp->status, &length, &chunked, err);
  long status = sink->resp->status;
  bool no_body = strcmp(method, "HEAD") == 0 || status == 204 || status == 304;
  if (r == 0 && !no_body) {
    if (chunked)
      r = read_chunked(c, sink, status, err);
    else
      r = read_body_bytes(c, sink, status, length >= 0 ? (size_t)length : SIZE_MAX, err);
  }
  if (c->fd >= 0)
    close(c->fd);
  free(c);
  return r;
}

static bool
is_long_hex(const char *s, size_t n)
{
  if (n < 32)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* The span is named after the route, as the server names its own span
 * ("POST /v1/containers/{id}/task"), so that the architecture view adds up
 * all containers into one edge; the concrete path is in http.target.  An id
 * (32+ hex digits) becomes {id}; an image name, the rest of the path. */
static void
span_name(const char *method, const char *path, char *out, size_t len)
{
  size_t plen = strcspn(path, "?"), n = 0;
  n += (size_t)snprintf(out, len, "%s ", method);
  const char *p = path, *end = path + plen;
  while (p < end && n + 1 < len) {
    const char *seg = p + 1, *next = memchr(seg, '/', (size_t)(end - seg));
    if (next == NULL)
      next = end;
    if (strncmp(path, "/v1/images/", 11) == 0 && seg == path + 11 && seg < end) {
      n += (size_t)snprintf(out + n, len - n, "/{name*}");
      break;
    }
    if (is_long_hex(seg, (size_t)(next - seg)))
      n += (size_t)snprintf(out + n, len - n, "/{id}");
    else
      n += (size_t)snprintf(out + n, len - n, "/%.*s", (int)(next - seg), seg);
    p = next;
  }
  if (n >= len)
    out[len - 1] = '\0';
}

static int
perform(const char *socket_path, const char *method, const char *path, const void *body,
        size_t body_len, const httpc_opts *opts, struct sink *sink, cut_err *err)
{
  httpc_opts def = {0};
  if (opts == NULL)
    opts = &def;
  char name[160];
  span_name(method, path, name, sizeof name);
  trace_span sp;
  trace_begin(&sp, TRACE_CLIENT, name, TA_STR("http.method", method), TA_STR("http.target", path),
              TA_STR("net.sock.peer", socket_path), TA_STR("peer", opts->peer ? opts->peer : ""));
  char tp[TRACEPARENT_LEN] = "";
  if (!trace_traceparent(&sp, tp) && !trace_traceparent(NULL, tp))
    tp[0] = '\0';
  int r = exchange(socket_path, method, path, body, body_len, opts, tp, sink, err);
  if (r < 0)
    cut_wrap(err, "%s on %s", name, socket_path);
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("http.status_code", sink->resp->status));
  return r;
}

int
httpc_do(const char *socket_path, const char *method, const char *path, const void *body,
         size_t body_len, const httpc_opts *opts, httpc_resp *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  struct sink s = {.resp = out, .max = opts && opts->max_body ? opts->max_body : HTTPC_DEFAULT_MAX};
  int r = perform(socket_path, method, path, body, body_len, opts, &s, err);
  if (r < 0)
    httpc_resp_free(out);
  else if (out->body == NULL)
    out->body = calloc(1, 1);
  return r;
}

void
httpc_resp_free(httpc_resp *r)
{
  free(r->body);
  r->body = NULL;
  r->len = 0;
}

void
httpc_error_message(const httpc_resp *r, char *out, size_t out_len)
{
  cJSON *doc = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
  const cJSON *m = doc ? cJSON_GetObjectItemCaseSensitive(doc, "message") : NULL;
  if (cJSON_IsString(m))
    snprintf(out, out_len, "%s", m->valuestring);
  else if (r->body && r->len)
    snprintf(out, out_len, "%.*s", (int)strcspn(r->body, "\n"), r->body);
  else
    snprintf(out, out_len, "HTTP %ld", r->status);
  cJSON_Delete(doc);
}

int
httpc_json(const char *socket_path, const char *method, const char *path, const cJSON *body,
           const httpc_opts *opts, long *status, cJSON **out, cut_err *err)
{
  char *text = body ? cJSON_PrintUnformatted(body) : NULL;
  httpc_resp r;
  int rc = httpc_do(socket_path, method, path, text, text ? strlen(text) : 0, opts, &r, err);
  free(text);
  if (out)
    *out = NULL;
  if (rc < 0)
    return -1;
  if (status)
    *status = r.status;
  if (r.status < 200 || r.status >= 300) {
    char msg[CUT_ERR_MAX - 64];
    httpc_error_message(&r, msg, sizeof msg);
    httpc_resp_free(&r);
    /* The server's message is already a complete sentence for the user. */
    return cut_error(err, 0, "%s", msg);
  }
  if (out && r.len > 0) {
    if (json_parse(r.body, r.len, "reply", out, err) < 0) {
      httpc_resp_free(&r);
      return -1;
    }
  }
  httpc_resp_free(&r);
  return 0;
}

int
httpc_stream(const char *socket_path, const char *method, const char *path, const void *body,
             size_t body_len, const httpc_opts *opts,
             int (*on_data)(const char *data, size_t len, void *ctx), void *ctx, long *status,
             cut_err *err)
{
  httpc_resp r = {0};
  struct sink s = {.resp = &r, .max = 1 << 20, .on_data = on_data, .ctx = ctx};
  int rc = perform(socket_path, method, path, body, body_len, opts, &s, err);
  if (status)
    *status = r.status;
  if (rc == 0 && (r.status < 200 || r.status >= 300)) {
    char msg[CUT_ERR_MAX - 64];
    httpc_error_message(&r, msg, sizeof msg);
    rc = cut_error(err, 0, "%s", msg);
  }
  httpc_resp_free(&r);
  return rc;
}
