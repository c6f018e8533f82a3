/* httpd.c: see httpd.h.  libmicrohttpd does the HTTP/1.1 parsing; this file
 * adds the unix socket setup, routing, body limits, JSON replies and the
 * per-request server span. */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "trace.h"

#define HTTPD_MAX_PARAMS 8
#define HTTPD_DEFAULT_MAX_BODY (4u << 20)

struct httpd {
  struct MHD_Daemon *mhd;
  int listen_fd;
  char socket_path[108];
  httpd_opts opts;
  volatile bool stopping;
  void (*wake)(void *);
  void *wake_ctx;
};

struct httpd_req {
  httpd *srv;
  struct MHD_Connection *conn;
  const char *method;
  char *path;
  char api_version[16];
  const char *pattern;
  char *body;
  size_t body_len, body_cap;
  bool too_large;
  bool started;
  cJSON *json;
  int nparams;
  char *pnames[HTTPD_MAX_PARAMS];
  char *pvalues[HTTPD_MAX_PARAMS];
  /* The reply, queued by on_request once the handler returns. */
  struct MHD_Response *resp;
  unsigned status;
  char *extra_headers[8][2];
  int nextra;
  char *span_attrs[4][2];
  int nspan_attrs;
  char error_msg[256]; /* an error reply's message, for its span */
  void (*after)(void *);
  void *after_ctx;
};

/* ---- routing ---- */

/* "/v1.41/x" -> "/x", remembering "1.41" (Docker's versioned paths). */
static void
strip_version(httpd_req *req)
{
  unsigned major, minor;
  int end = 0;
  if (sscanf(req->path, "/v%u.%u%n", &major, &minor, &end) != 2 || req->path[end] != '/')
    return;
  snprintf(req->api_version, sizeof req->api_version, "%u.%u", major, minor);
  memmove(req->path, req->path + end, strlen(req->path + end) + 1);
}

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char *
percent_decode(const char *s, size_t n)
{
  char *out = malloc(n + 1);
  if (out == NULL)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out[j++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out[j++] = s[i];
    }
  }
  out[j] = '\0';
  return out;
}

int
httpd_match(const char *pattern, const char *path, char *names[], char *values[], int max)
{
  int n = 0;
  const char *p = pattern, *s = path;
  while (*p && *s) {
    if (*p == '{') {
      const char *close = strchr(p, '}');
      if (close == NULL)
        goto nomatch;
      bool rest = close > p + 1 && close[-1] == '*';
      size_t nlen = (size_t)(close - p - 1) - (rest ? 1 : 0);
      const char *end = rest ? s + strlen(s) : s + strcspn(s, "/");
      if (end == s || n >= max)
        goto nomatch;
      names[n] = strndup(p + 1, nlen);
      values[n] = percent_decode(s, (size_t)(end - s));
      n++;
      p = close + 1;
      s = end;
      continue;
    }
    if (*p != *s)
      goto nomatch;
    p++;
    s++;
  }
  /* A trailing slash on the request is tolerated ("/v1/images/"). */
  if (*p == '\0' && (*s == '\0' || (s[0] == '/' && s[1] == '\0')))
    return n;
nomatch:
  for (int i = 0; i < n; i++) {
    free(names[i]);
    free(values[i]);
  }
  return -1;
}

static const httpd_route *
route_find(httpd_req *req, bool *method_mismatch)
{
  *method_mismatch = false;
  for (size_t i = 0; i < req->srv->opts.nroutes; i++) {
    const httpd_route *r = &req->srv->opts.routes[i];
    char *names[HTTPD_MAX_PARAMS], *values[HTTPD_MAX_PARAMS];
    int n = httpd_match(r->pattern, req->path, names, values, HTTPD_MAX_PARAMS);
    if (n < 0)
      continue;
    if (strcmp(r->method, req->method) != 0) {
      *method_mismatch = true;
      for (int k = 0; k < n; k++) {
        free(names[k]);
        free(values[k]);
      }
      continue;
    }
    req->nparams = n;
    memcpy(req->pnames, names, sizeof(char *) * (size_t)n);
    memcpy(req->pvalues, values, sizeof(char *) * (size_t)n);
    return r;
  }
  return NULL;
}

/* ---- request accessors ---- */

