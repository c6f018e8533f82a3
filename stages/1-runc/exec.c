/* exec.c: the runtime's protection of its own binary (CVE-2019-5736, see
 * exec.h; runc's libcontainer/nsenter/cloned_binary.c) and `exec`.
 *
 * memfd_create(2) gives an anonymous in-memory file; F_SEAL_WRITE (with
 * SHRINK, GROW and SEAL) makes it immutable for everyone, forever.  A
 * program exec'ed from it has /proc/self/exe naming the memfd, not a file
 * on disk, so nothing a container does to /proc/<pid>/exe can reach the
 * host.  The exec stub is exec'ed that way; the whole-runtime fallback
 * recognises that it already runs sealed by asking the kernel for the
 * seals of its own /proc/self/exe. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups.h"
#include "cmd_extra.h"
#include "console.h"
#include "fileutil.h"
#include "json.h"
#include "log.h"
#include "ns.h"
#include "proc.h"
#include "process.h"
#include "seccomp.h"
#include "seccomp_cache.h"
#include "spec.h"
#include "state.h"
#include "trace.h"
#include "warm.h"

extern char **environ;

#define SEALS_WANTED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool
rc_exe_is_sealed(void)
{
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & SEALS_WANTED) == SEALS_WANTED;
}

/* ---- the exec stub ------------------------------------------------------- */

/* stub/exec_stub.c, built freestanding and embedded by module.mk (empty
 * where it cannot be built). */
extern const unsigned char rc_exec_stub[];
extern const unsigned long rc_exec_stub_len;

static int exec_stub_fd = -1;

static bool
exec_stub_disabled(void)
{
  const char *skip = getenv("CUTAWAY_RUNC_NO_SEAL");
  return skip != NULL && strcmp(skip, "1") == 0;
}

void
rc_exec_stub_prepare(void)
{
  if (exec_stub_fd >= 0 || rc_exec_stub_len == 0 || exec_stub_disabled())
    return;
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
  /* MFD_EXEC: kernels with vm.memfd_noexec make memfds non-executable by
   * default; older kernels reject the flag, hence the retry. */
  int fd = memfd_create("cutaway-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create("cutaway-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return;
  if (write(fd, rc_exec_stub, rc_exec_stub_len) != (ssize_t)rc_exec_stub_len ||
      fcntl(fd, F_ADD_SEALS, SEALS_WANTED) < 0) {
    close(fd);
    return;
  }
  exec_stub_fd = fd;
}

int
rc_exec_final(const char *path, char *const argv[], char *const envp[])
{
  if (exec_stub_fd >= 0) {
    size_t n = 0;
    while (argv[n])
      n++;
    char **sargv = calloc(n + 3, sizeof *sargv);
    if (sargv != NULL) {
      sargv[0] = "cutaway-exec";
      sargv[1] = (char *)path;
      memcpy(sargv + 2, argv, (n + 1) * sizeof *argv);
      syscall(SYS_execveat, exec_stub_fd, "", sargv, envp, AT_EMPTY_PATH);
      free(sargv);
    }
    /* The stub could not be run (a seccomp profile without execveat, a
     * memfd policy): run the program directly rather than not at all. */
  }
  return execve(path, argv, envp);
}

int
rc_exe_seal(char **argv, cut_err *err)
{
  if (exec_stub_disabled())
    return 0;
  /* With the stub, the runtime's binary is never the current binary of a
   * process in the container: no need to re-execute ourselves. */
  if (rc_exec_stub_len > 0)
    return 1;
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return cut_error(err, errno, "open /proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS_WANTED) == SEALS_WANTED) {
    close(self);
    return 1;
  }
  struct stat st;
  int mfd = -1;
  if (fstat(self, &st) < 0) {
    cut_error(err, errno, "stat /proc/self/exe");
    goto fail;
  }
  mfd = memfd_create("cutaway-runc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) {
    cut_error(err, errno, "memfd_create");
    goto fail;
  }
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      cut_error(err, n < 0 ? errno : EIO, "copy the runtime binary into a memfd");
      goto fail;
    }
  }
  if (fcntl(mfd, F_ADD_SEALS, SEALS_WANTED) < 0) {
    cut_error(err, errno, "seal the memfd copy");
    goto fail;
  }
  close(self);
  fexecve(mfd, argv, environ);
  cut_error(err, errno, "re-execute the sealed copy of the runtime");
  close(mfd);
  return -1;
