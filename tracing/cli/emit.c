/* emit.c: `cutaway-trace emit` writes one trace event from the shell.
 *
 * Hooks, lab scripts and tests use it to put their own steps into the same
 * trace as the components.  The context comes from TRACEPARENT, exactly as a
 * child process of a component receives it:
 *   --ev begin   starts a span under TRACEPARENT (or a new trace) and prints
 *                the span's own traceparent on stdout, to be exported for the
 *                steps inside it and for the matching end;
 *   --ev end     ends the span named by TRACEPARENT;
 *   --ev event   an instant under the span named by TRACEPARENT. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trace.h"

#define MAX_ATTRS 32

static int
usage_error(const char *msg)
{
  fprintf(stderr, "cutaway-trace emit: %s\n", msg);
  fprintf(stderr, "usage: cutaway-trace emit --name NAME --comp COMPONENT [--kind KIND]\n"
                  "         [--ev begin|end|event] [--role ROLE] [--attr KEY=VALUE]...\n"
                  "         [--status ok|error] [--err MESSAGE] [--errno N]\n");
  return 2;
}

/* A value that looks like an integer is written as a JSON number. */
static trace_attr
parse_attr(char *kv)
{
  char *eq = strchr(kv, '=');
  *eq = '\0';
  char *val = eq + 1, *end = NULL;
  long long n = strtoll(val, &end, 10);
  if (*val && end && *end == '\0' && (val[0] != '0' || val[1] == '\0'))
    return TA_INT(kv, n);
  if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
    return TA_BOOL(kv, val[0] == 't');
  return TA_STR(kv, val);
}

int
trace_cmd_emit(int argc, char **argv)
{
  static const struct option opts[] = {
      {"name", required_argument, 0, 'n'},   {"comp", required_argument, 0, 'c'},
      {"kind", required_argument, 0, 'k'},   {"ev", required_argument, 0, 'e'},
      {"role", required_argument, 0, 'r'},   {"attr", required_argument, 0, 'a'},
      {"status", required_argument, 0, 's'}, {"err", required_argument, 0, 'E'},
      {"errno", required_argument, 0, 'N'},  {0, 0, 0, 0}};
  const char *name = NULL, *comp = NULL, *kind_s = "internal", *ev = "event", *role = NULL;
  const char *status = NULL, *errmsg = NULL;
  int errnum = 0;
  trace_attr attrs[MAX_ATTRS];
  size_t nattrs = 0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'n': name = optarg; break;
    case 'c': comp = optarg; break;
    case 'k': kind_s = optarg; break;
    case 'e': ev = optarg; break;
    case 'r': role = optarg; break;
    case 's': status = optarg; break;
    case 'E': errmsg = optarg; break;
    case 'N': errnum = atoi(optarg); break;
    case 'a':
      if (strchr(optarg, '=') == NULL || optarg[0] == '=')
        return usage_error("--attr takes KEY=VALUE");
      if (nattrs == MAX_ATTRS)
        return usage_error("too many --attr");
      attrs[nattrs++] = parse_attr(optarg);
      break;
    default: return usage_error("unknown option");
    }
  }
  if (optind != argc)
    return usage_error("unexpected argument");
  if (!name || !comp)
    return usage_error("--name and --comp are required");
  int kind = trace_kind_parse(kind_s);
  if (kind < 0)
    return usage_error("--kind must be internal, server, client or syscall");
  if (strcmp(ev, "begin") != 0 && strcmp(ev, "end") != 0 && strcmp(ev, "event") != 0)
    return usage_error("--ev must be begin, end or event");
  if (status && strcmp(status, "ok") != 0 && strcmp(status, "error") != 0)
    return usage_error("--status must be ok or error");
  if (errmsg && !status)
    status = "error";

  trace_init(comp, role ? role : comp);
  char tid[TRACE_ID_HEX], parent[SPAN_ID_HEX], span[SPAN_ID_HEX];
  uint8_t flags;
  const char *tp = getenv("TRACEPARENT");
  bool have = tp && trace_parse_traceparent(tp, tid, parent, &flags);
  if (tp && !have)
    fprintf(stderr, "cutaway-trace emit: ignoring malformed TRACEPARENT, starting a new trace\n");

  if (strcmp(ev, "end") == 0) {
    if (!have)
      return usage_error("--ev end needs TRACEPARENT naming the span to end");
    trace_write_event("end", kind, name, tid, parent, NULL, status ? status : "ok",
                      strcmp(status ? status : "ok", "error") == 0 ? (errmsg ? errmsg : "error")
                                                                   : NULL,
                      errnum, attrs, nattrs);
    return 0;
  }
  if (!have) {
    trace_new_trace_id(tid);
    parent[0] = '\0';
  }
  trace_new_span_id(span);
  trace_write_event(ev, kind, name, tid, span, parent, NULL, NULL, 0, attrs, nattrs);
  if (strcmp(ev, "begin") == 0)
    printf("00-%s-%s-01\n", tid, span);
  return 0;
}
