/* trace_concurrent.c: many processes share one trace file (issue 2).
 *
 * 8 processes each write 10,000 events through the real library into one
 * file at the same time.  Because every event is one write(2) on an
 * O_APPEND fd, the kernel appends each line whole: the file must hold
 * exactly 80,000 lines, each valid JSON, 10,000 from each writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "tap.h"
#include "trace.h"

#define WRITERS 8
#define EVENTS 10000

static void
writer(const char *path, int n)
{
  setenv("CUTAWAY_TRACE", path, 1);
  unsetenv("TRACEPARENT");
  char role[32];
  snprintf(role, sizeof role, "writer-%d", n);
  trace_init("trace-test", role);
  char pad[700];
  for (int i = 0; i < EVENTS; i++) {
    /* Lines of varied length, up to ~800 bytes, so writes of different
     * sizes race each other. */
    size_t len = (size_t)((i * 37 + n * 11) % 600);
    memset(pad, 'a' + n, len);
    pad[len] = '\0';
    trace_event("tick", TA_INT("writer", n), TA_INT("i", i), TA_STR("pad", pad));
  }
  _exit(0);
}

int
main(void)
{
  char path[] = "/tmp/cutaway-trace-concurrent.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }
  close(fd);
  pid_t pids[WRITERS];
  for (int n = 0; n < WRITERS; n++) {
    pids[n] = fork();
    if (pids[n] == 0)
      writer(path, n);
  }
  int clean = 1;
  for (int n = 0; n < WRITERS; n++) {
    int st;
    waitpid(pids[n], &st, 0);
    clean = clean && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  tap_ok(clean, "8 writers exited cleanly");

  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lines = 0, valid = 0, per[WRITERS] = {0};
  while (f && (len = getline(&line, &cap, f)) > 0) {
    lines++;
    cJSON *doc = NULL;
    cut_err err;
    if (line[len - 1] != '\n' || json_parse(line, (size_t)len, "line", &doc, &err) < 0)
      continue;
    const cJSON *attrs = NULL;
    int64_t w = -1;
    if (json_get_object(doc, "attrs", "attrs", true, &attrs, &err) == 0 &&
        json_get_int64(attrs, "writer", "attrs.writer", true, &w, &err) == 0 && w >= 0 &&
        w < WRITERS) {
      valid++;
      per[w]++;
    }
    cJSON_Delete(doc);
  }
  free(line);
  if (f)
    fclose(f);
  tap_is_int(lines, WRITERS * EVENTS, "exactly 80,000 lines");
  tap_is_int(valid, WRITERS * EVENTS, "every line is valid JSON with its writer");
  int balanced = 1;
  for (int n = 0; n < WRITERS; n++)
    balanced = balanced && per[n] == EVENTS;
  tap_ok(balanced, "10,000 lines from each writer");
  unlink(path);
  return tap_done();
}
