/* client.c: distribution API v2 over libcurl (see client.h).
 *
 * Mirrors what Docker's registry session and containerd's docker resolver do
 * on the wire: ping /v2/, answer the auth challenge, send Accept headers,
 * follow redirects by hand so credentials stay with their origin (curl's
 * own follower would, with CURLOPT_UNRESTRICTED_AUTH=0, still forward a
 * custom Authorization header; a bearer token is such a header). */
#include "client.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "json.h"

const char REG_MANIFEST_ACCEPT[] =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1";

struct reg_client {
  image_ref ref;
  char base[600]; /* scheme://host:port */
  char peer[300]; /* host:port */
  bool https;
  bool verify;
  char ca_file[PATH_MAX];
  bool insecure;
  char *user, *pass;
  auth_challenge chal;
  bool have_chal;
  char scope[1200];
  char *authz; /* "Authorization: ..." sent to the registry's origin */
  CURLSH *share;
  long stall_timeout;
};

const char *
reg_client_base(const reg_client *cl)
{
  return cl->base;
}
const char *
reg_client_repo(const reg_client *cl)
{
  return cl->ref.path;
}
const char *
reg_client_peer(const reg_client *cl)
{
  return cl->peer;
}

/* ---- origins ---------------------------------------------------------- */

/* scheme, host and port of an absolute URL, lowercased, with default ports
 * filled in: two URLs are the same origin when these are equal. */
struct origin {
  char scheme[8];
  char host[256];
  long port;
};

static int
url_origin(const char *url, struct origin *o)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int r = -1;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    snprintf(o->scheme, sizeof o->scheme, "%s", scheme);
    snprintf(o->host, sizeof o->host, "%s", host);
    for (char *p = o->host; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    o->port = strtol(port, NULL, 10);
    r = 0;
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return r;
}

static bool
same_origin(const struct origin *a, const struct origin *b)
{
  return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port;
}

/* Resolve a Location against the URL that answered with it. */
static int
url_resolve(const char *base, const char *loc, char *out, size_t size)
{
  CURLU *u = curl_url();
  char *full = NULL;
  int r = -1;
  if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < size) {
    snprintf(out, size, "%s", full);
    r = 0;
  }
  curl_free(full);
  curl_url_cleanup(u);
  return r;
}

/* ---- transfers -------------------------------------------------------- */

void
reg_xfer_init(reg_xfer *x, reg_client *cl, const char *method, const char *url)
{
  memset(x, 0, sizeof *x);
  x->cl = cl;
  x->method = method;
  x->body_fd = -1;
  x->content_length = -1;
  if (url[0] == '/')
    snprintf(x->url, sizeof x->url, "%s%s", cl->base, url);
  else
    snprintf(x->url, sizeof x->url, "%s", url);
  /* Captured now so that transfers running side by side on a multi handle
   * are all children of the operation that started them. */
  x->have_parent = trace_traceparent(NULL, x->parent_tp);
}

static void
reset_response(reg_xfer *x)
{
  free(x->buf);
  x->buf = NULL;
  x->buf_len = 0;
  x->bytes = 0;
  x->status = 0;
  x->location[0] = x->content_type_resp[0] = x->docker_digest[0] = x->www_auth[0] = '\0';
  x->range_resp[0] = '\0';
  x->content_length = -1;
  x->range_start = -1;
  x->skip = 0;
  x->aborted = false;
  x->too_big = false;
  x->stalled = false;
  x->sent = 0;
}

static void
end_span(reg_xfer *x, const cut_err *err)
{
  if (!x->span.active)
    return;
  trace_end(&x->span, err, TA_INT("status", x->status), TA_INT("bytes", x->bytes),
            TA_INT("sent", x->sent));
}

void
reg_xfer_cleanup(reg_xfer *x)
{
  end_span(x, NULL);
  if (x->easy)
    curl_easy_cleanup(x->easy);
  x->easy = NULL;
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  free(x->buf);
  x->buf = NULL;
}

