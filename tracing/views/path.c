/* path.c: `cutaway-trace path`, the request's path through the layers.
 *
 * The diagram has the shape of the layer table in design.md: one lane per
 * layer, top to bottom (CLI, daemon, containerd, shim, runc, kernel), the
 * registry beside them.  Inside a lane each process role is one box; each
 * cross-process call is a numbered arrow (the number gives the order, the
 * label the span name and its duration); kernel steps are listed, numbered
 * in the same sequence, in the kernel lane under the process that made
 * them.  Errors are red; a span left open because its process died is a
 * dashed arrow marked "died".  We write DOT text and let libgvc lay it out,
 * the way Graphviz is used by every tracing tool that draws call graphs. */
#include <gvc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static const tr_model *step_m;

static int
step_cmp(const void *a, const void *b)
{
  const tr_span *x = &step_m->s[((const tv_step *)a)->span];
  const tr_span *y = &step_m->s[((const tv_step *)b)->span];
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->seq - y->seq;
}

size_t
tv_steps(const tr_model *m, tv_step **out)
{
  tv_step *v = calloc(m->n + 1, sizeof *v);
  size_t k = 0;
  if (v == NULL) {
    *out = NULL;
    return 0;
  }
  for (size_t i = 0; i < m->n; i++) {
    const tr_span *s = &m->s[i];
    if (s->kind == TR_INSTANT)
      continue;
    const tr_span *p = s->parent >= 0 ? &m->s[s->parent] : NULL;
    if (s->kind == TR_SYSCALL)
      v[k++] = (tv_step){(int)i, s->life, -1, s->parent, 0};
    else if (p && p->life != s->life)
      v[k++] = (tv_step){(int)i, p->life, s->life, s->parent, 0};
    else if (tr_is_external_call(m, s))
      v[k++] = (tv_step){(int)i, s->life, tr_peer_lane(s) == TR_LANE_REGISTRY ? -2 : -3, -1, 0};
  }
  step_m = m;
  qsort(v, k, sizeof *v, step_cmp);
  for (size_t i = 0; i < k; i++)
    v[i].number = (int)i + 1;
  *out = v;
  return k;
}

/* A DOT double-quoted string body. */
static void
dot_str(sbuf *b, const char *s)
{
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\')
      sb_putc(b, '\\');
    if (*s == '\n')
      sb_puts(b, "\\n");
    else
      sb_putc(b, *s);
  }
}

/* The most telling attribute of a kernel step, "key=value", short. */
static void
step_detail(const tr_span *s, char *buf, size_t cap)
{
  buf[0] = '\0';
  static const char *const keys[] = {"target", "path", "flags", "file", "value", "source", NULL};
  for (int i = 0; keys[i]; i++) {
    const char *v = tr_attr_str(s, keys[i]);
    if (v) {
      snprintf(buf, cap, " %s", v);
      break;
    }
  }
  if (buf[0] == '\0' && s->attrs && s->attrs->child) {
    const cJSON *a = s->attrs->child;
    if (cJSON_IsString(a))
      snprintf(buf, cap, " %s=%s", a->string, a->valuestring);
    else if (cJSON_IsNumber(a))
      snprintf(buf, cap, " %s=%.0f", a->string, a->valuedouble);
  }
  if (strlen(buf) > 40)
    strcpy(buf + 37, "...");
}

static const char *const lane_fill[TR_NLANES] = {"#e8f0fe", "#e6f4ea", "#fef7e0", "#fce8e6",
                                                 "#f3e8fd", "#f1f3f4", "#e0f7fa", "#fff3e0"};

static bool
life_has(const tr_model *m, int life, enum tr_status st)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->s[i].life == life && m->s[i].status == st)
      return true;
  return false;
}

