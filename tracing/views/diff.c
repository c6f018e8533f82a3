/* diff.c: `cutaway-trace diff A B`, what differs between two requests.
 *
 * Each request is reduced to a multiset of steps keyed by component, kind,
 * name and (for kernel steps) the telling argument, so that "mount /proc"
 * and "mount /sys" are different steps while two runs of the same request
 * compare equal.  The report lists steps found in only one request, steps
 * whose count differs, and the largest duration changes: e.g. a run with a
 * network namespace shows the extra unshare flag and the veth setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "render.h"

struct agg {
  char *key;
  enum tr_lane lane;
  uint64_t n[2];
  int64_t dur[2];
};

static void
step_key(const tr_model *m, const tr_span *s, char *buf, size_t cap)
{
  const char *detail = NULL;
  if (s->kind == TR_SYSCALL) {
    static const char *const keys[] = {"target", "path", "flags", "file", NULL};
    for (int i = 0; keys[i] && !detail; i++)
      detail = tr_attr_str(s, keys[i]);
  }
  (void)m;
  snprintf(buf, cap, "%-20s %-8s %s%s%s", s->comp, tr_kind_str(s->kind), s->name, detail ? " " : "",
           detail ? detail : "");
}

static size_t
collect(const tr_model *m, int side, hmap *idx, struct agg **v, size_t n)
{
  for (size_t i = 0; i < m->n; i++) {
    const tr_span *s = &m->s[i];
    char key[512];
    step_key(m, s, key, sizeof key);
    bool created;
    hmap_node *h = hmap_put(idx, key, strlen(key), &created);
    if (h == NULL)
      continue;
    if (created) {
      struct agg *nv = realloc(*v, (n + 1) * sizeof *nv);
      if (nv == NULL)
        continue;
      *v = nv;
      memset(&nv[n], 0, sizeof nv[n]);
      nv[n].key = strdup(key);
      nv[n].lane = s->kind == TR_SYSCALL ? TR_LANE_KERNEL : tr_lane_of(s->comp);
      h->val = (intptr_t)n++;
    }
    if (*v == NULL)
      continue;
    struct agg *g = &(*v)[h->val];
    g->n[side]++;
    g->dur[side] += s->end - s->start;
  }
  return n;
}

static int
agg_cmp(const void *a, const void *b)
{
  const struct agg *x = a, *y = b;
  if (x->lane != y->lane)
    return (int)x->lane - (int)y->lane;
  return strcmp(x->key, y->key);
}

static int64_t
abs64(int64_t v)
{
  return v < 0 ? -v : v;
}

static const struct agg *delta_v;

static int
delta_cmp(const void *a, const void *b)
{
  const struct agg *x = &delta_v[*(const size_t *)a], *y = &delta_v[*(const size_t *)b];
  int64_t dx = abs64(x->dur[1] - x->dur[0]), dy = abs64(y->dur[1] - y->dur[0]);
  if (dx != dy)
    return dx > dy ? -1 : 1;
  return strcmp(x->key, y->key);
}

static void
header(const tr_model *m, const char *tag, sbuf *o)
{
  char dur[32];
  tr_fmt_dur(m->t1 - m->t0, dur, sizeof dur);
  sb_printf(o, "%s: trace %s  %s  %s  %zu spans\n", tag, m->ntraces ? m->traces[0] : "",
            m->nroots ? m->s[m->roots[0]].name : "", dur, m->n);
}

void
tv_diff(const tr_model *a, const tr_model *b, sbuf *o)
{
  hmap idx = {0};
  struct agg *v = NULL;
  size_t n = collect(a, 0, &idx, &v, 0);
  n = collect(b, 1, &idx, &v, n);
  hmap_free(&idx);
  if (v)
    qsort(v, n, sizeof *v, agg_cmp);
  header(a, "A", o);
  header(b, "B", o);
  char d0[32], d1[32];
  const char *titles[] = {"only in A", "only in B", "count differs"};
  for (int sect = 0; sect < 3; sect++) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
      const struct agg *g = &v[i];
      bool show = sect == 0   ? g->n[1] == 0
                  : sect == 1 ? g->n[0] == 0
                              : g->n[0] && g->n[1] && g->n[0] != g->n[1];
      if (!show)
        continue;
      if (!any)
        sb_printf(o, "\n%s:\n", titles[sect]);
      any = true;
      if (sect < 2) {
        int side = sect;
        tr_fmt_dur(g->dur[side], d0, sizeof d0);
        sb_printf(o, "  %s  x%llu  %s\n", g->key, (unsigned long long)g->n[side], d0);
      } else {
        sb_printf(o, "  %s  A x%llu  B x%llu\n", g->key, (unsigned long long)g->n[0],
                  (unsigned long long)g->n[1]);
      }
    }
  }
  /* The largest changes of total time among steps in both. */
  size_t *common = malloc((n + 1) * sizeof *common), k = 0;
  for (size_t i = 0; common && i < n; i++)
    if (v[i].n[0] && v[i].n[1] && v[i].dur[0] != v[i].dur[1])
      common[k++] = i;
  delta_v = v;
  if (common)
    qsort(common, k, sizeof *common, delta_cmp);
  if (k)
    sb_puts(o, "\nlargest duration changes (total time of the step, A -> B):\n");
  for (size_t i = 0; i < k && i < 10; i++) {
    const struct agg *g = &v[common[i]];
    tr_fmt_dur(g->dur[0], d0, sizeof d0);
    tr_fmt_dur(g->dur[1], d1, sizeof d1);
    char dd[32];
    tr_fmt_dur(abs64(g->dur[1] - g->dur[0]), dd, sizeof dd);
    sb_printf(o, "  %s  %s -> %s  (%c%s)\n", g->key, d0, d1, g->dur[1] >= g->dur[0] ? '+' : '-',
              dd);
  }
  tr_fmt_dur(a->t1 - a->t0, d0, sizeof d0);
  tr_fmt_dur(b->t1 - b->t0, d1, sizeof d1);
  size_t only = 0, differ = 0;
  for (size_t i = 0; i < n; i++) {
    only += !v[i].n[0] || !v[i].n[1];
    differ += v[i].n[0] && v[i].n[1] && v[i].n[0] != v[i].n[1];
  }
  sb_printf(o,
            "\nsummary: %zu steps in one request only, %zu with different counts; "
            "duration %s -> %s\n",
            only, differ, d0, d1);
  free(common);
  for (size_t i = 0; i < n; i++)
    free(v[i].key);
  free(v);
}
