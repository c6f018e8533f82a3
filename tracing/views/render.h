/* render.h: the views cutaway-trace draws from a trace file.
 *
 * Each renderer appends to an sbuf; the verbs in tracing/cli/ choose the
 * request, call one of these, and write the buffer out.  How to read each
 * view: docs/trace-views.md. */
#ifndef CUTAWAY_TRACE_RENDER_H
#define CUTAWAY_TRACE_RENDER_H

#include "reader.h"
#include "sbuf.h"

/* `show`: the indented span tree. */
void tv_show(const tr_model *m, sbuf *out);
/* `list`: the `limit` most recent traces (0: all). */
void tv_list(const tr_index *ix, size_t limit, sbuf *out);

/* The numbered steps of a request, shared by path, seq and html: every
 * cross-process call (client -> server, parent -> child in another
 * lifeline), every call to an untraced peer, every kernel step. */
typedef struct tv_step {
  int span;   /* the callee span (or the syscall / external client span) */
  int from;   /* caller lifeline */
  int to;     /* callee lifeline; -1 kernel, -2 registry, -3 external peer */
  int caller; /* caller span index, -1 if none */
  int number; /* 1.. in start order */
} tv_step;
size_t tv_steps(const tr_model *m, tv_step **out);

/* `path`: DOT text of the request's path through the lanes. */
void tv_path_dot(const tr_model *m, sbuf *out);
/* Lay out DOT text with libgvc and render it ("svg", "png", "dot"). */
int tv_graphviz(const char *dot, const char *format, sbuf *out, cut_err *err);

void tv_seq_svg(const tr_model *m, sbuf *out);
void tv_seq_mermaid(const tr_model *m, sbuf *out);
void tv_timeline_svg(const tr_model *m, sbuf *out);
int tv_html(const tr_model *m, sbuf *out, cut_err *err);
void tv_chrome(const tr_model *m, sbuf *out);
void tv_otlp(const tr_model *m, sbuf *out);

/* `arch`: aggregate every trace of a file into DOT text (one pass). */
int tv_arch_dot(const char *path, sbuf *dot, tr_stats *st, cut_err *err);
/* `diff`: what differs between two requests, as text. */
void tv_diff(const tr_model *a, const tr_model *b, sbuf *out);

/* A display label for a lifeline: "cutaway-runc" or "cutaway-runc runc:[2:INIT]". */
void tv_life_label(const tr_life *l, char *buf, size_t cap);

#endif