static void
set_header_value(char *dst, size_t size, const char *v, size_t n)
{
  while (n && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
    n--;
  if (n >= size)
    n = size - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
  reg_xfer *x = arg;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    /* A new response (after a 100 Continue, or the real one). */
    const char *sp = memchr(data, ' ', n);
    x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    return n;
  }
  const char *colon = memchr(data, ':', n);
  if (!colon)
    return n;
  size_t klen = colon - data;
  const char *v = colon + 1;
  size_t vlen = n - klen - 1;
#define HDR(name) (klen == sizeof(name) - 1 && strncasecmp(data, name, klen) == 0)
  if (HDR("location"))
    set_header_value(x->location, sizeof x->location, v, vlen);
  else if (HDR("content-type"))
    set_header_value(x->content_type_resp, sizeof x->content_type_resp, v, vlen);
  else if (HDR("docker-content-digest"))
    set_header_value(x->docker_digest, sizeof x->docker_digest, v, vlen);
  else if (HDR("www-authenticate"))
    set_header_value(x->www_auth, sizeof x->www_auth, v, vlen);
  else if (HDR("range"))
    set_header_value(x->range_resp, sizeof x->range_resp, v, vlen);
  else if (HDR("content-range")) {
    /* "bytes FIRST-LAST/TOTAL": where a 206 body starts. */
    char tmp[96];
    unsigned long long first;
    set_header_value(tmp, sizeof tmp, v, vlen);
    if (sscanf(tmp, "bytes %llu-", &first) == 1)
      x->range_start = (int64_t)first;
  } else if (HDR("content-length")) {
    char tmp[32];
    set_header_value(tmp, sizeof tmp, v, vlen);
    x->content_length = strtoll(tmp, NULL, 10);
  }
#undef HDR
  return n;
}

static bool
is_2xx(long s)
{
  return s >= 200 && s < 300;
}

static int
buf_append(reg_xfer *x, const void *data, size_t n, size_t cap)
{
  if (x->buf_len + n > cap)
    return -1;
  char *nb = realloc(x->buf, x->buf_len + n + 1);
  if (!nb)
    return -1;
  memcpy(nb + x->buf_len, data, n);
  x->buf = nb;
  x->buf_len += n;
  x->buf[x->buf_len] = '\0';
  return 0;
}

static size_t on_body_rest(reg_xfer *x, char *data, size_t n);

static uint64_t
mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* curl calls this about once a second (and on every chunk): a transfer
 * with no byte either way for the stall timeout is stopped, and its
 * caller may resume it.  curl's own CURLOPT_LOW_SPEED_TIME averages the
 * speed over several seconds, so after a fast start it notices a stall
 * only seconds late. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  reg_xfer *x = arg;
  if (mono_ns() - x->last_io_ns > (uint64_t)x->cl->stall_timeout * 1000000000ull) {
    x->stalled = true;
    return 1;
  }
  return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
  reg_xfer *x = arg;
  size_t n = size * nmemb;
  if (x->range_from && x->bytes == 0 && is_2xx(x->status)) {
    /* A resumed GET: a 206 must start where we asked; a server that
     * ignored Range sends it all (200), and what we have is dropped. */
    if (x->status == 206 && x->range_start != (int64_t)x->range_from) {
      x->aborted = true;
      return 0;
    }
    if (x->status == 200)
      x->skip = x->range_from;
  }
  x->bytes += n;
  x->last_io_ns = mono_ns();
  if (x->skip) {
    size_t drop = x->skip < n ? (size_t)x->skip : n;
    x->skip -= drop;
    data += drop;
    if (drop == n)
      return n;
    size_t r = on_body_rest(x, data, n - drop);
    return r == n - drop ? n : 0;
  }
  return on_body_rest(x, data, n);
}

