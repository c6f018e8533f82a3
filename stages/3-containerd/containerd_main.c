/* cutaway-containerd: the runtime manager (containerd).
 *
 *   cutaway-containerd --root DIR --exec-root DIR --address SOCKET
 *                      [--runtime PATH] [--cgroup-parent NAME]
 *
 * ROOT holds what must survive a reboot (content, snapshots, container
 * records, logs); EXEC_ROOT what must not (task bundles, shim sockets, the
 * runtime's state), as containerd's root and state directories.  The API
 * is HTTP + JSON on SOCKET (ctd_api.c).  The runtime defaults to
 * cutaway-runc found next to this binary; runc and crun work too.
 *
 * Startup is also recovery: half-made snapshots, container records and
 * tasks left by a daemon killed mid-operation are removed, and the shims of
 * running containers are reconnected (ctd_task.c).  SIGTERM stops the
 * daemon and only the daemon: containers keep running under their shims. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctd.h"
#include "fileutil.h"
#include "trace.h"

#define PROG "cutaway-containerd"

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
on_pipe(int sig)
{
}

static void
usage(FILE *f)
{
  fprintf(f,
          "usage: %s [--root DIR] [--exec-root DIR] [--address SOCKET] [--runtime PATH]\n"
          "       [--cgroup-parent NAME]\n",
          PROG);
}

static void
wake_all(void *ctx)
{
  ctd *c = ctx;
  c->stopping = true;
  ctd_bus_close(&c->bus);
  pthread_mutex_lock(&c->lock);
  pthread_cond_broadcast(&c->task_cv);
  pthread_mutex_unlock(&c->lock);
}

/* Leftovers a killed daemon may leave in ROOT/snapshots: pull temp dirs,
 * and active snapshots whose container record never got written. */
static void
cleanup_snapshots(ctd *c)
{
  DIR *d = opendir(c->snap_dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, "pull-", 5) == 0) {
      char p[PATH_MAX];
      cut_err e;
      ctd_fmt(p, sizeof p, "%s/%s", c->snap_dir, de->d_name);
      cut_rm_rf(p, &e);
    }
  }
  if (d)
    closedir(d);
  for (;;) {
    char victim[200] = "";
    for (ctd_snap *s = c->snaps; s && !*victim; s = s->next)
      if (s->kind != SNAP_COMMITTED && !ctd_container_find(c, s->key))
        ctd_fmt(victim, sizeof victim, "%s", s->key);
    if (!*victim)
      break;
    cut_err e;
    trace_event("snapshot.cleanup", TA_STR("key", victim), TA_STR("reason", "no container"));
    if (ctd_snap_remove(c, victim, &e) < 0)
      break;
  }
}

static int
start(ctd *c, cut_err *err)
{
  char p[PATH_MAX];
  if (cut_mkdir_p(c->root, 0711, err) < 0 || cut_mkdir_p(c->exec_root, 0711, err) < 0)
    return -1;
  ctd_fmt(p, sizeof p, "%s/tasks", c->exec_root);
  if (cut_mkdir_p(p, 0711, err) < 0)
    return -1;
  /* Shim sockets live in a 0700 directory: only root reaches them. */
  ctd_fmt(p, sizeof p, "%s/s", c->exec_root);
  if (cut_mkdir_p(p, 0700, err) < 0 || chmod(p, 0700) < 0)
    return cut_wrap(err, "shim socket dir");
  ctd_fmt(p, sizeof p, "%s/runtime", c->exec_root);
  if (cut_mkdir_p(p, 0700, err) < 0)
    return -1;
  if (ctd_snap_load(c, err) < 0 || ctd_images_open(c, err) < 0 || ctd_containers_load(c, err) < 0)
    return -1;
  cleanup_snapshots(c);
  return ctd_tasks_recover(c, err);
}

