/* cli_conn.c: one HTTP/1.1 connection on a unix socket, as the docker CLI's
 * Go http.Transport uses it.
 *
 * Unlike common/httpc.c (one request per connection, "Connection: close"),
 * this connection is persistent: the docker CLI sends /_ping, create and
 * wait on one connection, and the daemon must keep it open between
 * responses.  So a body must be read exactly to its end (Content-Length,
 * or the last chunk of a chunked body) before the next request goes out.
 *
 * The hijack (attach, exec start): the request carries `Connection: Upgrade`
 * and `Upgrade: tcp`; the daemon answers `101 UPGRADED` and from then on
 * the socket is a raw byte pipe both ways.  The bytes that arrived in the
 * same read as the 101 head are already stream data: cli_conn_raw_read
 * hands them out first (the daemon may write output right behind the head).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

#define CLI_HEAD_MAX (64u << 10)

int
cli_conn_open(cli_conn *c, const char *sock, cut_err *err)
{
  c->fd = -1;
  c->eof = false;
  c->start = c->end = 0;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof sa.sun_path)
    return cut_error(err, ENAMETOOLONG, "socket path %s", sock);
  memcpy(sa.sun_path, sock, strlen(sock) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cut_error(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return cut_error(err, e, "connect %s", sock);
  }
  c->fd = fd;
  return 0;
}

void
cli_conn_close(cli_conn *c)
{
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

int
cli_conn_write_all(cli_conn *c, const void *data, size_t len, cut_err *err)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cut_error(err, errno, "send");
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int
cli_conn_send(cli_conn *c, const char *method, const char *path, const char *headers,
              const void *body, size_t len, const char *traceparent, cut_err *err)
{
  char head[8192];
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: api.moby.localhost\r\n"
                   "User-Agent: cutaway/" CLI_VERSION " (linux)\r\n",
                   method, path);
  if (traceparent && traceparent[0])
    n += snprintf(head + n, sizeof head - (size_t)n, "traceparent: %s\r\n", traceparent);
  if (headers)
    n += snprintf(head + n, sizeof head - (size_t)n, "%s", headers);
  if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body ? len : 0);
  n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
  if (n >= (int)sizeof head)
    return cut_error(err, ENAMETOOLONG, "request head too long");
  if (cli_conn_write_all(c, head, (size_t)n, err) < 0)
    return -1;
  if (body && len && cli_conn_write_all(c, body, len, err) < 0)
    return -1;
  return 0;
}

/* Read more bytes into the buffer (compacting it first). 0 at EOF. */
static int
fill(cli_conn *c, cut_err *err)
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
    if (errno != EINTR)
      return cut_error(err, errno, "recv");
  }
}

/* The next line without its CRLF. */
static int
read_line(cli_conn *c, char *line, size_t len, cut_err *err)
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
      return r < 0 ? -1 : cut_error(err, ECONNRESET, "connection closed before the reply");
  }
}

static void
header_value(const char *line, size_t name_len, char *out, size_t len)
{
  const char *v = line + name_len;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t n = strlen(v);
  if (n >= len)
    n = len - 1;
  memcpy(out, v, n);
  out[n] = '\0';
}

int
cli_conn_head(cli_conn *c, const char *method, cli_resp *r, cut_err *err)
{
  char line[8192];
  size_t total = 0;
  do {
    memset(r, 0, sizeof *r);
    r->length = -1;
    r->keep_alive = true;
    int minor;
    if (read_line(c, line, sizeof line, err) < 0)
      return -1;
    if (sscanf(line, "HTTP/1.%d %ld", &minor, &r->status) != 2 || r->status < 100 ||
        r->status > 999)
      return cut_error(err, EPROTO, "not an HTTP reply: \"%.40s\"", line);
    for (;;) {
      if (read_line(c, line, sizeof line, err) < 0)
        return -1;
      if (line[0] == '\0')
        break;
      total += strlen(line);
      if (total > CLI_HEAD_MAX)
        return cut_error(err, EMSGSIZE, "reply headers too long");
      if (strncasecmp(line, "Content-Length:", 15) == 0)
        r->length = strtoll(line + 15, NULL, 10);
      else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strcasestr(line, "chunked"))
        r->chunked = true;
      else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close"))
        r->keep_alive = false;
      else if (strncasecmp(line, "Content-Type:", 13) == 0)
        header_value(line, 13, r->content_type, sizeof r->content_type);
      else if (strncasecmp(line, "Api-Version:", 12) == 0)
        header_value(line, 12, r->api_version, sizeof r->api_version);
    }
  } while (r->status < 200 && r->status != 101);
  /* Replies that never have a body. */
  if (strcmp(method, "HEAD") == 0 || r->status == 204 || r->status == 304 || r->status == 101)
    r->done = true;
  else if (!r->chunked && r->length == 0)
    r->done = true;
  if (!r->chunked && r->length < 0 && !r->done)
    r->keep_alive = false; /* the body ends when the daemon closes */
  return 0;
}