fail:
  if (mfd >= 0)
    close(mfd);
  close(self);
  return -1;
}

/* ======================================================================
 * `exec`: a new process in a running container.
 *
 *   runc:[0:PARENT]  this command: reads the state and config, opens the
 *                    container's namespace files through a /proc/<pid>
 *                    dirfd (bound to that very process: a recycled pid
 *                    cannot be joined by mistake), forks
 *   runc:[1:CHILD]   joins the cgroup, becomes non-dumpable, setns into
 *                    each namespace (user first), then clone(CLONE_PARENT)
 *   runc:[2:INIT]    in the container's pid namespace, a child of PARENT:
 *                    console, fds, rlimits, user, caps, cwd, seccomp, execve
 *
 * PARENT learns the outcome from a close-on-exec pipe: end-of-file means
 * the execve succeeded, a cut_err means it failed.  It then writes the pid
 * file, and either returns (--detach; the process is reparented to the
 * nearest subreaper, containerd's shim) or waits and returns its status.
 * ====================================================================== */

typedef struct exec_opts {
  const char *process_file;
  const char *cwd;
  const char *user;
  const char *pid_file;
  const char *console_socket;
  char *env[64];
  int n_env;
  char *caps[64];
  int n_caps;
  char *gids[64];
  int n_gids;
  int preserve_fds;
  bool tty, detach, no_new_privs, ignore_paused;
} exec_opts;

/* The exec'ed process: parsed from --process, or the container's own
 * process.json with the command line's overrides (runc's newProcess). */
typedef struct exec_proc {
  rc_process p;
  cJSON *doc;      /* --process document, owns p's strings */
  char **own_env;  /* malloc'ed env vector when overridden */
  gid_t *own_gids; /* malloc'ed additional gids when overridden */
  bool from_file;
} exec_proc;

enum {
  EO_CONSOLE = 1000,
  EO_PIDFILE,
  EO_PRESERVE,
  EO_NNP,
  EO_IGNORE_PAUSED,
  EO_LABEL,
  EO_APPARMOR,
  EO_CGROUP,
  EO_PIDFD
};

static int
exec_parse_opts(int argc, char **argv, exec_opts *o, cut_err *err)
{
  static const struct option opts[] = {{"process", required_argument, NULL, 'p'},
                                       {"tty", no_argument, NULL, 't'},
                                       {"detach", no_argument, NULL, 'd'},
                                       {"env", required_argument, NULL, 'e'},
                                       {"cwd", required_argument, NULL, 'w'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"additional-gids", required_argument, NULL, 'g'},
                                       {"cap", required_argument, NULL, 'c'},
                                       {"console-socket", required_argument, NULL, EO_CONSOLE},
                                       {"pid-file", required_argument, NULL, EO_PIDFILE},
                                       {"preserve-fds", required_argument, NULL, EO_PRESERVE},
                                       {"no-new-privs", no_argument, NULL, EO_NNP},
                                       {"ignore-paused", no_argument, NULL, EO_IGNORE_PAUSED},
                                       {"process-label", required_argument, NULL, EO_LABEL},
                                       {"apparmor", required_argument, NULL, EO_APPARMOR},
                                       {"cgroup", required_argument, NULL, EO_CGROUP},
                                       {"pidfd-socket", required_argument, NULL, EO_PIDFD},
                                       {0}};
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long_only(argc, argv, "+p:tde:w:u:g:c:", opts, NULL)) != -1) {
    switch (c) {
    case 'p': o->process_file = optarg; break;
    case 't': o->tty = true; break;
    case 'd': o->detach = true; break;
    case 'w': o->cwd = optarg; break;
    case 'u': o->user = optarg; break;
    case EO_CONSOLE: o->console_socket = optarg; break;
    case EO_PIDFILE: o->pid_file = optarg; break;
    case EO_NNP: o->no_new_privs = true; break;
    case EO_IGNORE_PAUSED: o->ignore_paused = true; break;
    case EO_LABEL:
    case EO_APPARMOR: break; /* no SELinux/AppArmor on these hosts: accepted, unused */
    case EO_CGROUP:
    case EO_PIDFD: return cut_error(err, 0, "exec: %s is not supported", argv[optind - 1]);
    case EO_PRESERVE: {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end != '\0' || n < 0 || n > 1000)
        return cut_error(err, 0, "exec: --preserve-fds: invalid number \"%s\"", optarg);
      o->preserve_fds = (int)n;
      break;
    }
    case 'e':
      if (o->n_env >= 64)
        return cut_error(err, 0, "exec: too many --env");
      if (strchr(optarg, '=') == NULL)
        return cut_error(err, 0, "exec: --env %s: expected KEY=VALUE", optarg);
      o->env[o->n_env++] = optarg;
      break;
    case 'c':
      if (o->n_caps >= 64)
        return cut_error(err, 0, "exec: too many --cap");
      o->caps[o->n_caps++] = optarg;
      break;
    case 'g':
      if (o->n_gids >= 64)
        return cut_error(err, 0, "exec: too many --additional-gids");
      o->gids[o->n_gids++] = optarg;
      break;
    default: return cut_error(err, 0, "exec: unknown or incomplete option %s", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return cut_error(err, 0, "exec: missing container id");
  if (o->process_file == NULL && optind + 1 >= argc)
    return cut_error(err, 0, "exec: missing the command to run (or --process FILE)");
  return 0;
}

static int
exec_parse_id(const char *s, const char *what, unsigned *out, cut_err *err)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v > 0xfffffffeUL)
    return cut_error(err, 0, "exec: %s \"%s\": expected a number", what, s);
  *out = (unsigned)v;
  return 0;
}

