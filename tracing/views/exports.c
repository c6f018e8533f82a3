/* exports.c: the request in the two standard trace formats.
 *
 * chrome: the Trace Event Format that Perfetto and chrome://tracing open.
 *   Each span is a complete ("X") event on the track of its process (pid)
 *   and thread (tid).  The viewer requires slices on one track to nest
 *   strictly, which spans of concurrent work in one process need not do,
 *   so a span that would overlap its neighbours goes to an extra track of
 *   the same process instead of being clipped.  Calls across processes get
 *   flow events ("s" at the caller, "f" at the callee): the arrows between
 *   tracks.
 * otlp: OTLP/JSON (opentelemetry-proto, ExportTraceServiceRequest) as a
 *   collector's /v1/traces or Jaeger's OTLP receiver accepts it: one
 *   resourceSpans per component (service.name), span kinds as the enum
 *   numbers, times as decimal strings, attributes as KeyValue/AnyValue.
 *   The `syscall` kind has no OTLP equivalent: it is INTERNAL with the
 *   attribute cutaway.kind=syscall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* ---- chrome ------------------------------------------------------------ */

static void
us(sbuf *o, int64_t ns)
{
  if (ns < 0)
    ns = 0;
  sb_printf(o, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static int64_t
span_pid(const tr_span *s)
{
  return s->pid > 0 ? s->pid : 1000000 + s->life;
}

static const tr_model *cm;

static int
nest_cmp(const void *a, const void *b)
{
  const tr_span *x = &cm->s[*(const int *)a], *y = &cm->s[*(const int *)b];
  if (span_pid(x) != span_pid(y))
    return span_pid(x) < span_pid(y) ? -1 : 1;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end > y->end ? -1 : 1; /* the longer one encloses */
  return x->seq - y->seq;
}

#define MAX_TRACKS 64

/* Give each span a track (tid) on which it nests strictly. */
static void
assign_tracks(const tr_model *m, int *order, int64_t *tid)
{
  size_t k = 0;
  for (size_t i = 0; i < m->n; i++)
    if (m->s[i].kind != TR_INSTANT)
      order[k++] = (int)i;
  cm = m;
  qsort(order, k, sizeof *order, nest_cmp);
  int64_t *stack[MAX_TRACKS] = {0};
  int depth[MAX_TRACKS] = {0};
  for (int t = 0; t < MAX_TRACKS; t++)
    stack[t] = malloc((m->n + 1) * sizeof(int64_t));
  int64_t cur_pid = -1;
  int ntracks = 0;
  for (size_t i = 0; i < k; i++) {
    const tr_span *s = &m->s[order[i]];
    if (span_pid(s) != cur_pid) {
      cur_pid = span_pid(s);
      ntracks = 0;
    }
    int t;
    for (t = 0; t < ntracks && t < MAX_TRACKS; t++) {
      while (depth[t] > 0 && stack[t][depth[t] - 1] <= s->start)
        depth[t]--;
      if (depth[t] == 0 || s->end <= stack[t][depth[t] - 1])
        break;
    }
    if (t == MAX_TRACKS)
      t = MAX_TRACKS - 1; /* pathological: accept a broken nesting on the last track */
    if (t == ntracks) {
      ntracks++;
      depth[t] = 0;
    }
    if (stack[t])
      stack[t][depth[t]++] = s->end;
    tid[order[i]] = t == 0 ? cur_pid : cur_pid * 100 + t;
  }
  for (int t = 0; t < MAX_TRACKS; t++)
    free(stack[t]);
}

static void
json_attrs(sbuf *o, const tr_span *s)
{
  sb_puts(o, "{\"kind\":");
  sb_json_str(o, tr_kind_str(s->kind));
  sb_puts(o, ",\"status\":");
  sb_json_str(o, tr_status_str(s->status));
  if (s->err) {
    sb_puts(o, ",\"err\":");
    sb_json_str(o, s->err);
    sb_printf(o, ",\"errno\":%d", s->errnum);
  }
  sb_puts(o, ",\"span\":");
  sb_json_str(o, s->id);
  if (s->attrs) {
    char *a = cJSON_PrintUnformatted(s->attrs);
    if (a && strlen(a) > 2) {
      sb_putc(o, ',');
      sb_putn(o, a + 1, strlen(a) - 2);
    }
    cJSON_free(a);
  }
  sb_putc(o, '}');
}

void
tv_chrome(const tr_model *m, sbuf *o)
{
  int *order = malloc((m->n + 1) * sizeof *order);
  int64_t *tid = calloc(m->n + 1, sizeof *tid);
  if (order == NULL || tid == NULL) {
    free(order);
    free(tid);
    o->oom = true;
    return;
  }
  assign_tracks(m, order, tid);
  for (size_t i = 0; i < m->n; i++)
    if (m->s[i].kind == TR_INSTANT)
      tid[i] = span_pid(&m->s[i]);
  sb_puts(o,
          "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"source\":\"cutaway-trace\",\"traces\":\"");
  for (size_t i = 0; i < m->ntraces; i++)
    sb_printf(o, "%s%s", i ? "," : "", m->traces[i]);
  sb_printf(o, "\",\"t0_unix_ns\":\"%lld\"},\n\"traceEvents\":[\n", (long long)m->t0);
  bool first = true;
  /* Names of processes and tracks, once each. */
  for (size_t i = 0; i < m->n; i++) {
    const tr_span *s = &m->s[i];
    bool seen_p = false, seen_t = false;
    for (size_t j = 0; j < i; j++) {
      seen_p = seen_p || span_pid(&m->s[j]) == span_pid(s);
      seen_t = seen_t || tid[j] == tid[i];
    }
    char who[200];
    tv_life_label(&m->lives[s->life], who, sizeof who);
    if (!seen_p) {
      sb_printf(o,
                "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%lld,\"tid\":%lld,\"args\":"
                "{\"name\":",
                first ? "" : ",\n", (long long)span_pid(s), (long long)span_pid(s));
      sb_json_str(o, who);
      sb_puts(o, "}}");
      first = false;
    }
    if (!seen_t) {
      char tn[256];
      snprintf(tn, sizeof tn, "%s%s", s->role, tid[i] != span_pid(s) ? " (overlapping spans)" : "");
      sb_printf(o,
                "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%lld,\"tid\":%lld,\"args\":"
                "{\"name\":",
                first ? "" : ",\n", (long long)span_pid(s), (long long)tid[i]);
      sb_json_str(o, tn);
      sb_puts(o, "}}");
      first = false;
    }
  }
  for (size_t i = 0; i < m->n; i++) {
    const tr_span *s = &m->s[i];
    sb_puts(o, first ? "" : ",\n");
    first = false;
    sb_puts(o, "{\"name\":");
    sb_json_str(o, s->name);
    sb_puts(o, ",\"cat\":");
    sb_json_str(o, tr_kind_str(s->kind));
    if (s->kind == TR_INSTANT) {
      sb_puts(o, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
      us(o, s->start - m->t0);
    } else {
      sb_puts(o, ",\"ph\":\"X\",\"ts\":");
      us(o, s->start - m->t0);
      sb_puts(o, ",\"dur\":");
      us(o, s->end - s->start);
    }
    sb_printf(o, ",\"pid\":%lld,\"tid\":%lld,\"args\":", (long long)span_pid(s), (long long)tid[i]);
    json_attrs(o, s);
    sb_putc(o, '}');
  }
  /* Flow arrows: caller slice -> callee slice, across processes. */
  tv_step *st;
  size_t n = tv_steps(m, &st);
  for (size_t i = 0; i < n; i++) {
    if (st[i].to < 0 || st[i].caller < 0)
      continue;
    const tr_span *callee = &m->s[st[i].span], *caller = &m->s[st[i].caller];
    int64_t at = callee->start;
    if (at < caller->start)
      at = caller->start;
    if (at > caller->end)
      at = caller->end;
    sb_printf(
        o, ",\n{\"ph\":\"s\",\"id\":%d,\"name\":\"call\",\"cat\":\"flow\",\"ts\":", st[i].number);
    us(o, at - m->t0);
    sb_printf(o, ",\"pid\":%lld,\"tid\":%lld}", (long long)span_pid(caller),
              (long long)tid[st[i].caller]);
    sb_printf(o,
              ",\n{\"ph\":\"f\",\"bp\":\"e\",\"id\":%d,\"name\":\"call\",\"cat\":\"flow\",\"ts\":",
              st[i].number);
    us(o, callee->start - m->t0);
    sb_printf(o, ",\"pid\":%lld,\"tid\":%lld}", (long long)span_pid(callee),
              (long long)tid[st[i].span]);
  }
  free(st);
  sb_puts(o, "\n]}\n");
  free(order);
  free(tid);
}

/* ---- OTLP/JSON --------------------------------------------------------- */

static void
any_value(sbuf *o, const cJSON *v)
{
  if (cJSON_IsString(v)) {
    sb_puts(o, "{\"stringValue\":");
    sb_json_str(o, v->valuestring);
    sb_putc(o, '}');
  } else if (cJSON_IsBool(v)) {
    sb_printf(o, "{\"boolValue\":%s}", cJSON_IsTrue(v) ? "true" : "false");
  } else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble &&
             v->valuedouble < 9.2e18 && v->valuedouble > -9.2e18) {
    /* int64 is a string in the protobuf JSON mapping. */
    sb_printf(o, "{\"intValue\":\"%lld\"}", (long long)v->valuedouble);
  } else if (cJSON_IsNumber(v)) {
    sb_printf(o, "{\"doubleValue\":%.17g}", v->valuedouble);
  } else {
    char *t = cJSON_PrintUnformatted(v);
    sb_puts(o, "{\"stringValue\":");
    sb_json_str(o, t ? t : "");
    sb_putc(o, '}');
    cJSON_free(t);
  }
}

static void
kv_str(sbuf *o, bool *first, const char *k, const char *v)
{
  sb_puts(o, *first ? "" : ",");
  *first = false;
  sb_puts(o, "{\"key\":");
  sb_json_str(o, k);
  sb_puts(o, ",\"value\":{\"stringValue\":");
  sb_json_str(o, v);
  sb_puts(o, "}}");
}

static void
kv_attrs(sbuf *o, bool *first, const cJSON *attrs)
{
  for (const cJSON *a = attrs ? attrs->child : NULL; a; a = a->next) {
    sb_puts(o, *first ? "" : ",");
    *first = false;
    sb_puts(o, "{\"key\":");
    sb_json_str(o, a->string);
    sb_puts(o, ",\"value\":");
    any_value(o, a);
    sb_putc(o, '}');
  }
}

/* OTLP ids are fixed-width hex: 32 for a trace, 16 for a span. */
static void
hex_id(sbuf *o, const char *id, size_t width)
{
  char buf[40];
  size_t n = strlen(id);
  if (n >= width) {
    memcpy(buf, id + n - width, width);
  } else {
    memset(buf, '0', width - n);
    memcpy(buf + width - n, id, n);
  }
  buf[width] = '\0';
  sb_putc(o, '"');
  sb_puts(o, buf);
  sb_putc(o, '"');
}

static void
otlp_span(sbuf *o, const tr_model *m, const tr_span *s)
{
  static const int kind_num[] = {1, 2, 3, 1, 1}; /* INTERNAL, SERVER, CLIENT */
  sb_puts(o, "{\"traceId\":");
  hex_id(o, s->trace, 32);
  sb_puts(o, ",\"spanId\":");
  hex_id(o, s->id, 16);
  if (s->parent_id[0]) {
    sb_puts(o, ",\"parentSpanId\":");
    hex_id(o, s->parent_id, 16);
  }
  sb_puts(o, ",\"name\":");
  sb_json_str(o, s->name);
  sb_printf(o, ",\"kind\":%d,\"startTimeUnixNano\":\"%lld\",\"endTimeUnixNano\":\"%lld\"",
            kind_num[s->kind], (long long)s->start, (long long)s->end);
  sb_puts(o, ",\"attributes\":[");
  bool first = true;
  kv_str(o, &first, "cutaway.role", s->role);
  sb_printf(o, ",{\"key\":\"process.pid\",\"value\":{\"intValue\":\"%lld\"}}", (long long)s->pid);
  if (s->kind == TR_SYSCALL || s->kind == TR_INSTANT)
    kv_str(o, &first, "cutaway.kind", tr_kind_str(s->kind));
  if (s->status == TR_ST_DIED || s->status == TR_ST_EXECED)
    kv_str(o, &first, "cutaway.open", tr_status_str(s->status));
  if (s->errnum)
    sb_printf(o, ",{\"key\":\"cutaway.errno\",\"value\":{\"intValue\":\"%d\"}}", s->errnum);
  kv_attrs(o, &first, s->attrs);
  sb_puts(o, "],\"events\":[");
  bool fe = true;
  for (int i = 0; i < s->nkids; i++) {
    const tr_span *e = &m->s[s->kids[i]];
    if (e->kind != TR_INSTANT)
      continue;
    sb_printf(o, "%s{\"timeUnixNano\":\"%lld\",\"name\":", fe ? "" : ",", (long long)e->start);
    fe = false;
    sb_json_str(o, e->name);
    sb_puts(o, ",\"attributes\":[");
    bool fa = true;
    kv_attrs(o, &fa, e->attrs);
    sb_puts(o, "]}");
  }
  sb_puts(o, "],\"status\":");
  if (s->status == TR_ST_ERROR) {
    sb_puts(o, "{\"code\":2,\"message\":");
    sb_json_str(o, s->err ? s->err : "error");
    sb_putc(o, '}');
  } else if (s->status == TR_ST_DIED) {
    sb_puts(o, "{\"code\":2,\"message\":\"process died: span left open\"}");
  } else {
    sb_puts(o, "{\"code\":1}");
  }
  sb_putc(o, '}');
}

void
tv_otlp(const tr_model *m, sbuf *o)
{
  sb_puts(o, "{\"resourceSpans\":[");
  bool first_res = true;
  for (size_t li = 0; li < m->nlives; li++) {
    const char *comp = m->lives[li].comp;
    bool dup = false;
    for (size_t j = 0; j < li; j++)
      dup = dup || strcmp(m->lives[j].comp, comp) == 0;
    if (dup)
      continue;
    sb_puts(o, first_res ? "\n" : ",\n");
    first_res = false;
    sb_puts(o, "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
               "{\"stringValue\":");
    sb_json_str(o, comp);
    sb_puts(o, "}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"cutaway\",\"version\":\"1\"},"
               "\"spans\":[");
    bool first = true;
    for (size_t i = 0; i < m->n; i++) {
      const tr_span *s = &m->s[m->order[i]];
      if (strcmp(s->comp, comp) != 0)
        continue;
      /* Instants are events of their span; only an orphan is a span. */
      if (s->kind == TR_INSTANT && s->parent >= 0)
        continue;
      sb_puts(o, first ? "\n" : ",\n");
      first = false;
      otlp_span(o, m, s);
    }
    sb_puts(o, "]}]}");
  }
  sb_puts(o, "\n]}\n");
}
