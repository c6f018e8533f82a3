/* cutaway-runc: an OCI runtime with runc's command line.
 *
 *   cutaway-runc [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *                COMMAND [OPTIONS] ID
 *
 * The commands and flags are runc's, so containerd's runc shim, dockerd's
 * --add-runtime and the OCI validation suite can drive it unchanged (see
 * ../shared/reference/runtime-calls.txt).  One file per concern behind a
 * command table, as crun lays out its subcommands.  Flags are accepted
 * with one dash or two, as runc's CLI library does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_extra.h"
#include "container.h"
#include "error.h"
#include "exec.h"
#include "log.h"
#include "trace.h"

typedef int (*command_fn)(const rc_global *g, int argc, char **argv, cut_err *err);

static int exit_status; /* set by `run`: the container's exit code */

static int
usage_error(cut_err *err, const char *cmd, const char *what)
{
  return cut_error(err, EINVAL, "%s: %s (see cutaway-runc --help)", cmd, what);
}

/* The container id: the next positional argument (kill takes one more). */
static int
take_id(int argc, char **argv, const char *cmd, const char **id, cut_err *err)
{
  if (optind >= argc)
    return usage_error(err, cmd, "missing container id");
  *id = argv[optind++];
  int extra = strcmp(cmd, "kill") == 0 ? 1 : 0;
  if (argc - optind > extra)
    return cut_error(err, EINVAL, "%s: unexpected argument \"%s\"", cmd, argv[optind + extra]);
  return 0;
}

static int
parse_create_opts(int argc, char **argv, const char *cmd, rc_create_opts *o, cut_err *err)
{
  static const struct option opts[] = {{"bundle", required_argument, 0, 'b'},
                                       {"pid-file", required_argument, 0, 'p'},
                                       {"console-socket", required_argument, 0, 'c'},
                                       {"preserve-fds", required_argument, 0, 'f'},
                                       {"detach", no_argument, 0, 'd'},
                                       {"no-pivot", no_argument, 0, 'P'},
                                       {"no-new-keyring", no_argument, 0, 'k'},
                                       {"no-subreaper", no_argument, 0, 's'},
                                       {"keep", no_argument, 0, 'K'},
                                       {0, 0, 0, 0}};
  memset(o, 0, sizeof *o);
  int c;
  while ((c = getopt_long_only(argc, argv, "+b:d", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bundle = optarg; break;
    case 'p': o->pid_file = optarg; break;
    case 'c': o->console_socket = optarg; break;
    case 'f':
      o->preserve_fds = atoi(optarg);
      if (o->preserve_fds < 0 || o->preserve_fds > 1000)
        return usage_error(err, cmd, "--preserve-fds out of range");
      break;
    case 'd':
      if (strcmp(cmd, "run") != 0)
        return usage_error(err, cmd, "--detach is a flag of run");
      o->detach = true;
      break;
    case 'P':
    case 'k':
    case 's':
    case 'K': break; /* accepted, no effect here */
    default: return usage_error(err, cmd, "unknown option");
    }
  }
  return 0;
}

static int
cmd_create(const rc_global *g, int argc, char **argv, cut_err *err)
{
  rc_create_opts o;
  const char *id;
  if (parse_create_opts(argc, argv, "create", &o, err) < 0 ||
      take_id(argc, argv, "create", &id, err) < 0)
    return -1;
  return rc_cmd_create(g, id, &o, err);
}

static int
cmd_run(const rc_global *g, int argc, char **argv, cut_err *err)
{
  rc_create_opts o;
  const char *id;
  if (parse_create_opts(argc, argv, "run", &o, err) < 0 || take_id(argc, argv, "run", &id, err) < 0)
    return -1;
  return rc_cmd_run(g, id, &o, &exit_status, err);
}

static int
no_options(int argc, char **argv, const char *cmd, cut_err *err)
{
  static const struct option opts[] = {{0, 0, 0, 0}};
  if (getopt_long_only(argc, argv, "+", opts, NULL) != -1)
    return usage_error(err, cmd, "unknown option");
  return 0;
}

static int
cmd_start(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *id;
  if (no_options(argc, argv, "start", err) < 0 || take_id(argc, argv, "start", &id, err) < 0)
    return -1;
  return rc_cmd_start(g, id, err);
}

static int
cmd_state(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *id;
  if (no_options(argc, argv, "state", err) < 0 || take_id(argc, argv, "state", &id, err) < 0)
    return -1;
  return rc_cmd_state(g, id, err);
}

static int
cmd_kill(const rc_global *g, int argc, char **argv, cut_err *err)
{
  static const struct option opts[] = {{"all", no_argument, 0, 'a'}, {0, 0, 0, 0}};
  bool all = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "a", opts, NULL)) != -1) {
    if (c != 'a')
      return usage_error(err, "kill", "unknown option");
    all = true;
  }
  const char *id;
  if (take_id(argc, argv, "kill", &id, err) < 0)
    return -1;
  const char *name = optind < argc ? argv[optind++] : "SIGTERM";
  int sig = rc_signal_parse(name);
  if (sig < 0)
    return cut_error(err, EINVAL, "kill %s: unknown signal \"%s\"", id, name);
  return rc_cmd_kill(g, id, sig, all, err);
}

