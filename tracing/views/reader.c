/* reader.c: streaming trace file reader and the per-trace index (pass 1).
 *
 * A trace file is shared by every process of the stack and appended with
 * one write(2) per event, so a line is either whole or, when a writer died
 * or the disk filled, cut short at the end.  The reader never trusts a
 * line: each is checked by a small JSON scanner that does not allocate
 * (about ten times faster than building a cJSON tree, which matters for a
 * file of a million events), and only the fields of docs/tracing.md are
 * picked out; anything else is ignored so the format can grow. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmap.h"
#include "trace.h"

#define READ_CHUNK (1 << 20)
#define LINE_MAX_BYTES (16 << 20) /* longer lines are skipped as invalid */
#define JSON_MAX_DEPTH 64

const char *
tr_default_file(void)
{
  const char *p = getenv("CUTAWAY_TRACE");
  if (p && p[0] && strcmp(p, "off") != 0)
    return p;
  return CUTAWAY_TRACE_DEFAULT;
}

/* ---- the JSON scanner ------------------------------------------------- */

enum { JS_OK, JS_TORN, JS_BAD };

typedef struct jscan {
  const char *p, *end;
  int fail; /* JS_TORN: ran out of input; JS_BAD: anything else */
} jscan;

static bool
js_fail(jscan *j, int why)
{
  if (j->fail == JS_OK)
    j->fail = why;
  return false;
}

static void
js_ws(jscan *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static bool
is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At a '"': the string's contents as a slice. */
static bool
js_string(jscan *j, tr_slice *out)
{
  const char *start = ++j->p;
  bool esc = false;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') {
      if (out)
        *out = (tr_slice){start, (size_t)(j->p - start), esc};
      j->p++;
      return true;
    }
    if (c < 0x20)
      return js_fail(j, JS_BAD);
    if (c == '\\') {
      esc = true;
      if (++j->p >= j->end)
        return js_fail(j, JS_TORN);
      c = (unsigned char)*j->p;
      if (c == 'u') {
        for (int i = 0; i < 4; i++) {
          if (++j->p >= j->end)
            return js_fail(j, JS_TORN);
          if (!is_hex(*j->p))
            return js_fail(j, JS_BAD);
        }
      } else if (!strchr("\"\\/bfnrt", c)) {
        return js_fail(j, JS_BAD);
      }
    }
    j->p++;
  }
  return js_fail(j, JS_TORN);
}

/* A JSON number; *is_int and *ival when it is a plain integer. */
static bool
js_number(jscan *j, bool *is_int, int64_t *ival)
{
  const char *s = j->p;
  bool neg = false, integral = true, overflow = false;
  uint64_t v = 0;
  if (j->p < j->end && *j->p == '-') {
    neg = true;
    j->p++;
  }
  if (j->p >= j->end)
    return js_fail(j, JS_TORN);
  if (*j->p == '0') {
    j->p++;
  } else if (*j->p >= '1' && *j->p <= '9') {
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
      if (v > (UINT64_MAX - 9) / 10)
        overflow = true;
      v = v * 10 + (uint64_t)(*j->p - '0');
      j->p++;
    }
  } else {
    return js_fail(j, JS_BAD);
  }
  if (j->p < j->end && *j->p == '.') {
    integral = false;
    j->p++;
    const char *d = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
    if (j->p == d)
      return js_fail(j, j->p >= j->end ? JS_TORN : JS_BAD);
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    integral = false;
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
      j->p++;
    const char *d = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
    if (j->p == d)
      return js_fail(j, j->p >= j->end ? JS_TORN : JS_BAD);
  }
  (void)s;
  if (is_int)
    *is_int = integral && !overflow && v <= (uint64_t)INT64_MAX;
  if (ival)
    *ival = neg ? -(int64_t)v : (int64_t)v;
  return true;
}

static bool
js_literal(jscan *j, const char *lit)
{
  size_t n = strlen(lit);
  size_t have = (size_t)(j->end - j->p);
  if (have < n)
    return js_fail(j, memcmp(j->p, lit, have) == 0 ? JS_TORN : JS_BAD);
  if (memcmp(j->p, lit, n) != 0)
    return js_fail(j, JS_BAD);
  j->p += n;
  return true;
}

static bool js_value(jscan *j, int depth);

