/* container.c: the runc commands (see container.h).
 *
 * A failing create leaves nothing behind: once the state directory exists
 * (it is the id's lock), every later failure kills the init (its pid and
 * mount namespaces die with it), destroys the cgroup and removes the
 * directory before the error is returned. */
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups.h"
#include "cmd_extra.h"
#include "console.h"
#include "fileutil.h"
#include "hooks.h"
#include "init.h"
#include "json.h"
#include "log.h"
#include "ns.h"
#include "proc.h"
#include "rootfs.h"
#include "sync.h"
#include "trace.h"

/* ---- signals ------------------------------------------------------------ */

int
rc_signal_parse(const char *s)
{
  if (s == NULL || s[0] == '\0')
    return -1;
  char *end;
  long n = strtol(s, &end, 10);
  if (*end == '\0')
    return n > 0 && n < NSIG ? (int)n : -1;
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (int sig = 1; sig < NSIG; sig++) {
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev && strcasecmp(abbrev, name) == 0)
      return sig;
  }
  return -1;
}

/* A pidfd pins the process: once it is open and the start time still
 * matches, the signal cannot reach a recycled pid. */
static int
open_init_pidfd(const rc_state *st, cut_err *err)
{
  int fd = cut_pidfd_open(st->pid);
  if (fd < 0)
    return cut_error(err, errno == ESRCH ? ESRCH : errno, "container %s: init %d", st->id,
                     (int)st->pid);
  uint64_t start;
  if (rc_proc_start_time(st->pid, &start, NULL) < 0 || start != st->pid_start) {
    close(fd);
    return cut_error(err, ESRCH, "container %s: init %d has exited", st->id, (int)st->pid);
  }
  return fd;
}

int
rc_signal_init(const rc_state *st, int sig, cut_err *err)
{
  int fd = open_init_pidfd(st, err);
  if (fd < 0)
    return -1;
  rc_signal_wait_handler(st->pid, sig); /* issue 4: cmd_extra.c */
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "kill", TA_INT("pid", st->pid), TA_INT("signal", sig));
  long r = trace_end_sys(&sp, syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0));
  int e = errno;
  close(fd);
  if (r < 0)
    return cut_error(err, e, "signal %d to container %s", sig, st->id);
  return 0;
}

int
rc_wait_init_gone(const rc_state *st, int timeout_ms, cut_err *err)
{
  int fd = cut_pidfd_open(st->pid);
  if (fd < 0)
    return 0; /* already gone */
  uint64_t start;
  char letter;
  if (rc_proc_start_time(st->pid, &start, &letter) < 0 || start != st->pid_start || letter == 'Z') {
    close(fd);
    return 0;
  }
  /* A pidfd polls readable when the process exits, even when it is not our
   * child and its parent has not reaped it yet. */
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  int r;
  do
    r = poll(&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  close(fd);
  if (r == 0)
    return cut_error(err, ETIMEDOUT, "container %s: init %d did not exit", st->id, (int)st->pid);
  return 0;
}

/* ---- create ------------------------------------------------------------- */

enum create_mode { MODE_CREATE, MODE_RUN };

typedef struct creation {
  rc_spec spec;
  rc_launch launch;
  rc_state state;
  bool dir_made, cgroup_made;
  char fifo[PATH_MAX + 16];
  cg_layout cg_layout; /* decided before the clone */
  char cg_path[512];
} creation;

static int
write_oom_score_adj(pid_t pid, int value, cut_err *err)
{
  char path[64], text[16];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  snprintf(text, sizeof text, "%d", value);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "oom_score_adj", TA_INT("pid", pid), TA_INT("value", value));
  int r = cut_write_string(path, text, err);
  trace_end_rc(&sp, r, err);
  return r;
}

/* No mount namespace: what the init mounted is in the host's namespace
 * and outlives it; unmount it (rootfs.h). */
static int
unmount_host_mounts(const rc_state *st, cut_err *err)
{
  if (!st->host_mntns)
    return 0;
  return rc_rootfs_unmount_new(st->rootfs, st->premounts, st->n_premounts, err);
}

