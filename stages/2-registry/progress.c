/* progress.c: docker-pull-style progress lines (see progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
progress_init(progress *p, FILE *out, bool quiet)
{
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->mu, NULL);
  p->out = out;
  const char *term = getenv("TERM");
  if (quiet)
    p->mode = PROGRESS_OFF;
  else if (isatty(fileno(out)) && term && strcmp(term, "dumb") != 0)
    p->mode = PROGRESS_TTY;
  else
    p->mode = PROGRESS_PLAIN;
}

void
progress_free(progress *p)
{
  free(p->lines);
  pthread_mutex_destroy(&p->mu);
}

/* "12.3MB", as docker's go-units HumanSize prints (decimal units). */
static void
human(uint64_t v, char *out, size_t size)
{
  static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
  double d = (double)v;
  int i = 0;
  while (d >= 1000 && i < 4)
    d /= 1000, i++;
  snprintf(out, size, i ? "%.3g%s" : "%.0f%s", d, u[i]);
}

static void
format_line(const progress_line *l, char *buf, size_t size)
{
  if (l->total && strcmp(l->state, "Downloading") == 0) {
    char cur[16], tot[16], bar[52];
    human(l->current, cur, sizeof cur);
    human(l->total, tot, sizeof tot);
    int w = (int)(50.0 * (double)l->current / (double)l->total);
    if (w > 50)
      w = 50;
    for (int i = 0; i < 50; i++)
      bar[i] = i < w ? '=' : (i == w ? '>' : ' ');
    bar[50] = '\0';
    snprintf(buf, size, "%s: %-11s [%s] %s/%s", l->id, l->state, bar, cur, tot);
  } else {
    snprintf(buf, size, "%s: %s", l->id, l->state);
  }
}

size_t
progress_add(progress *p, const char *digest, const char *state, uint64_t total)
{
  pthread_mutex_lock(&p->mu);
  progress_line *nl = realloc(p->lines, (p->n + 1) * sizeof *nl);
  size_t i = p->n;
  if (nl) {
    p->lines = nl;
    progress_line *l = &p->lines[p->n++];
    memset(l, 0, sizeof *l);
    const char *hex = strchr(digest, ':');
    snprintf(l->id, sizeof l->id, "%.12s", hex ? hex + 1 : digest);
    snprintf(l->state, sizeof l->state, "%s", state);
    l->total = total;
    l->dirty = true;
  }
  pthread_mutex_unlock(&p->mu);
  return i;
}

/* Caller holds mu. */
static void
draw_locked(progress *p, bool force)
{
  char buf[256];
  if (p->mode == PROGRESS_PLAIN) {
    for (size_t i = 0; i < p->n; i++)
      if (p->lines[i].dirty) {
        snprintf(buf, sizeof buf, "%s: %s", p->lines[i].id, p->lines[i].state);
        fprintf(p->out, "%s\n", buf);
        p->lines[i].dirty = false;
      }
    fflush(p->out);
    return;
  }
  if (p->mode != PROGRESS_TTY)
    return;
  uint64_t t = now_ns();
  if (!force && t - p->last_draw_ns < 100000000ull)
    return;
  p->last_draw_ns = t;
  /* Back to the first line, then rewrite every line, clearing its tail. */
  if (p->drawn)
    fprintf(p->out, "\033[%zuA", p->drawn);
  for (size_t i = 0; i < p->n; i++) {
    format_line(&p->lines[i], buf, sizeof buf);
    fprintf(p->out, "\r%s\033[K\n", buf);
    p->lines[i].dirty = false;
  }
  p->drawn = p->n;
  fflush(p->out);
}

void
progress_state(progress *p, size_t i, const char *state)
{
  pthread_mutex_lock(&p->mu);
  if (i < p->n && strcmp(p->lines[i].state, state) != 0) {
    snprintf(p->lines[i].state, sizeof p->lines[i].state, "%s", state);
    p->lines[i].dirty = true;
    draw_locked(p, true);
  }
  pthread_mutex_unlock(&p->mu);
}

void
progress_bytes(progress *p, size_t i, uint64_t current)
{
  pthread_mutex_lock(&p->mu);
  if (i < p->n)
    p->lines[i].current = current;
  pthread_mutex_unlock(&p->mu);
}

void
progress_draw(progress *p, bool force)
{
  if (p->mode == PROGRESS_OFF)
    return;
  pthread_mutex_lock(&p->mu);
  draw_locked(p, force);
  pthread_mutex_unlock(&p->mu);
}

void
progress_msg(progress *p, const char *fmt, ...)
{
  if (p->mode == PROGRESS_OFF)
    return;
  pthread_mutex_lock(&p->mu);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(p->out, fmt, ap);
  va_end(ap);
  fputc('\n', p->out);
  /* A message scrolls the layer lines: they are drawn below it afresh. */
  p->drawn = 0;
  fflush(p->out);
  pthread_mutex_unlock(&p->mu);
}