/* env with `add` (KEY=VALUE) set, replacing an existing KEY. */
static int
exec_env_merge(exec_proc *ep, char **add, int n_add, cut_err *err)
{
  size_t n = ep->p.n_env;
  char **env = calloc(n + (size_t)n_add + 1, sizeof *env);
  if (env == NULL)
    return cut_error(err, ENOMEM, "exec: env");
  for (size_t i = 0; i < n; i++)
    env[i] = ep->p.env[i];
  for (int a = 0; a < n_add; a++) {
    size_t klen = (size_t)(strchr(add[a], '=') - add[a]) + 1;
    size_t i;
    for (i = 0; i < n; i++)
      if (strncmp(env[i], add[a], klen) == 0)
        break;
    env[i] = add[a];
    if (i == n)
      n++;
  }
  env[n] = NULL;
  ep->own_env = env;
  ep->p.env = env;
  ep->p.n_env = n;
  return 0;
}

/* Build the process to run from the options and the container's config. */
static int
exec_build_process(const exec_opts *o, int argc, char **argv, const rc_spec *spec, exec_proc *ep,
                   cut_err *err)
{
  memset(ep, 0, sizeof *ep);
  if (o->process_file) {
    if (json_read_file(o->process_file, 1 << 20, &ep->doc, err) < 0 ||
        rc_process_parse(ep->doc, "process", &ep->p, err) < 0)
      return cut_wrap(err, "exec: --process %s", o->process_file);
    ep->from_file = true;
  } else {
    if (!spec->have_process)
      return cut_error(err, 0, "exec: the container's config.json has no process");
    ep->p = spec->process; /* shallow: the vectors stay the spec's */
    ep->p.args = &argv[optind + 1];
    ep->p.n_args = (size_t)(argc - optind - 1);
    ep->p.terminal = o->tty;
    ep->p.additional_gids = NULL;
    ep->p.n_additional_gids = 0;
  }
  if (o->n_env > 0 && exec_env_merge(ep, (char **)o->env, o->n_env, err) < 0)
    return -1;
  if (o->cwd)
    ep->p.cwd = o->cwd;
  if (o->user) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", o->user);
    char *colon = strchr(buf, ':');
    if (colon)
      *colon = '\0';
    unsigned uid, gid = 0;
    if (exec_parse_id(buf, "--user", &uid, err) < 0 ||
        (colon && exec_parse_id(colon + 1, "--user group", &gid, err) < 0))
      return -1;
    ep->p.uid = uid;
    ep->p.gid = gid;
  }
  if (o->n_gids > 0) {
    ep->own_gids = calloc((size_t)o->n_gids, sizeof(gid_t));
    if (ep->own_gids == NULL)
      return cut_error(err, ENOMEM, "exec: gids");
    for (int i = 0; i < o->n_gids; i++) {
      unsigned g;
      if (exec_parse_id(o->gids[i], "--additional-gids", &g, err) < 0)
        return -1;
      ep->own_gids[i] = g;
    }
    ep->p.additional_gids = ep->own_gids;
    ep->p.n_additional_gids = (size_t)o->n_gids;
  }
  for (int i = 0; i < o->n_caps; i++) {
    int cap = rc_cap_parse(o->caps[i]);
    if (cap < 0)
      return cut_error(err, 0, "exec: --cap %s: unknown capability", o->caps[i]);
    if (ep->p.have_caps)
      for (int s = 0; s < RC_CAP_NSETS; s++)
        if (s != RC_CAP_AMBIENT && s != RC_CAP_INHERITABLE)
          ep->p.caps[s] |= 1ULL << cap;
  }
  if (o->no_new_privs)
    ep->p.no_new_privileges = true;
  if (ep->p.cwd == NULL || ep->p.cwd[0] != '/')
    return cut_error(err, 0, "exec: cwd %s must be an absolute path",
                     ep->p.cwd ? ep->p.cwd : "(none)");
  if (ep->p.n_args == 0)
    return cut_error(err, 0, "exec: no command to run");
  return 0;
}

