/* trace.h: the trace events every cutaway component emits.
 *
 * This is the producer side of docs/tracing.md (the normative format).  A
 * component calls trace_init() once, then wraps each operation in a span:
 *
 *     trace_span sp;
 *     trace_begin(&sp, TRACE_SYSCALL, "mount",
 *                 TA_STR("source", "proc"), TA_STR("target", "/proc"));
 *     int r = trace_end_sys(&sp, mount("proc", "/proc", "proc", flags, NULL));
 *
 * Spans nest by themselves: a span begun while another is open on the same
 * thread becomes its child.  Across processes the context travels as a W3C
 * `traceparent` (HTTP header, or the TRACEPARENT environment variable across
 * exec), so a request is one trace from the CLI down to execve.
 *
 * Tracing never fails the traced operation: a sink that cannot be opened or
 * written is silently given up.  With CUTAWAY_TRACE=off every call returns at
 * once after one branch. */
#ifndef CUTAWAY_TRACE_H
#define CUTAWAY_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* OpenTelemetry span kinds, plus `syscall` for a kernel-facing step. */
enum trace_kind { TRACE_INTERNAL, TRACE_SERVER, TRACE_CLIENT, TRACE_SYSCALL };

enum trace_attr_type { TA_T_STR, TA_T_INT, TA_T_BOOL, TA_T_JSON };

typedef struct trace_attr {
  const char *key;
  enum trace_attr_type type;
  const char *s; /* TA_T_STR, TA_T_JSON (raw JSON text) */
  long long i;   /* TA_T_INT, TA_T_BOOL */
} trace_attr;

#define TA_STR(k, v) ((trace_attr){.key = (k), .type = TA_T_STR, .s = (v)})
#define TA_INT(k, v) ((trace_attr){.key = (k), .type = TA_T_INT, .i = (long long)(v)})
#define TA_BOOL(k, v) ((trace_attr){.key = (k), .type = TA_T_BOOL, .i = !!(v)})
#define TA_JSON(k, v) ((trace_attr){.key = (k), .type = TA_T_JSON, .s = (v)})

#define TRACE_ID_HEX 33    /* 32 hex + NUL */
#define SPAN_ID_HEX 17     /* 16 hex + NUL */
#define TRACEPARENT_LEN 56 /* "00-<32>-<16>-01" + NUL */

typedef struct trace_span {
  char trace_id[TRACE_ID_HEX];
  char span_id[SPAN_ID_HEX];
  char parent_id[SPAN_ID_HEX]; /* "" for a root span */
  char name[128];
  enum trace_kind kind;
  bool active;              /* begun and not yet ended */
  struct trace_span *outer; /* the span that was current before this one */
} trace_span;

/* Once per process, before any span: the component name ("cutaway-runc")
 * and the process's role (its lifeline in diagrams).  Reads CUTAWAY_TRACE
 * (a path, or "off"; unset means CUTAWAY_TRACE_DEFAULT) and TRACEPARENT. */
void trace_init(const char *component, const char *role);

#define CUTAWAY_TRACE_DEFAULT "/var/log/cutaway/trace.jsonl"

/* A new role for this process (after fork): also sets the process title with
 * prctl(PR_SET_NAME) so `ps` shows the same name as the diagrams. */
void trace_set_role(const char *role);

bool trace_enabled(void);

/* Begin a span as a child of the current span (or of the inherited
 * TRACEPARENT, or as a new trace) and make it current. */
void trace_begin_a(trace_span *sp, enum trace_kind kind, const char *name, const trace_attr *attrs,
                   size_t n);
/* Begin a span whose parent is a remote `traceparent` (an HTTP header).
 * A NULL or malformed header starts a new trace, as W3C requires. */
void trace_begin_remote_a(trace_span *sp, enum trace_kind kind, const char *name,
                          const char *traceparent, const trace_attr *attrs, size_t n);
/* End a span: ok when err is NULL, else status error with err's message and
 * errno.  The span's outer span becomes current again. */
void trace_end_a(trace_span *sp, const cut_err *err, const trace_attr *attrs, size_t n);
/* An instant event under the current span. */
void trace_event_a(const char *name, const trace_attr *attrs, size_t n);

/* The attribute lists are written inline: trace_begin(&sp, K, "n", TA_STR(..), ...). */
#define TRACE_ATTRS_(...)                                                                          \
  ((const trace_attr[]){{0}, ##__VA_ARGS__} + 1),                                                  \
      (sizeof((const trace_attr[]){{0}, ##__VA_ARGS__}) / sizeof(trace_attr) - 1)
#define trace_begin(sp, kind, name, ...)                                                           \
  trace_begin_a((sp), (kind), (name), TRACE_ATTRS_(__VA_ARGS__))
#define trace_begin_remote(sp, kind, name, tp, ...)                                                \
  trace_begin_remote_a((sp), (kind), (name), (tp), TRACE_ATTRS_(__VA_ARGS__))
#define trace_end(sp, err, ...) trace_end_a((sp), (err), TRACE_ATTRS_(__VA_ARGS__))
#define trace_event(name, ...) trace_event_a((name), TRACE_ATTRS_(__VA_ARGS__))

/* End a syscall span from a raw return value: ret < 0 is an error carrying
 * errno (strerror as the message).  errno is preserved; returns ret, so the
 * call can wrap the syscall: `if (trace_end_sys(&sp, mount(...)) < 0) ...`. */
long trace_end_sys(trace_span *sp, long ret);

/* End with status from a cutaway return value (r < 0 means err is filled). */
int trace_end_rc(trace_span *sp, int r, const cut_err *err);

/* The current span of this thread, or NULL. */
trace_span *trace_current(void);

/* W3C traceparent of `sp` (NULL: the current span, else the inherited
 * context).  Returns false when there is no context to propagate. */
bool trace_traceparent(const trace_span *sp, char out[TRACEPARENT_LEN]);

/* Parse "00-<32 hex>-<16 hex>-<2 hex>".  Rejects other versions' forbidden
 * values, uppercase hex, all-zero ids and wrong lengths. */
bool trace_parse_traceparent(const char *s, char trace_id[TRACE_ID_HEX], char span_id[SPAN_ID_HEX],
                             uint8_t *flags);

/* "TRACEPARENT=00-...": an environment entry for a child that is exec'ed
 * under the current span.  Returns false when there is nothing to pass. */
bool trace_env_entry(char out[TRACEPARENT_LEN + 16]);

/* setenv("TRACEPARENT", current span) for children spawned with environ. */
void trace_export_env(void);

/* The fd of the trace sink (-1 when disabled): kept open by a container's
 * init across pivot_root; it is O_CLOEXEC, so execve closes it. */
int trace_fd(void);

/* Fresh random ids (lowercase hex). */
void trace_new_trace_id(char out[TRACE_ID_HEX]);
void trace_new_span_id(char out[SPAN_ID_HEX]);

/* Low level: write one event with explicit ids (used by `cutaway-trace emit`). */
void trace_write_event(const char *ev, enum trace_kind kind, const char *name, const char *trace_id,
                       const char *span_id, const char *parent_id, const char *status,
                       const char *errmsg, int errnum, const trace_attr *attrs, size_t n);

const char *trace_kind_name(enum trace_kind kind);
/* Returns -1 for an unknown name. */
int trace_kind_parse(const char *name);

#endif
