/* arch.c: `cutaway-trace arch`, the architecture graph of what the system
 * actually did: every trace of a file, aggregated per component and per
 * call edge (count, p50/p95 latency, errors).
 *
 * One streaming pass, bounded memory: only the spans currently open are
 * remembered (a child is attributed to an edge when it begins, measured
 * when it ends, then forgotten), and each edge keeps a fixed-size sample
 * of its latencies (reservoir sampling, exact below the reservoir size)
 * for the percentiles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "render.h"

#define ARCH_MAX_NODES 256
#define ARCH_RESERVOIR 4096

enum { PEER_NONE = -1 };

struct open_span {
  int comp, parent_comp, peer; /* peer: node of an untraced callee */
  int64_t start;
  bool syscall, client, cross_child, execve;
};

struct edge {
  int from, to;
  uint64_t calls, errors, open, seen;
  int64_t *sample;
  size_t nsample;
};

struct arch {
  char *node[ARCH_MAX_NODES];
  uint64_t node_spans[ARCH_MAX_NODES], node_errors[ARCH_MAX_NODES];
  int nnodes, kernel, registry, external;
  struct edge *edges;
  size_t nedges;
  hmap open;
  uint64_t requests, rng;
};

static int
node_of(struct arch *a, const char *name, size_t n)
{
  for (int i = 0; i < a->nnodes; i++)
    if (strlen(a->node[i]) == n && memcmp(a->node[i], name, n) == 0)
      return i;
  if (a->nnodes == ARCH_MAX_NODES)
    return ARCH_MAX_NODES - 1; /* everything beyond shares the last node */
  a->node[a->nnodes] = strndup(name, n);
  return a->nnodes++;
}

static struct edge *
edge_of(struct arch *a, int from, int to)
{
  for (size_t i = 0; i < a->nedges; i++)
    if (a->edges[i].from == from && a->edges[i].to == to)
      return &a->edges[i];
  struct edge *ne = realloc(a->edges, (a->nedges + 1) * sizeof *ne);
  if (ne == NULL)
    return NULL;
  a->edges = ne;
  struct edge *e = &a->edges[a->nedges++];
  memset(e, 0, sizeof *e);
  e->from = from;
  e->to = to;
  e->sample = malloc(ARCH_RESERVOIR * sizeof(int64_t));
  return e;
}

static void
edge_add(struct arch *a, struct edge *e, int64_t dur, bool err)
{
  if (e == NULL)
    return;
  e->calls++;
  e->errors += err;
  e->seen++;
  if (e->sample == NULL)
    return;
  if (e->nsample < ARCH_RESERVOIR) {
    e->sample[e->nsample++] = dur;
    return;
  }
  a->rng ^= a->rng << 13;
  a->rng ^= a->rng >> 7;
  a->rng ^= a->rng << 17;
  uint64_t j = a->rng % e->seen;
  if (j < ARCH_RESERVOIR)
    e->sample[j] = dur;
}

static int
span_key(const tr_rec *r, tr_slice span, char *key)
{
  return snprintf(key, 100, "%.*s/%.*s", (int)r->trace.n, r->trace.p, (int)span.n, span.p);
}

