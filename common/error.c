/* error.c: see error.h.  The whole chain of context is kept in one buffer;
 * cut_wrap() shifts the old text right and writes the new context in front,
 * truncating at the end (the innermost detail) if the line grows too long. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void
cut_error_fill(cut_err *err, int errnum, const char *fmt, ...)
{
  if (err == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if (errnum != 0 && (size_t)n < sizeof err->msg)
    snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
  err->errnum = errnum;
}

void
cut_wrap_fill(cut_err *err, const char *fmt, ...)
{
  if (err == NULL)
    return;
  char ctx[CUT_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  if (n <= 0)
    return;
  size_t ctx_len = strnlen(ctx, sizeof ctx - 1);
  size_t old_len = strnlen(err->msg, sizeof err->msg - 1);
  size_t sep = 2; /* ": " */
  if (ctx_len + sep >= sizeof err->msg)
    ctx_len = sizeof err->msg - sep - 1;
  size_t keep = sizeof err->msg - 1 - ctx_len - sep;
  if (old_len > keep)
    old_len = keep;
  memmove(err->msg + ctx_len + sep, err->msg, old_len);
  err->msg[ctx_len + sep + old_len] = '\0';
  memcpy(err->msg, ctx, ctx_len);
  err->msg[ctx_len] = ':';
  err->msg[ctx_len + 1] = ' ';
}

void
cut_err_clear(cut_err *err)
{
  if (err == NULL)
    return;
  err->errnum = 0;
  err->msg[0] = '\0';
}

void
cut_err_print(const char *prog, const cut_err *err)
{
  char line[CUT_ERR_MAX + 128];
  int n = snprintf(line, sizeof line, "%s: %s\n", prog,
                   err && err->msg[0] ? err->msg : "unknown error");
  if (n > (int)sizeof line - 1) {
    n = (int)sizeof line - 1;
    line[n - 1] = '\n';
  }
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}