static bool
js_container(jscan *j, int depth, char close, bool is_obj)
{
  if (depth > JSON_MAX_DEPTH)
    return js_fail(j, JS_BAD);
  j->p++;
  js_ws(j);
  if (j->p >= j->end)
    return js_fail(j, JS_TORN);
  if (*j->p == close) {
    j->p++;
    return true;
  }
  for (;;) {
    js_ws(j);
    if (is_obj) {
      if (j->p >= j->end)
        return js_fail(j, JS_TORN);
      if (*j->p != '"' || !js_string(j, NULL))
        return js_fail(j, JS_BAD);
      js_ws(j);
      if (j->p >= j->end)
        return js_fail(j, JS_TORN);
      if (*j->p++ != ':')
        return js_fail(j, JS_BAD);
      js_ws(j);
    }
    if (!js_value(j, depth + 1))
      return false;
    js_ws(j);
    if (j->p >= j->end)
      return js_fail(j, JS_TORN);
    char c = *j->p++;
    if (c == close)
      return true;
    if (c != ',')
      return js_fail(j, JS_BAD);
  }
}

static bool
js_value(jscan *j, int depth)
{
  if (j->p >= j->end)
    return js_fail(j, JS_TORN);
  switch (*j->p) {
  case '"': return js_string(j, NULL);
  case '{': return js_container(j, depth, '}', true);
  case '[': return js_container(j, depth, ']', false);
  case 't': return js_literal(j, "true");
  case 'f': return js_literal(j, "false");
  case 'n': return js_literal(j, "null");
  default: return js_number(j, NULL, NULL);
  }
}

/* Which top-level key a slice is (keys we read never carry escapes). */
static bool
key_is(tr_slice k, const char *lit)
{
  size_t n = strlen(lit);
  return k.n == n && memcmp(k.p, lit, n) == 0;
}

/* Parse one line into rec.  Returns JS_OK, JS_TORN or JS_BAD (which
 * includes a missing or mistyped required field). */
static int
parse_line(const char *line, size_t len, tr_rec *rec)
{
  jscan j = {line, line + len, JS_OK};
  memset(rec, 0, sizeof *rec);
  bool have_ts = false;
  tr_slice ev = {0};
  js_ws(&j);
  if (j.p >= j.end)
    return JS_TORN;
  if (*j.p != '{')
    return JS_BAD;
  j.p++;
  js_ws(&j);
  if (j.p < j.end && *j.p == '}') {
    j.p++;
  } else {
    for (;;) {
      js_ws(&j);
      tr_slice key;
      if (j.p >= j.end)
        return JS_TORN;
      if (*j.p != '"' || !js_string(&j, &key))
        return j.fail ? j.fail : JS_BAD;
      js_ws(&j);
      if (j.p >= j.end)
        return JS_TORN;
      if (*j.p++ != ':')
        return JS_BAD;
      js_ws(&j);
      if (j.p >= j.end)
        return JS_TORN;
      const char *vstart = j.p;
      tr_slice *field = NULL;
      if (key_is(key, "trace"))
        field = &rec->trace;
      else if (key_is(key, "span"))
        field = &rec->span;
      else if (key_is(key, "parent"))
        field = &rec->parent;
      else if (key_is(key, "ev"))
        field = &ev;
      else if (key_is(key, "comp"))
        field = &rec->comp;
      else if (key_is(key, "role"))
        field = &rec->role;
      else if (key_is(key, "kind"))
        field = &rec->kind;
      else if (key_is(key, "name"))
        field = &rec->name;
      else if (key_is(key, "status"))
        field = &rec->status;
      else if (key_is(key, "err"))
        field = &rec->err;
      if (field && *j.p == '"') {
        if (!js_string(&j, field))
          return j.fail;
      } else if (*j.p == '-' || (*j.p >= '0' && *j.p <= '9')) {
        bool is_int = false;
        int64_t v = 0;
        if (!js_number(&j, &is_int, &v))
          return j.fail;
        if (key_is(key, "ts")) {
          if (!is_int)
            return JS_BAD;
          rec->ts = v;
          have_ts = true;
        } else if (key_is(key, "pid") && is_int) {
          rec->pid = v;
        } else if (key_is(key, "errno") && is_int) {
          rec->errnum = v;
        }
      } else {
        if (!js_value(&j, 1))
          return j.fail;
        if (key_is(key, "attrs") && *vstart == '{') {
          rec->attrs = vstart;
          rec->attrs_len = (size_t)(j.p - vstart);
        }
      }
      js_ws(&j);
      if (j.p >= j.end)
        return JS_TORN;
      char c = *j.p++;
      if (c == '}')
        break;
      if (c != ',')
        return JS_BAD;
    }
  }
  js_ws(&j);
  if (j.p != j.end)
    return JS_BAD; /* trailing garbage: two events glued together */
  /* Required: ts, trace, span, ev (docs/tracing.md, "Fields"). */
  if (!have_ts || rec->trace.n == 0 || rec->trace.n > 64 || rec->trace.esc || !rec->span.p ||
      rec->span.n > 32 || rec->span.esc || rec->parent.n > 32 || rec->parent.esc)
    return JS_BAD;
  if (tr_slice_eq(ev, "begin"))
    rec->ev = TR_EV_BEGIN;
  else if (tr_slice_eq(ev, "end"))
    rec->ev = TR_EV_END;
  else if (tr_slice_eq(ev, "event"))
    rec->ev = TR_EV_EVENT;
  else
    return JS_BAD;
  return JS_OK;
}

