/* model.c: the span tree of one request (pass 2 of the reader).
 *
 * A span is two lines (begin, end) written by one process, possibly far
 * apart in the file; instants are one line.  Spans are joined by id, linked
 * to their parents (which may live in another process: the W3C traceparent
 * carried the parent's id across the HTTP request or the exec), and open
 * spans are given a meaning by the rules of docs/tracing.md:
 *   - a `syscall` span named execve that never ended succeeded: the process
 *     image was replaced, and every span that process still had open ended
 *     with it (status "execed");
 *   - any other span left open belongs to a process that died (status
 *     "died"), and is drawn up to the last event of the request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hmap.h"
#include "reader.h"

struct load_ctx {
  tr_model *m;
  hmap spans; /* "trace/span" -> index */
  hmap lives; /* "comp\nrole" -> index */
  const tr_index *ix;
  const size_t *sel;
  size_t nsel;
  int seq;
};

static bool
selected(const struct load_ctx *c, const tr_rec *r)
{
  for (size_t i = 0; i < c->nsel; i++) {
    const char *id = c->ix->v[c->sel[i]].id;
    if (strlen(id) == r->trace.n && memcmp(id, r->trace.p, r->trace.n) == 0)
      return true;
  }
  return false;
}

static int
new_span(struct load_ctx *c, cut_err *err)
{
  tr_model *m = c->m;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    tr_span *ns = realloc(m->s, cap * sizeof *ns);
    if (ns == NULL)
      return cut_error(err, ENOMEM, "load trace");
    m->s = ns;
    m->cap = cap;
  }
  tr_span *s = &m->s[m->n];
  memset(s, 0, sizeof *s);
  s->parent = -1;
  s->life = -1;
  s->seq = c->seq++;
  return (int)m->n++;
}

static enum tr_kind
kind_of(tr_slice k)
{
  if (tr_slice_eq(k, "server"))
    return TR_SERVER;
  if (tr_slice_eq(k, "client"))
    return TR_CLIENT;
  if (tr_slice_eq(k, "syscall"))
    return TR_SYSCALL;
  return TR_INTERNAL;
}

/* Attributes of the end event are added to those of the begin event (an
 * end may carry results: an exit code, a byte count). */
static void
merge_attrs(tr_span *s, const tr_rec *r)
{
  if (r->attrs == NULL)
    return;
  cJSON *a = cJSON_ParseWithLength(r->attrs, r->attrs_len);
  if (a == NULL)
    return;
  if (s->attrs == NULL) {
    s->attrs = a;
    return;
  }
  while (a->child) {
    cJSON *it = cJSON_DetachItemViaPointer(a, a->child);
    cJSON_DeleteItemFromObjectCaseSensitive(s->attrs, it->string);
    cJSON_AddItemToObject(s->attrs, it->string, it);
  }
  cJSON_Delete(a);
}

static void
fill_identity(tr_span *s, const tr_rec *r)
{
  if (s->name == NULL)
    s->name = tr_slice_dup(r->name);
  if (s->comp == NULL)
    s->comp = tr_slice_dup(r->comp);
  if (s->role == NULL)
    s->role = r->role.p ? tr_slice_dup(r->role) : tr_slice_dup(r->comp);
  if (s->pid == 0)
    s->pid = r->pid;
  if (s->parent_id[0] == '\0' && r->parent.n)
    memcpy(s->parent_id, r->parent.p, r->parent.n);
}

static int
load_rec(const tr_rec *r, void *ud, cut_err *err)
{
  struct load_ctx *c = ud;
  if (!selected(c, r))
    return 0;
  tr_model *m = c->m;
  if (m->n == 0 || r->ts < m->t0)
    m->t0 = r->ts;
  if (m->n == 0 || r->ts > m->t1)
    m->t1 = r->ts;
  char key[100];
  int kl = snprintf(key, sizeof key, "%.*s/%.*s", (int)r->trace.n, r->trace.p, (int)r->span.n,
                    r->span.p);
  bool created;
  hmap_node *node = hmap_put(&c->spans, key, (size_t)kl, &created);
  if (node == NULL)
    return cut_error(err, ENOMEM, "load trace");
  if (!created && r->ev == TR_EV_EVENT)
    return 0; /* a duplicated instant */
  int idx = (int)node->val;
  if (created) {
    idx = new_span(c, err);
    if (idx < 0)
      return -1;
    node->val = idx;
    tr_span *s = &m->s[idx];
    memcpy(s->trace, r->trace.p, r->trace.n);
    memcpy(s->id, r->span.p, r->span.n);
  }
  tr_span *s = &m->s[idx];
  switch (r->ev) {
  case TR_EV_BEGIN:
    if (s->has_begin)
      return 0;
    s->has_begin = true;
    s->start = r->ts;
    s->kind = kind_of(r->kind);
    /* The begin event names the span; an end seen first only filled in. */
    free(s->name);
    free(s->comp);
    free(s->role);
    s->name = s->comp = s->role = NULL;
    s->pid = 0;
    fill_identity(s, r);
    merge_attrs(s, r);
    break;
  case TR_EV_END:
    if (s->has_end)
      return 0;
    s->has_end = true;
    s->end = r->ts;
    if (!s->has_begin) {
      s->kind = kind_of(r->kind);
      s->start = r->ts; /* its begin is not in the file */
    }
    fill_identity(s, r);
    s->status = tr_slice_eq(r->status, "error") ? TR_ST_ERROR : TR_ST_OK;
    if (s->status == TR_ST_ERROR) {
      s->err = r->err.p ? tr_slice_dup(r->err) : strdup("error");
      s->errnum = (int)r->errnum;
    }
    merge_attrs(s, r);
    break;
  case TR_EV_EVENT:
    s->kind = TR_INSTANT;
    s->has_begin = s->has_end = true;
    s->start = s->end = r->ts;
    fill_identity(s, r);
    merge_attrs(s, r);
    break;
  }
  return 0;
}

