/* httpd.h: the HTTP + JSON server every cutaway daemon speaks on its unix
 * socket (cutaway-containerd's /v1 API, each cutaway-shim's small API, and
 * cutawayd's Docker Engine API).
 *
 * It mirrors what dockerd and containerd do for their sockets: the daemon
 * binds the unix socket itself, makes it mode 0660 *between* bind(2) and
 * listen(2) (so no client can ever connect while it is still world-open, the
 * race go-connections' sockets package closes), and hands the listening fd
 * to libmicrohttpd, which runs one thread per connection.  A thread per
 * connection lets a handler block: `wait` long-polls, `events` streams.
 *
 * Each request is one `server` trace span named "METHOD /route" that
 * continues the caller's W3C `traceparent` header, so a request that went
 * CLI -> daemon -> containerd -> shim stays one trace.  Routes are patterns
 * with `{name}` segments ("/v1/containers/{id}"); the span is named after the
 * pattern (so the architecture view aggregates all containers into one
 * edge) and carries the concrete target as an attribute.
 *
 * Bodies are capped (413 beyond the cap, before they are read); a body that
 * is not valid JSON is a 400 with a message naming the problem.  Errors are
 * {"message": "..."} as in Docker's and containerd's HTTP gateways. */
#ifndef CUTAWAY_HTTPD_H
#define CUTAWAY_HTTPD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct MHD_Connection;
struct MHD_Response;

typedef struct httpd httpd;
typedef struct httpd_req httpd_req;

/* A handler answers with exactly one httpd_reply_*; one that returns
 * without replying makes a 500. */
typedef void (*httpd_handler)(httpd_req *req, void *ctx);

typedef struct httpd_route {
  const char *method;  /* "GET", "POST", "DELETE", ... */
  const char *pattern; /* "/v1/containers/{id}/tasks"; "{x*}" matches the rest */
  httpd_handler fn;
} httpd_route;

typedef struct httpd_opts {
  const char *socket_path; /* bound here (a stale socket file is replaced) */
  mode_t socket_mode;      /* 0: 0660 */
  const httpd_route *routes;
  size_t nroutes;
  void *ctx;               /* passed to every handler */
  size_t max_body;         /* 0: 4 MiB */
  httpd_handler not_found; /* NULL: a 404 {"message":"no route for ..."} */
  bool allow_upgrade;      /* MHD_ALLOW_UPGRADE (hijacked attach/exec streams) */
  /* Docker's API: "/v1.41/containers/json" is routed as "/containers/json"
   * (the version is kept, see httpd_api_version). */
  bool strip_api_version;
  /* Name, value, name, value, ..., NULL: headers added to every reply
   * (dockerd's Api-Version, Ostype, Server...). */
  const char *const *default_headers;
} httpd_opts;

/* Bind, chmod, listen and start serving.  On failure nothing is left bound. */
int httpd_start(const httpd_opts *opts, httpd **out, cut_err *err);

/* Ask blocking handlers to return (httpd_stopping() turns true, waiters are
 * woken through httpd_wake), then stop and join every connection thread,
 * close and unlink the socket. */
void httpd_stop(httpd *srv);

/* True once httpd_stop has begun: long-polling handlers check it. */
bool httpd_stopping(const httpd *srv);

/* Register a function that wakes the daemon's own waiters (it broadcasts its
 * condition variables); httpd_stop calls it before joining threads. */
void httpd_set_waker(httpd *srv, void (*wake)(void *ctx), void *ctx);

/* ---- the request ---- */
const char *httpd_method(const httpd_req *req);
/* The path of the URL, without the query. */
const char *httpd_path(const httpd_req *req);
/* The route pattern that matched. */
const char *httpd_route_pattern(const httpd_req *req);
/* The client's socket, for a streamed reply's callback to keep (the request
 * is gone by the time it runs); -1 if unknown. */
int httpd_peer_fd(httpd_req *req);
/* Has the client on fd hung up?  A streamed reply that waits for its next
 * piece (wait, logs -f, events, stats) polls this, so that a client that
 * left does not keep a thread waiting for nothing. */
bool httpd_fd_gone(int fd);

/* An attribute for the request's server span, written at its end (up to 4
 * per request): the object the request is about, e.g. the container's id
 * and name, which `cutaway-trace --container` looks for (docs/tracing.md). */
void httpd_span_attr(httpd_req *req, const char *key, const char *value);

/* "1.41" for a request to "/v1.41/...", "" when unversioned (only with
 * strip_api_version). */
const char *httpd_api_version(const httpd_req *req);
/* A `{name}` segment of the matched pattern (percent-decoded), or NULL. */
const char *httpd_param(const httpd_req *req, const char *name);
/* A query argument (?name=value), or NULL. */
const char *httpd_query(const httpd_req *req, const char *name);
/* A query argument read as a boolean: "1", "true", "yes" (and a bare
 * "?name") are true. */
bool httpd_query_bool(const httpd_req *req, const char *name);
/* A request header (case-insensitive), or NULL. */
const char *httpd_header(const httpd_req *req, const char *name);
/* The raw body (NUL-terminated; len 0 when none). */
const char *httpd_body(const httpd_req *req, size_t *len);
/* Parse the body as a JSON object.  On failure a 400 is already queued and
 * -1 returned: the handler just returns.  With `optional`, an empty body
 * gives *out = an empty object. The tree is owned by the request. */
int httpd_json_body(httpd_req *req, bool optional, cJSON **out);
/* The libmicrohttpd connection, for what this file does not wrap. */
struct MHD_Connection *httpd_connection(httpd_req *req);
httpd *httpd_server(httpd_req *req);
/* True when the client hung up (for long polls that should give up). */
bool httpd_client_gone(httpd_req *req);

/* ---- the reply (exactly one per request) ---- */
/* `doc` is consumed (may be NULL for an empty 204-style body). */
void httpd_reply_json(httpd_req *req, unsigned status, cJSON *doc);
void httpd_reply_error(httpd_req *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The message of a cut_err as {"message": ...}. */
void httpd_reply_err(httpd_req *req, unsigned status, const cut_err *err);
/* Copies data. */
void httpd_reply_raw(httpd_req *req, unsigned status, const char *content_type, const void *data,
                     size_t len);
/* A streamed body of unknown length (chunked).  `read` fills buf with up to
 * max bytes and returns the count, 0 at the end of the stream, or -1 to
 * abort; it may block (one thread per connection).  `done` (may be NULL)
 * runs when the response is finished or the client is gone. */
typedef ssize_t (*httpd_stream_read)(void *cls, char *buf, size_t max);
void httpd_reply_stream(httpd_req *req, unsigned status, const char *content_type,
                        httpd_stream_read read, void *cls, void (*done)(void *cls));
/* Queue a response built with libmicrohttpd directly (upgrade, files).
 * The response is consumed. */
void httpd_reply_response(httpd_req *req, unsigned status, struct MHD_Response *resp);
/* Run fn(ctx) once the reply has been sent completely (or the connection
 * dropped): e.g. a shim exits only after its `delete` reply is out. */
void httpd_after_reply(httpd_req *req, void (*fn)(void *ctx), void *ctx);
/* Add a header to the reply before it is sent (call before httpd_reply_*). */
void httpd_reply_header(httpd_req *req, const char *name, const char *value);

/* Pure helper, exported for unit tests: match `path` against `pattern`;
 * on success fills up to max (name,value) pairs (values malloc'ed,
 * percent-decoded) and returns the count, else -1. */
int httpd_match(const char *pattern, const char *path, char *names[], char *values[], int max);

#endif
