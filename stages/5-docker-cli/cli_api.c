/* cli_api.c: the session between cutaway and the daemon.
 *
 * Mirrors the docker CLI's client package: every command starts with
 * `HEAD /_ping`, whose `Api-Version` header fixes the version used in every
 * later path (`/v1.41/...`): min(what we speak, what the daemon speaks), and
 * 1.24 when the daemon names none, as the docker client does.
 *
 * Requests go on a persistent connection (`main`); while `main` is held by a
 * long poll (the wait of `run`), start, resize and kill go on a second one
 * (`aux`), and attach/exec-start each get a fresh one because the hijack
 * takes the connection over.  The docker CLI does the same with its
 * connection pool (capture 05: three connections at once).
 *
 * Tracing: each request is a `client` span named after its route, child of
 * the command's root span (cli.run...), and carries that span's W3C
 * `traceparent`: cutawayd continues it, so one command is one trace down to
 * execve.  The real docker CLI sends no traceparent. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

#define CLI_MAX_REPLY (256u << 20)

void
cli_reply_free(cli_reply *r)
{
  free(r->body);
  r->body = NULL;
  r->len = 0;
}

int
cli_cannot_connect(cli *c, cut_err *err)
{
  int e = err ? err->errnum : 0;
  return cut_error(err, 0,
                   "Cannot connect to the Docker daemon at %s. Is the docker daemon running?%s%s",
                   c->host, e && e != ENOENT && e != ECONNREFUSED ? " " : "",
                   e && e != ENOENT && e != ECONNREFUSED ? strerror(e) : "");
}

void
cli_path(cli *c, char *out, size_t len, const char *fmt, ...)
{
  int n = snprintf(out, len, "/v%s", c->version);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + n, len - (size_t)n, fmt, ap);
  va_end(ap);
}

/* ---- span names ------------------------------------------------------------ */

/* One path segment of the route, given the segment before it. */
static const char *
route_segment(const char *prev, const char *seg, size_t n, bool first_after)
{
  static const char *const fixed[] = {"create", "json", "prune", NULL};
  if (!first_after)
    return NULL;
  for (int i = 0; fixed[i]; i++)
    if (strlen(fixed[i]) == n && strncmp(seg, fixed[i], n) == 0)
      return NULL;
  if (strcmp(prev, "containers") == 0 || strcmp(prev, "exec") == 0 || strcmp(prev, "networks") == 0)
    return "{id}";
  if (strcmp(prev, "volumes") == 0)
    return "{name}";
  return NULL;
}

void
cli_route_name(const char *method, const char *path, char *out, size_t len)
{
  size_t plen = strcspn(path, "?");
  const char *p = path, *end = path + plen;
  /* Drop the version prefix: the daemon names its routes without it. */
  if (strncmp(p, "/v", 2) == 0 && p[2] >= '0' && p[2] <= '9') {
    const char *slash = memchr(p + 1, '/', (size_t)(end - p - 1));
    p = slash ? slash : end;
  }
  size_t n = (size_t)snprintf(out, len, "%s ", method);
  char prev[32] = "";
  bool after_top = false;
  int depth = 0;
  while (p < end && n + 1 < len) {
    const char *seg = p + 1, *next = memchr(seg, '/', (size_t)(end - seg));
    if (next == NULL)
      next = end;
    size_t sl = (size_t)(next - seg);
    if (depth == 1 && strcmp(prev, "images") == 0 && !(sl == 4 && !strncmp(seg, "json", 4)) &&
        !(sl == 6 && !strncmp(seg, "create", 6))) {
      n += (size_t)snprintf(out + n, len - n, "/{name*}");
      break;
    }
    const char *sub = route_segment(prev, seg, sl, after_top);
    if (sub)
      n += (size_t)snprintf(out + n, len - n, "/%s", sub);
    else
      n += (size_t)snprintf(out + n, len - n, "/%.*s", (int)sl, seg);
    snprintf(prev, sizeof prev, "%.*s", (int)(sl < 31 ? sl : 31), seg);
    after_top = depth == 0;
    depth++;
    p = next;
  }
  if (n >= len)
    out[len - 1] = '\0';
}

