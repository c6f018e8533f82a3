/* diagrams.c: the sequence diagram (SVG and Mermaid) and the timeline.
 *
 * The sequence diagram is the view of a request that API documentation
 * uses: one lifeline per process role (in layer order), a numbered arrow
 * for each call across processes and each kernel step, a dashed return
 * with the duration.  The timeline is the waterfall Jaeger and Chrome's
 * network panel draw: one bar per span, on a common time axis, indented by
 * depth.  Both are plain SVG written here, so they need nothing to render
 * and can be inlined into the HTML page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static const char *const lane_color[TR_NLANES] = {"#4285f4", "#34a853", "#f9ab00", "#ea4335",
                                                  "#a142f4", "#9aa0a6", "#12b5cb", "#fa7b17"};

/* ---- sequence ---------------------------------------------------------- */

enum { COL_KERNEL = -1, COL_REGISTRY = -2, COL_EXTERNAL = -3 };

struct msg {
  int64_t ts;
  int order;
  const tv_step *step;
  bool ret; /* the return of a call */
};

static int
msg_cmp(const void *a, const void *b)
{
  const struct msg *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return x->order - y->order;
}

/* Messages in time order: each step's call, then its return (calls to the
 * kernel are one arrow: their duration is in the label). */
static size_t
build_msgs(const tr_model *m, const tv_step *st, size_t n, struct msg **out)
{
  struct msg *v = calloc(2 * n + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; v && i < n; i++) {
    const tr_span *s = &m->s[st[i].span];
    v[k++] = (struct msg){s->start, (int)(2 * i), &st[i], false};
    if (st[i].to != COL_KERNEL && s->status != TR_ST_DIED && s->status != TR_ST_EXECED)
      v[k++] = (struct msg){s->end, (int)(2 * i + 1), &st[i], true};
  }
  if (v)
    qsort(v, k, sizeof *v, msg_cmp);
  *out = v;
  return v ? k : 0;
}

struct cols {
  int n;
  int kernel, registry, external; /* column index or -1 */
};

static struct cols
columns(const tr_model *m, const tv_step *st, size_t n)
{
  struct cols c = {(int)m->nlives, -1, -1, -1};
  bool k = false, r = false, e = false;
  for (size_t i = 0; i < n; i++) {
    k = k || st[i].to == COL_KERNEL;
    r = r || st[i].to == COL_REGISTRY;
    e = e || st[i].to == COL_EXTERNAL;
  }
  if (r)
    c.registry = c.n++;
  if (e)
    c.external = c.n++;
  if (k)
    c.kernel = c.n++;
  return c;
}

static int
col_of(const struct cols *c, int to)
{
  return to == COL_KERNEL     ? c->kernel
         : to == COL_REGISTRY ? c->registry
         : to == COL_EXTERNAL ? c->external
                              : to;
}

static void
msg_label(const tr_model *m, const tv_step *x, char *buf, size_t cap)
{
  const tr_span *s = &m->s[x->span];
  char dur[32];
  tr_fmt_dur(s->end - s->start, dur, sizeof dur);
  if (x->to == COL_KERNEL) {
    if (s->status == TR_ST_EXECED)
      snprintf(buf, cap, "%d. %s (image replaced)", x->number, s->name);
    else if (s->status == TR_ST_DIED)
      snprintf(buf, cap, "%d. %s  (died)", x->number, s->name);
    else
      snprintf(buf, cap, "%d. %s  %s%s%s", x->number, s->name, dur,
               s->status == TR_ST_ERROR ? "  ERROR: " : "", s->status == TR_ST_ERROR ? s->err : "");
  } else {
    snprintf(buf, cap, "%d. %s%s", x->number, s->name, s->status == TR_ST_DIED ? "  (died)" : "");
  }
}

