/* trace_traceparent.c: W3C traceparent parsing and propagation.
 *
 * A malformed header must be rejected (W3C Trace Context, "traceparent":
 * version 00, lowercase hex, non-zero ids, exact lengths) and the receiver
 * must then start a new trace rather than join a garbage one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "trace.h"

static const char *const good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static void
test_parse(void)
{
  char tid[TRACE_ID_HEX], sid[SPAN_ID_HEX];
  uint8_t flags = 0;
  tap_ok(trace_parse_traceparent(good, tid, sid, &flags), "a valid traceparent parses");
  tap_is_str(tid, "4bf92f3577b34da6a3ce929d0e0e4736", "trace id");
  tap_is_str(sid, "00f067aa0ba902b7", "parent span id");
  tap_is_int(flags, 1, "flags (sampled)");
  static const char *const bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      /* no flags */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* trailing */
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version */
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* forbidden version */
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   /* uppercase */
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* zero trace id */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* zero span id */
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",   /* dash misplaced */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",   /* flags not hex */
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",   /* separators */
      "00-4bf92f3577b34da6a3ce929d0e0e47g6-00f067aa0ba902b7-01",   /* not hex */
      NULL};
  for (int i = 0; bad[i]; i++)
    tap_ok(!trace_parse_traceparent(bad[i], tid, sid, &flags), "rejected: '%s'", bad[i]);
  tap_ok(!trace_parse_traceparent(NULL, tid, sid, &flags), "rejected: NULL");
}

static bool
is_hex_id(const char *s, size_t n)
{
  if (strlen(s) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

static void
test_remote(void)
{
  trace_span sp;
  trace_begin_remote(&sp, TRACE_SERVER, "POST /containers/create", good);
  tap_is_str(sp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "valid header: joins its trace");
  tap_is_str(sp.parent_id, "00f067aa0ba902b7", "valid header: parent is the caller's span");
  tap_ok(is_hex_id(sp.span_id, 16) && strcmp(sp.span_id, "00f067aa0ba902b7") != 0,
         "valid header: a new span id of its own");
  char tp[TRACEPARENT_LEN];
  tap_ok(trace_traceparent(&sp, tp), "the span has a traceparent to pass on");
  char want[TRACEPARENT_LEN];
  snprintf(want, sizeof want, "00-%s-%s-01", sp.trace_id, sp.span_id);
  tap_is_str(tp, want, "traceparent names this span");
  trace_end(&sp, NULL);

  static const char *const malformed[] = {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                                          "garbage", "", NULL};
  for (int i = 0; malformed[i]; i++) {
    trace_begin_remote(&sp, TRACE_SERVER, "GET /_ping", malformed[i]);
    tap_ok(is_hex_id(sp.trace_id, 32) &&
               strcmp(sp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") != 0 &&
               sp.parent_id[0] == '\0',
           "malformed header '%s': a new trace, no parent", malformed[i]);
    trace_end(&sp, NULL);
  }
  trace_begin_remote(&sp, TRACE_SERVER, "GET /_ping", NULL);
  tap_ok(is_hex_id(sp.trace_id, 32) && sp.parent_id[0] == '\0', "no header: a new trace");
  trace_span child;
  trace_begin(&child, TRACE_INTERNAL, "inner");
  tap_is_str(child.trace_id, sp.trace_id, "a nested span joins the current trace");
  tap_is_str(child.parent_id, sp.span_id, "and is the child of the current span");
  char env[TRACEPARENT_LEN + 16];
  tap_ok(trace_env_entry(env) && strncmp(env, "TRACEPARENT=00-", 15) == 0 &&
             strstr(env, child.span_id) != NULL,
         "TRACEPARENT env entry names the current span");
  trace_end(&child, NULL);
  trace_end(&sp, NULL);
  tap_ok(trace_current() == NULL, "the span stack unwinds");
}

static void
test_inherited(const char *path)
{
  /* A process exec'ed under TRACEPARENT continues its caller's trace. */
  setenv("TRACEPARENT", good, 1);
  trace_init("trace-test", "child");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.create");
  tap_is_str(sp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "TRACEPARENT: root span joins");
  tap_is_str(sp.parent_id, "00f067aa0ba902b7", "TRACEPARENT: parent is the exec'ing span");
  trace_end(&sp, NULL);
  setenv("TRACEPARENT", "00-zz-zz-01", 1);
  trace_init("trace-test", "child");
  trace_begin(&sp, TRACE_INTERNAL, "runc.create");
  tap_ok(strcmp(sp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") != 0 && sp.parent_id[0] == 0,
         "malformed TRACEPARENT: a new trace");
  trace_end(&sp, NULL);
  unsetenv("TRACEPARENT");
  (void)path;
}

int
main(void)
{
  char path[] = "/tmp/cutaway-trace-tp.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 1;
  close(fd);
  setenv("CUTAWAY_TRACE", path, 1);
  unsetenv("TRACEPARENT");
  trace_init("trace-test", "test");
  test_parse();
  test_remote();
  test_inherited(path);
  unlink(path);
  return tap_done();
}