/* Undo whatever create did so far. */
static void
creation_abort(creation *c)
{
  cut_err ignored;
  if (c->launch.pid > 0) {
    kill(c->launch.pid, SIGKILL);
    while (waitpid(c->launch.pid, NULL, 0) < 0 && errno == EINTR)
      ;
    c->launch.pid = 0;
  }
  if (unmount_host_mounts(&c->state, &ignored) < 0)
    rc_log_warn("%s", ignored.msg);
  if (c->cgroup_made && cg_destroy(&c->state.cgroup, &ignored) < 0)
    rc_log_warn("%s", ignored.msg);
  c->cgroup_made = false;
  if (c->dir_made && cut_rm_rf(c->state.dir, &ignored) < 0)
    rc_log_warn("%s", ignored.msg);
  c->dir_made = false;
}

static void
creation_free(creation *c)
{
  if (c->launch.sync_parent >= 0)
    close(c->launch.sync_parent);
  if (c->launch.sync_init >= 0)
    close(c->launch.sync_init);
  if (c->launch.fifo_fd >= 0)
    close(c->launch.fifo_fd);
  if (c->launch.console_fd >= 0)
    close(c->launch.console_fd);
  if (c->launch.console_peer >= 0)
    close(c->launch.console_peer);
  rc_ns_close_joins(c->launch.join_fds);
  if (c->launch.seccomp_fd >= 0)
    close(c->launch.seccomp_fd);
  rc_seccomp_free(&c->launch.seccomp);
  rc_seccomp_key_free(&c->launch.seccomp_key);
  rc_state_free(&c->state);
  rc_spec_free(&c->spec);
}

static int
make_state_dir(const rc_global *g, creation *c, cut_err *err)
{
  if (mkdir(g->root, 0700) < 0 && errno != EEXIST && cut_mkdir_p(g->root, 0700, err) < 0)
    return cut_wrap(err, "state root");
  if (mkdir(c->state.dir, 0711) < 0) {
    if (errno == EEXIST)
      return cut_error(err, EEXIST, "container %s already exists", c->state.id);
    return cut_error(err, errno, "mkdir %s", c->state.dir);
  }
  c->dir_made = true;
  return 0;
}

/* The seccomp program, when the cache has it (seccomp_cache.h); otherwise
 * the init generates it (init_setup) and hands it back through a memfd. */
static void
prepare_seccomp(const rc_global *g, rc_launch *l)
{
  const cJSON *profile = l->spec->seccomp;
  cut_err ignored;
  if (profile == NULL || rc_seccomp_key_make(profile, &l->seccomp_key, &ignored) < 0 ||
      rc_seccomp_cache_lookup(g->root, &l->seccomp_key, &l->seccomp) == 1)
    return;
  /* No memfd, no cache: the container does not depend on it. */
  l->seccomp_fd = memfd_create("cutaway-seccomp", MFD_CLOEXEC);
}

/* The compiled program the init handed back (a miss), into the cache. */
static void
collect_seccomp(const rc_global *g, rc_launch *l)
{
  if (l->seccomp_fd < 0)
    return;
  rc_seccomp_cache_collect(g->root, l->seccomp_fd, &l->seccomp_key);
  l->seccomp_fd = -1;
}

/* Everything decided before the clone: namespace fds, flags.  (The seccomp
 * program comes from the cache or the init, see prepare_seccomp.) */