void
tv_seq_svg(const tr_model *m, sbuf *o)
{
  tv_step *st;
  size_t n = tv_steps(m, &st);
  struct msg *mv;
  size_t nm = build_msgs(m, st, n, &mv);
  struct cols c = columns(m, st, n);
  const int colw = 180, left = 100, top = 70, rowh = 30;
  int width = left + c.n * colw, height = top + (int)(nm + 1) * rowh + 20;
  sb_printf(o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"11\">\n"
            "<defs><marker id=\"seqarrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" "
            "refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"context-stroke\"/>"
            "</marker></defs>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
  for (int i = 0; i < c.n; i++) {
    int x = left + i * colw;
    char l1[128] = "", l2[128] = "";
    const char *fill = "#9aa0a6";
    if (i < (int)m->nlives) {
      snprintf(l1, sizeof l1, "%s", m->lives[i].comp);
      if (strcmp(m->lives[i].comp, m->lives[i].role) != 0)
        snprintf(l2, sizeof l2, "%s", m->lives[i].role);
      fill = lane_color[m->lives[i].lane];
    } else {
      snprintf(l1, sizeof l1, "%s",
               i == c.kernel     ? "kernel"
               : i == c.registry ? "registry"
                                 : "untraced peer");
      fill = lane_color[i == c.kernel ? TR_LANE_KERNEL : TR_LANE_REGISTRY];
    }
    sb_printf(o,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bdc1c6\" "
              "stroke-dasharray=\"4,3\"/>\n",
              x, top - 20, x, height - 10);
    sb_printf(o,
              "<rect x=\"%d\" y=\"10\" width=\"%d\" height=\"40\" rx=\"5\" fill=\"%s\" "
              "fill-opacity=\"0.18\" stroke=\"%s\"/>\n",
              x - colw / 2 + 6, colw - 12, fill, fill);
    sb_printf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">", x,
              l2[0] ? 27 : 34);
    sb_xml(o, l1);
    sb_puts(o, "</text>\n");
    if (l2[0]) {
      sb_printf(o, "<text x=\"%d\" y=\"43\" text-anchor=\"middle\">", x);
      sb_xml(o, l2);
      sb_puts(o, "</text>\n");
    }
  }
  for (size_t i = 0; i < nm; i++) {
    const tv_step *x = mv[i].step;
    const tr_span *s = &m->s[x->span];
    int a = col_of(&c, x->from), b = col_of(&c, x->to);
    if (mv[i].ret) {
      int t = a;
      a = b;
      b = t;
    }
    int y = top + (int)(i + 1) * rowh;
    int x1 = left + a * colw, x2 = left + b * colw;
    bool red = s->status == TR_ST_ERROR || s->status == TR_ST_DIED;
    const char *color = red ? "#d93025" : "#202124";
    char label[512];
    if (mv[i].ret) {
      char dur[32];
      tr_fmt_dur(s->end - s->start, dur, sizeof dur);
      snprintf(label, sizeof label, "%s%s%s", dur, s->status == TR_ST_ERROR ? "  ERROR: " : "",
               s->status == TR_ST_ERROR ? s->err : "");
    } else {
      msg_label(m, x, label, sizeof label);
    }
    if (a == b) {
      sb_printf(o,
                "<path d=\"M%d,%d h30 v10 h-30\" fill=\"none\" stroke=\"%s\" "
                "marker-end=\"url(#seqarrow)\"/>\n",
                x1, y - 6, color);
      x2 = x1 + 70;
    } else {
      sb_printf(o,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"%s%s "
                "marker-end=\"url(#seqarrow)\"/>\n",
                x1, y, x2 + (x2 > x1 ? -2 : 2), y, color,
                mv[i].ret ? " stroke-dasharray=\"5,3\"" : "",
                s->status == TR_ST_DIED ? " stroke-dasharray=\"2,2\"" : "");
    }
    sb_printf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">", (x1 + x2) / 2,
              y - 4, color);
    sb_xml(o, label);
    sb_puts(o, "</text>\n");
  }
  sb_puts(o, "</svg>\n");
  free(mv);
  free(st);
}

/* Mermaid text is fragile around a few characters: '#' and ';' start
 * entities and statements, so they become entity codes. */
static void
mermaid_text(sbuf *o, const char *s)
{
  for (; s && *s; s++) {
    if (*s == '#')
      sb_puts(o, "#35;");
    else if (*s == ';')
      sb_puts(o, "#59;");
    else if (*s == '\n' || *s == '\r')
      sb_putc(o, ' ');
    else
      sb_putc(o, *s);
  }
}

