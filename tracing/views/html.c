/* html.c: `cutaway-trace html`, one self-contained page for a request.
 *
 * Everything is inline (the three SVG diagrams, the style, a few lines of
 * script for the event filter), so the page can be mailed, attached to an
 * issue or opened from a lab machine with no network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

struct row {
  int64_t ts;
  int span;
  const char *ev;
};

static const tr_model *hm;

static int
row_cmp(const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return hm->s[x->span].seq - hm->s[y->span].seq;
}

static void
event_table(const tr_model *m, sbuf *o)
{
  struct row *rows = calloc(2 * m->n + 1, sizeof *rows);
  size_t k = 0;
  for (size_t i = 0; rows && i < m->n; i++) {
    const tr_span *s = &m->s[i];
    if (s->kind == TR_INSTANT) {
      rows[k++] = (struct row){s->start, (int)i, "event"};
      continue;
    }
    if (s->has_begin)
      rows[k++] = (struct row){s->start, (int)i, "begin"};
    if (s->has_end)
      rows[k++] = (struct row){s->end, (int)i, "end"};
  }
  hm = m;
  if (rows)
    qsort(rows, k, sizeof *rows, row_cmp);
  sb_puts(o, "<table id=\"events\"><thead><tr><th>+time</th><th>ev</th><th>component</th>"
             "<th>role</th><th>pid</th><th>kind</th><th>name</th><th>status</th><th>attrs</th>"
             "</tr></thead><tbody>\n");
  for (size_t i = 0; i < k; i++) {
    const tr_span *s = &m->s[rows[i].span];
    bool end = strcmp(rows[i].ev, "end") == 0;
    bool bad = end && s->status == TR_ST_ERROR;
    char t[32];
    tr_fmt_dur(rows[i].ts - m->t0, t, sizeof t);
    sb_printf(o, "<tr%s><td>%s</td><td>%s</td><td>", bad ? " class=\"err\"" : "", t, rows[i].ev);
    sb_xml(o, s->comp);
    sb_puts(o, "</td><td>");
    sb_xml(o, s->role);
    sb_printf(o, "</td><td>%lld</td><td>%s</td><td>", (long long)s->pid, tr_kind_str(s->kind));
    sb_xml(o, s->name);
    sb_puts(o, "</td><td>");
    if (end) {
      sb_puts(o, tr_status_str(s->status));
      if (s->err) {
        sb_puts(o, ": ");
        sb_xml(o, s->err);
      }
    } else if (s->status == TR_ST_DIED && !s->has_end && strcmp(rows[i].ev, "begin") == 0) {
      sb_puts(o, "never ended: process died");
    }
    sb_puts(o, "</td><td><code>");
    if (s->attrs && !end) {
      char *a = cJSON_PrintUnformatted(s->attrs);
      sb_xml(o, a);
      cJSON_free(a);
    }
    sb_puts(o, "</code></td></tr>\n");
  }
  sb_puts(o, "</tbody></table>\n");
  free(rows);
}

/* Graphviz's SVG starts with an XML declaration and a DOCTYPE, which have
 * no place inside an HTML body: keep from <svg on. */
static void
inline_svg(sbuf *o, const sbuf *svg)
{
  const char *p = svg->p ? strstr(svg->p, "<svg") : NULL;
  if (p)
    sb_puts(o, p);
}

int
tv_html(const tr_model *m, sbuf *o, cut_err *err)
{
  sbuf dot = {0}, path = {0}, seq = {0}, tl = {0};
  tv_path_dot(m, &dot);
  int r = tv_graphviz(dot.p, "svg", &path, err);
  sb_free(&dot);
  if (r < 0) {
    sb_free(&path);
    return r;
  }
  tv_seq_svg(m, &seq);
  tv_timeline_svg(m, &tl);
  const char *root = m->nroots ? m->s[m->roots[0]].name : "(empty)";
  char t0[40], dur[32];
  tr_fmt_time(m->t0, t0, sizeof t0);
  tr_fmt_dur(m->t1 - m->t0, dur, sizeof dur);
  sb_puts(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
  sb_xml(o, root);
  sb_puts(o,
          " - cutaway trace</title>\n<style>\n"
          "body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#202124}\n"
          "h1{font-size:20px}h2{font-size:16px;margin-top:32px;border-bottom:1px solid #dadce0}\n"
          ".fig{overflow:auto;border:1px solid #e8eaed;padding:8px}\n"
          "table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;"
          "padding:2px 8px;text-align:left;vertical-align:top}\n"
          "tr.err td{color:#d93025}code{font-size:11px;color:#5f6368}\n"
          "#filter{width:360px;padding:4px;margin:8px 0}\n"
          "</style></head><body>\n<h1>");
  sb_xml(o, root);
  sb_puts(o, "</h1>\n<p>");
  for (size_t i = 0; i < m->ntraces; i++) {
    sb_puts(o, "trace <code>");
    sb_xml(o, m->traces[i]);
    sb_puts(o, "</code> ");
  }
  sb_printf(o, "<br>started %s, lasted %s, %zu spans in %zu process roles</p>\n", t0, dur, m->n,
            m->nlives);
  sb_puts(o, "<p><a href=\"#path\">path</a> · <a href=\"#seq\">sequence</a> · "
             "<a href=\"#timeline\">timeline</a> · <a href=\"#ev\">events</a></p>\n");
  sb_puts(o, "<h2 id=\"path\">Path through the layers</h2><div class=\"fig\">\n");
  inline_svg(o, &path);
  sb_puts(o, "</div>\n<h2 id=\"seq\">Sequence</h2><div class=\"fig\">\n");
  inline_svg(o, &seq);
  sb_puts(o, "</div>\n<h2 id=\"timeline\">Timeline</h2><div class=\"fig\">\n");
  inline_svg(o, &tl);
  sb_puts(o, "</div>\n<h2 id=\"ev\">Events</h2>\n<input id=\"filter\" type=\"search\" "
             "placeholder=\"filter rows: runc, mount, error...\">\n");
  event_table(m, o);
  sb_puts(o, "<script>\n"
             "document.getElementById('filter').addEventListener('input', function () {\n"
             "  var q = this.value.toLowerCase();\n"
             "  var rows = document.querySelectorAll('#events tbody tr');\n"
             "  for (var i = 0; i < rows.length; i++)\n"
             "    rows[i].style.display =\n"
             "      rows[i].textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';\n"
             "});\n</script>\n</body></html>\n");
  sb_free(&path);
  sb_free(&seq);
  sb_free(&tl);
  return 0;
}