static size_t
on_body_rest(reg_xfer *x, char *data, size_t n)
{
  /* A body longer than the caller allows is cut at the first byte too
   * many (or before, when Content-Length announces it). */
  if (is_2xx(x->status) && x->max_body &&
      (x->bytes > x->max_body ||
       (x->content_length >= 0 && (uint64_t)x->content_length > x->max_body))) {
    x->aborted = x->too_big = true;
    return 0;
  }
  if (is_2xx(x->status) && x->sink) {
    size_t r = x->sink(data, n, x->sink_arg);
    if (r != n)
      x->aborted = true;
    return r;
  }
  size_t cap = is_2xx(x->status) ? (x->max_body ? x->max_body : REG_MANIFEST_MAX) : REG_ERRBODY_MAX;
  if (buf_append(x, data, n, cap) < 0) {
    x->aborted = x->too_big = true;
    return 0;
  }
  return n;
}

static size_t
on_read(char *out, size_t size, size_t nmemb, void *arg)
{
  reg_xfer *x = arg;
  size_t want = size * nmemb;
  uint64_t total = x->body ? x->body_len : x->body_size;
  if (x->sent >= total)
    return 0;
  if (want > total - x->sent)
    want = (size_t)(total - x->sent);
  if (x->body) {
    memcpy(out, (const char *)x->body + x->sent, want);
  } else {
    ssize_t r = pread(x->body_fd, out, want, x->body_off + (off_t)x->sent);
    if (r <= 0)
      return CURL_READFUNC_ABORT;
    want = (size_t)r;
  }
  x->sent += want;
  x->last_io_ns = mono_ns();
  return want;
}

