/* sbuf.c: see sbuf.h. */
#include "sbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"

static bool
grow(sbuf *b, size_t need)
{
  if (b->oom)
    return false;
  if (b->len + need + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + need + 1)
    cap *= 2;
  char *np = realloc(b->p, cap);
  if (np == NULL) {
    b->oom = true;
    return false;
  }
  b->p = np;
  b->cap = cap;
  return true;
}

void
sb_putn(sbuf *b, const char *s, size_t n)
{
  if (!grow(b, n))
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void
sb_puts(sbuf *b, const char *s)
{
  sb_putn(b, s, strlen(s));
}

void
sb_putc(sbuf *b, char c)
{
  sb_putn(b, &c, 1);
}

void
sb_printf(sbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !grow(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void
sb_xml(sbuf *b, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&': sb_puts(b, "&amp;"); break;
    case '<': sb_puts(b, "&lt;"); break;
    case '>': sb_puts(b, "&gt;"); break;
    case '"': sb_puts(b, "&quot;"); break;
    case '\'': sb_puts(b, "&#39;"); break;
    default:
      /* XML 1.0 forbids most control characters even as references. */
      if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
        sb_putc(b, ' ');
      else
        sb_putc(b, *s);
    }
  }
}

void
sb_json_str(sbuf *b, const char *s)
{
  sb_putc(b, '"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      sb_putc(b, '\\');
      sb_putc(b, (char)c);
    } else if (c == '\n') {
      sb_puts(b, "\\n");
    } else if (c == '\t') {
      sb_puts(b, "\\t");
    } else if (c < 0x20) {
      sb_printf(b, "\\u%04x", c);
    } else {
      sb_putc(b, (char)c);
    }
  }
  sb_putc(b, '"');
}

void
sb_free(sbuf *b)
{
  free(b->p);
  *b = (sbuf){0};
}

int
sb_write_out(const sbuf *b, const char *path, cut_err *err)
{
  if (b->oom)
    return cut_error(err, ENOMEM, "render output");
  const char *data = b->p ? b->p : "";
  if (path == NULL || strcmp(path, "-") == 0) {
    size_t off = 0;
    while (off < b->len) {
      ssize_t w = write(STDOUT_FILENO, data + off, b->len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return cut_error(err, errno, "write standard output");
      off += (size_t)w;
    }
    return 0;
  }
  return cut_write_file_atomic(path, data, b->len, 0644, err);
}
