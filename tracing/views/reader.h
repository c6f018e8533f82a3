/* reader.h: the consumer side of docs/tracing.md.
 *
 * Three layers, each usable alone:
 *   tr_scan    streams a trace file once, validating each line with a
 *              small allocation-free JSON scanner and handing the known
 *              fields to a callback as slices of the line (torn and invalid
 *              lines are counted and skipped, unknown fields ignored);
 *   tr_index   one pass that keeps a small summary per trace id (what
 *              `list` prints, and what `last`, id prefixes and --container
 *              select with);
 *   tr_load    a second pass that keeps only the selected traces' events
 *              and builds the span tree every single-trace view draws.
 * Memory is bounded by the number of traces (index) and by the size of
 * the selected request (model), never by the size of the file. */
#ifndef CUTAWAY_TRACE_READER_H
#define CUTAWAY_TRACE_READER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* ---- scanning ---------------------------------------------------------- */

typedef struct tr_slice {
  const char *p; /* inside the line, without the quotes; NULL when absent */
  size_t n;
  bool esc; /* contains backslash escapes */
} tr_slice;

enum tr_ev { TR_EV_BEGIN, TR_EV_END, TR_EV_EVENT };

typedef struct tr_rec {
  int64_t ts;
  int64_t pid; /* 0 when absent */
  int64_t errnum;
  enum tr_ev ev;
  tr_slice trace, span, parent, comp, role, kind, name, status, err;
  const char *attrs; /* raw text of the attrs object, or NULL */
  size_t attrs_len;
  const char *line; /* the whole line, without its newline */
  size_t len;
  off_t off; /* offset of the line in the file */
} tr_rec;

typedef struct tr_stats {
  uint64_t lines;   /* non-blank lines seen */
  uint64_t events;  /* valid events handed to the callback */
  uint64_t torn;    /* JSON cut short (a writer died mid-line, or a cut file) */
  uint64_t invalid; /* not JSON, or a required field missing or mistyped */
  uint64_t bytes;
} tr_stats;

/* Return <0 (with err filled) to stop the scan. */
typedef int (*tr_rec_fn)(const tr_rec *rec, void *ud, cut_err *err);

/* Stream `path` (NULL: $CUTAWAY_TRACE, else the default file) from byte
 * `from` up to lines starting before `to` (-1: end).  When `needle` is
 * given, lines not containing it are skipped unparsed (a fast pre-filter). */
int tr_scan(const char *path, off_t from, off_t to, const char *needle, tr_rec_fn fn, void *ud,
            tr_stats *st, cut_err *err);

/* The trace file every verb reads by default. */
const char *tr_default_file(void);
/* "cutaway-trace: skipped N lines (T torn, I invalid)" on stderr, if any. */
void tr_report_skipped(const tr_stats *st);

bool tr_slice_eq(tr_slice s, const char *lit);
/* A malloc'ed, unescaped, NUL-terminated copy ("" for an absent slice). */
char *tr_slice_dup(tr_slice s);

/* ---- index: one summary per trace ------------------------------------ */

#define TR_MAX_COMPS 64

typedef struct tr_summary {
  char id[65];
  int64_t t0, t1;   /* first and last timestamp */
  off_t first_off;  /* offset of its first line */
  off_t end_off;    /* offset just past its last line */
  uint64_t nevents; /* lines */
  uint64_t nspans;  /* begin events */
  uint64_t nerrors; /* end events with status error */
  char *root;       /* name of its root span (first begin without parent) */
  int root_rank;    /* 2: a parentless begin, 1: any event */
  uint64_t comps;   /* bit i: comp i of the index */
  bool container_match;
} tr_summary;

typedef struct tr_index {
  tr_summary *v;
  size_t n, cap;
  void *ids; /* hmap: id -> index */
  char *comps[TR_MAX_COMPS];
  int ncomps;
  tr_stats st;
  const char *path;
} tr_index;