bool
tr_slice_eq(tr_slice s, const char *lit)
{
  size_t n = strlen(lit);
  return s.p && !s.esc && s.n == n && memcmp(s.p, lit, n) == 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static unsigned
hex4(const char *p)
{
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

char *
tr_slice_dup(tr_slice s)
{
  char *o = malloc(s.n + 1);
  if (o == NULL)
    return NULL;
  if (!s.esc) {
    if (s.n)
      memcpy(o, s.p, s.n);
    o[s.n] = '\0';
    return o;
  }
  /* The scanner validated the escapes; \uXXXX never grows the text. */
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] != '\\') {
      o[k++] = s.p[i];
      continue;
    }
    char c = s.p[++i];
    switch (c) {
    case 'b': o[k++] = '\b'; break;
    case 'f': o[k++] = '\f'; break;
    case 'n': o[k++] = '\n'; break;
    case 'r': o[k++] = '\r'; break;
    case 't': o[k++] = '\t'; break;
    case 'u': {
      unsigned cp = hex4(s.p + i + 1);
      i += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < s.n && s.p[i + 1] == '\\' && s.p[i + 2] == 'u') {
        unsigned lo = hex4(s.p + i + 3);
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        }
      }
      if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd;
      if (cp == 0)
        cp = ' '; /* keep C strings whole */
      k += put_utf8(o + k, cp);
      break;
    }
    default: o[k++] = c;
    }
  }
  o[k] = '\0';
  return o;
}

/* ---- streaming -------------------------------------------------------- */

int
tr_scan(const char *path, off_t from, off_t to, const char *needle, tr_rec_fn fn, void *ud,
        tr_stats *st, cut_err *err)
{
  if (path == NULL)
    path = tr_default_file();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open trace file %s", path);
  if (from > 0 && lseek(fd, from, SEEK_SET) < 0) {
    int e = errno;
    close(fd);
    return cut_error(err, e, "seek in %s", path);
  }
  size_t cap = READ_CHUNK, have = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    return cut_error(err, ENOMEM, "read %s", path);
  }
  size_t nlen = needle ? strlen(needle) : 0;
  off_t base = from; /* file offset of buf[0] */
  bool eof = false, skipping_long = false;
  int rc = 0;
  while (rc == 0 && !(eof && have == 0)) {
    if (!eof) {
      if (have == cap) {
        /* A line longer than the buffer: grow, up to a limit. */
        if (cap >= LINE_MAX_BYTES) {
          skipping_long = true;
          base += (off_t)have;
          have = 0;
        } else {
          char *nb = realloc(buf, cap * 2);
          if (nb == NULL) {
            rc = cut_error(err, ENOMEM, "read %s", path);
            break;
          }
          buf = nb;
          cap *= 2;
        }
      }
      ssize_t r = read(fd, buf + have, cap - have);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        rc = cut_error(err, errno, "read %s", path);
        break;
      }
      if (r == 0)
        eof = true;
      have += (size_t)r;
      if (st)
        st->bytes += (uint64_t)r;
    }
    size_t pos = 0;
    for (;;) {
      char *nl = memchr(buf + pos, '\n', have - pos);
      if (nl == NULL && !eof)
        break;
      size_t end = nl ? (size_t)(nl - buf) : have;
      const char *line = buf + pos;
      size_t len = end - pos;
      off_t off = base + (off_t)pos;
      pos = nl ? end + 1 : have;
      if (to >= 0 && off >= to) {
        eof = true;
        pos = have;
        break;
      }
      if (skipping_long) {
        skipping_long = false;
        if (st) {
          st->lines++;
          st->invalid++;
        }
        continue;
      }
      size_t k = 0;
      while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
        k++;
      if (k == len) {
        if (pos >= have)
          break;
        continue;
      }
      if (needle && memmem(line, len, needle, nlen) == NULL) {
        if (pos >= have)
          break;
        continue;
      }
      if (st)
        st->lines++;
      tr_rec rec;
      int pr = parse_line(line, len, &rec);
      if (pr != JS_OK) {
        if (st) {
          if (pr == JS_TORN)
            st->torn++;
          else
            st->invalid++;
        }
      } else {
        if (st)
          st->events++;
        rec.line = line;
        rec.len = len;
        rec.off = off;
        if (fn(&rec, ud, err) < 0) {
          rc = -1;
          break;
        }
      }
      if (pos >= have)
        break;
    }
    if (rc < 0)
      break;
    memmove(buf, buf + pos, have - pos);
    base += (off_t)pos;
    have -= pos;
    if (eof && have > 0 && pos == 0)
      break; /* cannot happen: at eof every byte is consumed */
  }
  free(buf);
  close(fd);
  return rc;
}