const char *
httpd_method(const httpd_req *req)
{
  return req->method;
}
const char *
httpd_path(const httpd_req *req)
{
  return req->path;
}
const char *
httpd_api_version(const httpd_req *req)
{
  return req->api_version;
}
const char *
httpd_route_pattern(const httpd_req *req)
{
  return req->pattern;
}
struct MHD_Connection *
httpd_connection(httpd_req *req)
{
  return req->conn;
}
httpd *
httpd_server(httpd_req *req)
{
  return req->srv;
}

const char *
httpd_param(const httpd_req *req, const char *name)
{
  for (int i = 0; i < req->nparams; i++)
    if (strcmp(req->pnames[i], name) == 0)
      return req->pvalues[i];
  return NULL;
}

const char *
httpd_query(const httpd_req *req, const char *name)
{
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool
httpd_query_bool(const httpd_req *req, const char *name)
{
  const char *v = httpd_query(req, name);
  if (v == NULL) {
    /* "?force" with no value: MHD records the key with a NULL value. */
    return MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), NULL,
                                         NULL) == MHD_YES;
  }
  return strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || *v == '\0';
}

const char *
httpd_header(const httpd_req *req, const char *name)
{
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
httpd_body(const httpd_req *req, size_t *len)
{
  if (len)
    *len = req->body_len;
  return req->body ? req->body : "";
}

int
httpd_json_body(httpd_req *req, bool optional, cJSON **out)
{
  size_t len = req->body_len;
  const char *b = httpd_body(req, NULL);
  while (len > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t')) {
    b++;
    len--;
  }
  if (len == 0) {
    if (!optional) {
      httpd_reply_error(req, 400, "request body: expected a JSON object, got nothing");
      return -1;
    }
    req->json = cJSON_CreateObject();
    *out = req->json;
    return 0;
  }
  cut_err err;
  cJSON *doc = NULL;
  if (json_parse(b, len, "request body", &doc, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return -1;
  }
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    httpd_reply_error(req, 400, "request body: expected a JSON object");
    return -1;
  }
  req->json = doc;
  *out = doc;
  return 0;
}

int
httpd_peer_fd(httpd_req *req)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return ci ? ci->connect_fd : -1;
}

bool
httpd_fd_gone(int fd)
{
  struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
  return fd >= 0 && poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

bool
httpd_client_gone(httpd_req *req)
{
  return httpd_fd_gone(httpd_peer_fd(req));
}

/* ---- replies ---- */

static void
set_reply(httpd_req *req, unsigned status, struct MHD_Response *resp)
{
  if (resp == NULL)
    return;
  if (req->resp) /* a second reply: the first one wins */ {
    MHD_destroy_response(resp);
    return;
  }
  for (int i = 0; i < req->nextra; i++)
    MHD_add_response_header(resp, req->extra_headers[i][0], req->extra_headers[i][1]);
  const char *const *h = req->srv->opts.default_headers;
  for (; h && h[0] && h[1]; h += 2)
    MHD_add_response_header(resp, h[0], h[1]);
  req->resp = resp;
  req->status = status;
}

void
httpd_span_attr(httpd_req *req, const char *key, const char *value)
{
  if (req->nspan_attrs >= 4 || value == NULL)
    return;
  req->span_attrs[req->nspan_attrs][0] = strdup(key);
  req->span_attrs[req->nspan_attrs][1] = strdup(value);
  req->nspan_attrs++;
}

void
httpd_reply_header(httpd_req *req, const char *name, const char *value)
{
  if (req->nextra >= 8)
    return;
  req->extra_headers[req->nextra][0] = strdup(name);
  req->extra_headers[req->nextra][1] = strdup(value);
  req->nextra++;
}

void
httpd_reply_raw(httpd_req *req, unsigned status, const char *content_type, const void *data,
                size_t len)
{
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
  if (r && content_type)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  set_reply(req, status, r);
}

void
httpd_reply_json(httpd_req *req, unsigned status, cJSON *doc)
{
  if (doc == NULL) {
    httpd_reply_raw(req, status, NULL, "", 0);
    return;
  }
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL) {
    httpd_reply_raw(req, 500, "application/json", "{\"message\":\"out of memory\"}\n", 28);
    return;
  }
  size_t n = strlen(text);
  struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
  if (r == NULL) {
    free(text);
    return;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  set_reply(req, status, r);
}

void
httpd_reply_error(httpd_req *req, unsigned status, const char *fmt, ...)
{
  char msg[CUT_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (req->error_msg[0] == '\0')
    snprintf(req->error_msg, sizeof req->error_msg, "%.255s", msg);
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "message", msg);
  httpd_reply_json(req, status, doc);
}

void
httpd_reply_err(httpd_req *req, unsigned status, const cut_err *err)
{
  httpd_reply_error(req, status, "%s", err->msg);
}

struct stream_ctx {
  httpd_stream_read read;
  void *cls;
  void (*done)(void *);
};

static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream_ctx *s = cls;
  ssize_t n = s->read(s->cls, buf, max);
  if (n == 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (n < 0)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  return n;
}

static void
stream_free(void *cls)
{
  struct stream_ctx *s = cls;
  if (s->done)
    s->done(s->cls);
  free(s);
}

void
httpd_reply_stream(httpd_req *req, unsigned status, const char *content_type,
                   httpd_stream_read read, void *cls, void (*done)(void *cls))
{
  struct stream_ctx *s = calloc(1, sizeof *s);
  if (s == NULL) {
    if (done)
      done(cls);
    return;
  }
  *s = (struct stream_ctx){.read = read, .cls = cls, .done = done};
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, s, stream_free);
  if (r == NULL) {
    stream_free(s);
    return;
  }
  if (content_type)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  set_reply(req, status, r);
}