/* Pass 1.  With container non-NULL, also marks the traces that mention it
 * (see tr_container_keys). */
int tr_index_build(const char *path, const char *container, tr_index *ix, cut_err *err);
void tr_index_free(tr_index *ix);
/* Index positions sorted by start time (oldest first); free() the result. */
size_t *tr_index_by_start(const tr_index *ix);

/* The attribute keys that name a container, in the order they are tried. */
extern const char *const tr_container_keys[];

/* Resolve a selector: "last", a trace id or a unique prefix of one, or (with
 * container) every trace that mentions the container.  *out is malloc'ed. */
int tr_select(const tr_index *ix, const char *sel, const char *container, size_t **out, size_t *n,
              cut_err *err);

/* ---- the model of one request ---------------------------------------- */

enum tr_kind { TR_INTERNAL, TR_SERVER, TR_CLIENT, TR_SYSCALL, TR_INSTANT };

/* How a span finished.  Open spans are resolved by the rules of
 * docs/tracing.md: closed by a successful execve in the same process, or
 * left open because the process died. */
enum tr_status { TR_ST_OK, TR_ST_ERROR, TR_ST_EXECED, TR_ST_DIED };

/* Lanes of the path diagram, in the order of the layer diagram. */
enum tr_lane {
  TR_LANE_CLI,
  TR_LANE_DAEMON,
  TR_LANE_CONTAINERD,
  TR_LANE_SHIM,
  TR_LANE_RUNC,
  TR_LANE_OTHER,
  TR_LANE_KERNEL,
  TR_LANE_REGISTRY,
  TR_NLANES
};

typedef struct tr_life {
  char *comp, *role; /* a lifeline: one (component, role) */
  enum tr_lane lane;
  int order; /* position among lifelines, lane first */
} tr_life;

typedef struct tr_span {
  char trace[65], id[33], parent_id[33];
  char *name, *comp, *role, *err;
  enum tr_kind kind;
  enum tr_status status;
  int errnum;
  int64_t pid;
  int64_t start, end; /* end of an open span: see status */
  bool has_begin, has_end;
  cJSON *attrs; /* begin and end attrs merged; may be NULL */
  int parent;   /* index, -1 for a root */
  int *kids;
  int nkids;
  int depth;
  int life; /* index into lives */
  int seq;  /* file order */
} tr_span;

typedef struct tr_model {
  tr_span *s;
  size_t n, cap;
  int *roots;
  size_t nroots;
  int *order; /* depth-first, children by start time */
  int64_t t0, t1;
  char **traces; /* the ids merged into this model */
  size_t ntraces;
  tr_life *lives;
  size_t nlives;
  tr_stats st; /* of the whole file (from the index) */
} tr_model;

/* Pass 2: load the selected traces (positions from tr_select). */
int tr_load(const tr_index *ix, const size_t *sel, size_t nsel, tr_model *m, cut_err *err);
void tr_model_free(tr_model *m);

/* Convenience for the verbs: index, select, load, report skipped lines. */
int tr_open_request(const char *path, const char *sel, const char *container, tr_model *m,
                    cut_err *err);

enum tr_lane tr_lane_of(const char *comp);
const char *tr_lane_name(enum tr_lane lane);
const char *tr_kind_str(enum tr_kind k);
const char *tr_status_str(enum tr_status st);
/* A string attr of a span, or NULL. */
const char *tr_attr_str(const tr_span *s, const char *key);
/* True when the span is a call whose peer did not trace (registry, ...). */
bool tr_is_external_call(const tr_model *m, const tr_span *s);
/* The lane of an untraced peer: the registry for distribution API calls. */
enum tr_lane tr_peer_lane(const tr_span *s);

/* "12.3ms", "450us", "1.204s" */
void tr_fmt_dur(int64_t ns, char *buf, size_t cap);
/* "2026-11-29T17:27:03.123Z" */
void tr_fmt_time(int64_t ts, char *buf, size_t cap);

#endif