/* ---- calls ------------------------------------------------------------------- */

static int
open_conn(cli *c, cli_conn *conn, cut_err *err)
{
  if (cli_conn_open(conn, c->sock, err) < 0)
    return cli_cannot_connect(c, err);
  return 0;
}

static int
send_and_head(cli *c, cli_call *call, const char *method, const char *path, const char *headers,
              const void *body, size_t len, cut_err *err)
{
  char tp[TRACEPARENT_LEN] = "";
  if (!trace_traceparent(&call->sp, tp))
    tp[0] = '\0';
  if (cli_conn_send(call->conn, method, path, headers, body, len, tp, err) < 0)
    return -1;
  return cli_conn_head(call->conn, method, &call->resp, err);
}

int
cli_call_begin(cli *c, cli_call *call, enum cli_conn_pick where, const char *method,
               const char *path, const char *headers, const void *body, size_t len, cut_err *err)
{
  memset(call, 0, sizeof *call);
  char name[160];
  cli_route_name(method, path, name, sizeof name);
  /* Parent: the root span, explicitly, since calls overlap in time (attach,
   * wait and start are all open during `run`). */
  trace_begin_remote(&call->sp, TRACE_CLIENT, name, c->root_tp[0] ? c->root_tp : NULL,
                     TA_STR("http.method", method), TA_STR("http.target", path),
                     TA_STR("peer", "daemon"));
  call->span_open = true;
  bool reused = false;
  if (where == CLI_ON_NEW) {
    call->conn = malloc(sizeof *call->conn);
    if (call->conn == NULL)
      return cut_error(err, ENOMEM, "connection");
    call->own = true;
    if (open_conn(c, call->conn, err) < 0) {
      free(call->conn);
      call->conn = NULL;
      return -1;
    }
  } else {
    call->conn = where == CLI_ON_MAIN ? &c->main : &c->aux;
    call->open = where == CLI_ON_MAIN ? &c->main_open : &c->aux_open;
    reused = *call->open;
    if (!*call->open) {
      if (open_conn(c, call->conn, err) < 0)
        return -1;
      *call->open = true;
    }
  }
  int r = send_and_head(c, call, method, path, headers, body, len, err);
  if (r < 0 && reused) {
    /* The daemon may close an idle keep-alive connection: once more on a
     * fresh one (requests here are sent again only if nothing came back). */
    cli_conn_close(call->conn);
    *call->open = false;
    if (open_conn(c, call->conn, err) < 0)
      return -1;
    *call->open = true;
    r = send_and_head(c, call, method, path, headers, body, len, err);
  }
  if (r < 0 && call->open) {
    cli_conn_close(call->conn);
    *call->open = false;
  }
  return r;
}

void
cli_call_end(cli *c, cli_call *call, const cut_err *err)
{
  if (call->span_open) {
    trace_end(&call->sp, err, TA_INT("http.status_code", call->resp.status));
    call->span_open = false;
  }
  if (call->conn == NULL)
    return;
  if (call->own) {
    cli_conn_close(call->conn);
    free(call->conn);
  } else if (!call->resp.done || !call->resp.keep_alive || call->resp.status == 101 ||
             call->conn->eof) {
    /* A body not read to its end leaves the connection unusable. */
    cli_conn_close(call->conn);
    *call->open = false;
  }
  call->conn = NULL;
}

int
cli_call_reply(cli_call *call, cli_reply *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  out->status = call->resp.status;
  snprintf(out->content_type, sizeof out->content_type, "%s", call->resp.content_type);
  return cli_conn_body_all(call->conn, &call->resp, CLI_MAX_REPLY, &out->body, &out->len, err);
}