static int
prepare_launch(creation *c, const rc_create_opts *o, enum create_mode mode, cut_err *err)
{
  rc_launch *l = &c->launch;
  rc_spec *s = &c->spec;
  l->spec = s;
  l->preserve_fds += o->preserve_fds; /* after any LISTEN_FDS ones */
  if (cg_detect(NULL, &c->cg_layout, err) < 0 ||
      cg_resolve_path(s->cgroups_path, c->state.id, c->cg_path, sizeof c->cg_path, err) < 0)
    return cut_wrap(err, "cgroup");
  if (rc_ns_open_joins(s, l->join_fds, err) < 0)
    return -1;
  int flags = rc_ns_new_flags(s);
  /* The init unshares its cgroup namespace itself, once the parent has
   * moved it into its cgroup, so the namespace's root is that cgroup. */
  l->new_cgroupns = flags & CLONE_NEWCGROUP;
  l->new_userns = flags & CLONE_NEWUSER;
  l->clone_flags = flags & ~(CLONE_NEWCGROUP | rc_ns_clone_flag(RC_NS_TIME));
  l->two_stage = rc_launch_needs_child(s);
  /* No mount namespace: remember the mounts already under the rootfs (a
   * containerd overlay...), which delete must leave alone. */
  snprintf(c->state.rootfs, sizeof c->state.rootfs, "%s", s->rootfs);
  c->state.host_mntns = rc_spec_ns(s, RC_NS_MNT) == NULL;
  if (c->state.host_mntns &&
      rc_rootfs_mounts_before(s->rootfs, c->state.premounts, RC_MAX_PREMOUNTS,
                              &c->state.n_premounts, err) < 0)
    return -1;
  int fds[2];
  if (rc_sync_pair(fds, err) < 0)
    return -1;
  l->sync_parent = fds[0];
  l->sync_init = fds[1];
  if (mode == MODE_CREATE) {
    /* The exec fifo: the init blocks reading it; `start` writes to it.
     * Opened O_RDWR here so the open never blocks, and so `start` can
     * tell a live init (its write-open succeeds) from a dead one (ENXIO). */
    snprintf(c->fifo, sizeof c->fifo, "%s/%s", c->state.dir, RC_EXEC_FIFO);
    if (mkfifo(c->fifo, 0600) < 0)
      return cut_error(err, errno, "mkfifo %s", c->fifo);
    l->fifo_fd = open(c->fifo, O_RDWR | O_CLOEXEC);
    if (l->fifo_fd < 0)
      return cut_error(err, errno, "open %s", c->fifo);
  }
  if (flags & rc_ns_clone_flag(RC_NS_TIME))
    return rc_ns_unshare(rc_ns_clone_flag(RC_NS_TIME), err);
  return 0;
}

/* linux.resources as given, plus the device rules every container needs
 * (runc's specconv adds the same list after the config's own rules): the
 * default /dev nodes, ptys, /dev/tun, mknod of anything (opening is what
 * the cgroup guards), and each linux.devices entry.  Without them a config
 * that only says "deny all", like `runc spec`'s, could not even create
 * /dev/null.  Returns a new tree, or NULL when there are no device rules. */
static cJSON *
resources_with_default_devices(const rc_spec *s)
{
  const cJSON *devs =
      s->resources ? cJSON_GetObjectItemCaseSensitive(s->resources, "devices") : NULL;
  if (!cJSON_IsArray(devs))
    return NULL;
  static const struct {
    const char *type;
    int major, minor;
    const char *access;
  } defaults[] = {{"c", -1, -1, "m"}, {"b", -1, -1, "m"},    {"c", 1, 3, "rwm"},
                  {"c", 1, 5, "rwm"}, {"c", 1, 7, "rwm"},    {"c", 1, 8, "rwm"},
                  {"c", 1, 9, "rwm"}, {"c", 5, 0, "rwm"},    {"c", 5, 1, "rwm"},
                  {"c", 5, 2, "rwm"}, {"c", 136, -1, "rwm"}, {"c", 10, 200, "rwm"}};
  cJSON *res = cJSON_Duplicate(s->resources, 1);
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, "devices");
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "allow", 1);
    cJSON_AddStringToObject(r, "type", defaults[i].type);
    if (defaults[i].major >= 0)
      cJSON_AddNumberToObject(r, "major", defaults[i].major);
    if (defaults[i].minor >= 0)
      cJSON_AddNumberToObject(r, "minor", defaults[i].minor);
    cJSON_AddStringToObject(r, "access", defaults[i].access);
    cJSON_AddItemToArray(arr, r);
  }
  for (size_t i = 0; i < s->n_devices; i++) {
    const rc_device *d = &s->devices[i];
    if (d->type == 'p')
      continue;
    cJSON *r = cJSON_CreateObject();
    char t[2] = {d->type == 'u' ? 'c' : d->type, 0};
    cJSON_AddBoolToObject(r, "allow", 1);
    cJSON_AddStringToObject(r, "type", t);
    cJSON_AddNumberToObject(r, "major", (double)d->major);
    cJSON_AddNumberToObject(r, "minor", (double)d->minor);
    cJSON_AddStringToObject(r, "access", "rwm");
    cJSON_AddItemToArray(arr, r);
  }
  return res;
}

/* Send a message to the init; when it is gone, its last word (an ERROR
 * message waiting in the socket) is the error to report, not EPIPE. */