static void
exec_proc_free(exec_proc *ep)
{
  free(ep->own_env);
  free(ep->own_gids);
  if (ep->from_file)
    rc_process_free(&ep->p);
  cJSON_Delete(ep->doc);
}

/* The container's namespaces, opened through a dirfd of its init so that
 * they belong to that process and no other.  Namespaces the container
 * shares with us are skipped: setns into one's own namespace is pointless
 * and, for the user namespace, refused by the kernel. */
static const enum rc_ns_type exec_ns_order[] = {RC_NS_USER, RC_NS_IPC,    RC_NS_UTS,  RC_NS_NET,
                                                RC_NS_PID,  RC_NS_CGROUP, RC_NS_TIME, RC_NS_MNT};
#define EXEC_NNS (sizeof exec_ns_order / sizeof exec_ns_order[0])

static int
exec_open_namespaces(const rc_state *st, int fds[EXEC_NNS], cut_err *err)
{
  for (size_t i = 0; i < EXEC_NNS; i++)
    fds[i] = -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d", (int)st->pid);
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return cut_error(err, errno, "exec %s: open %s", st->id, path);
  /* Still the same process (start time), now that the dirfd pins it. */
  uint64_t start = 0;
  if (rc_proc_start_time(st->pid, &start, NULL) < 0 || start != st->pid_start) {
    close(dir);
    return cut_error(err, ESRCH, "exec %s: the container's init is gone", st->id);
  }
  for (size_t i = 0; i < EXEC_NNS; i++) {
    char rel[32], self[64];
    snprintf(rel, sizeof rel, "ns/%s", rc_ns_proc_name(exec_ns_order[i]));
    snprintf(self, sizeof self, "/proc/self/%s", rel);
    struct stat theirs, ours;
    int fd = openat(dir, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT)
        continue; /* a namespace type this kernel lacks */
      int e = errno;
      close(dir);
      for (size_t j = 0; j < i; j++)
        if (fds[j] >= 0)
          close(fds[j]);
      return cut_error(err, e, "exec %s: open %s/%s", st->id, path, rel);
    }
    if (fstat(fd, &theirs) == 0 && stat(self, &ours) == 0 && theirs.st_ino == ours.st_ino &&
        theirs.st_dev == ours.st_dev) {
      close(fd);
      continue;
    }
    fds[i] = fd;
  }
  close(dir);
  return 0;
}

/* Report a failure of runc:[2:INIT] to PARENT and end. */
static void __attribute__((noreturn)) exec_child_fail(int errfd, const cut_err *err)
{
  ssize_t w = write(errfd, err->msg, strlen(err->msg) + 1);
  (void)w;
  _exit(127);
}