int
cli_request(cli *c, const char *method, const char *path, const cJSON *body, const char *headers,
            cli_reply *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  char *text = body ? cJSON_PrintUnformatted(body) : NULL;
  char hdrs[1024];
  snprintf(hdrs, sizeof hdrs, "%s%s", body ? "Content-Type: application/json\r\n" : "",
           headers ? headers : "");
  cli_call call;
  int r =
      cli_call_begin(c, &call, CLI_ON_MAIN, method, path, hdrs, text, text ? strlen(text) : 0, err);
  free(text);
  if (r == 0)
    r = cli_call_reply(&call, out, err);
  cli_call_end(c, &call, r < 0 ? err : NULL);
  return r;
}

void
cli_reply_message(const cli_reply *r, const char *path, char *out, size_t len)
{
  /* docker takes {"message"} only from a JSON reply, else the raw text. */
  if (strncmp(r->content_type, "application/json", 16) == 0 && r->len) {
    cJSON *doc = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (cJSON_IsString(m)) {
      snprintf(out, len, "%s", m->valuestring);
      cJSON_Delete(doc);
      return;
    }
    cJSON_Delete(doc);
  }
  if (r->len) {
    size_t n = r->len;
    while (n && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
      n--;
    snprintf(out, len, "%.*s", (int)n, r->body);
  } else {
    snprintf(out, len, "request returned %ld for API route and version %s", r->status, path);
  }
}

int
cli_json(cli *c, const char *method, const char *path, const cJSON *body, long *status, cJSON **out,
         cut_err *err)
{
  if (out)
    *out = NULL;
  cli_reply rep = {0};
  if (cli_request(c, method, path, body, NULL, &rep, err) < 0)
    return -1;
  if (status)
    *status = rep.status;
  if (rep.status >= 400) {
    char msg[CUT_ERR_MAX - 64];
    cli_reply_message(&rep, path, msg, sizeof msg);
    cli_reply_free(&rep);
    return cut_error(err, 0, "Error response from daemon: %s", msg);
  }
  int r = 0;
  if (out && rep.len > 0)
    r = json_parse(rep.body, rep.len, "reply", out, err);
  cli_reply_free(&rep);
  return r;
}

/* "1.41" < "1.9"?  Compare major and minor as numbers. */
static int
version_cmp(const char *a, const char *b)
{
  int am = 0, an = 0, bm = 0, bn = 0;
  sscanf(a, "%d.%d", &am, &an);
  sscanf(b, "%d.%d", &bm, &bn);
  return am != bm ? (am < bm ? -1 : 1) : (an < bn ? -1 : an > bn);
}

static int
ping_once(cli *c, const char *method, cli_resp *resp, cut_err *err)
{
  cli_call call;
  int r = cli_call_begin(c, &call, CLI_ON_MAIN, method, "/_ping", NULL, NULL, 0, err);
  if (r == 0) {
    char sink[512];
    ssize_t n;
    while ((n = cli_conn_body(call.conn, &call.resp, sink, sizeof sink, err)) > 0)
      ;
    r = n < 0 ? -1 : 0;
    *resp = call.resp;
  }
  cli_call_end(c, &call, r < 0 ? err : NULL);
  return r;
}

int
cli_ping(cli *c, cut_err *err)
{
  if (c->pinged)
    return 0;
  cli_resp resp = {0};
  if (ping_once(c, "HEAD", &resp, err) < 0)
    return -1;
  /* docker retries with GET when HEAD is not implemented. */
  if (resp.status != 200 && resp.status != 500 && ping_once(c, "GET", &resp, err) < 0)
    return -1;
  const char *theirs = resp.api_version[0] ? resp.api_version : "1.24";
  snprintf(c->version, sizeof c->version, "%.15s",
           version_cmp(theirs, CLI_API_MAX) < 0 ? theirs : CLI_API_MAX);
  c->pinged = true;
  return 0;
}