static int
send_to_init(rc_launch *l, int type, cut_err *err)
{
  if (rc_sync_send(l->sync_parent, type, 0, NULL, NULL) == 0)
    return 0;
  int e = errno;
  rc_sync_msg m;
  if (rc_sync_recv(l->sync_parent, &m, err) == 0 && m.type == RC_SYNC_ERROR) {
    *err = m.err;
    return -1;
  }
  return cut_error(err, e, "signal the container init");
}

/* The parent's part between clone and READY. */
static int
configure_init(creation *c, cut_err *err)
{
  rc_launch *l = &c->launch;
  rc_spec *s = &c->spec;
  if (rc_launch_write_idmaps(l, err) < 0)
    return -1;
  if (s->process.have_oom_score_adj &&
      write_oom_score_adj(l->pid, s->process.oom_score_adj, err) < 0)
    return -1;
  /* GO first: the init's first mounts overlap the cgroup setup below, and
   * it waits for RC_SYNC_CGROUP before anything that needs its cgroup. */
  if (send_to_init(l, RC_SYNC_GO, err) < 0)
    return -1;
  cJSON *resources = resources_with_default_devices(s);
  int r = cg_create(&c->cg_layout, c->cg_path, resources ? resources : s->resources, l->pid,
                    &c->state.cgroup, err);
  cJSON_Delete(resources);
  if (r < 0)
    return cut_wrap(err, "cgroup");
  c->cgroup_made = true;
  c->state.have_cgroup = true;
  rc_log_debug("%s: init pid %d in cgroup %s (%s)", c->state.id, (int)l->pid, c->cg_path,
               c->cg_layout.mode == CG_V2 ? "v2" : "v1");
  if (send_to_init(l, RC_SYNC_CGROUP, err) < 0)
    return -1;
  /* READY, running prestart and createRuntime when the init asks (hooks.c). */
  return rc_hooks_create_wait_ready(l, c->state.id, err);
}

static int
save_state(creation *c, const rc_create_opts *o, cut_err *err)
{
  rc_state *st = &c->state;
  st->pid = c->launch.pid;
  if (rc_proc_start_time(st->pid, &st->pid_start, NULL) < 0)
    return cut_error(err, ESRCH, "the container init exited");
  snprintf(st->oci_version, sizeof st->oci_version, "%s", c->spec.oci_version);
  snprintf(st->bundle, sizeof st->bundle, "%s", c->spec.bundle);
  snprintf(st->rootfs, sizeof st->rootfs, "%s", c->spec.rootfs);
  rc_now_rfc3339(st->created, sizeof st->created);
  st->owner = getuid();
  if (c->spec.annotations)
    st->annotations = cJSON_Duplicate(c->spec.annotations, 1);
  if (rc_state_save(st, err) < 0 || rc_hooks_save(st->dir, c->spec.hooks, err) < 0)
    return -1;
  if (o->pid_file) {
    char text[32];
    snprintf(text, sizeof text, "%d", (int)st->pid);
    if (cut_write_file_replace(o->pid_file, text, strlen(text), 0644, err) < 0)
      return cut_wrap(err, "--pid-file");
  }
  return 0;
}

static int
create_container(const rc_global *g, const char *id, const rc_create_opts *o, enum create_mode mode,
                 creation *c, cut_err *err)
{
  memset(c, 0, sizeof *c);
  c->launch.sync_parent = c->launch.sync_init = c->launch.fifo_fd = -1;
  c->launch.console_fd = c->launch.console_peer = c->launch.seccomp_fd = -1;
  c->launch.id = c->state.id;
  for (int i = 0; i < RC_NS_COUNT; i++)
    c->launch.join_fds[i] = -1;
  snprintf(c->state.id, sizeof c->state.id, "%s", id);
  if (rc_state_dir(g->root, id, c->state.dir, sizeof c->state.dir, err) < 0)
    return -1;
  if (rc_spec_load(o->bundle ? o->bundle : ".", &c->spec, err) < 0)
    return -1;
  if (!c->spec.have_process)
    return cut_error(err, 0, "config.json: no process to run");
  /* issue 4: hooks checked now, LISTEN_FDS, the console socket (or, for a
   * foreground `run`, a socketpair whose master we relay ourselves). */
  if (hooks_validate(c->spec.hooks, err) < 0 ||
      rc_listen_fds_apply(&c->spec.process, &c->launch.preserve_fds, err) < 0 ||
      rc_console_prepare(&c->launch, c->spec.process.terminal, o->console_socket,
                         mode == MODE_RUN && !o->detach, err) < 0)
    return -1;
  if (make_state_dir(g, c, err) < 0)
    return -1;
  trace_traceparent(NULL, c->launch.traceparent);
  if (prepare_launch(c, o, mode, err) < 0)
    goto fail;
  prepare_seccomp(g, &c->launch);
  if (rc_launch_clone(&c->launch, err) < 0 || configure_init(c, err) < 0)
    goto fail;
  collect_seccomp(g, &c->launch);
  if (save_state(c, o, err) < 0)
    goto fail;
  return 0;
fail:
  creation_abort(c);
  return -1;
}

