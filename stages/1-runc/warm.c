/* warm.c: see warm.h.  The thread uses no malloc and no stdio (only
 * open/read/write/close on stack buffers) and never exits, so a raw
 * clone(2) of the main thread, which copies only the calling thread, never
 * inherits a lock it holds. */
#include "warm.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgwarm.h"
#include "thread.h"
#include "trace.h"

/* The caller's span, so the warm-up write is drawn inside the command that
 * started it rather than as a trace of its own (trace spans are per thread). */
static char warm_parent[TRACEPARENT_LEN];

static __attribute__((noreturn)) void *
warm(void *arg)
{
  cut_cgroup_warm_write(arg);
  /* Never return: a thread that exits frees its glibc state under locks
   * (the malloc arena's, the stack cache's), and a clone of the main thread
   * taken at that instant would inherit them held and deadlock.  Parked
   * here, holding nothing, it dies with the process. */
  for (;;)
    pause();
}

void
rc_cgroup_warm_start(void)
{
  static int started;
  if (started++)
    return;
  bool have_parent = trace_traceparent(NULL, warm_parent);
  cut_thread_detached(warm, have_parent ? warm_parent : NULL, 64 * 1024);
}