/* "GET /v2/library/busybox/manifests/latest": the path, without the query. */
static void
span_name_of(const reg_xfer *x, char *out, size_t size)
{
  if (x->span_name) {
    snprintf(out, size, "%s", x->span_name);
    return;
  }
  const char *p = strstr(x->url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  if (!p)
    p = "/";
  size_t n = strcspn(p, "?#");
  snprintf(out, size, "%s %.*s", x->method, (int)n, p);
}

static bool
x_has_body(const reg_xfer *x)
{
  return x->body || x->body_fd >= 0 || strcmp(x->method, "PUT") == 0 ||
         strcmp(x->method, "POST") == 0 || strcmp(x->method, "PATCH") == 0;
}

int
reg_xfer_setup(reg_xfer *x, cut_err *err)
{
  reg_client *cl = x->cl;
  reset_response(x);
  if (x->easy)
    curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  x->easy = curl_easy_init();
  if (!x->easy)
    return cut_error(err, ENOMEM, "curl_easy_init");

  /* A URL outside the registry's origin (an upload Location or a token
   * realm elsewhere) never gets the registry's credentials. */
  struct origin xo, ro;
  if (url_origin(x->url, &xo) < 0 || url_origin(cl->base, &ro) < 0 || !same_origin(&xo, &ro))
    x->cross_host = true;

  char name[160];
  span_name_of(x, name, sizeof name);
  struct origin o;
  char peer[300] = "";
  if (url_origin(x->url, &o) == 0)
    snprintf(peer, sizeof peer, "%s:%ld", o.host, o.port);
  if (x->have_parent)
    trace_begin_remote(&x->span, TRACE_CLIENT, name, x->parent_tp, TA_STR("method", x->method),
                       TA_STR("url", x->url), TA_STR("peer", peer));
  else
    trace_begin(&x->span, TRACE_CLIENT, name, TA_STR("method", x->method), TA_STR("url", x->url),
                TA_STR("peer", peer));

  CURL *e = x->easy;
  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_SHARE, cl->share);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 15L);
  /* A stalled transfer fails instead of hanging forever (G9); the caller
   * may then resume it. */
  x->last_io_ns = mono_ns();
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "cutaway-image/0.1");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
  x->curl_err[0] = '\0';
  if (strncmp(x->url, "https:", 6) == 0) {
    bool verify = cl->verify || x->cross_host;
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (cl->ca_file[0] && !x->cross_host)
      curl_easy_setopt(e, CURLOPT_CAINFO, cl->ca_file);
  }

  if (strcmp(x->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (x_has_body(x)) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t)(x->body ? x->body_len : (x->body_fd >= 0 ? x->body_size : 0)));
    if (strcmp(x->method, "PUT") != 0)
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
  } else if (strcmp(x->method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
  }

  char h[4200];
  x->hdrs = curl_slist_append(x->hdrs, "Expect:");
  if (x->accept) {
    snprintf(h, sizeof h, "Accept: %s", x->accept);
    x->hdrs = curl_slist_append(x->hdrs, h);
  }
  if (x->content_type) {
    snprintf(h, sizeof h, "Content-Type: %s", x->content_type);
    x->hdrs = curl_slist_append(x->hdrs, h);
  }
  if (x->content_range) {
    snprintf(h, sizeof h, "Content-Range: %s", x->content_range);
    x->hdrs = curl_slist_append(x->hdrs, h);
  }
  if (x->range_from) {
    snprintf(h, sizeof h, "Range: bytes=%llu-", (unsigned long long)x->range_from);
    x->hdrs = curl_slist_append(x->hdrs, h);
  }
  /* Credentials only to the origin they belong to. */
  if (cl->authz && !x->cross_host)
    x->hdrs = curl_slist_append(x->hdrs, cl->authz);
  char tp[TRACEPARENT_LEN];
  if (trace_traceparent(&x->span, tp)) {
    snprintf(h, sizeof h, "traceparent: %s", tp);
    x->hdrs = curl_slist_append(x->hdrs, h);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
  return 0;
}

static int reg_auth_for(reg_client *cl, const char *challenge_hdr, cut_err *err);

int
reg_redirect_next(const char *url, const char *location, const char *registry_base, int hop,
                  bool *cross_host, char *next, size_t size, cut_err *err)
{
  if (hop > REG_MAX_REDIRECTS)
    return cut_error(err, 0, "more than %d redirects", REG_MAX_REDIRECTS);
  if (!location || location[0] == '\0' || url_resolve(url, location, next, size) < 0)
    return cut_error(err, 0, "redirect with a bad Location");
  struct origin from, to, reg;
  if (url_origin(url, &from) < 0 || url_origin(next, &to) < 0 ||
      url_origin(registry_base, &reg) < 0)
    return cut_error(err, 0, "redirect to unparsable URL");
  if (strcmp(to.scheme, "http") != 0 && strcmp(to.scheme, "https") != 0)
    return cut_error(err, 0, "redirect to scheme %s refused", to.scheme);
  if (strcmp(from.scheme, "https") == 0 && strcmp(to.scheme, "http") == 0)
    return cut_error(err, 0, "redirect from https to http refused");
  /* Once the request has left the registry's origin it never carries the
   * registry's credentials again, even if a later hop comes back. */
  if (!same_origin(&to, &reg))
    *cross_host = true;
  return 0;
}

static int
follow_redirect(reg_xfer *x, cut_err *err)
{
  char next[sizeof x->url];
  if (reg_redirect_next(x->url, x->location, x->cl->base, ++x->redirects, &x->cross_host, next,
                        sizeof next, err) < 0)
    return cut_wrap(err, "%s %s", x->method, x->url);
  trace_event("http.redirect", TA_INT("status", x->status), TA_STR("location", next),
              TA_BOOL("credentials", !x->cross_host));
  snprintf(x->url, sizeof x->url, "%s", next);
  if (x->status == 303)
    x->method = "GET";
  return REG_RETRY;
}

int
reg_xfer_finish(reg_xfer *x, CURLcode code, cut_err *err)
{
  if (code != CURLE_OK) {
    if (x->too_big)
      cut_error(err, EFBIG, "%s %s: response larger than the %zu bytes expected", x->method, x->url,
                x->max_body ? x->max_body : (size_t)REG_MANIFEST_MAX);
    else if (x->stalled)
      cut_error(err, ETIMEDOUT, "%s %s: no data for %ld s (stalled)", x->method, x->url,
                x->cl->stall_timeout);
    else if (x->aborted)
      cut_error(err, 0, "%s %s: transfer stopped", x->method, x->url);
    else
      cut_error(err, 0, "%s %s: %s", x->method, x->url,
                x->curl_err[0] ? x->curl_err : curl_easy_strerror(code));
    end_span(x, err);
    return -1;
  }
  end_span(x, NULL);
  if (getenv("CUTAWAY_IMAGE_DEBUG"))
    fprintf(stderr, "cutaway-image: %s %s -> %ld (%llu bytes)%s\n", x->method, x->url, x->status,
            (unsigned long long)x->bytes, x->cross_host ? " [no credentials]" : "");
  if (x->status >= 300 && x->status < 400 && x->status != 304)
    return follow_redirect(x, err);
  if (x->status == 401 && !x->cross_host && x->auth_tries++ == 0 && x->www_auth[0]) {
    if (reg_auth_for(x->cl, x->www_auth, err) < 0)
      return -1;
    return REG_RETRY;
  }
  return REG_DONE;
}

bool
reg_xfer_retryable(const reg_xfer *x, CURLcode code)
{
  if (x->stalled)
    return true;
  if (x->too_big || x->aborted)
    return false; /* our own refusal: the same bytes would come again */
  switch (code) {
  case CURLE_OK: return x->status >= 500 || x->status == 429;
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT: /* the low-speed limit: a stall */
  case CURLE_PARTIAL_FILE:       /* connection closed before Content-Length */
  case CURLE_RECV_ERROR:         /* reset */
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM: return true;
  default: return false;
  }
}

unsigned
reg_backoff_ms(int attempt)
{
  return attempt < 1 ? 0 : 100u << (attempt < 6 ? attempt - 1 : 5);
}

int
reg_xfer_run(reg_xfer *x, cut_err *err)
{
  bool idempotent = strcmp(x->method, "GET") == 0 || strcmp(x->method, "HEAD") == 0;
  char first_url[sizeof x->url];
  snprintf(first_url, sizeof first_url, "%s", x->url);
  for (int attempt = 1;;) {
    if (reg_xfer_setup(x, err) < 0)
      return -1;
    CURLcode c = curl_easy_perform(x->easy);
    bool again = idempotent && !x->sink && attempt < REG_MAX_ATTEMPTS && reg_xfer_retryable(x, c);
    if (again && c == CURLE_OK) {
      end_span(x, NULL);
    } else {
      int r = reg_xfer_finish(x, c, err);
      if (r == REG_RETRY)
        continue;
      if (r == 0 || !again)
        return r < 0 && attempt > 1 ? cut_wrap(err, "after %d attempts", attempt) : r;
    }
    /* Start over from the first URL (a redirect target may have been the
     * part that failed), whole: these bodies are small. */
    trace_event("http.retry", TA_STR("url", first_url), TA_INT("attempt", attempt + 1),
                TA_STR("reason", x->stalled      ? "stalled"
                                 : c == CURLE_OK ? "server error"
                                                 : curl_easy_strerror(c)),
                TA_INT("status", x->status));
    usleep(reg_backoff_ms(attempt) * 1000u);
    attempt++;
    snprintf(x->url, sizeof x->url, "%s", first_url);
    x->redirects = 0;
    x->cross_host = false;
    cut_err_clear(err);
  }
}

int
reg_status_error(const reg_xfer *x, const char *what, cut_err *err)
{
  const char *detail = "";
  char msg[512] = "";
  cJSON *doc = NULL;
  cut_err ignore;
  if (x->buf && json_parse(x->buf, x->buf_len, "error", &doc, &ignore) == 0) {
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(doc, "errors");
    const cJSON *e0 = cJSON_GetArrayItem(errs, 0);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e0, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e0, "message");
    if (cJSON_IsString(code) || cJSON_IsString(m))
      snprintf(msg, sizeof msg, ": %s%s%s", cJSON_IsString(code) ? code->valuestring : "",
               cJSON_IsString(code) && cJSON_IsString(m) ? " " : "",
               cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(doc);
    detail = msg;
  }
  const char *hint = "";
  if (x->status == 401)
    hint = x->cl->user ? " (authentication failed)" : " (authentication required: run login)";
  else if (x->status == 403)
    hint = " (access denied)";
  return cut_error(err, 0, "%s: %s %ld%s%s", what, x->method, x->status, detail, hint);
}

/* ---- authentication --------------------------------------------------- */

static void
set_authz(reg_client *cl, const char *scheme, const char *cred)
{
  free(cl->authz);
  size_t n = strlen(scheme) + strlen(cred) + 32;
  cl->authz = malloc(n);
  snprintf(cl->authz, n, "Authorization: %s %s", scheme, cred);
}

static char *
basic_credential(const reg_client *cl)
{
  size_t n = strlen(cl->user) + 1 + strlen(cl->pass);
  char *plain = malloc(n + 1);
  snprintf(plain, n + 1, "%s:%s", cl->user, cl->pass);
  char *b = auth_b64_encode(plain, n);
  explicit_bzero(plain, n);
  free(plain);
  return b;
}

/* Credentials travel only over TLS, or to a host Docker would talk plain
 * HTTP to anyway (loopback, --insecure-registry). */
static bool
may_send_creds(const reg_client *cl, const char *url)
{
  if (strncmp(url, "https://", 8) == 0)
    return true;
  struct origin o;
  if (url_origin(url, &o) < 0)
    return false;
  char dom[300];
  snprintf(dom, sizeof dom, strchr(o.host, ':') ? "[%s]" : "%s", o.host);
  return ref_domain_is_loopback(dom) || cl->insecure;
}

static size_t
append_escaped(char *out, size_t size, size_t at, const char *key, const char *val)
{
  char *esc = curl_easy_escape(NULL, val, 0);
  if (esc) {
    int n = snprintf(out + at, size - at, "%s%s=%s", strchr(out, '?') ? "&" : "?", key, esc);
    if (n > 0)
      at += (size_t)n;
    curl_free(esc);
  }
  return at < size ? at : size - 1;
}

/* GET <realm>?service=..&scope=..: the token server answers
 * {"token":"..."} (or "access_token", OAuth2 style). */
static int
fetch_token(reg_client *cl, const auth_challenge *ch, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "auth.token", TA_STR("realm", ch->realm),
              TA_STR("service", ch->service), TA_STR("scope", cl->scope),
              TA_BOOL("credentials", cl->user != NULL));
  reg_xfer x;
  reg_xfer_init(&x, cl, "GET", ch->realm);
  size_t at = strlen(x.url);
  if (ch->service[0])
    at = append_escaped(x.url, sizeof x.url, at, "service", ch->service);
  /* The scope list is space-separated: one scope= parameter each. */
  char scopes[sizeof cl->scope];
  snprintf(scopes, sizeof scopes, "%s", cl->scope);
  for (char *save, *s = strtok_r(scopes, " ", &save); s; s = strtok_r(NULL, " ", &save))
    at = append_escaped(x.url, sizeof x.url, at, "scope", s);
  x.max_body = REG_TOKEN_MAX;
  x.cross_host = true; /* the registry's Authorization never goes to the realm */
  struct curl_slist *extra = NULL;
  int r = -1;
  if (cl->user) {
    if (!may_send_creds(cl, x.url)) {
      cut_error(err, 0, "token realm %s is plain HTTP: credentials not sent", ch->realm);
      goto out;
    }
  }
  if (reg_xfer_setup(&x, err) < 0)
    goto out;
  if (cl->user) {
    char *b = basic_credential(cl);
    size_t n = strlen(b) + 32;
    char *h = malloc(n);
    snprintf(h, n, "Authorization: Basic %s", b);
    free(b);
    /* x.hdrs is already attached to the handle; appending keeps it valid. */
    extra = curl_slist_append(x.hdrs, h);
    explicit_bzero(h, n);
    free(h);
    x.hdrs = extra;
    curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, x.hdrs);
  }
  CURLcode c = curl_easy_perform(x.easy);
  if (c != CURLE_OK) {
    reg_xfer_finish(&x, c, err);
    cut_wrap(err, "token");
    goto out;
  }
  end_span(&x, NULL);
  if (x.status != 200) {
    reg_status_error(&x, "token", err);
    goto out;
  }
  cJSON *doc;
  if (json_parse(x.buf ? x.buf : "", x.buf_len, "token response", &doc, err) < 0)
    goto out;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "token");
  if (!cJSON_IsString(t) || !t->valuestring[0])
    t = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
  if (!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > 16384 ||
      strpbrk(t->valuestring, "\r\n")) {
    cut_error(err, 0, "token response without a usable token");
  } else {
    set_authz(cl, "Bearer", t->valuestring);
    r = 0;
  }
  cJSON_Delete(doc);