void
tr_report_skipped(const tr_stats *st)
{
  if (st->torn + st->invalid == 0)
    return;
  fprintf(stderr, "cutaway-trace: skipped %llu line%s (%llu torn, %llu invalid)\n",
          (unsigned long long)(st->torn + st->invalid), st->torn + st->invalid == 1 ? "" : "s",
          (unsigned long long)st->torn, (unsigned long long)st->invalid);
}

/* ---- the index -------------------------------------------------------- */

const char *const tr_container_keys[] = {"container", "container_id", "id", "name", NULL};

struct index_ctx {
  tr_index *ix;
  const char *container;
  size_t clen;
};

static int
comp_bit(tr_index *ix, tr_slice comp)
{
  for (int i = 0; i < ix->ncomps; i++)
    if (strlen(ix->comps[i]) == comp.n && memcmp(ix->comps[i], comp.p, comp.n) == 0)
      return i;
  if (ix->ncomps == TR_MAX_COMPS)
    return -1;
  char *c = tr_slice_dup(comp);
  if (c == NULL)
    return -1;
  ix->comps[ix->ncomps] = c;
  return ix->ncomps++;
}

/* Docker accepts a container id prefix or its name (with or without '/'). */
static bool
container_value_matches(const char *v, const char *want)
{
  if (v == NULL || want == NULL || want[0] == '\0')
    return false;
  if (v[0] == '/')
    v++;
  if (want[0] == '/')
    want++;
  if (strcmp(v, want) == 0)
    return true;
  size_t wl = strlen(want), vl = strlen(v);
  if (vl < 12 || wl < 4 || wl > vl || strncmp(v, want, wl) != 0)
    return false;
  for (size_t i = 0; i < vl; i++)
    if (!is_hex(v[i]))
      return false;
  return true;
}

static bool
rec_mentions_container(const tr_rec *r, const char *want, size_t wlen)
{
  if (r->attrs == NULL || memmem(r->attrs, r->attrs_len, want[0] == '/' ? want + 1 : want,
                                 want[0] == '/' ? wlen - 1 : wlen) == NULL)
    return false;
  cJSON *a = cJSON_ParseWithLength(r->attrs, r->attrs_len);
  bool hit = false;
  for (int i = 0; a && tr_container_keys[i] && !hit; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, tr_container_keys[i]);
    hit = cJSON_IsString(v) && container_value_matches(v->valuestring, want);
  }
  cJSON_Delete(a);
  return hit;
}

static int
index_rec(const tr_rec *r, void *ud, cut_err *err)
{
  struct index_ctx *c = ud;
  tr_index *ix = c->ix;
  bool created;
  hmap_node *n = hmap_put(ix->ids, r->trace.p, r->trace.n, &created);
  if (n == NULL)
    return cut_error(err, ENOMEM, "index traces");
  tr_summary *s;
  if (created) {
    if (ix->n == ix->cap) {
      size_t cap = ix->cap ? ix->cap * 2 : 256;
      tr_summary *nv = realloc(ix->v, cap * sizeof *nv);
      if (nv == NULL)
        return cut_error(err, ENOMEM, "index traces");
      ix->v = nv;
      ix->cap = cap;
    }
    n->val = (intptr_t)ix->n;
    s = &ix->v[ix->n++];
    memset(s, 0, sizeof *s);
    if (r->trace.n > 0)
      memcpy(s->id, r->trace.p, r->trace.n);
    s->t0 = s->t1 = r->ts;
    s->first_off = r->off;
  } else {
    s = &ix->v[n->val];
  }
  s->nevents++;
  if (r->ts < s->t0)
    s->t0 = r->ts;
  if (r->ts > s->t1)
    s->t1 = r->ts;
  s->end_off = r->off + (off_t)r->len + 1;
  if (r->ev == TR_EV_BEGIN)
    s->nspans++;
  if (r->ev == TR_EV_END && tr_slice_eq(r->status, "error"))
    s->nerrors++;
  if (r->comp.n) {
    int bit = comp_bit(ix, r->comp);
    if (bit >= 0)
      s->comps |= 1ULL << bit;
  }
  int rank = (r->ev == TR_EV_BEGIN && r->parent.n == 0) ? 2 : 1;
  if (rank > s->root_rank && r->name.p) {
    free(s->root);
    s->root = tr_slice_dup(r->name);
    s->root_rank = rank;
  }
  if (c->container && !s->container_match && rec_mentions_container(r, c->container, c->clen))
    s->container_match = true;
  return 0;
}