/* Take up to cap buffered-or-received bytes, at most `want`. */
static ssize_t
take(cli_conn *c, char *out, size_t cap, unsigned long long want, cut_err *err)
{
  if (c->start == c->end) {
    int r = fill(c, err);
    if (r <= 0)
      return r;
  }
  size_t n = c->end - c->start;
  if (n > cap)
    n = cap;
  if (n > want)
    n = (size_t)want;
  memcpy(out, c->buf + c->start, n);
  c->start += n;
  return (ssize_t)n;
}

static ssize_t
chunked_body(cli_conn *c, cli_resp *r, char *out, size_t cap, cut_err *err)
{
  char line[256];
  while (!r->in_chunk || r->chunk_left == 0) {
    if (r->in_chunk) { /* the CRLF after a chunk's data */
      if (read_line(c, line, sizeof line, err) < 0)
        return -1;
      r->in_chunk = false;
    }
    if (read_line(c, line, sizeof line, err) < 0)
      return -1;
    char *end;
    errno = 0;
    unsigned long long size = strtoull(line, &end, 16);
    if (end == line || errno || (*end && *end != ';' && *end != ' '))
      return cut_error(err, EPROTO, "bad chunk size \"%.20s\"", line);
    if (size == 0) {
      /* Trailers end with an empty line. */
      do {
        if (read_line(c, line, sizeof line, err) < 0)
          return -1;
      } while (line[0] != '\0');
      r->done = true;
      return 0;
    }
    r->in_chunk = true;
    r->chunk_left = size;
  }
  ssize_t n = take(c, out, cap, r->chunk_left, err);
  if (n == 0)
    return cut_error(err, ECONNRESET, "connection closed inside a chunk");
  if (n > 0)
    r->chunk_left -= (unsigned long long)n;
  return n;
}

ssize_t
cli_conn_body(cli_conn *c, cli_resp *r, char *out, size_t cap, cut_err *err)
{
  if (r->done)
    return 0;
  if (r->chunked)
    return chunked_body(c, r, out, cap, err);
  if (r->length >= 0) {
    ssize_t n = take(c, out, cap, (unsigned long long)r->length, err);
    if (n == 0)
      return cut_error(err, ECONNRESET, "connection closed inside the body");
    if (n > 0) {
      r->length -= n;
      if (r->length == 0)
        r->done = true;
    }
    return n;
  }
  ssize_t n = take(c, out, cap, ~0ULL, err); /* until the daemon closes */
  if (n == 0)
    r->done = true;
  return n;
}

int
cli_conn_body_all(cli_conn *c, cli_resp *r, size_t max, char **out, size_t *len, cut_err *err)
{
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return cut_error(err, ENOMEM, "reply body");
  for (;;) {
    if (cap - n < 2048) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        return cut_error(err, ENOMEM, "reply body");
      }
      buf = nb;
    }
    ssize_t got = cli_conn_body(c, r, buf + n, cap - n - 1, err);
    if (got < 0) {
      free(buf);
      return -1;
    }
    if (got == 0)
      break;
    n += (size_t)got;
    if (n > max) {
      free(buf);
      return cut_error(err, EFBIG, "reply larger than %zu bytes", max);
    }
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

ssize_t
cli_conn_raw_read(cli_conn *c, char *out, size_t cap, cut_err *err)
{
  if (c->start < c->end) {
    size_t n = c->end - c->start;
    if (n > cap)
      n = cap;
    memcpy(out, c->buf + c->start, n);
    c->start += n;
    return (ssize_t)n;
  }
  for (;;) {
    ssize_t n = recv(c->fd, out, cap, 0);
    if (n >= 0)
      return n;
    if (errno == ECONNRESET)
      return 0; /* the daemon went away: the stream is over */
    if (errno != EINTR)
      return cut_error(err, errno, "recv");
  }
}
