/* trace_sink.c: a trace sink that cannot be written never fails the
 * traced operation (design.md §3), and never disturbs errno or stdio.
 *
 * Each case runs in a child (the sink is opened once per process): the
 * sink is a directory, a read-only /proc file, a path in a missing
 * directory, /dev/full (open works, every write fails), and "off". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "trace.h"

/* Exit status: 0 when the operation succeeded and tracing kept out of it. */
static int
traced_operation(const char *sink, const char *dir)
{
  setenv("CUTAWAY_TRACE", sink, 1);
  unsetenv("TRACEPARENT");
  trace_init("trace-test", "sink");
  char target[700];
  snprintf(target, sizeof target, "%s/made", dir);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "mkdir", TA_STR("path", target));
  long r = trace_end_sys(&sp, mkdir(target, 0755));
  if (r != 0)
    return 1;
  trace_begin(&sp, TRACE_SYSCALL, "mkdir", TA_STR("path", target));
  errno = 0;
  r = trace_end_sys(&sp, mkdir(target, 0755)); /* fails: EEXIST */
  if (r != -1 || errno != EEXIST)
    return 2; /* errno must survive the failed trace write */
  trace_event("done");
  struct stat st;
  if (stat(target, &st) != 0 || !S_ISDIR(st.st_mode))
    return 3;
  /* The sink never lands on stdio. */
  if (trace_fd() >= 0 && trace_fd() <= 2)
    return 4;
  return 0;
}

static void
run_case(const char *name, const char *sink, const char *tmp)
{
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%s", tmp, name);
  mkdir(dir, 0755);
  pid_t pid = fork();
  if (pid == 0)
    _exit(traced_operation(sink, dir));
  int st;
  waitpid(pid, &st, 0);
  tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sink %s (%s): operation succeeds (status %d)",
         name, sink, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int
main(void)
{
  char tmp[] = "/tmp/cutaway-trace-sink.XXXXXX";
  if (mkdtemp(tmp) == NULL)
    return 1;
  char missing[600];
  snprintf(missing, sizeof missing, "%s/no/such/dir/trace.jsonl", tmp);
  run_case("directory", tmp, tmp);
  run_case("proc", "/proc/version", tmp);
  run_case("missing", missing, tmp);
  if (access("/dev/full", W_OK) == 0)
    run_case("full", "/dev/full", tmp);
  else
    tap_skip("no /dev/full");
  run_case("off", "off", tmp);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  tap_ok(system(cmd) == 0, "cleanup");
  return tap_done();
}
