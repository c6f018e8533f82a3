/* cutawayd: the API daemon (dockerd).
 *
 *   cutawayd [--root DIR] [--exec-root DIR] [-H unix:///SOCKET]
 *            [--containerd SOCKET] [--bridge NAME|none] [--bip CIDR]
 *
 * Serves the Docker Engine API v1.41 on SOCKET (default
 * EXEC_ROOT/docker.sock), so that `DOCKER_HOST=unix://SOCKET docker run ...`
 * works with the real docker CLI, and drives cutaway-containerd at
 * --containerd (default /run/cutaway/containerd/containerd.sock).  ROOT
 * holds the container records and volumes; EXEC_ROOT the FIFOs and network
 * namespaces.  --bridge names the Linux bridge of the default network
 * (cutaway0, address --bip 172.30.0.1/16), "none" gives containers only
 * loopback.
 *
 * Stopping cutawayd (SIGTERM) leaves the containers running, as dockerd's
 * live-restore does: they belong to their shims.  At the next start their
 * records are read back and each running one is watched again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkd.h"
#include "dkd_net.h"
#include "fileutil.h"
#include "trace.h"

#define PROG "cutawayd"

static int term_pipe[2];

static void
on_term(int sig)
{
  int e = errno;
  ssize_t w = write(term_pipe[1], "x", 1);
  (void)w;
  errno = e;
}

static void
usage(FILE *f)
{
  fprintf(f,
          "usage: %s [--root DIR] [--exec-root DIR] [-H unix:///SOCKET] [--containerd SOCKET]\n"
          "       [--bridge NAME|none] [--bip CIDR]\n",
          PROG);
}

static int
set_path(char *out, size_t len, const char *what, const char *value)
{
  if (strncmp(value, "unix://", 7) == 0)
    value += 7;
  if (value[0] != '/' || strlen(value) >= len) {
    fprintf(stderr, "%s: %s %s: must be an absolute path shorter than %zu bytes\n", PROG, what,
            value, len);
    return -1;
  }
  snprintf(out, len, "%s", value);
  return 0;
}

static int
parse_flags(dkd *d, int argc, char **argv)
{
  static const struct option longopts[] = {
      {"root", required_argument, NULL, 'r'},   {"exec-root", required_argument, NULL, 'e'},
      {"host", required_argument, NULL, 'H'},   {"containerd", required_argument, NULL, 'c'},
      {"bridge", required_argument, NULL, 'b'}, {"bip", required_argument, NULL, 'i'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
  int ch, r = 0;
  while (r == 0 && (ch = getopt_long(argc, argv, "hH:", longopts, NULL)) != -1) {
    switch (ch) {
    case 'r': r = set_path(d->root, sizeof d->root, "--root", optarg); break;
    case 'e': r = set_path(d->exec_root, sizeof d->exec_root, "--exec-root", optarg); break;
    case 'H': r = set_path(d->host, sizeof d->host, "--host", optarg); break;
    case 'c': r = set_path(d->containerd, sizeof d->containerd, "--containerd", optarg); break;
    case 'b':
      if (strlen(optarg) > 15) {
        fprintf(stderr, "%s: --bridge %s: at most 15 characters\n", PROG, optarg);
        return -1;
      }
      snprintf(d->bridge, sizeof d->bridge, "%s", strcmp(optarg, "none") == 0 ? "" : optarg);
      break;
    case 'i': snprintf(d->bridge_cidr, sizeof d->bridge_cidr, "%s", optarg); break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (r == 0 && optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[optind]);
    return -1;
  }
  unsigned addr;
  int prefix;
  cut_err err;
  if (r == 0 && d->bridge[0] && dkd_net_parse_cidr(d->bridge_cidr, &addr, &prefix, &err) < 0) {
    fprintf(stderr, "%s: --bip %s: %s\n", PROG, d->bridge_cidr, err.msg);
    return -1;
  }
  return r;
}

int
main(int argc, char **argv)
{
  static dkd D;
  dkd *d = &D;
  snprintf(d->root, sizeof d->root, "/var/lib/cutaway/docker");
  snprintf(d->exec_root, sizeof d->exec_root, "/run/cutaway/docker");
  snprintf(d->containerd, sizeof d->containerd, "/run/cutaway/containerd/containerd.sock");
  snprintf(d->bridge, sizeof d->bridge, "cutaway0");
  snprintf(d->bridge_cidr, sizeof d->bridge_cidr, "172.30.0.1/16");
  if (parse_flags(d, argc, argv) < 0)
    return 2;
  if (d->host[0] == '\0' &&
      snprintf(d->host, sizeof d->host, "%s/docker.sock", d->exec_root) >= (int)sizeof d->host) {
    fprintf(stderr, "%s: --exec-root too long for a socket path: give -H\n", PROG);
    return 2;
  }
  pthread_mutex_init(&d->lock, NULL);
  dkd_events_init(d);
  pthread_cond_init(&d->changed, NULL);
  if (pipe2(term_pipe, O_CLOEXEC) < 0)
    return 1;
  struct sigaction sa = {.sa_handler = on_term};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a client that hangs up is a write error, not death */

  trace_init(PROG, "dockerd");
  cut_err err;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "dockerd.Start", TA_STR("root", d->root),
              TA_STR("exec_root", d->exec_root), TA_STR("host", d->host),
              TA_STR("containerd", d->containerd), TA_STR("bridge", d->bridge));
  int r = cut_mkdir_p(d->root, 0700, &err);
  if (r == 0)
    r = cut_mkdir_p(d->exec_root, 0700, &err);
  if (r == 0)
    r = dkd_containers_load(d, &err);
  if (r == 0) /* before serving: nothing is being created meanwhile */
    dkd_reconcile(d);
  if (r == 0)
    r = dkd_serve(d, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    cut_err_print(PROG, &err);
    return 1;
  }
  dkd_run_recover(d);
  fprintf(stderr, "%s: serving the Docker API on %s (containerd %s)\n", PROG, d->host,
          d->containerd);
  char b;
  while (read(term_pipe[0], &b, 1) < 0 && errno == EINTR)
    ;
  fprintf(stderr, "%s: stopping (containers keep running)\n", PROG);
  httpd_stop(d->srv);
  return 0;
}