void
httpd_reply_response(httpd_req *req, unsigned status, struct MHD_Response *resp)
{
  set_reply(req, status, resp);
}

/* ---- the libmicrohttpd callbacks ---- */

static void
req_free(httpd_req *req)
{
  free(req->path);
  free(req->body);
  cJSON_Delete(req->json);
  for (int i = 0; i < req->nparams; i++) {
    free(req->pnames[i]);
    free(req->pvalues[i]);
  }
  for (int i = 0; i < req->nextra; i++) {
    free(req->extra_headers[i][0]);
    free(req->extra_headers[i][1]);
  }
  for (int i = 0; i < req->nspan_attrs; i++) {
    free(req->span_attrs[i][0]);
    free(req->span_attrs[i][1]);
  }
  if (req->resp)
    MHD_destroy_response(req->resp);
  free(req);
}

void
httpd_after_reply(httpd_req *req, void (*fn)(void *ctx), void *ctx)
{
  req->after = fn;
  req->after_ctx = ctx;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  httpd_req *req = *con_cls;
  if (req && req->after)
    req->after(req->after_ctx);
  if (*con_cls)
    req_free(*con_cls);
  *con_cls = NULL;
}

static enum MHD_Result
queue_simple(struct MHD_Connection *conn, unsigned status, const char *msg)
{
  char body[512];
  int n = snprintf(body, sizeof body, "{\"message\":\"%s\"}", msg);
  struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static int
append_body(httpd_req *req, const char *data, size_t n)
{
  size_t max = req->srv->opts.max_body ? req->srv->opts.max_body : HTTPD_DEFAULT_MAX_BODY;
  if (req->too_large || req->body_len + n > max) {
    req->too_large = true;
    return 0;
  }
  if (req->body_len + n + 1 > req->body_cap) {
    size_t cap = req->body_cap ? req->body_cap * 2 : 4096;
    while (cap < req->body_len + n + 1)
      cap *= 2;
    char *nb = realloc(req->body, cap);
    if (nb == NULL)
      return -1;
    req->body = nb;
    req->body_cap = cap;
  }
  memcpy(req->body + req->body_len, data, n);
  req->body_len += n;
  req->body[req->body_len] = '\0';
  return 0;
}

static void
dispatch(httpd_req *req)
{
  bool method_mismatch;
  const httpd_route *route = route_find(req, &method_mismatch);
  req->pattern = route ? route->pattern : req->path;
  char name[160];
  snprintf(name, sizeof name, "%s %s", req->method, req->pattern);
  const char *tp = httpd_header(req, "traceparent");
  trace_span sp;
  trace_begin_remote(&sp, TRACE_SERVER, name, tp, TA_STR("http.method", req->method),
                     TA_STR("http.target", req->path));
  if (req->too_large) {
    size_t max = req->srv->opts.max_body ? req->srv->opts.max_body : HTTPD_DEFAULT_MAX_BODY;
    httpd_reply_error(req, 413, "request body: larger than the limit of %zu bytes", max);
  } else if (route) {
    route->fn(req, req->srv->opts.ctx);
  } else if (req->srv->opts.not_found) {
    req->srv->opts.not_found(req, req->srv->opts.ctx);
  } else if (method_mismatch) {
    httpd_reply_error(req, 405, "method %s not allowed on %s", req->method, req->path);
  } else {
    httpd_reply_error(req, 404, "no route for %s %s", req->method, req->path);
  }
  if (req->resp == NULL)
    httpd_reply_error(req, 500, "%s %s: handler gave no reply", req->method, req->path);
  cut_err err;
  const cut_err *ep = NULL;
  if (req->status >= 500) {
    cut_error(&err, 0, "HTTP %u", req->status);
    ep = &err;
  }
  trace_attr attrs[6] = {TA_INT("http.status_code", req->status)};
  size_t n = 1;
  /* A 4xx is not the server's failure (the span ends ok, as OpenTelemetry
   * says), but why it refused is what a learner looks for. */
  if (req->status >= 400 && req->error_msg[0])
    attrs[n++] = TA_STR("error.message", req->error_msg);
  for (int i = 0; i < req->nspan_attrs; i++)
    attrs[n++] = TA_STR(req->span_attrs[i][0], req->span_attrs[i][1]);
  trace_end_a(&sp, ep, attrs, n);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
  httpd *srv = cls;
  httpd_req *req = *con_cls;
  if (req == NULL) {
    req = calloc(1, sizeof *req);
    if (req == NULL)
      return MHD_NO;
    req->srv = srv;
    req->conn = conn;
    req->method = method;
    req->path = strdup(url);
    *con_cls = req;
    if (srv->opts.strip_api_version && req->path)
      strip_version(req);
    /* Refuse an announced oversized body before reading a byte of it. */
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    size_t max = srv->opts.max_body ? srv->opts.max_body : HTTPD_DEFAULT_MAX_BODY;
    if (cl && strtoull(cl, NULL, 10) > max) {
      char msg[128];
      snprintf(msg, sizeof msg, "request body: larger than the limit of %zu bytes", max);
      return queue_simple(conn, 413, msg);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (append_body(req, upload_data, *upload_data_size) < 0)
      return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->started)
    return MHD_YES;
  req->started = true;
  dispatch(req);
  struct MHD_Response *resp = req->resp;
  req->resp = NULL;
  enum MHD_Result ret = MHD_queue_response(conn, req->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* ---- start and stop ---- */

static int
bind_unix(const char *path, mode_t mode, cut_err *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return cut_error(err, ENAMETOOLONG, "socket %s: path longer than %zu bytes", path,
                     sizeof sa.sun_path - 1);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cut_error(err, errno, "socket %s", path);
  /* A socket file left by a killed daemon would make bind fail: replace it,
   * but never remove anything that is not a socket. */
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      close(fd);
      return cut_error(err, EEXIST, "socket %s: exists and is not a socket", path);
    }
    unlink(path);
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return cut_error(err, e, "bind %s", path);
  }
  /* Between bind and listen nobody can connect: tighten the mode now. */
  if (chmod(path, mode) < 0 || listen(fd, 512) < 0) {
    int e = errno;
    close(fd);
    unlink(path);
    return cut_error(err, e, "listen %s", path);
  }
  return fd;
}

int
httpd_start(const httpd_opts *opts, httpd **out, cut_err *err)
{
  httpd *srv = calloc(1, sizeof *srv);
  if (srv == NULL)
    return cut_error(err, ENOMEM, "httpd");
  srv->opts = *opts;
  snprintf(srv->socket_path, sizeof srv->socket_path, "%s", opts->socket_path);
  srv->listen_fd = bind_unix(opts->socket_path, opts->socket_mode ? opts->socket_mode : 0660, err);
  if (srv->listen_fd < 0) {
    free(srv);
    return -1;
  }
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
  if (opts->allow_upgrade)
    flags |= MHD_ALLOW_UPGRADE;
  srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
                              srv->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
  if (srv->mhd == NULL) {
    close(srv->listen_fd);
    unlink(srv->socket_path);
    free(srv);
    return cut_error(err, 0, "start HTTP server on %s", opts->socket_path);
  }
  *out = srv;
  return 0;
}

bool
httpd_stopping(const httpd *srv)
{
  return srv == NULL || srv->stopping;
}

void
httpd_set_waker(httpd *srv, void (*wake)(void *ctx), void *ctx)
{
  srv->wake = wake;
  srv->wake_ctx = ctx;
}

void
httpd_stop(httpd *srv)
{
  if (srv == NULL)
    return;
  srv->stopping = true;
  if (srv->wake)
    srv->wake(srv->wake_ctx);
  /* Stop accepting first, then join the connection threads. */
  MHD_quiesce_daemon(srv->mhd);
  unlink(srv->socket_path);
  MHD_stop_daemon(srv->mhd);
  close(srv->listen_fd);
  free(srv);
}