out:
  reg_xfer_cleanup(&x);
  trace_end_rc(&sp, r, err);
  return r;
}

static int
reg_auth_for(reg_client *cl, const char *challenge_hdr, cut_err *err)
{
  auth_challenge ch;
  trace_event("auth.challenge", TA_STR("www_authenticate", challenge_hdr));
  if (auth_parse_challenge(challenge_hdr, &ch, err) < 0)
    return cut_wrap(err, "%s", cl->peer);
  cl->chal = ch;
  cl->have_chal = true;
  if (strcmp(ch.scheme, "basic") == 0) {
    if (!cl->user)
      return cut_error(err, 0, "%s: authentication required (run cutaway-image login %s)", cl->peer,
                       cl->ref.domain);
    if (!may_send_creds(cl, cl->base))
      return cut_error(err, 0, "%s: Basic auth over plain HTTP refused", cl->peer);
    char *b = basic_credential(cl);
    set_authz(cl, "Basic", b);
    free(b);
    return 0;
  }
  return fetch_token(cl, &ch, err);
}

/* ---- open ------------------------------------------------------------- */

/* login: the credentials must open /v2/ (Basic), or the token server must
 * have accepted them (Bearer, already done by the ping). */
static int
check_login(reg_client *cl, cut_err *err)
{
  if (!cl->have_chal)
    return 0; /* the registry wants no credentials at all */
  reg_xfer x;
  reg_xfer_init(&x, cl, "GET", "/v2/");
  x.auth_tries = 1;
  int r = reg_xfer_run(&x, err);
  if (r == 0 && x.status != 200)
    r = reg_status_error(&x, "credentials check", err);
  reg_xfer_cleanup(&x);
  return r;
}