static int
arch_rec(const tr_rec *r, void *ud, cut_err *err)
{
  struct arch *a = ud;
  if (r->ev == TR_EV_EVENT || r->comp.n == 0)
    return 0;
  char key[100];
  int kl = span_key(r, r->span, key);
  if (r->ev == TR_EV_BEGIN) {
    bool created;
    hmap_node *n = hmap_put(&a->open, key, (size_t)kl, &created);
    if (n == NULL)
      return cut_error(err, ENOMEM, "aggregate traces");
    if (!created)
      return 0;
    struct open_span *o = calloc(1, sizeof *o);
    if (o == NULL)
      return cut_error(err, ENOMEM, "aggregate traces");
    n->val = (intptr_t)o;
    o->comp = node_of(a, r->comp.p, r->comp.n);
    o->parent_comp = -1;
    o->peer = PEER_NONE;
    o->start = r->ts;
    o->syscall = tr_slice_eq(r->kind, "syscall");
    o->client = tr_slice_eq(r->kind, "client");
    o->execve = o->syscall && tr_slice_eq(r->name, "execve");
    if (r->parent.n == 0)
      a->requests++;
    a->node_spans[o->comp]++;
    if (r->parent.n) {
      char pk[100];
      int pl = span_key(r, r->parent, pk);
      hmap_node *p = hmap_get(&a->open, pk, (size_t)pl);
      if (p) {
        struct open_span *ps = (struct open_span *)p->val;
        o->parent_comp = ps->comp;
        if (ps->comp != o->comp)
          ps->cross_child = true;
      }
    }
    if (o->client) {
      /* Decide now whether an untraced callee would be the registry. */
      tr_span probe = {.name = NULL};
      char *name = tr_slice_dup(r->name);
      probe.name = name;
      probe.attrs = r->attrs ? cJSON_ParseWithLength(r->attrs, r->attrs_len) : NULL;
      o->peer = tr_peer_lane(&probe) == TR_LANE_REGISTRY ? a->registry : a->external;
      cJSON_Delete(probe.attrs);
      free(name);
    }
    return 0;
  }
  /* end */
  hmap_node *n = hmap_get(&a->open, key, (size_t)kl);
  if (n == NULL)
    return 0; /* its begin is not in the file */
  struct open_span *o = (struct open_span *)n->val;
  bool bad = tr_slice_eq(r->status, "error");
  a->node_errors[o->comp] += bad;
  int64_t dur = r->ts - o->start;
  if (o->syscall)
    edge_add(a, edge_of(a, o->comp, a->kernel), dur, bad);
  else if (o->parent_comp >= 0 && o->parent_comp != o->comp)
    edge_add(a, edge_of(a, o->parent_comp, o->comp), dur, bad);
  else if (o->client && !o->cross_child)
    edge_add(a, edge_of(a, o->comp, o->peer), dur, bad);
  free(o);
  hmap_del(&a->open, key, (size_t)kl);
  return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Spans still open at the end: a process died, or an execve succeeded. */
static void
count_open(struct arch *a)
{
  for (size_t i = 0; i < a->open.nb; i++)
    for (hmap_node *n = a->open.b[i]; n; n = n->next) {
      struct open_span *o = (struct open_span *)n->val;
      struct edge *e = NULL;
      if (o->execve) {
        /* A successful execve never ends: the process image was replaced. */
        e = edge_of(a, o->comp, a->kernel);
        if (e)
          e->calls++;
        e = NULL;
      } else if (o->syscall)
        e = edge_of(a, o->comp, a->kernel);
      else if (o->parent_comp >= 0 && o->parent_comp != o->comp)
        e = edge_of(a, o->parent_comp, o->comp);
      if (e)
        e->open++;
      free(o);
    }
}

static void
dot_name(sbuf *o, const char *s)
{
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      sb_putc(o, '\\');
    sb_putc(o, *s);
  }
}

