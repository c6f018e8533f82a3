/* progress.h: per-layer progress, as `docker pull` draws it.
 *
 * On a terminal every layer has one line ("a3ed95caeb02: Downloading
 * [=====>    ] 12.1MB/50.3MB") redrawn in place with ANSI cursor movement;
 * elsewhere (a pipe, a log) a plain line is printed when a layer changes
 * state, never per byte.  Thread-safe: downloads update it from the curl
 * loop, extraction from the unpack threads. */
#ifndef CUTAWAY_REG_PROGRESS_H
#define CUTAWAY_REG_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum progress_mode { PROGRESS_OFF, PROGRESS_PLAIN, PROGRESS_TTY };

typedef struct progress_line {
  char id[16];    /* short digest */
  char state[32]; /* "Waiting", "Downloading", "Extracting", "Pull complete"... */
  uint64_t current, total;
  bool dirty;
} progress_line;

typedef struct progress {
  enum progress_mode mode;
  FILE *out;
  pthread_mutex_t mu;
  progress_line *lines;
  size_t n;
  size_t drawn; /* lines on screen (tty) */
  uint64_t last_draw_ns;
} progress;

/* mode PROGRESS_PLAIN/TTY picked from isatty(fileno(out)) when auto is true. */
void progress_init(progress *p, FILE *out, bool quiet);
void progress_free(progress *p);
/* Add a line; returns its index. */
size_t progress_add(progress *p, const char *digest, const char *state, uint64_t total);
void progress_state(progress *p, size_t i, const char *state);
void progress_bytes(progress *p, size_t i, uint64_t current);
/* Redraw (tty: at most every 100 ms unless force). */
void progress_draw(progress *p, bool force);
/* A message line of its own ("Digest: ..."). */
void progress_msg(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