static int
cmd_delete(const rc_global *g, int argc, char **argv, cut_err *err)
{
  static const struct option opts[] = {{"force", no_argument, 0, 'f'}, {0, 0, 0, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "f", opts, NULL)) != -1) {
    if (c != 'f')
      return usage_error(err, "delete", "unknown option");
    force = true;
  }
  const char *id;
  if (take_id(argc, argv, "delete", &id, err) < 0)
    return -1;
  return rc_cmd_delete(g, id, force, err);
}

static int
cmd_list(const rc_global *g, int argc, char **argv, cut_err *err)
{
  static const struct option opts[] = {
      {"format", required_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
  bool json = false, quiet = false;
  int c;
  while ((c = getopt_long_only(argc, argv, "f:q", opts, NULL)) != -1) {
    if (c == 'f' && strcmp(optarg, "json") == 0)
      json = true;
    else if (c == 'f' && strcmp(optarg, "table") == 0)
      json = false;
    else if (c == 'q')
      quiet = true;
    else
      return usage_error(err, "list", "--format is table or json");
  }
  return rc_cmd_list(g, json, quiet, err);
}

static int
cmd_spec(const rc_global *g, int argc, char **argv, cut_err *err)
{
  static const struct option opts[] = {
      {"bundle", required_argument, 0, 'b'}, {"rootless", no_argument, 0, 'r'}, {0, 0, 0, 0}};
  const char *bundle = ".";
  int c;
  (void)g;
  while ((c = getopt_long_only(argc, argv, "b:", opts, NULL)) != -1) {
    if (c == 'b')
      bundle = optarg;
    else if (c == 'r')
      return cut_error(err, ENOTSUP, "spec --rootless: not supported");
    else
      return usage_error(err, "spec", "unknown option");
  }
  return rc_cmd_spec(bundle, err);
}

static const struct {
  const char *name;
  command_fn fn;
  const char *help;
} commands[] = {
    {"spec", cmd_spec, "write a default config.json ([--bundle DIR])"},
    {"create", cmd_create, "create a container: --bundle DIR [--pid-file F] ID"},
    {"start", cmd_start, "start a created container: ID"},
    {"run", cmd_run, "create, start and wait: --bundle DIR [--detach] [--pid-file F] ID"},
    {"state", cmd_state, "print a container's OCI state: ID"},
    {"kill", cmd_kill, "signal a container: [--all] ID [SIGNAL]"},
    {"delete", cmd_delete, "delete a container: [--force] ID"},
    {"list", cmd_list, "list containers: [--format table|json] [--quiet]"},
    /* issue 4: stages/1-runc/cmd_extra.c and exec.c */
    {"exec", rc_cmd_exec, "run a process in a container: [--process F | ARGS] [--tty] [--detach]"},
    {"ps", rc_cmd_ps, "list a container's processes: [--format table|json] ID"},
    {"pause", rc_cmd_pause, "freeze every process of a container: ID"},
    {"resume", rc_cmd_resume, "thaw a paused container: ID"},
    {"update", rc_cmd_update,
     "change resources: [--resources F|-] [--memory N] [--pids-limit N] ID"},
    {"events", rc_cmd_events, "resource statistics: [--stats] [--interval 5s] ID"},
};

static void
usage(FILE *out)
{
  fprintf(out, "usage: cutaway-runc [--root DIR] [--log FILE] [--log-format text|json] [--debug] "
               "COMMAND [OPTIONS] [ID]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int
main(int argc, char **argv)
{
  static const struct option opts[] = {
      {"root", required_argument, 0, 'r'},       {"log", required_argument, 0, 'l'},
      {"log-format", required_argument, 0, 'f'}, {"debug", no_argument, 0, 'd'},
      {"systemd-cgroup", no_argument, 0, 's'},   {"rootless", required_argument, 0, 'R'},
      {"criu", required_argument, 0, 'c'},       {"help", no_argument, 0, 'h'},
      {"version", no_argument, 0, 'v'},          {0, 0, 0, 0}};
  rc_global g = {.root = RC_DEFAULT_ROOT};
  const char *log_path = NULL;
  enum rc_log_format fmt = RC_LOG_TEXT;
  bool debug = false, systemd = false;
  cut_err err = {0};
  int c;
  opterr = 0;
  while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
    switch (c) {
    case 'r': g.root = optarg; break;
    case 'l': log_path = optarg; break;
    case 'f':
      if (strcmp(optarg, "json") == 0)
        fmt = RC_LOG_JSON;
      else if (strcmp(optarg, "text") != 0) {
        fprintf(stderr, "cutaway-runc: --log-format: want text or json, not \"%s\"\n", optarg);
        return 2;
      }
      break;
    case 'd': debug = true; break;
    case 's': systemd = true; break;
    case 'R':
    case 'c': break; /* runc's --rootless and --criu: no effect here */
    case 'h': usage(stdout); return 0;
    case 'v': printf("cutaway-runc version 0.1\nspec: 1.3.0\n"); return 0;
    default:
      fprintf(stderr, "cutaway-runc: unknown global option %s (see --help)\n", argv[optind - 1]);
      return 2;
    }
  }
  rc_log_init(log_path, fmt, debug);
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[optind];
  /* CVE-2019-5736: commands whose processes enter a container run from a
   * sealed memfd copy of this binary (exec.h). */
  if ((strcmp(name, "create") == 0 || strcmp(name, "run") == 0 || strcmp(name, "exec") == 0) &&
      rc_exe_seal(argv, &err) < 0) {
    rc_log_error(&err);
    return CUT_EXIT_FAILURE;
  }
  trace_init("cutaway-runc", "runc");
  if (systemd) {
    /* containerd passes this when SystemdCgroup = true: cgroups would then
     * belong to systemd units, which this runtime does not drive. */
    cut_error(&err, ENOTSUP,
              "--systemd-cgroup: the systemd cgroup driver is not supported "
              "(use cgroupfs: SystemdCgroup = false)");
    rc_log_error(&err);
    return CUT_EXIT_FAILURE;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(name, commands[i].name) != 0)
      continue;
    int cargc = argc - optind;
    char **cargv = argv + optind;
    optind = 0; /* GNU getopt: start over on the command's own argv */
    int r = commands[i].fn(&g, cargc, cargv, &err);
    if (r < 0) {
      rc_log_error(&err);
      return CUT_EXIT_FAILURE;
    }
    return strcmp(name, "run") == 0 ? exit_status : r; /* exec: the process's status */
  }
  cut_error(&err, EINVAL, "unknown command \"%s\" (see --help)", name);
  rc_log_error(&err);
  return CUT_EXIT_FAILURE;
}