int
rc_cmd_create(const rc_global *g, const char *id, const rc_create_opts *o, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.create", TA_STR("id", id),
              TA_STR("bundle", o->bundle ? o->bundle : "."));
  creation c;
  int r = create_container(g, id, o, MODE_CREATE, &c, err);
  if (r == 0)
    trace_end(&sp, NULL, TA_INT("pid", c.launch.pid));
  else
    trace_end(&sp, err);
  creation_free(&c);
  return r < 0 ? cut_wrap(err, "create %s", id) : 0;
}

/* ---- run ---------------------------------------------------------------- */

static volatile pid_t forward_to;

static void
forward_signal(int sig)
{
  if (forward_to > 0)
    kill(forward_to, sig);
}

/* `run` stands for its container: signals it gets go to the init, as
 * runc's signal handler forwards them. */
static void
install_forwarding(pid_t pid)
{
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  forward_to = pid;
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
}

static void
destroy_created(creation *c)
{
  cut_err e;
  if (unmount_host_mounts(&c->state, &e) < 0)
    rc_log_warn("%s", e.msg);
  if (c->cgroup_made && cg_destroy(&c->state.cgroup, &e) < 0)
    rc_log_warn("%s", e.msg);
  c->cgroup_made = false;
  if (c->dir_made && cut_rm_rf(c->state.dir, &e) < 0)
    rc_log_warn("%s", e.msg);
  c->dir_made = false;
}

static int
run_container(const rc_global *g, const char *id, const rc_create_opts *o, trace_span *sp,
              int *exit_code, cut_err *err)
{
  creation c;
  if (create_container(g, id, o, MODE_RUN, &c, err) < 0) {
    creation_free(&c);
    return -1;
  }
  if (!o->detach)
    install_forwarding(c.launch.pid);
  char tp[TRACEPARENT_LEN] = "";
  trace_traceparent(sp, tp);
  rc_sync_msg m;
  int r = 0;
  if (rc_sync_send(c.launch.sync_parent, RC_SYNC_START, 0, tp, NULL) < 0)
    r = cut_error(err, errno, "start the container init");
  /* End-of-file: the init's execve closed its end.  An error message: it
   * failed on the way there. */
  if (r == 0 && rc_sync_recv(c.launch.sync_parent, &m, err) == 0 && m.type == RC_SYNC_ERROR) {
    *err = m.err;
    r = -1;
  }
  if (r == 0)
    rc_hooks_run_warn(c.spec.hooks, HOOK_POSTSTART, &c.state, c.launch.pid, "running");
  if (o->detach && r == 0) {
    creation_free(&c);
    *exit_code = 0;
    return 0;
  }
  if (r == 0 && c.launch.console_peer >= 0) {
    cut_err relay_err;
    if (rc_console_relay_peer(&c.launch, &relay_err) < 0)
      rc_log_warn("%s", relay_err.msg);
  }
  int status = 0;
  while (waitpid(c.launch.pid, &status, 0) < 0 && errno == EINTR)
    ;
  forward_to = 0;
  *exit_code = cut_exit_code(status);
  c.launch.pid = 0;
  rc_hooks_run_warn(c.spec.hooks, HOOK_POSTSTOP, &c.state, 0, "stopped");
  destroy_created(&c);
  creation_free(&c);
  return r;
}

int
rc_cmd_run(const rc_global *g, const char *id, const rc_create_opts *o, int *exit_code,
           cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.run", TA_STR("id", id),
              TA_STR("bundle", o->bundle ? o->bundle : "."), TA_BOOL("detach", o->detach));
  *exit_code = 1;
  int r = run_container(g, id, o, &sp, exit_code, err);
  if (r == 0)
    trace_end(&sp, NULL, TA_INT("exit_code", *exit_code));
  else
    trace_end(&sp, err);
  return r < 0 ? cut_wrap(err, "run %s", id) : 0;
}

