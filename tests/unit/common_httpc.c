/* common_httpc.c: the unix-socket HTTP client (common/httpc.c) against the
 * server side (common/httpd.c, libmicrohttpd) in the same process: JSON
 * both ways with the traceparent header, Content-Length and chunked
 * replies, a stream stopped by the caller, error replies with their
 * message, the size limit, the timeout, and a socket nobody listens on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"
#include "httpc.h"
#include "httpd.h"
#include "tap.h"
#include "trace.h"

static char dir[] = "/tmp/cutaway-test.httpcXXXXXX";

static void
h_json(httpd_req *req, void *ctx)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "a", 1);
  httpd_reply_json(req, 200, o);
}

/* The body, Content-Type and traceparent the server received. */
static void
h_echo(httpd_req *req, void *ctx)
{
  size_t len;
  const char *body = httpd_body(req, &len);
  const char *tp = httpd_header(req, "traceparent"), *ct = httpd_header(req, "Content-Type");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "body", body ? body : "");
  cJSON_AddStringToObject(o, "tp", tp ? tp : "");
  cJSON_AddStringToObject(o, "ct", ct ? ct : "");
  httpd_reply_json(req, 200, o);
}

static void
h_big(httpd_req *req, void *ctx)
{
  static char big[100000];
  memset(big, 'x', sizeof big);
  httpd_reply_raw(req, 200, "text/plain", big, sizeof big);
}

/* A stream of `limit` lines, "line 0\n"...: chunked, its length unknown. */
struct lines {
  int n, limit;
  useconds_t pause;
};

static ssize_t
lines_read(void *cls, char *buf, size_t max)
{
  struct lines *l = cls;
  if (l->n >= l->limit)
    return 0;
  if (l->pause)
    usleep(l->pause);
  return snprintf(buf, max, "line %d\n", l->n++);
}

static void
h_stream(httpd_req *req, void *ctx)
{
  struct lines *l = calloc(1, sizeof *l);
  l->limit = strcmp(httpd_path(req), "/stream") == 0 ? 5 : 500;
  l->pause = l->limit == 5 ? 0 : 2000;
  httpd_reply_stream(req, 200, "text/plain", lines_read, l, free);
}

static void
h_slow(httpd_req *req, void *ctx)
{
  usleep(500000);
  h_json(req, ctx);
}

static int
collect(const char *data, size_t len, void *ctx)
{
  char *acc = ctx;
  strncat(acc, data, len);
  return 0;
}

static int
stop_after_3(const char *data, size_t len, void *ctx)
{
  int *lines = ctx;
  for (size_t i = 0; i < len; i++)
    *lines += data[i] == '\n';
  return *lines >= 3;
}

int
main(void)
{
  if (mkdtemp(dir) == NULL)
    return printf("Bail out! mkdtemp\n"), 1;
  char sock[256], trace[256];
  snprintf(sock, sizeof sock, "%s/s.sock", dir);
  snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
  setenv("CUTAWAY_TRACE", trace, 1);
  trace_init("cutaway-test", "client");
  static const httpd_route routes[] = {{"GET", "/json", h_json},      {"POST", "/echo", h_echo},
                                       {"GET", "/big", h_big},        {"GET", "/stream", h_stream},
                                       {"GET", "/forever", h_stream}, {"GET", "/slow", h_slow}};
  httpd_opts so = {.socket_path = sock, .routes = routes, .nroutes = 6};
  httpd *srv;
  cut_err err;
  if (httpd_start(&so, &srv, &err) < 0)
    return printf("Bail out! %s\n", err.msg), 1;

  long status = 0;
  cJSON *out = NULL;
  tap_ok(httpc_json(sock, "GET", "/json", NULL, NULL, &status, &out, &err) == 0,
         "GET a JSON reply");
  tap_is_int(status, 200, "... status 200");
  tap_is_int(cJSON_GetObjectItem(out, "a") ? cJSON_GetObjectItem(out, "a")->valueint : -1, 1,
             "... parsed");
  cJSON_Delete(out);

  cJSON *body = cJSON_CreateObject();
  cJSON_AddStringToObject(body, "hello", "world");
  tap_ok(httpc_json(sock, "POST", "/echo", body, NULL, &status, &out, &err) == 0,
         "POST a JSON body");
  cJSON_Delete(body);
  const cJSON *got = cJSON_GetObjectItem(out, "body"), *tp = cJSON_GetObjectItem(out, "tp");
  tap_is_str(cJSON_GetStringValue(got), "{\"hello\":\"world\"}", "... the server got the body");
  tap_is_str(cJSON_GetStringValue(cJSON_GetObjectItem(out, "ct")), "application/json",
             "... as application/json");
  tap_ok(cJSON_GetStringValue(tp) && strlen(tp->valuestring) == 55 &&
             strncmp(tp->valuestring, "00-", 3) == 0,
         "... with the client span's traceparent (%s)", cJSON_GetStringValue(tp));
  cJSON_Delete(out);

  int r = httpc_json(sock, "GET", "/nothing-here", NULL, NULL, &status, &out, &err);
  tap_ok(r < 0 && status == 404, "a 404 is an error with its status");
  tap_ok(strstr(err.msg, "no route") != NULL, "... and the server's message: %s", err.msg);

  httpc_resp resp;
  tap_ok(httpc_do(sock, "GET", "/big", NULL, 0, NULL, &resp, &err) == 0 && resp.len == 100000,
         "a 100000-byte reply arrives whole");
  httpc_resp_free(&resp);
  httpc_opts small = {.max_body = 1000};
  r = httpc_do(sock, "GET", "/big", NULL, 0, &small, &resp, &err);
  tap_ok(r < 0 && err.errnum == EFBIG, "past max_body it is refused: %s", err.msg);

  char acc[256] = "";
  tap_ok(httpc_stream(sock, "GET", "/stream", NULL, 0, NULL, collect, acc, &status, &err) == 0,
         "a chunked stream");
  tap_is_str(acc, "line 0\nline 1\nline 2\nline 3\nline 4\n", "... arrives whole and in order");

  int lines = 0;
  tap_ok(httpc_stream(sock, "GET", "/forever", NULL, 0, NULL, stop_after_3, &lines, &status,
                      &err) == 0,
         "a long stream stopped by the caller is a success");
  tap_ok(lines >= 3 && lines < 500, "... after %d lines", lines);

  httpc_opts quick = {.timeout_ms = 100};
  r = httpc_json(sock, "GET", "/slow", NULL, &quick, &status, &out, &err);
  tap_ok(r < 0 && err.errnum == ETIMEDOUT, "a reply slower than timeout_ms: %s", err.msg);

  char nobody[300];
  snprintf(nobody, sizeof nobody, "%s/nobody.sock", dir);
  r = httpc_json(nobody, "GET", "/json", NULL, NULL, &status, &out, &err);
  tap_ok(r < 0 && err.errnum == ENOENT && strstr(err.msg, "connect"),
         "no socket: a connect error naming the request and socket: %s", err.msg);
  char longpath[200];
  memset(longpath, 'a', sizeof longpath - 1);
  longpath[0] = '/';
  longpath[sizeof longpath - 1] = '\0';
  r = httpc_json(longpath, "GET", "/json", NULL, NULL, &status, &out, &err);
  tap_ok(r < 0 && err.errnum == ENAMETOOLONG, "a socket path too long for sun_path: %s", err.msg);

  httpd_stop(srv);
  cut_rm_rf(dir, &err);
  return tap_done();
}