static bool
listed_insecure(const char *domain, const char *const *list)
{
  for (; list && *list; list++)
    if (strcmp(*list, domain) == 0)
      return true;
  return false;
}

static int
ping(reg_client *cl, cut_err *err)
{
  reg_xfer x;
  reg_xfer_init(&x, cl, "GET", "/v2/");
  x.auth_tries = 1; /* the challenge is read here, not answered */
  int r = reg_xfer_run(&x, err);
  if (r == 0 && x.status == 401 && x.www_auth[0]) {
    r = reg_auth_for(cl, x.www_auth, err);
  } else if (r == 0 && x.status == 401) {
    r = cut_error(err, 0, "%s: 401 without a WWW-Authenticate challenge", cl->peer);
  }
  reg_xfer_cleanup(&x);
  return r;
}

int
reg_client_open(const image_ref *ref, const reg_client_opts *opts, reg_client **out, cut_err *err)
{
  static bool curl_ready;
  if (!curl_ready) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ready = true;
  }
  reg_client *cl = calloc(1, sizeof *cl);
  if (!cl)
    return cut_error(err, ENOMEM, "client");
  cl->ref = *ref;
  cl->stall_timeout = opts && opts->stall_timeout > 0 ? opts->stall_timeout : REG_STALL_TIMEOUT;
  cl->share = curl_share_init();
  curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(cl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);

  const char *api = ref_api_host(ref);
  cl->insecure = listed_insecure(ref->domain, opts ? opts->insecure : NULL);
  bool loopback = ref_domain_is_loopback(ref->domain);
  const char *certs = opts && opts->certs_dir ? opts->certs_dir : getenv("CUTAWAY_CERTS_D");
  if (!certs || !*certs)
    certs = "/etc/docker/certs.d";
  struct stat st;
  snprintf(cl->ca_file, sizeof cl->ca_file, "%s/%s/ca.crt", certs, ref->domain);
  if (stat(cl->ca_file, &st) != 0)
    cl->ca_file[0] = '\0';

  /* Scope: repository:<name>:pull[,push], plus the source repository of a
   * cross-repository mount, space separated as the token spec wants. */
  if (!(opts && opts->login)) {
    int n = snprintf(cl->scope, sizeof cl->scope, "repository:%s:%s", ref->path,
                     opts && opts->push ? "pull,push" : "pull");
    if (opts && opts->mount_from && strcmp(opts->mount_from, ref->path) != 0)
      snprintf(cl->scope + n, sizeof cl->scope - n, " repository:%s:pull", opts->mount_from);
  }

  if (opts && opts->user) {
    cl->user = strdup(opts->user);
    cl->pass = strdup(opts->pass ? opts->pass : "");
  } else if (auth_get(ref->domain, &cl->user, &cl->pass, err) < 0) {
    reg_client_free(cl);
    return -1;
  }

  /* Endpoint order, as Docker's registry service lists them. */
  struct {
    const char *scheme;
    bool verify;
  } eps[2];
  int neps = 0;
  if (cl->ca_file[0] || (!loopback && !cl->insecure)) {
    eps[neps++] = (typeof(eps[0])){"https", true};
  } else {
    eps[neps++] = (typeof(eps[0])){"https", false};
    eps[neps++] = (typeof(eps[0])){"http", false};
  }
  for (int i = 0; i < neps; i++) {
    cl->https = strcmp(eps[i].scheme, "https") == 0;
    cl->verify = eps[i].verify;
    snprintf(cl->base, sizeof cl->base, "%s://%s", eps[i].scheme, api);
    struct origin o;
    if (url_origin(cl->base, &o) < 0) {
      reg_client_free(cl);
      return cut_error(err, 0, "bad registry address %s", api);
    }
    snprintf(cl->peer, sizeof cl->peer, "%s:%ld", o.host, o.port);
    cut_err_clear(err);
    if (ping(cl, err) == 0) {
      if (opts && opts->login && check_login(cl, err) < 0)
        break;
      *out = cl;
      return 0;
    }
    /* A TLS failure on an insecure host falls back to plain HTTP; an auth
     * failure is final. */
    if (cl->have_chal)
      break;
  }
  cut_wrap(err, "registry %s", ref->domain);
  reg_client_free(cl);
  return -1;
}

void
reg_client_free(reg_client *cl)
{
  if (!cl)
    return;
  if (cl->share)
    curl_share_cleanup(cl->share);
  if (cl->pass)
    explicit_bzero(cl->pass, strlen(cl->pass));
  if (cl->authz)
    explicit_bzero(cl->authz, strlen(cl->authz));
  free(cl->user);
  free(cl->pass);
  free(cl->authz);
  free(cl);
}
