/* cli_fmt.c: the pure formatting of the docker CLI, rebuilt from its
 * observable output (the captures in the reference) so that `cutaway ps`
 * lines up with `docker ps` column for column.
 *
 * - Tables: docker writes "A\tB\tC" rows through Go's text/tabwriter with
 *   minwidth 10, padding 3 and spaces: each column is as wide as its widest
 *   cell plus 3 (at least 10); the last column is not padded.
 * - Durations ("3 minutes ago") and sizes ("1.99MB": decimal, 3 significant
 *   digits; "23.54GiB": binary) follow docker's go-units rules.
 * - Image references are normalised like docker's reference package: a
 *   first component with a '.' or ':' (or "localhost") is a registry,
 *   otherwise the image lives on docker.io, under library/ when it has no
 *   '/'.
 * - stdcopy: the 8-byte frame header the daemon puts before each piece of
 *   a non-TTY stream (byte 0 the stream, bytes 4-7 the length, big-endian).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- tables ------------------------------------------------------------- */

void
cli_table_init(cli_table *t, size_t ncols)
{
  memset(t, 0, sizeof *t);
  t->ncols = ncols;
}

void
cli_table_add(cli_table *t, const char *const *row)
{
  if (t->nrows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **nc = realloc(t->cells, cap * t->ncols * sizeof *nc);
    if (nc == NULL)
      return;
    t->cells = nc;
    t->cap = cap;
  }
  for (size_t i = 0; i < t->ncols; i++)
    t->cells[t->nrows * t->ncols + i] = strdup(row[i] ? row[i] : "");
  t->nrows++;
}

/* Display width: UTF-8 code points (what tabwriter counts). */
static size_t
text_width(const char *s)
{
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80)
      w++;
  return w;
}

void
cli_table_print(const cli_table *t, FILE *out)
{
  size_t width[32] = {0};
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c + 1 < t->ncols && c < 32; c++) {
      size_t w = text_width(t->cells[r * t->ncols + c]) + 3;
      if (w < 10)
        w = 10;
      if (w > width[c])
        width[c] = w;
    }
  for (size_t r = 0; r < t->nrows; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      const char *cell = t->cells[r * t->ncols + c];
      fputs(cell, out);
      if (c + 1 < t->ncols)
        for (size_t w = text_width(cell); w < width[c]; w++)
          fputc(' ', out);
    }
    fputc('\n', out);
  }
}

void
cli_table_free(cli_table *t)
{
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof *t);
}

/* ---- durations and sizes ------------------------------------------------- */

void
cli_human_duration(long long s, char *out, size_t len)
{
  long long min = s / 60, hours = (s + 1800) / 3600; /* rounded, as docker does */
  if (s < 1)
    snprintf(out, len, "Less than a second");
  else if (s == 1)
    snprintf(out, len, "1 second");
  else if (s < 60)
    snprintf(out, len, "%lld seconds", s);
  else if (min == 1)
    snprintf(out, len, "About a minute");
  else if (min < 60)
    snprintf(out, len, "%lld minutes", min);
  else if (hours == 1)
    snprintf(out, len, "About an hour");
  else if (hours < 48)
    snprintf(out, len, "%lld hours", hours);
  else if (hours < 24 * 7 * 2)
    snprintf(out, len, "%lld days", hours / 24);
  else if (hours < 24 * 30 * 2)
    snprintf(out, len, "%lld weeks", hours / 24 / 7);
  else if (hours < 24 * 365 * 2)
    snprintf(out, len, "%lld months", hours / 24 / 30);
  else
    snprintf(out, len, "%lld years", s / 3600 / 24 / 365);
}

static void
scaled(double v, double base, const char *const *units, const char *fmt, char *out, size_t len)
{
  int i = 0;
  while (v >= base && units[i + 1]) {
    v /= base;
    i++;
  }
  snprintf(out, len, fmt, v, units[i]);
}

void
cli_human_size(double bytes, char *out, size_t len)
{
  static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB", NULL};
  scaled(bytes, 1000.0, u, "%.3g%s", out, len);
}

