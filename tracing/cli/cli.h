/* cli.h: the verbs of cutaway-trace, one file each. */
#ifndef CUTAWAY_TRACE_CLI_H
#define CUTAWAY_TRACE_CLI_H

struct trace_verb {
  const char *name;
  const char *help;
  int (*run)(int argc, char **argv); /* argv[0] is the verb */
};

int trace_cmd_emit(int argc, char **argv);

/* The reading verbs (show, list, path, ...) are declared in views.h and
 * listed by TRACE_VIEW_VERBS so that main.c stays one table. */
#include "views.h"

#endif
