/* client.h: an HTTP client for the distribution API v2 (libcurl).
 *
 * One reg_client talks to one registry for one repository, like a
 * containerd resolver/fetcher pair or Docker's distribution session:
 *
 *   - endpoint choice as Docker does: HTTPS with verification; for loopback
 *     (127.0.0.0/8, ::1, localhost) and --insecure-registry hosts, HTTPS
 *     without verification then plain HTTP; a CA in <certs.d>/<host>/ca.crt
 *     makes the endpoint HTTPS with verification against that CA;
 *   - auth: a GET /v2/ ping learns the challenge (WWW-Authenticate); Basic
 *     sends the stored credentials, Bearer fetches a token for the scope
 *     (repository:<name>:pull or pull,push) from the realm, anonymously or
 *     with the credentials; a 401 later re-runs the dance once;
 *   - redirects are followed here, not by curl, at most 10, and the
 *     Authorization header never goes to another scheme://host:port;
 *   - every request is a client span "METHOD /path" with url, status, bytes
 *     and peer, and carries a W3C traceparent header.
 *
 * Transfers (reg_xfer) run either one at a time (reg_xfer_run) or many at
 * once on a curl multi handle owned by the caller (pull.c): the same setup
 * and completion logic serves both. */
#ifndef CUTAWAY_REG_CLIENT_H
#define CUTAWAY_REG_CLIENT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ref.h"
#include "trace.h"

#define REG_MANIFEST_MAX (4u << 20) /* containerd and Docker refuse larger */
#define REG_TOKEN_MAX (1u << 20)
#define REG_ERRBODY_MAX (64u << 10)
#define REG_MAX_REDIRECTS 10
#define REG_MAX_ATTEMPTS 5   /* tries of one transfer cut by the network */
#define REG_STALL_TIMEOUT 30 /* seconds below 1 byte/s before a transfer fails */

typedef struct reg_client reg_client;

typedef struct reg_client_opts {
  const char *const *insecure; /* NULL-terminated host[:port] list, or NULL */
  const char *certs_dir;       /* NULL: $CUTAWAY_CERTS_D, else /etc/docker/certs.d */
  bool push;                   /* ask for pull,push scope */
  const char *mount_from;      /* extra scope repository:<this>:pull (cross-repo mount) */
  const char *user, *pass;     /* credentials to use instead of config.json's */
  bool login;                  /* no repository: check the credentials on /v2/ */
  int stall_timeout;           /* seconds; 0: REG_STALL_TIMEOUT */
} reg_client_opts;

/* Open a client for ref's registry and repository: chooses the endpoint and
 * pings /v2/ to learn how to authenticate.  Credentials come from the docker
 * config.json (auth.c). */
int reg_client_open(const image_ref *ref, const reg_client_opts *opts, reg_client **out,
                    cut_err *err);
void reg_client_free(reg_client *cl);

const char *reg_client_base(const reg_client *cl); /* "https://host:port" */
const char *reg_client_repo(const reg_client *cl); /* "library/busybox" */
const char *reg_client_peer(const reg_client *cl); /* "host:port" */

/* A response body sink: return len to continue, anything else aborts. */
typedef size_t (*reg_sink_fn)(const void *data, size_t len, void *arg);

typedef struct reg_xfer {
  /* request (filled by the caller) */
  const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH" */
  char url[4096];     /* absolute, or a path starting with /v2/ */
  const char *accept; /* Accept header value, or NULL */
  const char *content_type;
  const void *body; /* upload from memory ... */
  size_t body_len;
  int body_fd; /* ... or from an fd (pread at body_off), -1 none */
  off_t body_off;
  uint64_t body_size;
  const char *content_range; /* "start-end" for chunked PATCH */
  reg_sink_fn sink;          /* 2xx body goes here; NULL: kept in `buf` */
  void *sink_arg;
  size_t max_body;       /* cap for `buf` (and for sink bodies when non-zero) */
  const char *span_name; /* overrides "METHOD /path" */
  uint64_t range_from;   /* > 0: "Range: bytes=N-" (resume a GET at byte N) */

  /* response */
  long status;
  char *buf; /* the body when sink == NULL (NUL-terminated), or the error body */
  size_t buf_len;
  uint64_t bytes;      /* body bytes received */
  char location[4096]; /* Location header */
  char content_type_resp[256];
  char docker_digest[CUT_DIGEST_LEN + 16];
  char www_auth[2048];
  char range_resp[64];    /* Range header of an upload status */
  int64_t content_length; /* -1 unknown */
  int64_t range_start;    /* a 206's Content-Range first byte, -1 none */
  uint64_t skip;          /* body bytes still to drop (a 200 to a Range request) */

  /* private */
  reg_client *cl;
  CURL *easy;
  struct curl_slist *hdrs;
  trace_span span;
  char parent_tp[TRACEPARENT_LEN];
  bool have_parent;
  int redirects;
  int auth_tries;
  bool cross_host;     /* redirected elsewhere: no credentials */
  bool aborted;        /* the sink refused data */
  bool too_big;        /* the body went past max_body */
  bool in_status;      /* between a status line and its end of headers */
  bool stalled;        /* no byte either way for the stall timeout */
  uint64_t last_io_ns; /* CLOCK_MONOTONIC of the last byte sent or received */
  uint64_t sent;
  char curl_err[CURL_ERROR_SIZE];
} reg_xfer;

/* Initialise a transfer (zeroes it and sets defaults). */
void reg_xfer_init(reg_xfer *x, reg_client *cl, const char *method, const char *url);
void reg_xfer_cleanup(reg_xfer *x);

/* Build the easy handle for the next attempt (begins the client span). */
int reg_xfer_setup(reg_xfer *x, cut_err *err);

enum reg_done { REG_DONE = 0, REG_RETRY = 1 };
/* After curl finished an attempt with `code`: ends the span, follows a
 * redirect or answers an auth challenge (returns REG_RETRY: call setup
 * again), or returns REG_DONE (x->status holds the status).  Transport
 * errors are <0 with err filled. */
int reg_xfer_finish(reg_xfer *x, CURLcode code, cut_err *err);

/* Run a transfer to completion, following redirects and auth.  A GET or
 * HEAD whose connection is cut, stalls or gets a 5xx is started again (at
 * most REG_MAX_ATTEMPTS tries, with a short backoff). */
int reg_xfer_run(reg_xfer *x, cut_err *err);

/* Worth another try: the network failed (reset, stall, refused, a
 * truncated body) or the registry said 5xx/429, as opposed to an answer
 * that will not change (4xx, a body too large, a refused write). */
bool reg_xfer_retryable(const reg_xfer *x, CURLcode code);

/* Wait before attempt n (1, 2, ...): 100 ms, 200 ms, 400 ms ... */
unsigned reg_backoff_ms(int attempt);

/* The redirect rules (pure, unit-tested): `location` from the answer to
 * `url` is resolved into next; hop (1, 2, ...) beyond REG_MAX_REDIRECTS, a
 * scheme other than http/https, and https -> http are refused; *cross_host
 * becomes true (and stays true) once next is not the registry's own
 * scheme://host:port (registry_base), after which no credentials go. */
int reg_redirect_next(const char *url, const char *location, const char *registry_base, int hop,
                      bool *cross_host, char *next, size_t size, cut_err *err);

/* One-line error for a non-2xx answer, using the registry's JSON errors
 * ({"errors":[{"code":...,"message":...}]}) when present. */
int reg_status_error(const reg_xfer *x, const char *what, cut_err *err);

/* The Accept header for manifests: OCI index + manifest, Docker list + v2. */
extern const char REG_MANIFEST_ACCEPT[];

#endif