void
cli_bytes_size(double bytes, char *out, size_t len)
{
  static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL};
  scaled(bytes, 1024.0, u, "%.4g%s", out, len);
}

long long
cli_parse_bytes(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0)
    return -1;
  double mult = 1;
  switch (tolower((unsigned char)*end)) {
  case '\0': break;
  case 'b': mult = 1; break;
  case 'k': mult = 1024.0; break;
  case 'm': mult = 1024.0 * 1024; break;
  case 'g': mult = 1024.0 * 1024 * 1024; break;
  case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
  default: return -1;
  }
  if (*end) {
    end++;
    if (tolower((unsigned char)*end) == 'b' && end[-1] != 'b' && end[-1] != 'B')
      end++; /* "64mb" */
    if (*end)
      return -1;
  }
  return (long long)(v * mult);
}

long long
cli_parse_cpus(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || v < 0 || v > 1e6)
    return -1;
  return (long long)(v * 1e9 + 0.5);
}

/* ---- image references ------------------------------------------------------ */

int
cli_ref_parse(const char *s, cli_ref *r, cut_err *err)
{
  memset(r, 0, sizeof *r);
  if (*s == '\0' || strlen(s) > 600 || strpbrk(s, " \t\n"))
    return cut_error(err, EINVAL, "invalid reference format");
  char name[640];
  snprintf(name, sizeof name, "%s", s);
  char *at = strchr(name, '@');
  if (at) {
    *at = '\0';
    snprintf(r->digest, sizeof r->digest, "%s", at + 1);
  }
  char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
  if (colon && (slash == NULL || colon > slash)) {
    *colon = '\0';
    snprintf(r->tag, sizeof r->tag, "%s", colon + 1);
    r->tag_given = true;
  } else if (!at) {
    snprintf(r->tag, sizeof r->tag, "latest");
  }
  if (name[0] == '\0')
    return cut_error(err, EINVAL, "invalid reference format");
  char *first = strchr(name, '/');
  if (first &&
      (memchr(name, '.', (size_t)(first - name)) || memchr(name, ':', (size_t)(first - name)) ||
       (first - name == 9 && strncmp(name, "localhost", 9) == 0))) {
    *first = '\0';
    snprintf(r->domain, sizeof r->domain, "%s", name);
    snprintf(r->path, sizeof r->path, "%s", first + 1);
  } else {
    snprintf(r->domain, sizeof r->domain, "docker.io");
    snprintf(r->path, sizeof r->path, "%s%s", first ? "" : "library/", name);
  }
  for (const char *p = r->path; *p; p++)
    if (isupper((unsigned char)*p))
      return cut_error(err, EINVAL, "invalid reference format: repository name must be lowercase");
  return 0;
}

void
cli_ref_name(const cli_ref *r, char *out, size_t len)
{
  snprintf(out, len, "%s/%s", r->domain, r->path);
}

void
cli_ref_familiar(const cli_ref *r, char *out, size_t len)
{
  const char *path = r->path;
  int n;
  if (strcmp(r->domain, "docker.io") == 0) {
    if (strncmp(path, "library/", 8) == 0 && !strchr(path + 8, '/'))
      path += 8;
    n = snprintf(out, len, "%s", path);
  } else {
    n = snprintf(out, len, "%s/%s", r->domain, path);
  }
  if (r->tag[0] && n >= 0 && (size_t)n < len)
    n += snprintf(out + n, len - (size_t)n, ":%s", r->tag);
  if (r->digest[0] && n >= 0 && (size_t)n < len)
    snprintf(out + n, len - (size_t)n, "@%s", r->digest);
}

/* ---- JSON re-indentation ------------------------------------------------ */

struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (np == NULL) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void
sb_newline(struct sbuf *b, const char *prefix, const char *indent, int depth)
{
  sb_put(b, "\n", 1);
  sb_put(b, prefix, strlen(prefix));
  for (int i = 0; i < depth; i++)
    sb_put(b, indent, strlen(indent));
}