int
tr_index_build(const char *path, const char *container, tr_index *ix, cut_err *err)
{
  memset(ix, 0, sizeof *ix);
  ix->path = path ? path : tr_default_file();
  ix->ids = calloc(1, sizeof(hmap));
  if (ix->ids == NULL)
    return cut_error(err, ENOMEM, "index traces");
  struct index_ctx c = {ix, container, container ? strlen(container) : 0};
  if (container && container[0] == '\0')
    return cut_error(err, EINVAL, "--container: empty name");
  return tr_scan(ix->path, 0, -1, NULL, index_rec, &c, &ix->st, err);
}

void
tr_index_free(tr_index *ix)
{
  for (size_t i = 0; i < ix->n; i++)
    free(ix->v[i].root);
  free(ix->v);
  if (ix->ids) {
    hmap_free(ix->ids);
    free(ix->ids);
  }
  for (int i = 0; i < ix->ncomps; i++)
    free(ix->comps[i]);
  memset(ix, 0, sizeof *ix);
}

static const tr_index *sort_ix;

static int
by_start(const void *a, const void *b)
{
  const tr_summary *x = &sort_ix->v[*(const size_t *)a], *y = &sort_ix->v[*(const size_t *)b];
  if (x->t0 != y->t0)
    return x->t0 < y->t0 ? -1 : 1;
  return x->first_off < y->first_off ? -1 : x->first_off > y->first_off;
}

size_t *
tr_index_by_start(const tr_index *ix)
{
  size_t *v = malloc((ix->n ? ix->n : 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  for (size_t i = 0; i < ix->n; i++)
    v[i] = i;
  sort_ix = ix;
  qsort(v, ix->n, sizeof *v, by_start);
  return v;
}

int
tr_select(const tr_index *ix, const char *sel, const char *container, size_t **out, size_t *n,
          cut_err *err)
{
  *out = NULL;
  *n = 0;
  size_t *v = malloc((ix->n ? ix->n : 1) * sizeof *v);
  if (v == NULL)
    return cut_error(err, ENOMEM, "select trace");
  size_t k = 0;
  if (container) {
    for (size_t i = 0; i < ix->n; i++)
      if (ix->v[i].container_match)
        v[k++] = i;
    if (k == 0) {
      free(v);
      return cut_error(err, ENOENT, "no trace in %s mentions container %s", ix->path, container);
    }
  } else if (sel == NULL || strcmp(sel, "last") == 0) {
    /* The request that started last (file order breaks ties). */
    for (size_t i = 0; i < ix->n; i++)
      if (k == 0 || ix->v[i].t0 > ix->v[v[0]].t0 ||
          (ix->v[i].t0 == ix->v[v[0]].t0 && ix->v[i].first_off > ix->v[v[0]].first_off)) {
        v[0] = i;
        k = 1;
      }
    if (k == 0) {
      free(v);
      return cut_error(err, ENOENT, "no trace in %s", ix->path);
    }
  } else {
    size_t sl = strlen(sel);
    hmap_node *exact = hmap_get(ix->ids, sel, sl);
    if (exact) {
      v[k++] = (size_t)exact->val;
    } else {
      for (size_t i = 0; i < ix->n; i++)
        if (strncmp(ix->v[i].id, sel, sl) == 0)
          v[k++] = i;
      if (k == 0) {
        free(v);
        return cut_error(err, 0, "trace %s: not found in %s", sel, ix->path);
      }
      if (k > 1) {
        free(v);
        return cut_error(err, 0, "trace %s: ambiguous prefix (%zu traces)", sel, k);
      }
    }
  }
  *out = v;
  *n = k;
  return 0;
}
