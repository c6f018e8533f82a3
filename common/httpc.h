/* httpc.h: the HTTP client side of cutaway's unix-socket APIs (libcurl with
 * CURLOPT_UNIX_SOCKET_PATH), used by cutaway-ctr -> cutaway-containerd,
 * cutaway-containerd -> cutaway-shim and cutawayd -> cutaway-containerd.
 *
 * Each request is one `client` trace span named "METHOD /path" whose id
 * travels in the W3C `traceparent` header; the server's span (httpd.h)
 * becomes its child.  That pair is one arrow in the request-path diagram,
 * which is how gRPC interceptors in containerd and otelhttp in dockerd link
 * their spans. */
#ifndef CUTAWAY_HTTPC_H
#define CUTAWAY_HTTPC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct httpc_opts {
  long timeout_ms;          /* 0: none (long polls) */
  long connect_timeout_ms;  /* 0: 5000 */
  size_t max_body;          /* 0: 64 MiB */
  const char *content_type; /* NULL: application/json when a body is sent */
  const char *peer;         /* attr "peer" of the span (e.g. "cutaway-shim") */
} httpc_opts;

typedef struct httpc_resp {
  long status;
  char *body; /* NUL-terminated */
  size_t len;
} httpc_resp;

/* One request.  A transport failure (nobody listening, timeout) is -1 with
 * err filled; any HTTP status is success (check out->status). */
int httpc_do(const char *socket_path, const char *method, const char *path, const void *body,
             size_t body_len, const httpc_opts *opts, httpc_resp *out, cut_err *err);
void httpc_resp_free(httpc_resp *r);

/* JSON request and reply.  `body` may be NULL.  A non-2xx status is -1 with
 * err holding the server's {"message"} (and *status set, when non-NULL);
 * on success *out is the parsed reply or NULL for an empty body (out may be
 * NULL to ignore it). */
int httpc_json(const char *socket_path, const char *method, const char *path, const cJSON *body,
               const httpc_opts *opts, long *status, cJSON **out, cut_err *err);

/* A streamed reply (events, logs): on_data gets each chunk as it arrives and
 * returns non-zero to stop.  A non-2xx status is -1 with the message. */
int httpc_stream(const char *socket_path, const char *method, const char *path, const void *body,
                 size_t body_len, const httpc_opts *opts,
                 int (*on_data)(const char *data, size_t len, void *ctx), void *ctx, long *status,
                 cut_err *err);

/* The "message" of an error body, or the body itself. */
void httpc_error_message(const httpc_resp *r, char *out, size_t out_len);

#endif