/* ---- lanes and lifelines --------------------------------------------- */

enum tr_lane
tr_lane_of(const char *comp)
{
  if (comp == NULL)
    return TR_LANE_OTHER;
  if (strstr(comp, "shim"))
    return TR_LANE_SHIM;
  if (strcmp(comp, "cutaway-ctr") == 0 || strcmp(comp, "ctr") == 0)
    return TR_LANE_CLI;
  if (strstr(comp, "containerd"))
    return TR_LANE_CONTAINERD;
  if (strstr(comp, "runc") || strstr(comp, "crun"))
    return TR_LANE_RUNC;
  if (strcmp(comp, "cutawayd") == 0 || strcmp(comp, "dockerd") == 0)
    return TR_LANE_DAEMON;
  if (strstr(comp, "registry"))
    return TR_LANE_REGISTRY;
  if (strcmp(comp, "cutaway") == 0 || strcmp(comp, "docker") == 0 ||
      strncmp(comp, "cutaway-", 8) == 0)
    return TR_LANE_CLI;
  return TR_LANE_OTHER;
}

const char *
tr_lane_name(enum tr_lane lane)
{
  static const char *const names[] = {"CLI",  "daemon", "containerd", "shim",
                                      "runc", "other",  "kernel",     "registry"};
  return (unsigned)lane < TR_NLANES ? names[lane] : "other";
}

const char *
tr_kind_str(enum tr_kind k)
{
  static const char *const names[] = {"internal", "server", "client", "syscall", "event"};
  return (unsigned)k <= TR_INSTANT ? names[k] : "internal";
}

const char *
tr_status_str(enum tr_status st)
{
  static const char *const names[] = {"ok", "error", "execed", "died"};
  return (unsigned)st <= TR_ST_DIED ? names[st] : "ok";
}

