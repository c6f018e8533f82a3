/* cutaway_main.c: `cutaway`, the docker-compatible CLI (stage 5), the top
 * of the stack: it talks the Docker Engine API to cutawayd or to a real
 * dockerd over a unix socket.
 *
 *   cutaway [-H unix:///path] COMMAND [OPTIONS] [ARGS...]
 *
 * The daemon's socket comes from -H/--host, else $DOCKER_HOST, else
 * /run/cutaway/docker/docker.sock.  Only unix:// hosts are spoken.
 *
 * Being the top, the CLI opens the ROOT span of each command ("cli.run",
 * "cli.ps"...): every request it sends carries that trace in `traceparent`,
 * so one `cutaway run` is one trace from here through cutawayd,
 * cutaway-containerd, the shim and runc down to execve. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct command {
  const char *name;
  cli_cmd_fn fn;
  const char *help;
};

static const struct command commands[] = {
    {"run", cli_cmd_run, "Create and run a new container from an image"},
    {"exec", cli_cmd_exec, "Execute a command in a running container"},
    {"ps", cli_cmd_ps, "List containers"},
    {"logs", cli_cmd_logs, "Fetch the logs of a container"},
    {"stop", cli_cmd_stop, "Stop one or more running containers"},
    {"kill", cli_cmd_kill, "Kill one or more running containers"},
    {"rm", cli_cmd_rm, "Remove one or more containers"},
    {"inspect", cli_cmd_inspect, "Return low-level information on Docker objects"},
    {"pull", cli_cmd_pull, "Download an image from a registry"},
    {"images", cli_cmd_images, "List images"},
    {"rmi", cli_cmd_rmi, "Remove one or more images"},
    {"volume", cli_cmd_volume, "Manage volumes (create, ls, rm)"},
    {"network", cli_cmd_network, "Manage networks (ls)"},
    {"version", cli_cmd_version, "Show the cutaway version information"},
    {"info", cli_cmd_info, "Display system-wide information"},
};

static void
usage(FILE *out)
{
  fprintf(out, "\nUsage:  cutaway [OPTIONS] COMMAND\n\n"
               "A docker-compatible client for cutawayd (or any dockerd)\n\n"
               "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s%s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nGlobal Options:\n"
               "  -H, --host string   Daemon socket to connect to (unix:///path)\n"
               "  -v, --version       Print version information and quit\n");
}

/* The value of -H/--host at argv[*i]: "-H x", "--host x", "--host=x", "-Hx". */
static const char *
host_arg(int argc, char **argv, int *i)
{
  const char *a = argv[*i];
  if (strncmp(a, "--host=", 7) == 0)
    return a + 7;
  if (strncmp(a, "-H", 2) == 0 && a[2])
    return a + 2;
  if (*i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

static int
set_host(cli *c, const char *host)
{
  if (host == NULL || *host == '\0')
    host = "unix://" CLI_DEFAULT_SOCK;
  if (strncmp(host, "unix://", 7) != 0 || host[7] == '\0') {
    fprintf(stderr, "cutaway: unsupported host %s: only unix:///path sockets are spoken\n", host);
    return -1;
  }
  snprintf(c->host, sizeof c->host, "%s", host);
  snprintf(c->sock, sizeof c->sock, "%s", host + 7);
  return 0;
}

/* "cli.run", "cli.volume.ls": the root span's name. */
static void
root_name(int argc, char **argv, char *out, size_t len)
{
  int n = snprintf(out, len, "cli.%s", argv[0]);
  if ((strcmp(argv[0], "volume") == 0 || strcmp(argv[0], "network") == 0) && argc > 1 &&
      argv[1][0] != '-')
    snprintf(out + n, len - (size_t)n, ".%s", argv[1]);
}

static void
joined_args(int argc, char **argv, char *out, size_t len)
{
  size_t n = 0;
  out[0] = '\0';
  for (int i = 0; i < argc && n + 1 < len; i++)
    n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " " : "", argv[i]);
  if (n >= len)
    out[len - 1] = '\0';
}

int
main(int argc, char **argv)
{
  signal(SIGPIPE, SIG_IGN); /* a closed stdout or socket is a write error */
  trace_init("cutaway", "cli");
  cli c;
  memset(&c, 0, sizeof c);
  snprintf(c.version, sizeof c.version, "%s", CLI_API_MAX);
  const char *host = getenv("DOCKER_HOST");
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-H") == 0 || strncmp(a, "--host", 6) == 0 || strncmp(a, "-H", 2) == 0) {
      if ((host = host_arg(argc, argv, &i)) == NULL) {
        fprintf(stderr, "flag needs an argument: %s\n", a);
        return 125;
      }
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      printf("cutaway version %s, API %s\n", CLI_VERSION, CLI_API_MAX);
      return 0;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "-D") == 0 || strcmp(a, "--debug") == 0) {
      continue;
    } else {
      fprintf(stderr, "unknown flag: %s\nSee 'cutaway --help'.\n", a);
      return 125;
    }
  }
  if (i >= argc) {
    usage(stdout);
    return 0;
  }
  const struct command *cmd = NULL;
  for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
    if (strcmp(argv[i], commands[k].name) == 0)
      cmd = &commands[k];
  if (cmd == NULL) {
    fprintf(stderr,
            "cutaway: unknown command: cutaway %s\n\nRun 'cutaway --help' for more "
            "information\n",
            argv[i]);
    return 1;
  }
  if (set_host(&c, host) < 0)
    return 1;

  char name[64], args[1024];
  root_name(argc - i, argv + i, name, sizeof name);
  joined_args(argc - i, argv + i, args, sizeof args);
  trace_begin(&c.root, TRACE_INTERNAL, name, TA_STR("args", args), TA_STR("host", c.host));
  if (!trace_traceparent(&c.root, c.root_tp))
    c.root_tp[0] = '\0';
  int code = cmd->fn(&c, argc - i, argv + i);
  fflush(stdout);
  trace_end(&c.root, NULL, TA_INT("exit_code", code));
  if (c.main_open)
    cli_conn_close(&c.main);
  if (c.aux_open)
    cli_conn_close(&c.aux);
  return code;
}