/* ---- start -------------------------------------------------------------- */

/* The poststart hooks run "after the user-specified process is executed"
 * (config.md#poststart): wait for the init's execve before running them.
 * The init keeps its exec-fifo fd, close-on-exec, up to execve; once it
 * has taken the start message out of the fifo, a read of our own end
 * returns end-of-file exactly when no writer is left, that is when the
 * init has execed (or died). */
static void
wait_for_execve(const rc_state *st, int rfd)
{
  int queued = 0;
  while (ioctl(rfd, FIONREAD, &queued) == 0 && queued > 0) {
    if (rc_state_status(st) == RC_STOPPED)
      return; /* it died before reading: nothing to wait for */
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
  }
  int fl = fcntl(rfd, F_GETFL);
  if (fl < 0 || fcntl(rfd, F_SETFL, fl & ~O_NONBLOCK) < 0)
    return;
  char c;
  ssize_t n;
  do
    n = read(rfd, &c, 1);
  while (n > 0 || (n < 0 && errno == EINTR));
}

static int
start_container(const rc_state *st, trace_span *sp, cut_err *err)
{
  enum rc_status status = rc_state_status(st);
  if (status != RC_CREATED)
    return cut_error(err, 0, "cannot start a container that is %s (only a created one)",
                     rc_status_name(status));
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/%s", st->dir, RC_EXEC_FIFO);
  /* If the init dies between this open and the write, the write must fail
   * with EPIPE, not kill `start` with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  /* A read end of our own, opened first: see wait_for_execve. */
  int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int fd = rfd < 0 ? -1 : open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (rfd >= 0)
      close(rfd);
    if (e == ENXIO)
      return cut_error(err, 0, "the container init is not waiting any more (it exited)");
    return cut_error(err, e, "open %s", fifo);
  }
  char msg[TRACEPARENT_LEN + 2] = "0";
  if (trace_traceparent(sp, msg))
    strcat(msg, "\n");
  ssize_t w = write(fd, msg, strlen(msg));
  int e = errno;
  close(fd);
  if (w < 0) {
    close(rfd);
    return cut_error(err, e, "release the container init");
  }
  if (unlink(fifo) < 0) {
    close(rfd);
    return cut_error(err, errno == ENOENT ? EALREADY : errno, "container already started");
  }
  wait_for_execve(st, rfd);
  close(rfd);
  return 0;
}

int
rc_cmd_start(const rc_global *g, const char *id, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.start", TA_STR("id", id));
  rc_state st;
  int r = rc_state_load(g->root, id, &st, err);
  if (r == 0)
    r = start_container(&st, &sp, err);
  if (r == 0)
    rc_hooks_after_start(&st); /* poststart: before start returns */
  rc_state_free(&st);
  trace_end_rc(&sp, r, err);
  return r < 0 ? cut_wrap(err, "start %s", id) : 0;
}

/* ---- state, kill, delete, list ------------------------------------------ */

int
rc_cmd_state(const rc_global *g, const char *id, cut_err *err)
{
  rc_state st;
  if (rc_state_load(g->root, id, &st, err) < 0)
    return cut_wrap(err, "state %s", id);
  cJSON *doc = rc_state_to_oci(&st, rc_state_status(&st));
  char *text = cJSON_Print(doc);
  cJSON_Delete(doc);
  rc_state_free(&st);
  if (text == NULL)
    return cut_error(err, ENOMEM, "state %s", id);
  printf("%s\n", text);
  free(text);
  return 0;
}

