/* sbuf.h: a growable text buffer for the trace views.
 *
 * Every view renders into one of these and writes it in one go at the end,
 * so an output file is either complete or not written at all (atomic
 * replace through cut_write_file_atomic). */
#ifndef CUTAWAY_TRACE_SBUF_H
#define CUTAWAY_TRACE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct sbuf {
  char *p; /* always NUL-terminated once anything was written */
  size_t len, cap;
  bool oom;
} sbuf;

void sb_putn(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_putc(sbuf *b, char c);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text escaped for XML/HTML content and attribute values. */
void sb_xml(sbuf *b, const char *s);
/* A quoted JSON string. */
void sb_json_str(sbuf *b, const char *s);
void sb_free(sbuf *b);
/* Write to `path` atomically, or to stdout when path is NULL or "-". */
int sb_write_out(const sbuf *b, const char *path, cut_err *err);

#endif
