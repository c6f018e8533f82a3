/* cutaway-trace: reads and writes cutaway trace events.
 *
 * One verb per file in tracing/cli/, dispatched from the table below (the
 * layout crun uses for its subcommands).  `emit` writes an event from the
 * shell; the other verbs read a trace file and draw it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct trace_verb verbs[] = {
    {"emit", "write one event (for hooks, lab scripts and tests)", trace_cmd_emit},
    TRACE_VIEW_VERBS};

static void
usage(FILE *out)
{
  fprintf(out, "usage: cutaway-trace VERB [OPTIONS]\n\nverbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i].name) == 0)
      return verbs[i].run(argc - 1, argv + 1);
  fprintf(stderr, "cutaway-trace: unknown verb '%s' (try --help)\n", argv[1]);
  return 2;
}