static void
write_dot(struct arch *a, const char *path, sbuf *o)
{
  static const char *const fill[TR_NLANES] = {"#e8f0fe", "#e6f4ea", "#fef7e0", "#fce8e6",
                                              "#f3e8fd", "#f1f3f4", "#e0f7fa", "#fff3e0"};
  sb_printf(o,
            "digraph arch {\n  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, "
            "labelloc=t, label=\"architecture from %llu requests in ",
            (unsigned long long)a->requests);
  /* The file's base name only: the label must not depend on where the
   * checkout lives (goldens, docs). */
  const char *base = strrchr(path, '/');
  dot_name(o, base ? base + 1 : path);
  sb_puts(o, "\"];\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
             "fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
  bool used[ARCH_MAX_NODES] = {0};
  for (size_t i = 0; i < a->nedges; i++)
    used[a->edges[i].from] = used[a->edges[i].to] = true;
  for (int i = 0; i < a->nnodes; i++)
    used[i] = used[i] || (a->node_spans[i] > 0);
  for (int lane = 0; lane < TR_NLANES; lane++) {
    bool any = false;
    for (int i = 0; i < a->nnodes; i++) {
      enum tr_lane l = i == a->kernel     ? TR_LANE_KERNEL
                       : i == a->registry ? TR_LANE_REGISTRY
                       : i == a->external ? TR_LANE_OTHER
                                          : tr_lane_of(a->node[i]);
      if ((int)l != lane || !used[i])
        continue;
      if (!any)
        sb_printf(o,
                  "  subgraph cluster_%d { label=\"%s\"; labeljust=l; style=\"filled,rounded\"; "
                  "fillcolor=\"%s\"; color=\"#b0b8c0\";\n",
                  lane, tr_lane_name(l), fill[lane]);
      any = true;
      sb_printf(o, "    n%d [label=\"", i);
      dot_name(o, a->node[i]);
      if (a->node_spans[i])
        sb_printf(o, "\\n%llu spans", (unsigned long long)a->node_spans[i]);
      if (a->node_errors[i])
        sb_printf(o, ", %llu errors", (unsigned long long)a->node_errors[i]);
      sb_printf(o, "\", fillcolor=white%s%s];\n", a->node_errors[i] ? ", color=red" : "",
                i == a->registry ? ", shape=cylinder" : "");
    }
    if (any)
      sb_puts(o, "  }\n");
  }
  for (size_t i = 0; i < a->nedges; i++) {
    struct edge *e = &a->edges[i];
    char p50[32] = "-", p95[32] = "-";
    if (e->nsample) {
      qsort(e->sample, e->nsample, sizeof(int64_t), cmp_i64);
      /* Nearest rank: the smallest sample with at least p% at or below it. */
      tr_fmt_dur(e->sample[(e->nsample * 50 + 99) / 100 - 1], p50, sizeof p50);
      tr_fmt_dur(e->sample[(e->nsample * 95 + 99) / 100 - 1], p95, sizeof p95);
    }
    sb_printf(o, "  n%d -> n%d [label=\"%llu call%s\\np50 %s  p95 %s", e->from, e->to,
              (unsigned long long)e->calls, e->calls == 1 ? "" : "s", p50, p95);
    if (e->errors)
      sb_printf(o, "\\n%llu error%s", (unsigned long long)e->errors, e->errors == 1 ? "" : "s");
    if (e->open)
      sb_printf(o, "\\n%llu left open", (unsigned long long)e->open);
    int w = 1;
    for (uint64_t c = e->calls; c >= 10; c /= 10)
      w++;
    sb_printf(o, "\", penwidth=%d%s];\n", w > 4 ? 4 : w,
              e->errors ? ", color=red, fontcolor=red" : "");
  }
  sb_puts(o, "}\n");
}

int
tv_arch_dot(const char *path, sbuf *dot, tr_stats *st, cut_err *err)
{
  struct arch *a = calloc(1, sizeof *a);
  if (a == NULL)
    return cut_error(err, ENOMEM, "aggregate traces");
  a->rng = 0x2545f4914f6cdd1dULL;
  a->kernel = node_of(a, "kernel", 6);
  a->registry = node_of(a, "registry", 8);
  a->external = node_of(a, "untraced peer", 13);
  if (path == NULL)
    path = tr_default_file();
  int r = tr_scan(path, 0, -1, NULL, arch_rec, a, st, err);
  count_open(a);
  if (r == 0)
    write_dot(a, path, dot);
  hmap_free(&a->open);
  for (size_t i = 0; i < a->nedges; i++)
    free(a->edges[i].sample);
  free(a->edges);
  for (int i = 0; i < a->nnodes; i++)
    free(a->node[i]);
  free(a);
  return r;
}