static int
kill_all(const rc_state *st, int sig, cut_err *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  if (cg_pids(&st->cgroup, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    trace_span sp;
    trace_begin(&sp, TRACE_SYSCALL, "kill", TA_INT("pid", pids[i]), TA_INT("signal", sig));
    if (trace_end_sys(&sp, kill(pids[i], sig)) < 0 && errno != ESRCH) {
      int e = errno;
      int pid = (int)pids[i];
      free(pids);
      return cut_error(err, e, "signal %d to pid %d", sig, pid);
    }
  }
  free(pids);
  return 0;
}

int
rc_cmd_kill(const rc_global *g, const char *id, int sig, bool all, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.kill", TA_STR("id", id), TA_INT("signal", sig),
              TA_BOOL("all", all));
  rc_state st;
  int r = rc_state_load(g->root, id, &st, err);
  if (r == 0) {
    enum rc_status status = rc_state_status(&st);
    if (status == RC_STOPPED)
      r = cut_error(err, 0, "container is not running (it is stopped)");
    else if (all && st.have_cgroup)
      r = kill_all(&st, sig, err);
    else
      r = rc_signal_init(&st, sig, err);
  }
  rc_state_free(&st);
  trace_end_rc(&sp, r, err);
  return r < 0 ? cut_wrap(err, "kill %s", id) : 0;
}

static int
delete_container(rc_state *st, bool force, cut_err *err)
{
  enum rc_status status = rc_state_status(st);
  if ((status == RC_RUNNING || status == RC_PAUSED) && !force)
    return cut_error(err, 0, "cannot delete a container that is %s (stop it, or use --force)",
                     rc_status_name(status));
  if (status != RC_STOPPED) {
    /* A created container (runc allows deleting it) or a forced delete:
     * kill the init, whose pid namespace takes every other process with it;
     * a frozen cgroup must be thawed for SIGKILL to be acted on. */
    if (status == RC_PAUSED && st->have_cgroup)
      cg_freeze(&st->cgroup, false, err);
    if (rc_signal_init(st, SIGKILL, err) < 0 && err->errnum != ESRCH)
      return -1;
    if (rc_wait_init_gone(st, 10000, err) < 0)
      return -1;
  }
  if (unmount_host_mounts(st, err) < 0)
    return cut_wrap(err, "rootfs");
  if (st->have_cgroup && cg_destroy(&st->cgroup, err) < 0)
    return cut_wrap(err, "cgroup");
  rc_hooks_at_delete(st); /* poststop: failures only warn */
  return cut_rm_rf(st->dir, err);
}

int
rc_cmd_delete(const rc_global *g, const char *id, bool force, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.delete", TA_STR("id", id), TA_BOOL("force", force));
  rc_state st;
  int r = rc_state_load(g->root, id, &st, err);
  if (r == 0)
    r = delete_container(&st, force, err);
  else if (force && err->errnum == ENOENT && st.dir[0] && access(st.dir, F_OK) == 0)
    /* A state directory without state.json: a runtime killed in the middle
     * of create.  --force clears it, as runc's delete --force does. */
    r = cut_rm_rf(st.dir, err);
  rc_state_free(&st);
  trace_end_rc(&sp, r, err);
  return r < 0 ? cut_wrap(err, "delete %s", id) : 0;
}

int
rc_cmd_list(const rc_global *g, bool json, bool quiet, cut_err *err)
{
  DIR *d = opendir(g->root);
  cJSON *arr = cJSON_CreateArray();
  if (d == NULL && errno != ENOENT) {
    cJSON_Delete(arr);
    return cut_error(err, errno, "list %s", g->root);
  }
  if (!json && !quiet)
    printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
           "OWNER");
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    rc_state st;
    cut_err ignored;
    if (rc_state_load(g->root, de->d_name, &st, &ignored) < 0)
      continue;
    enum rc_status status = rc_state_status(&st);
    if (json)
      cJSON_AddItemToArray(arr, rc_state_to_oci(&st, status));
    else if (quiet)
      printf("%s\n", st.id);
    else
      printf("%-20s %-8d %-10s %-40s %-32s %s\n", st.id, status == RC_STOPPED ? 0 : (int)st.pid,
             rc_status_name(status), st.bundle, st.created, st.owner == 0 ? "root" : "");
    rc_state_free(&st);
  }
  if (d)
    closedir(d);
  if (json) {
    char *text = cJSON_PrintUnformatted(arr);
    printf("%s\n", text ? text : "[]");
    free(text);
  }
  cJSON_Delete(arr);
  return 0;
}

int
rc_cmd_spec(const char *bundle, cut_err *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/config.json", bundle ? bundle : ".");
  if (access(path, F_OK) == 0)
    return cut_error(err, EEXIST, "spec: %s exists; remove it first", path);
  cJSON *doc = rc_spec_default();
  int r = json_write_file(path, doc, true, err);
  cJSON_Delete(doc);
  return r < 0 ? cut_wrap(err, "spec") : 0;
}