void
tv_path_dot(const tr_model *m, sbuf *o)
{
  tv_step *st;
  size_t n = tv_steps(m, &st);
  char dur[32];
  tr_fmt_dur(m->t1 - m->t0, dur, sizeof dur);
  const char *root = m->nroots ? m->s[m->roots[0]].name : "";
  sb_puts(o, "digraph path {\n  graph [rankdir=TB, newrank=true, fontname=\"Helvetica\", "
             "fontsize=12, labelloc=t, nodesep=0.35, ranksep=0.45, label=\"");
  dot_str(o, root);
  sb_printf(o, "  (trace %.8s, %s)\"];\n", m->ntraces ? m->traces[0] : "", dur);
  sb_puts(o,
          "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", "
          "fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
  bool lane_used[TR_NLANES] = {0}, kern_life[512] = {0};
  bool reg = false, ext = false;
  for (size_t i = 0; i < m->nlives; i++)
    lane_used[m->lives[i].lane] = true;
  for (size_t i = 0; i < n; i++) {
    if (st[i].to == -1 && st[i].from < 512)
      kern_life[st[i].from] = lane_used[TR_LANE_KERNEL] = true;
    reg = reg || st[i].to == -2;
    ext = ext || st[i].to == -3;
  }
  lane_used[TR_LANE_REGISTRY] = lane_used[TR_LANE_REGISTRY] || reg;
  for (int lane = 0; lane < TR_NLANES; lane++) {
    if (!lane_used[lane])
      continue;
    sb_printf(o,
              "  subgraph cluster_%d {\n    label=\"%s\"; labeljust=l; style=\"filled,rounded\"; "
              "fillcolor=\"%s\"; color=\"#b0b8c0\";\n",
              lane, tr_lane_name((enum tr_lane)lane), lane_fill[lane]);
    for (size_t i = 0; i < m->nlives; i++) {
      const tr_life *l = &m->lives[i];
      if ((int)l->lane != lane)
        continue;
      bool died = life_has(m, (int)i, TR_ST_DIED), err = life_has(m, (int)i, TR_ST_ERROR);
      sb_printf(o, "    p%zu [label=\"", i);
      dot_str(o, l->comp);
      if (strcmp(l->comp, l->role) != 0) {
        sb_puts(o, "\\n");
        dot_str(o, l->role);
      }
      if (died)
        sb_puts(o, "\\n(process died)");
      sb_printf(o, "\"%s%s];\n", err || died ? ", color=red, fontcolor=red" : "",
                died ? ", style=\"rounded,filled,dashed\"" : "");
    }
    if (lane == TR_LANE_KERNEL) {
      for (size_t li = 0; li < m->nlives && li < 512; li++) {
        if (!kern_life[li])
          continue;
        sb_printf(o,
                  "    k%zu [shape=plain, label=<<TABLE BORDER=\"1\" CELLBORDER=\"0\" "
                  "CELLSPACING=\"0\" CELLPADDING=\"2\" BGCOLOR=\"white\" COLOR=\"#90a4ae\">"
                  "<TR><TD ALIGN=\"LEFT\"><B>",
                  li);
        sb_xml(o, m->lives[li].role);
        sb_puts(o, "</B></TD></TR>");
        int rows = 0, more = 0;
        for (size_t i = 0; i < n; i++) {
          if (st[i].to != -1 || st[i].from != (int)li)
            continue;
          if (rows++ >= 60) {
            more++;
            continue;
          }
          const tr_span *s = &m->s[st[i].span];
          char det[64];
          step_detail(s, det, sizeof det);
          tr_fmt_dur(s->end - s->start, dur, sizeof dur);
          bool bad = s->status == TR_ST_ERROR || s->status == TR_ST_DIED;
          sb_printf(o, "<TR><TD ALIGN=\"LEFT\">%s%d. ", bad ? "<FONT COLOR=\"red\">" : "",
                    st[i].number);
          sb_xml(o, s->name);
          sb_xml(o, det);
          if (s->status == TR_ST_EXECED)
            sb_puts(o, "  (image replaced)");
          else
            sb_printf(o, "  %s", dur);
          if (s->status == TR_ST_ERROR) {
            sb_puts(o, "  ");
            sb_xml(o, s->err);
          }
          if (s->status == TR_ST_DIED)
            sb_puts(o, "  (died)");
          sb_printf(o, "%s</TD></TR>", bad ? "</FONT>" : "");
        }
        if (more)
          sb_printf(o, "<TR><TD ALIGN=\"LEFT\">... %d more</TD></TR>", more);
        sb_puts(o, "</TABLE>>];\n");
      }
    }
    /* One lane, one rank: lanes read as horizontal bands, top to bottom. */
    sb_puts(o, "    {rank=same;");
    for (size_t i = 0; i < m->nlives; i++)
      if ((int)m->lives[i].lane == lane)
        sb_printf(o, " p%zu;", i);
    if (lane == TR_LANE_KERNEL)
      for (size_t i = 0; i < m->nlives && i < 512; i++)
        if (kern_life[i])
          sb_printf(o, " k%zu;", i);
    sb_puts(o, "}\n");
    if (lane == TR_LANE_REGISTRY && reg)
      sb_puts(o, "    registry [label=\"registry\\n(distribution API)\", shape=cylinder];\n");
    sb_puts(o, "  }\n");
  }
  if (ext)
    sb_puts(o, "  external [label=\"untraced peer\", shape=box, style=dashed];\n");
  /* Lanes keep the layer order even where no call links them. */
  int prev = -1;
  for (int lane = 0; lane <= TR_LANE_KERNEL; lane++) {
    int first = -1;
    for (size_t i = 0; i < m->nlives && first < 0; i++)
      if ((int)m->lives[i].lane == lane)
        first = (int)i;
    if (lane == TR_LANE_KERNEL)
      for (size_t i = 0; i < m->nlives && i < 512 && first < 0; i++)
        if (kern_life[i])
          first = (int)i + 100000;
    if (first < 0)
      continue;
    if (prev >= 0)
      sb_printf(o, "  %c%d -> %c%d [style=invis, weight=5];\n", prev >= 100000 ? 'k' : 'p',
                prev % 100000, first >= 100000 ? 'k' : 'p', first % 100000);
    prev = first;
  }
  for (size_t i = 0; i < m->nlives && i < 512; i++)
    if (kern_life[i])
      sb_printf(o, "  p%zu -> k%zu [style=dotted, arrowhead=none, color=\"#78909c\"];\n", i, i);
  bool reg_ranked = false;
  for (size_t i = 0; i < n; i++) {
    const tv_step *x = &st[i];
    if (x->to == -1)
      continue;
    const tr_span *s = &m->s[x->span];
    bool err = s->status == TR_ST_ERROR, died = s->status == TR_ST_DIED;
    tr_fmt_dur(s->end - s->start, dur, sizeof dur);
    if (x->to == -2)
      sb_printf(o, "  p%d -> registry", x->from);
    else if (x->to == -3)
      sb_printf(o, "  p%d -> external", x->from);
    else
      sb_printf(o, "  p%d -> p%d", x->from, x->to);
    sb_printf(o, " [label=\"%d. ", x->number);
    dot_str(o, s->name);
    sb_printf(o, "\\n%s%s\"", died ? "died after " : "", dur);
    if (err)
      sb_puts(o, ", color=red, fontcolor=red, penwidth=1.6");
    if (died)
      sb_puts(o, ", style=dashed, color=red, fontcolor=red");
    if (x->to == -2)
      sb_puts(o, ", constraint=false");
    sb_puts(o, "];\n");
    if (x->to == -2 && !reg_ranked) {
      sb_printf(o, "  {rank=same; p%d; registry;}\n", x->from);
      reg_ranked = true;
    }
  }
  sb_puts(o, "}\n");
  free(st);
}

int
tv_graphviz(const char *dot, const char *format, sbuf *out, cut_err *err)
{
  if (strcmp(format, "dot") == 0) {
    sb_puts(out, dot);
    return 0;
  }
  agseterr(AGERR); /* layout warnings are ours to avoid, not the user's to read */
  GVC_t *gvc = gvContext();
  if (gvc == NULL)
    return cut_error(err, 0, "graphviz: no context");
  Agraph_t *g = agmemread(dot);
  if (g == NULL) {
    gvFreeContext(gvc);
    return cut_error(err, 0, "graphviz: cannot parse the generated graph");
  }
  int r = 0;
  if (gvLayout(gvc, g, "dot") != 0) {
    r = cut_error(err, 0, "graphviz: layout failed");
  } else {
    char *data = NULL;
    unsigned int len = 0;
    if (gvRenderData(gvc, g, format, &data, &len) != 0)
      r = cut_error(err, 0, "graphviz: cannot render %s (plugin missing?)", format);
    else
      sb_putn(out, data, len);
    gvFreeRenderData(data);
    gvFreeLayout(gvc, g);
  }
  agclose(g);
  gvFreeContext(gvc);
  return r;
}