int
main(int argc, char **argv)
{
  static ctd C;
  ctd *c = &C;
  ctd_fmt(c->root, sizeof c->root, "/var/lib/cutaway/containerd");
  ctd_fmt(c->exec_root, sizeof c->exec_root, "/run/cutaway/containerd");
  char address[256] = "";
  static const struct option longopts[] = {{"root", required_argument, NULL, 'r'},
                                           {"exec-root", required_argument, NULL, 'e'},
                                           {"address", required_argument, NULL, 'a'},
                                           {"runtime", required_argument, NULL, 't'},
                                           {"cgroup-parent", required_argument, NULL, 'c'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'r': ctd_fmt(c->root, sizeof c->root, "%s", optarg); break;
    case 'e': ctd_fmt(c->exec_root, sizeof c->exec_root, "%s", optarg); break;
    case 'a': ctd_fmt(address, sizeof address, "%s", optarg); break;
    case 't': ctd_fmt(c->runtime, sizeof c->runtime, "%s", optarg); break;
    case 'c': ctd_fmt(c->cgroup_parent, sizeof c->cgroup_parent, "%s", optarg); break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[optind]);
    return 2;
  }
  if (c->root[0] != '/' || c->exec_root[0] != '/') {
    fprintf(stderr, "%s: --root and --exec-root must be absolute paths\n", PROG);
    return 2;
  }
  if (!*address && ctd_fmt(address, sizeof address, "%s/containerd.sock", c->exec_root) < 0) {
    fprintf(stderr, "%s: --exec-root too long for a socket path\n", PROG);
    return 2;
  }
  if (strlen(address) >= sizeof c->address) {
    fprintf(stderr, "%s: --address %s: longer than a unix socket path may be\n", PROG, address);
    return 2;
  }
  ctd_fmt(c->address, sizeof c->address, "%s", address);
  char self[CTD_DIR_MAX] = ".";
  ctd_self_dir(self, sizeof self);
  ctd_fmt(c->shim, sizeof c->shim, "%s/cutaway-shim", self);
  if (!*c->runtime)
    ctd_fmt(c->runtime, sizeof c->runtime, "%s/cutaway-runc", self);
  if (access(c->runtime, X_OK) < 0) {
    fprintf(stderr, "%s: runtime %s: %s\n", PROG, c->runtime, strerror(errno));
    return 1;
  }
  ctd_fmt(c->content_dir, sizeof c->content_dir, "%s/content", c->root);
  ctd_fmt(c->snap_dir, sizeof c->snap_dir, "%s/snapshots", c->root);
  pthread_mutex_init(&c->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_cond_init(&c->task_cv, &ca);
  ctd_bus_init(&c->bus);

  if (pipe2(term_pipe, O_CLOEXEC) < 0)
    return 1;
  struct sigaction sa = {.sa_handler = on_term};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct sigaction sp_pipe = {.sa_handler = on_pipe};
  sigemptyset(&sp_pipe.sa_mask);
  sigaction(SIGPIPE, &sp_pipe, NULL);

  trace_init(PROG, "containerd");
  cut_err err;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "containerd.Start", TA_STR("root", c->root),
              TA_STR("exec_root", c->exec_root), TA_STR("address", c->address),
              TA_STR("runtime", c->runtime));
  int r = start(c, &err);
  if (r == 0) {
    httpd_opts o = {.socket_path = c->address,
                    .socket_mode = 0660,
                    .routes = ctd_routes,
                    .nroutes = ctd_nroutes,
                    .ctx = c,
                    .max_body = 1 << 20};
    r = httpd_start(&o, &c->srv, &err);
  }
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    cut_err_print(PROG, &err);
    return 1;
  }
  httpd_set_waker(c->srv, wake_all, c);
  fprintf(stderr, "%s: serving on %s (runtime %s)\n", PROG, c->address, c->runtime);
  char b;
  while (read(term_pipe[0], &b, 1) < 0 && errno == EINTR)
    ;
  fprintf(stderr, "%s: stopping (containers keep running under their shims)\n", PROG);
  httpd_stop(c->srv);
  return 0;
}