char *
cli_json_indent(const char *json, size_t len, const char *prefix, const char *indent)
{
  struct sbuf b = {0};
  int depth = 0;
  bool need_newline = false; /* after an opening bracket */
  for (size_t i = 0; i < len; i++) {
    char ch = json[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
      continue;
    if (need_newline && ch != ']' && ch != '}') {
      sb_newline(&b, prefix, indent, depth);
      need_newline = false;
    }
    if (ch == '"') { /* copy the string verbatim */
      size_t j = i + 1;
      while (j < len && json[j] != '"')
        j += json[j] == '\\' ? 2 : 1;
      if (j >= len)
        goto bad;
      sb_put(&b, json + i, j - i + 1);
      i = j;
    } else if (ch == '{' || ch == '[') {
      sb_put(&b, &ch, 1);
      depth++;
      need_newline = true;
    } else if (ch == '}' || ch == ']') {
      if (--depth < 0)
        goto bad;
      if (need_newline) /* empty: kept compact */
        need_newline = false;
      else
        sb_newline(&b, prefix, indent, depth);
      sb_put(&b, &ch, 1);
    } else if (ch == ',') {
      sb_put(&b, ",", 1);
      sb_newline(&b, prefix, indent, depth);
    } else if (ch == ':') {
      sb_put(&b, ": ", 2);
    } else {
      sb_put(&b, &ch, 1);
    }
  }
  if (depth != 0 || b.oom || b.p == NULL)
    goto bad;
  return b.p;
bad:
  free(b.p);
  return NULL;
}

/* ---- cells ------------------------------------------------------------- */

void
cli_command_cell(const char *cmd, bool trunc, char *out, size_t len)
{
  char cut[1024];
  size_t w = text_width(cmd);
  if (trunc && w > 20) {
    /* 19 characters and an ellipsis: 20 columns. */
    size_t i = 0, chars = 0;
    while (cmd[i] && chars < 19) {
      i++;
      while (((unsigned char)cmd[i] & 0xC0) == 0x80)
        i++;
      chars++;
    }
    snprintf(cut, sizeof cut, "%.*s\xe2\x80\xa6", (int)i, cmd);
  } else {
    snprintf(cut, sizeof cut, "%s", cmd);
  }
  size_t n = 0;
  if (len < 3)
    return;
  out[n++] = '"';
  for (const char *p = cut; *p && n + 3 < len; p++) {
    if (*p == '"' || *p == '\\')
      out[n++] = '\\';
    out[n++] = *p;
  }
  out[n++] = '"';
  out[n] = '\0';
}

void
cli_urlencode(const char *s, char *out, size_t len)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (; *s && n + 4 < len; s++) {
    unsigned char ch = (unsigned char)*s;
    if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out[n++] = (char)ch;
    } else {
      out[n++] = '%';
      out[n++] = hex[ch >> 4];
      out[n++] = hex[ch & 15];
    }
  }
  out[n] = '\0';
}

/* ---- stdcopy ---------------------------------------------------------------- */

int
cli_demux_feed(cli_demux *d, const char *data, size_t len,
               int (*out)(int stream, const char *p, size_t n, void *ctx), void *ctx)
{
  while (len > 0) {
    if (d->left == 0) {
      size_t want = 8 - d->have, n = len < want ? len : want;
      memcpy(d->hdr + d->have, data, n);
      d->have += n;
      data += n;
      len -= n;
      if (d->have < 8)
        return 0;
      d->have = 0;
      d->stream = d->hdr[0];
      d->left = ((unsigned long long)d->hdr[4] << 24) | ((unsigned long long)d->hdr[5] << 16) |
                ((unsigned long long)d->hdr[6] << 8) | d->hdr[7];
      continue;
    }
    size_t n = len < d->left ? len : (size_t)d->left;
    int r = out(d->stream, data, n, ctx);
    if (r != 0)
      return r;
    d->left -= n;
    data += n;
    len -= n;
  }
  return 0;
}