void
tv_seq_mermaid(const tr_model *m, sbuf *o)
{
  tv_step *st;
  size_t n = tv_steps(m, &st);
  struct msg *mv;
  size_t nm = build_msgs(m, st, n, &mv);
  struct cols c = columns(m, st, n);
  sb_puts(o, "sequenceDiagram\n");
  for (size_t i = 0; i < m->nlives; i++) {
    char who[200];
    tv_life_label(&m->lives[i], who, sizeof who);
    sb_printf(o, "    participant P%zu as ", i);
    mermaid_text(o, who);
    sb_putc(o, '\n');
  }
  if (c.registry >= 0)
    sb_puts(o, "    participant REG as registry\n");
  if (c.external >= 0)
    sb_puts(o, "    participant EXT as untraced peer\n");
  if (c.kernel >= 0)
    sb_puts(o, "    participant K as kernel\n");
  for (size_t i = 0; i < nm; i++) {
    const tv_step *x = mv[i].step;
    const tr_span *s = &m->s[x->span];
    char from[16], to[16];
    snprintf(from, sizeof from, "P%d", x->from);
    if (x->to >= 0)
      snprintf(to, sizeof to, "P%d", x->to);
    else
      snprintf(to, sizeof to, "%s",
               x->to == COL_KERNEL     ? "K"
               : x->to == COL_REGISTRY ? "REG"
                                       : "EXT");
    char label[512];
    if (mv[i].ret) {
      char dur[32];
      tr_fmt_dur(s->end - s->start, dur, sizeof dur);
      if (s->status == TR_ST_ERROR) {
        sb_printf(o, "    %s--x%s: ", to, from);
        snprintf(label, sizeof label, "%s ERROR: %s", dur, s->err);
      } else {
        sb_printf(o, "    %s-->>%s: ", to, from);
        snprintf(label, sizeof label, "%s", dur);
      }
    } else {
      msg_label(m, x, label, sizeof label);
      sb_printf(o, "    %s%s%s: ", from,
                (s->status == TR_ST_ERROR || s->status == TR_ST_DIED) && x->to == COL_KERNEL
                    ? "-x"
                    : "->>",
                to);
    }
    mermaid_text(o, label);
    sb_putc(o, '\n');
    if (!mv[i].ret && s->status == TR_ST_DIED && x->to >= 0)
      sb_printf(o, "    Note over %s: process died (span left open)\n", to);
  }
  free(mv);
  free(st);
}

/* ---- timeline ---------------------------------------------------------- */

void
tv_timeline_svg(const tr_model *m, sbuf *o)
{
  const int labelw = 360, barw = 760, rowh = 18, top = 40;
  int width = labelw + barw + 120, height = top + (int)m->n * rowh + 20;
  int64_t span = m->t1 - m->t0 > 0 ? m->t1 - m->t0 : 1;
  sb_printf(o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"11\">\n"
            "<defs><pattern id=\"died\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#d93025\" "
            "fill-opacity=\"0.5\"/></pattern></defs>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
  for (int t = 0; t <= 10; t++) {
    int x = labelw + barw * t / 10;
    char d[32];
    tr_fmt_dur(span * t / 10, d, sizeof d);
    sb_printf(o,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e8eaed\"/>"
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#5f6368\">%s</text>\n",
              x, top - 8, x, height - 10, x, top - 14, d);
  }
  for (size_t r = 0; r < m->n; r++) {
    const tr_span *s = &m->s[m->order[r]];
    const tr_life *l = &m->lives[s->life];
    int y = top + (int)r * rowh;
    double x0 = labelw + (double)barw * (double)(s->start - m->t0) / (double)span;
    double w = (double)barw * (double)(s->end - s->start) / (double)span;
    if (w < 1.5)
      w = 1.5;
    bool err = s->status == TR_ST_ERROR, died = s->status == TR_ST_DIED;
    const char *color = s->kind == TR_SYSCALL ? lane_color[TR_LANE_KERNEL] : lane_color[l->lane];
    sb_printf(o, "<g><title>");
    char who[200], dur[32];
    tv_life_label(l, who, sizeof who);
    tr_fmt_dur(s->end - s->start, dur, sizeof dur);
    sb_xml(o, s->name);
    sb_puts(o, " — ");
    sb_xml(o, who);
    sb_printf(o, " (%s, %s, %s)</title>\n", tr_kind_str(s->kind), dur, tr_status_str(s->status));
    sb_printf(o, "<text x=\"%d\" y=\"%d\"%s>", 6 + s->depth * 12, y + 13,
              err || died ? " fill=\"#d93025\"" : "");
    sb_xml(o, s->name);
    sb_puts(o, "</text>\n");
    if (s->kind == TR_INSTANT) {
      sb_printf(o, "<path d=\"M%.1f,%d l5,5 l-5,5 l-5,-5 z\" fill=\"%s\"/>\n", x0, y + 3, color);
    } else {
      sb_printf(
          o, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"%s\"%s%s/>\n",
          x0, y + 3, w, rowh - 6,
          died  ? "url(#died)"
          : err ? "#d93025"
                : color,
          died ? " stroke=\"#d93025\" stroke-dasharray=\"3,2\"" : "",
          s->status == TR_ST_EXECED ? " fill-opacity=\"0.5\"" : "");
      sb_printf(o, "<text x=\"%.1f\" y=\"%d\" fill=\"#5f6368\">%s%s</text>\n", x0 + w + 4, y + 13,
                dur,
                died                        ? " died"
                : s->status == TR_ST_EXECED ? " execed"
                : err                       ? " error"
                                            : "");
    }
    sb_puts(o, "</g>\n");
  }
  sb_puts(o, "</svg>\n");
}