typedef struct exec_ctx {
  const rc_state *st;
  exec_proc *ep;
  rc_seccomp *sc;
  int ns_fds[EXEC_NNS];
  int errpipe[2]; /* INIT -> PARENT: error text, or EOF at execve */
  int pidpipe[2]; /* CHILD -> PARENT: the pid of INIT */
  int console;    /* connected console socket (or socketpair end), -1 */
  int preserve_fds;
} exec_ctx;

/* runc:[2:INIT]: everything inside the container, then execve. */
static void __attribute__((noreturn)) exec_init(exec_ctx *x)
{
  cut_err err = {0};
  trace_set_role("runc:[2:INIT]");
  if (x->console >= 0) {
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || console_setup(root, x->console, false, &err) < 0) {
      if (root < 0)
        cut_error(&err, errno, "open /");
      exec_child_fail(x->errpipe[1], &err);
    }
    close(root);
  }
  rc_exec_target target = {0};
  if (rc_process_lookup(&x->ep->p, &target, &err) < 0)
    exec_child_fail(x->errpipe[1], &err);
  int keep[] = {x->errpipe[1], trace_fd(), rc_log_fd()};
  rc_process_close_fds(x->preserve_fds, keep, 3);
  if (rc_process_finalize(&x->ep->p, x->sc, &err) < 0)
    exec_child_fail(x->errpipe[1], &err);
  rc_process_exec(&x->ep->p, &target, NULL, &err);
  exec_child_fail(x->errpipe[1], &err);
}

/* A container without a mount namespace (rootfs.h) shares ours, so no
 * setns takes us into its root: chroot(2) into its init's, through
 * /proc/<pid>/root of that same process (start time checked again). */
static int
exec_enter_root(const rc_state *st, cut_err *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)st->pid);
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  uint64_t start = 0;
  if (fd < 0 || rc_proc_start_time(st->pid, &start, NULL) < 0 || start != st->pid_start) {
    int e = fd < 0 ? errno : ESRCH;
    if (fd >= 0)
      close(fd);
    return cut_error(err, e, "exec %s: open %s", st->id, path);
  }
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "chroot", TA_STR("path", path));
  int r = fchdir(fd);
  close(fd);
  if (r == 0)
    r = chroot(".");
  if (r == 0)
    r = chdir("/");
  if (trace_end_sys(&sp, r) < 0)
    return cut_error(err, errno, "exec %s: chroot %s", st->id, path);
  return 0;
}