const char *
tr_attr_str(const tr_span *s, const char *key)
{
  const cJSON *v = s->attrs ? cJSON_GetObjectItemCaseSensitive(s->attrs, key) : NULL;
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum tr_lane
tr_peer_lane(const tr_span *s)
{
  const char *url = tr_attr_str(s, "url");
  if ((s->name && strstr(s->name, "/v2/")) || (url && strstr(url, "/v2/")) ||
      tr_attr_str(s, "registry") || (s->name && strncmp(s->name, "registry.", 9) == 0) ||
      (s->name && strncmp(s->name, "pull.", 5) == 0) ||
      (s->name && strncmp(s->name, "push.", 5) == 0))
    return TR_LANE_REGISTRY;
  return TR_LANE_OTHER;
}

bool
tr_is_external_call(const tr_model *m, const tr_span *s)
{
  if (s->kind != TR_CLIENT)
    return false;
  for (int i = 0; i < s->nkids; i++) {
    const tr_span *k = &m->s[s->kids[i]];
    if (k->life != s->life && k->kind != TR_INSTANT)
      return false;
  }
  return true;
}

static int
intern_life(struct load_ctx *c, const tr_span *s, cut_err *err)
{
  tr_model *m = c->m;
  char key[512];
  int kl = snprintf(key, sizeof key, "%s\n%s", s->comp, s->role);
  if (kl >= (int)sizeof key)
    kl = (int)sizeof key - 1;
  bool created;
  hmap_node *n = hmap_put(&c->lives, key, (size_t)kl, &created);
  if (n == NULL)
    return cut_error(err, ENOMEM, "load trace");
  if (!created)
    return (int)n->val;
  tr_life *nl = realloc(m->lives, (m->nlives + 1) * sizeof *nl);
  if (nl == NULL)
    return cut_error(err, ENOMEM, "load trace");
  m->lives = nl;
  tr_life *l = &m->lives[m->nlives];
  l->comp = strdup(s->comp);
  l->role = strdup(s->role);
  l->lane = tr_lane_of(s->comp);
  l->order = (int)m->nlives;
  n->val = (intptr_t)m->nlives;
  return (int)m->nlives++;
}

/* ---- building the tree ------------------------------------------------ */

static const tr_model *sort_m;

static int
by_start_idx(const void *a, const void *b)
{
  const tr_span *x = &sort_m->s[*(const int *)a], *y = &sort_m->s[*(const int *)b];
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->seq - y->seq;
}

static int
life_cmp(const void *a, const void *b)
{
  const tr_life *x = a, *y = b;
  if (x->lane != y->lane)
    return (int)x->lane - (int)y->lane;
  return x->order - y->order;
}

static void
resolve_open_spans(tr_model *m)
{
  for (size_t i = 0; i < m->n; i++) {
    tr_span *s = &m->s[i];
    if (s->has_end)
      continue;
    /* The earliest successful execve of the same process ends it. */
    int64_t exec_ts = -1;
    for (size_t j = 0; j < m->n; j++) {
      const tr_span *e = &m->s[j];
      if (!e->has_end && e->kind == TR_SYSCALL && e->name && strcmp(e->name, "execve") == 0 &&
          e->pid == s->pid && strcmp(e->trace, s->trace) == 0 && e->start >= s->start &&
          (exec_ts < 0 || e->start < exec_ts))
        exec_ts = e->start;
    }
    if (exec_ts >= 0) {
      s->status = TR_ST_EXECED;
      s->end = exec_ts;
    } else {
      s->status = TR_ST_DIED;
      s->end = m->t1;
    }
  }
}

static int
link_tree(struct load_ctx *c, cut_err *err)
{
  tr_model *m = c->m;
  int *nkids = calloc(m->n + 1, sizeof *nkids);
  m->roots = malloc((m->n + 1) * sizeof *m->roots);
  if (nkids == NULL || m->roots == NULL) {
    free(nkids);
    return cut_error(err, ENOMEM, "load trace");
  }
  for (size_t i = 0; i < m->n; i++) {
    tr_span *s = &m->s[i];
    if (s->name == NULL)
      s->name = strdup("");
    if (s->comp == NULL)
      s->comp = strdup("");
    if (s->role == NULL)
      s->role = strdup(s->comp);
    char key[100];
    int kl = snprintf(key, sizeof key, "%s/%s", s->trace, s->parent_id);
    hmap_node *p = s->parent_id[0] ? hmap_get(&c->spans, key, (size_t)kl) : NULL;
    s->parent = p && p->val != (intptr_t)i ? (int)p->val : -1;
    if (s->parent >= 0)
      nkids[s->parent]++;
    else
      m->roots[m->nroots++] = (int)i;
    s->life = intern_life(c, s, err);
    if (s->life < 0) {
      free(nkids);
      return -1;
    }
  }
  /* A parent cycle (corrupt ids) would loop forever below: break it. */
  for (size_t i = 0; i < m->n; i++) {
    int slow = (int)i, steps = 0;
    for (int p = m->s[i].parent; p >= 0 && steps <= (int)m->n; p = m->s[p].parent)
      steps++;
    if (steps > (int)m->n) {
      nkids[m->s[slow].parent]--;
      m->s[slow].parent = -1;
      m->roots[m->nroots++] = slow;
    }
  }
  for (size_t i = 0; i < m->n; i++) {
    m->s[i].kids = malloc(((size_t)nkids[i] + 1) * sizeof(int));
    if (m->s[i].kids == NULL) {
      free(nkids);
      return cut_error(err, ENOMEM, "load trace");
    }
  }
  for (size_t i = 0; i < m->n; i++)
    if (m->s[i].parent >= 0) {
      tr_span *p = &m->s[m->s[i].parent];
      p->kids[p->nkids++] = (int)i;
    }
  free(nkids);
  sort_m = m;
  qsort(m->roots, m->nroots, sizeof *m->roots, by_start_idx);
  for (size_t i = 0; i < m->n; i++)
    qsort(m->s[i].kids, (size_t)m->s[i].nkids, sizeof(int), by_start_idx);
  return 0;
}

static void
order_dfs(tr_model *m, int idx, int depth, size_t *k)
{
  m->s[idx].depth = depth;
  m->order[(*k)++] = idx;
  for (int i = 0; i < m->s[idx].nkids; i++)
    order_dfs(m, m->s[idx].kids[i], depth + 1, k);
}

static void
sort_lives(tr_model *m)
{
  /* Lifelines in lane order; remap each span's index. */
  int *old_of = malloc((m->nlives + 1) * sizeof *old_of);
  int *new_of = malloc((m->nlives + 1) * sizeof *new_of);
  if (old_of == NULL || new_of == NULL) {
    free(old_of);
    free(new_of);
    return;
  }
  for (size_t i = 0; i < m->nlives; i++)
    m->lives[i].order = (int)i;
  qsort(m->lives, m->nlives, sizeof *m->lives, life_cmp);
  for (size_t i = 0; i < m->nlives; i++)
    new_of[m->lives[i].order] = (int)i;
  for (size_t i = 0; i < m->nlives; i++)
    m->lives[i].order = (int)i;
  for (size_t i = 0; i < m->n; i++)
    m->s[i].life = new_of[m->s[i].life];
  free(old_of);
  free(new_of);
}

int
tr_load(const tr_index *ix, const size_t *sel, size_t nsel, tr_model *m, cut_err *err)
{
  memset(m, 0, sizeof *m);
  m->st = ix->st;
  struct load_ctx c = {.m = m, .ix = ix, .sel = sel, .nsel = nsel};
  off_t from = -1, to = 0;
  for (size_t i = 0; i < nsel; i++) {
    const tr_summary *s = &ix->v[sel[i]];
    if (from < 0 || s->first_off < from)
      from = s->first_off;
    if (s->end_off > to)
      to = s->end_off;
  }
  m->traces = calloc(nsel + 1, sizeof *m->traces);
  if (m->traces == NULL)
    return cut_error(err, ENOMEM, "load trace");
  for (size_t i = 0; i < nsel; i++)
    m->traces[m->ntraces++] = strdup(ix->v[sel[i]].id);
  /* One trace: lines without its id are skipped before parsing. */
  int r = tr_scan(ix->path, from < 0 ? 0 : from, to, nsel == 1 ? ix->v[sel[0]].id : NULL, load_rec,
                  &c, NULL, err);
  if (r == 0)
    r = link_tree(&c, err);
  if (r == 0) {
    resolve_open_spans(m);
    sort_lives(m);
    m->order = malloc((m->n + 1) * sizeof *m->order);
    if (m->order == NULL) {
      r = cut_error(err, ENOMEM, "load trace");
    } else {
      size_t k = 0;
      for (size_t i = 0; i < m->nroots; i++)
        order_dfs(m, m->roots[i], 0, &k);
    }
  }
  hmap_free(&c.spans);
  hmap_free(&c.lives);
  if (r < 0)
    tr_model_free(m);
  return r;
}

void
tr_model_free(tr_model *m)
{
  for (size_t i = 0; i < m->n; i++) {
    tr_span *s = &m->s[i];
    free(s->name);
    free(s->comp);
    free(s->role);
    free(s->err);
    free(s->kids);
    cJSON_Delete(s->attrs);
  }
  for (size_t i = 0; i < m->nlives; i++) {
    free(m->lives[i].comp);
    free(m->lives[i].role);
  }
  for (size_t i = 0; i < m->ntraces; i++)
    free(m->traces[i]);
  free(m->traces);
  free(m->lives);
  free(m->s);
  free(m->roots);
  free(m->order);
  memset(m, 0, sizeof *m);
}

int
tr_open_request(const char *path, const char *sel, const char *container, tr_model *m, cut_err *err)
{
  tr_index ix;
  size_t *v = NULL, n = 0;
  int r = tr_index_build(path, container, &ix, err);
  if (r == 0)
    r = tr_select(&ix, sel, container, &v, &n, err);
  if (r == 0)
    r = tr_load(&ix, v, n, m, err);
  tr_report_skipped(&ix.st);
  free(v);
  tr_index_free(&ix);
  return r;
}

/* ---- formatting ------------------------------------------------------- */

void
tr_fmt_dur(int64_t ns, char *buf, size_t cap)
{
  if (ns < 0)
    ns = 0;
  if (ns < 1000)
    snprintf(buf, cap, "%lldns", (long long)ns);
  else if (ns < 1000000)
    snprintf(buf, cap, "%.1fus", (double)ns / 1e3);
  else if (ns < 1000000000)
    snprintf(buf, cap, "%.2fms", (double)ns / 1e6);
  else
    snprintf(buf, cap, "%.3fs", (double)ns / 1e9);
}

void
tr_fmt_time(int64_t ts, char *buf, size_t cap)
{
  time_t sec = (time_t)(ts / 1000000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  char d[32];
  strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, cap, "%s.%03lldZ", d, (long long)((ts % 1000000000) / 1000000));
}
