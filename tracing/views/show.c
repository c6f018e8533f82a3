/* show.c: `cutaway-trace show` and `list`, the text views.
 *
 * show prints the span tree the way `docker` users read a stack of calls:
 * each line a span with its component, role, kind, duration and outcome,
 * children indented under the span that caused them, across processes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

void
tv_life_label(const tr_life *l, char *buf, size_t cap)
{
  if (strcmp(l->comp, l->role) == 0)
    snprintf(buf, cap, "%s", l->comp);
  else
    snprintf(buf, cap, "%s %s", l->comp, l->role);
}

static void
show_status(const tr_span *s, sbuf *out)
{
  switch (s->status) {
  case TR_ST_OK: sb_puts(out, "ok"); break;
  case TR_ST_ERROR:
    sb_printf(out, "ERROR: %s", s->err ? s->err : "error");
    if (s->errnum)
      sb_printf(out, " (errno %d)", s->errnum);
    break;
  case TR_ST_EXECED: sb_puts(out, "execed (process image replaced)"); break;
  case TR_ST_DIED: sb_puts(out, "OPEN: process died"); break;
  }
}

void
tv_show(const tr_model *m, sbuf *out)
{
  char t0[40], dur[32];
  tr_fmt_time(m->t0, t0, sizeof t0);
  tr_fmt_dur(m->t1 - m->t0, dur, sizeof dur);
  size_t nerr = 0, nopen = 0;
  for (size_t i = 0; i < m->n; i++) {
    nerr += m->s[i].status == TR_ST_ERROR;
    nopen += m->s[i].status == TR_ST_DIED;
  }
  for (size_t i = 0; i < m->ntraces; i++)
    sb_printf(out, "trace %s\n", m->traces[i]);
  sb_printf(out, "start %s  duration %s  spans %zu  processes %zu  errors %zu  died %zu\n\n", t0,
            dur, m->n, m->nlives, nerr, nopen);
  for (size_t i = 0; i < m->n; i++) {
    const tr_span *s = &m->s[m->order[i]];
    const tr_life *l = &m->lives[s->life];
    bool bad = s->status == TR_ST_ERROR || s->status == TR_ST_DIED;
    sb_puts(out, bad ? "! " : "  ");
    for (int d = 0; d < s->depth; d++)
      sb_puts(out, "  ");
    char who[200];
    tv_life_label(l, who, sizeof who);
    if (s->kind == TR_INSTANT) {
      sb_printf(out, "* %s  [%s]  +%s\n", s->name, who,
                (tr_fmt_dur(s->start - m->t0, dur, sizeof dur), dur));
      continue;
    }
    tr_fmt_dur(s->end - s->start, dur, sizeof dur);
    sb_printf(out, "%s  [%s %s]  %s%s  ", s->name, who, tr_kind_str(s->kind),
              s->has_begin ? "" : "?", dur);
    show_status(s, out);
    sb_putc(out, '\n');
  }
}

void
tv_list(const tr_index *ix, size_t limit, sbuf *out)
{
  size_t *ord = tr_index_by_start(ix);
  if (ord == NULL)
    return;
  size_t first = (limit && ix->n > limit) ? ix->n - limit : 0;
  sb_printf(out, "%-32s  %-24s  %10s  %6s  %-5s  %-32s  %s\n", "TRACE", "START", "DURATION",
            "SPANS", "ERROR", "ROOT", "COMPONENTS");
  for (size_t i = first; i < ix->n; i++) {
    const tr_summary *s = &ix->v[ord[i]];
    char t0[40], dur[32];
    tr_fmt_time(s->t0, t0, sizeof t0);
    tr_fmt_dur(s->t1 - s->t0, dur, sizeof dur);
    sb_printf(out, "%-32s  %-24s  %10s  %6" PRIu64 "  %-5s  %-32.32s  ", s->id, t0, dur, s->nspans,
              s->nerrors ? "yes" : "-", s->root ? s->root : "");
    /* Components in lane order, as the layer diagram lists them. */
    bool any = false;
    for (int lane = 0; lane < TR_NLANES; lane++)
      for (int c = 0; c < ix->ncomps; c++)
        if ((s->comps >> c & 1) && (int)tr_lane_of(ix->comps[c]) == lane) {
          sb_printf(out, "%s%s", any ? "," : "", ix->comps[c]);
          any = true;
        }
    sb_putc(out, '\n');
  }
  free(ord);
}