/* runc:[1:CHILD]: cgroup, namespaces, then INIT as PARENT's child. */
static void __attribute__((noreturn)) exec_child(exec_ctx *x)
{
  cut_err err = {0};
  trace_set_role("runc:[1:CHILD]");
  close(x->errpipe[0]);
  close(x->pidpipe[0]);
  /* The cgroup first: its path is a host path, gone once the mount
   * namespace is joined; INIT inherits it. */
  if (x->st->have_cgroup && cg_enter(&x->st->cgroup, getpid(), &err) < 0)
    exec_child_fail(x->errpipe[1], &err);
  /* CVE-2019-5736 / CVE-2016-9962: from here on this process lives in the
   * container's namespaces; non-dumpable, no process there can open our
   * /proc/<pid>/exe or ptrace us. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (size_t i = 0; i < EXEC_NNS; i++) {
    if (x->ns_fds[i] < 0)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)x->st->pid,
             rc_ns_proc_name(exec_ns_order[i]));
    if (rc_ns_join(x->ns_fds[i], exec_ns_order[i], path, &err) < 0)
      exec_child_fail(x->errpipe[1], &err);
    close(x->ns_fds[i]);
  }
  if (x->st->host_mntns && exec_enter_root(x->st, &err) < 0)
    exec_child_fail(x->errpipe[1], &err);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "clone", TA_STR("flags", "CLONE_PARENT|SIGCHLD"));
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0)
    exec_init(x);
  trace_end_sys(&sp, pid);
  if (pid < 0) {
    cut_error(&err, errno, "clone the exec'ed process");
    exec_child_fail(x->errpipe[1], &err);
  }
  int p = (int)pid;
  ssize_t w = write(x->pidpipe[1], &p, sizeof p);
  (void)w;
  _exit(0);
}

static pid_t exec_forward_to;

static void
exec_forward_signal(int sig)
{
  if (exec_forward_to > 0)
    kill(exec_forward_to, sig);
}

/* Wait for the exec'ed process, passing on the signals a shell sends. */
static int
exec_wait(pid_t pid, int master, cut_err *err)
{
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  exec_forward_to = pid;
  struct sigaction sa = {.sa_handler = exec_forward_signal};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
  if (master >= 0) {
    console_relay(master, err);
    close(master);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return cut_error(err, errno, "wait for the exec'ed process");
  return cut_exit_code(status);
}

static int
exec_write_pid_file(const char *path, pid_t pid, cut_err *err)
{
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  char abs[PATH_MAX];
  if (path[0] != '/' && getcwd(abs, sizeof abs)) {
    size_t l = strlen(abs);
    snprintf(abs + l, sizeof abs - l, "/%s", path);
    path = abs;
  }
  return cut_write_file_atomic(path, buf, (size_t)n, 0644, err);
}

/* PARENT: fork CHILD, learn INIT's pid and fate. */
static int
exec_launch(exec_ctx *x, const exec_opts *o, pid_t *init_pid, cut_err *err)
{
  if (pipe2(x->errpipe, O_CLOEXEC) < 0 || pipe2(x->pidpipe, O_CLOEXEC) < 0)
    return cut_error(err, errno, "exec: pipe");
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "fork");
  pid_t child = fork();
  if (child == 0)
    exec_child(x);
  trace_end_sys(&sp, child);
  if (child < 0)
    return cut_error(err, errno, "exec: fork");
  close(x->errpipe[1]);
  close(x->pidpipe[1]);
  int pid = -1;
  ssize_t r;
  do
    r = read(x->pidpipe[0], &pid, sizeof pid);
  while (r < 0 && errno == EINTR);
  close(x->pidpipe[0]);
  waitpid(child, NULL, 0);
  char msg[CUT_ERR_MAX] = "";
  size_t got = 0;
  while (got < sizeof msg - 1) {
    r = read(x->errpipe[0], msg + got, sizeof msg - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(x->errpipe[0]);
  msg[got] = '\0';
  if (got > 0) {
    if (pid > 0)
      waitpid(pid, NULL, 0);
    return cut_error(err, 0, "%s", msg);
  }
  if (pid <= 0)
    return cut_error(err, 0, "exec: the process could not be started");
  *init_pid = pid;
  (void)o;
  return 0;
}

/* The container's seccomp program, from the cache when the profile was
 * compiled before (seccomp_cache.h), else compiled here and stored. */
static int
build_seccomp(const char *root, const cJSON *profile, rc_seccomp *sc, cut_err *err)
{
  if (profile == NULL)
    return rc_seccomp_build(NULL, sc, err);
  rc_seccomp_key key;
  cut_err ignored;
  int r = 0;
  bool cached = rc_seccomp_key_make(profile, &key, &ignored) == 0;
  if (!cached || rc_seccomp_cache_lookup(root, &key, sc) == 0) {
    r = rc_seccomp_build(profile, sc, err);
    if (r == 0 && cached)
      rc_seccomp_cache_store(root, &key, sc);
  }
  if (cached)
    rc_seccomp_key_free(&key);
  return r;
}

int
rc_cmd_exec(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  exec_opts o = {0};
  if (exec_parse_opts(argc, argv, &o, err) < 0)
    return -1;
  /* CHILD's move into the cgroup would wait for an RCU grace period; start
   * it now, while the state and config are read (warm.h).  CHILD is a
   * fork(): it has this thread only, and INIT, its raw clone, too. */
  rc_cgroup_warm_start();
  const char *id = argv[optind];
  if (o.tty && o.detach && o.console_socket == NULL && o.process_file == NULL)
    return cut_error(err, 0, "exec %s: --tty with --detach needs --console-socket", id);
  rc_state st;
  if (rc_state_load(root, id, &st, err) < 0)
    return cut_wrap(err, "exec");
  rc_spec spec;
  memset(&spec, 0, sizeof spec);
  exec_proc ep;
  memset(&ep, 0, sizeof ep);
  rc_seccomp sc;
  memset(&sc, 0, sizeof sc);
  exec_ctx x = {.st = &st, .ep = &ep, .sc = &sc, .console = -1, .preserve_fds = o.preserve_fds};
  for (size_t i = 0; i < EXEC_NNS; i++)
    x.ns_fds[i] = -1;
  int master = -1, rc = -1, pair[2] = {-1, -1};
  pid_t pid = -1;

  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.exec", TA_STR("id", id));
  enum rc_status status = rc_state_status(&st);
  if (status == RC_STOPPED || status == RC_CREATING) {
    cut_error(err, 0, "exec %s: cannot exec in a %s container", id, rc_status_name(status));
    goto out;
  }
  if (status == RC_PAUSED && !o.ignore_paused) {
    cut_error(err, 0, "exec %s: cannot exec in a paused container (use --ignore-paused)", id);
    goto out;
  }
  if (rc_spec_load(st.bundle, &spec, err) < 0 ||
      exec_build_process(&o, argc, argv, &spec, &ep, err) < 0 ||
      build_seccomp(root, spec.seccomp, &sc, err) < 0 ||
      exec_open_namespaces(&st, x.ns_fds, err) < 0) {
    cut_wrap(err, "exec %s", id);
    goto out;
  }
  if (ep.p.terminal) {
    if (o.console_socket) {
      if ((x.console = console_connect(o.console_socket, err)) < 0)
        goto out;
    } else if (o.detach) {
      cut_error(err, 0, "exec %s: a terminal process with --detach needs --console-socket", id);
      goto out;
    } else {
      /* Foreground: we are the console socket's other end ourselves. */
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        cut_error(err, errno, "exec %s: socketpair", id);
        goto out;
      }
      x.console = pair[1];
    }
  }
  if (exec_launch(&x, &o, &pid, err) < 0) {
    cut_wrap(err, "exec %s", id);
    goto out;
  }
  trace_event("exec.started", TA_INT("pid", pid));
  if (pair[0] >= 0) {
    master = console_recv_master(pair[0], err);
    if (master < 0)
      cut_err_clear(err);
  }
  if (o.pid_file && exec_write_pid_file(o.pid_file, pid, err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cut_wrap(err, "exec %s: --pid-file", id);
    goto out;
  }
  if (o.detach) {
    rc = 0;
    goto out;
  }
  rc = exec_wait(pid, master, err);
  master = -1;
out:
  trace_end_rc(&sp, rc < 0 ? -1 : 0, err);
  for (size_t i = 0; i < EXEC_NNS; i++)
    if (x.ns_fds[i] >= 0)
      close(x.ns_fds[i]);
  if (x.console >= 0)
    close(x.console);
  if (pair[0] >= 0)
    close(pair[0]);
  if (master >= 0)
    close(master);
  rc_seccomp_free(&sc);
  exec_proc_free(&ep);
  if (spec.doc)
    rc_spec_free(&spec);
  rc_state_free(&st);
  return rc;
}

/* ---- LISTEN_FDS ---------------------------------------------------------- */

int
rc_listen_fds_apply(rc_process *p, int *preserve_fds, cut_err *err)
{
  const char *v = getenv("LISTEN_FDS");
  if (v == NULL || *v == '\0')
    return 0;
  char *end;
  long n = strtol(v, &end, 10);
  if (*end != '\0' || n <= 0 || n > 1000)
    return 0; /* not for us: sd_listen_fds(3) ignores a malformed value too */
  static char fds_entry[32];
  static char pid_entry[] = "LISTEN_PID=1";
  snprintf(fds_entry, sizeof fds_entry, "LISTEN_FDS=%ld", n);
  char **env = calloc(p->n_env + 3, sizeof *env);
  if (env == NULL)
    return cut_error(err, ENOMEM, "LISTEN_FDS");
  size_t j = 0;
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp(p->env[i], "LISTEN_FDS=", 11) != 0 && strncmp(p->env[i], "LISTEN_PID=", 11) != 0)
      env[j++] = p->env[i];
  env[j++] = fds_entry;
  env[j++] = pid_entry;
  env[j] = NULL;
  /* The spec keeps owning the old vector; this one lives as long as the
   * process (create and run end soon after). */
  p->env = env;
  p->n_env = j;
  *preserve_fds += (int)n;
  return 0;
}
