/* httpc.c: see httpc.h. */
#include "httpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "trace.h"

#define HTTPC_DEFAULT_MAX (64u << 20)

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;

static void
httpc_global_init(void)
{
  curl_global_init(CURL_GLOBAL_NOTHING);
}

struct sink {
  httpc_resp *resp;
  size_t max;
  bool overflow;
  int (*on_data)(const char *, size_t, void *);
  void *ctx;
  bool stopped;
  CURL *curl;
};

static size_t
on_write(char *data, size_t size, size_t nmemb, void *cls)
{
  struct sink *s = cls;
  size_t n = size * nmemb;
  if (s->on_data) {
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    /* An error reply is collected whole for its message. */
    if (status >= 200 && status < 300) {
      if (s->on_data(data, n, s->ctx) != 0) {
        s->stopped = true;
        return 0;
      }
      return n;
    }
  }
  httpc_resp *r = s->resp;
  if (r->len + n > s->max) {
    s->overflow = true;
    return 0;
  }
  char *nb = realloc(r->body, r->len + n + 1);
  if (nb == NULL)
    return 0;
  r->body = nb;
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = '\0';
  return n;
}

/* The path part of "/v1/x?y=z" for the span name. */
static void
span_name(const char *method, const char *path, char *out, size_t len)
{
  size_t plen = strcspn(path, "?");
  snprintf(out, len, "%s %.*s", method, (int)plen, path);
}

static int
perform(const char *socket_path, const char *method, const char *path, const void *body,
        size_t body_len, const httpc_opts *opts, struct sink *sink, cut_err *err)
{
  pthread_once(&httpc_once, httpc_global_init);
  httpc_opts def = {0};
  if (opts == NULL)
    opts = &def;
  char name[160];
  span_name(method, path, name, sizeof name);
  trace_span sp;
  trace_begin(&sp, TRACE_CLIENT, name, TA_STR("http.method", method), TA_STR("http.target", path),
              TA_STR("net.sock.peer", socket_path), TA_STR("peer", opts->peer ? opts->peer : ""));
  CURL *c = curl_easy_init();
  if (c == NULL) {
    cut_error(err, ENOMEM, "%s: curl init", name);
    trace_end(&sp, err);
    return -1;
  }
  sink->curl = c;
  char url[2048];
  snprintf(url, sizeof url, "http://localhost%s", path);
  struct curl_slist *hdrs = NULL;
  char tp[TRACEPARENT_LEN], tph[TRACEPARENT_LEN + 16];
  if (trace_traceparent(&sp, tp) || trace_traceparent(NULL, tp)) {
    snprintf(tph, sizeof tph, "traceparent: %s", tp);
    hdrs = curl_slist_append(hdrs, tph);
  }
  if (body) {
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s",
             opts->content_type ? opts->content_type : "application/json");
    hdrs = curl_slist_append(hdrs, ct);
  }
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000L);
  if (opts->timeout_ms)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  sink->resp->status = status;
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  int ret = 0;
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink->stopped)) {
    if (sink->overflow)
      cut_error(err, EFBIG, "%s: reply larger than %zu bytes", name, sink->max);
    else
      cut_error(err, rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : 0, "%s on %s: %s", name,
                socket_path, curl_easy_strerror(rc));
    ret = -1;
  }
  trace_end(&sp, ret < 0 ? err : NULL, TA_INT("http.status_code", status));
  return ret;
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
