/* init.c: the container init and how it is cloned (see init.h).
 *
 * Everything after the clone in the child runs without returning to the
 * caller: on success it ends in execve, on failure in _exit after telling
 * the parent (or, once the parent is gone, stderr and the log) why. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "hooks.h"
#include "log.h"
#include "ns.h"
#include "process.h"
#include "rootfs.h"
#include "sync.h"

bool
rc_launch_needs_child(const rc_spec *spec)
{
  bool joins = false, new_user = false;
  for (size_t i = 0; i < spec->n_namespaces; i++) {
    const rc_namespace *ns = &spec->namespaces[i];
    if (ns->path && (ns->type == RC_NS_PID || ns->type == RC_NS_USER))
      return true;
    joins = joins || ns->path != NULL;
    new_user = new_user || (ns->type == RC_NS_USER && ns->path == NULL);
  }
  /* A namespace owned by the host's user namespace cannot be joined from
   * inside a new one: join first, then clone the user namespace. */
  return joins && new_user;
}

/* fork-like clone(2): the child continues on a copy of this stack. */
static pid_t
clone_raw(int flags)
{
  return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0UL, NULL, NULL, 0UL);
}

/* ---- the init ----------------------------------------------------------- */

static __attribute__((noreturn)) void
init_die(rc_launch *l, cut_err *err, bool parent_waits)
{
  if (parent_waits)
    rc_sync_send(l->sync_init, RC_SYNC_ERROR, 0, NULL, err);
  else {
    /* The parent of `create` is gone: stderr (the container's) and the
     * log are the only places left to say why the container died.  In
     * `run` the parent also reads this message from the socket. */
    rc_sync_send(l->sync_init, RC_SYNC_ERROR, 0, NULL, err);
    rc_log_error(err);
  }
  _exit(err->errnum == ENOENT ? 127 : 1);
}

static int
become_root_in_userns(cut_err *err)
{
  /* The maps are written: take uid/gid 0 of the new namespace so files
   * created from now on belong to the container's root. */
  if (syscall(SYS_setresgid, 0, 0, 0) < 0) /* raw: see process.c set_groups_raw */
    return cut_error(err, errno, "setgid 0 in the user namespace");
  if (syscall(SYS_setresuid, 0, 0, 0) < 0)
    return cut_error(err, errno, "setuid 0 in the user namespace");
  return 0;
}

static int
join_namespaces(rc_launch *l, cut_err *err)
{
  /* A joined user namespace first: the ones joined after it are checked
   * against the capabilities it grants. */
  if (l->join_fds[RC_NS_USER] >= 0 && rc_ns_join(l->join_fds[RC_NS_USER], RC_NS_USER,
                                                 rc_spec_ns(l->spec, RC_NS_USER)->path, err) < 0)
    return -1;
  for (int t = 0; t < RC_NS_COUNT; t++) {
    if (t == RC_NS_USER || l->join_fds[t] < 0)
      continue;
    if (rc_ns_join(l->join_fds[t], (enum rc_ns_type)t,
                   rc_spec_ns(l->spec, (enum rc_ns_type)t)->path, err) < 0)
      return -1;
  }
  return 0;
}

static bool
has_cgroup_mount(const rc_spec *s)
{
  for (size_t i = 0; i < s->n_mounts; i++)
    if (strcmp(s->mounts[i].type, "cgroup") == 0)
      return true;
  return false;
}

/* rc_rootfs_ctx.in_cgroup: wait until the parent has moved us into the
 * container's cgroup, read where that is (for the cgroup mount) before a
 * cgroup namespace makes it look like "/", then unshare that namespace:
 * its root is the cgroup we are in at that moment. */
static int
init_wait_cgroup(void *arg, cut_err *err)
{
  rc_launch *l = arg;
  rc_rootfs_ctx *rctx = l->rootfs_ctx;
  rc_sync_msg m;
  if (rc_sync_expect(l->sync_init, RC_SYNC_CGROUP, &m, "wait for the cgroup", err) < 0)
    return -1;
  if (has_cgroup_mount(l->spec) && rc_rootfs_read_cgroups(rctx, err) < 0)
    return -1;
  if (l->new_cgroupns && rc_ns_unshare(CLONE_NEWCGROUP, err) < 0)
    return -1;
  return 0;
}

static int
init_setup(rc_launch *l, rc_rootfs_ctx *rctx, rc_exec_target *target, cut_err *err)
{
  rc_sync_msg m;
  if (rc_sync_expect(l->sync_init, RC_SYNC_GO, &m, "wait for the runtime", err) < 0)
    return -1;
  /* Unless the runtime found the program in its cache, it is generated
   * here, while the runtime is busy putting us in our cgroup (on cgroup v1
   * the first cgroup.procs write waits for an RCU grace period): the
   * milliseconds libseccomp needs for Docker's profile are hidden behind
   * that wait.  A bad profile still fails `create`.  The program goes back
   * to the runtime for its cache (seccomp_cache.h). */
  if (!rc_seccomp_active(&l->seccomp)) {
    if (rc_seccomp_build(l->spec->seccomp, &l->seccomp, err) < 0)
      return -1;
    if (l->seccomp_fd >= 0) {
      rc_seccomp_cache_hand_back(l->seccomp_fd, &l->seccomp_key, &l->seccomp);
      l->seccomp_fd = -1;
    }
  }
  if (l->new_userns && become_root_in_userns(err) < 0)
    return -1;
  if (!l->two_stage && join_namespaces(l, err) < 0)
    return -1;
  if (setsid() < 0)
    return cut_error(err, errno, "setsid");
  if (rc_rootfs_setup(rctx, err) < 0 || rc_console_init(l, err) < 0 ||
      rc_set_hostname(l->spec, err) < 0 || rc_rootfs_finish(rctx, err) < 0)
    return -1;
  /* The process's rlimits, user and capabilities are applied now, not
   * after `start`: what the host cannot apply must fail `create`
   * (runtime.md), as runc's finalizeNamespace does.  Waiting for `start`
   * needs no privilege: the exec fifo and the sync socket are open fds. */
  const rc_process *p = &l->spec->process;
  if (rc_process_drop_privileges(p, &l->seccomp, err) < 0)
    return -1;
  /* A change of uid or gid clears the death signal: arm it again. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  return rc_process_lookup(p, target, err);
}

/* Block until `start` (exec fifo) or `run` (START message) releases us;
 * the releasing command's traceparent comes along. */
static int
wait_for_start(rc_launch *l, char *traceparent, size_t len, cut_err *err)
{
  if (l->fifo_fd >= 0) {
    ssize_t n;
    do
      n = read(l->fifo_fd, traceparent, len - 1);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
      return cut_error(err, n < 0 ? errno : EPIPE, "wait for start on the exec fifo");
    traceparent[n] = '\0';
    traceparent[strcspn(traceparent, "\n")] = '\0';
    return 0;
  }
  rc_sync_msg m;
  if (rc_sync_expect(l->sync_init, RC_SYNC_START, &m, "wait for start", err) < 0)
    return -1;
  snprintf(traceparent, len, "%s", m.traceparent);
  return 0;
}

static __attribute__((noreturn)) void
init_main(rc_launch *l)
{
  cut_err err = {0};
  trace_set_role("runc:[2:INIT]");
  /* Until READY the runtime is our keeper: if it dies half-way (killed,
   * crashed), die too rather than linger as a half-made container. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (l->sync_parent >= 0)
    close(l->sync_parent);
  l->sync_parent = -1;
  rc_rootfs_ctx rctx = {.spec = l->spec, .userns = l->new_userns || l->join_fds[RC_NS_USER] >= 0};
  rctx.in_cgroup = init_wait_cgroup;
  rctx.in_cgroup_arg = l;
  /* The init never returns from here (it execs or exits), so rctx outlives
   * every use of l->rootfs_ctx. */
  // cppcheck-suppress autoVariables
  l->rootfs_ctx = &rctx;
  if (rc_hooks_need_init_stop(l->spec->hooks)) { /* issue 4: hooks.c */
    rctx.before_pivot = rc_hooks_before_pivot;
    rctx.before_pivot_arg = l;
  }
  rc_exec_target target = {0};
  trace_span setup;
  trace_begin_remote(&setup, TRACE_INTERNAL, "init.setup", l->traceparent);
  if (init_setup(l, &rctx, &target, &err) < 0) {
    trace_end(&setup, &err);
    init_die(l, &err, true);
  }
  trace_end(&setup, NULL);
  /* `create` exits once we are ready: from now on we live on our own (the
   * death signal also survives execve, so it must go before that anyway). */
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  rc_sync_send(l->sync_init, RC_SYNC_READY, 0, NULL, NULL);

  char tp[80] = "";
  if (wait_for_start(l, tp, sizeof tp, &err) < 0)
    _exit(1); /* the runtime gave up on us (delete, or run was killed) */
  trace_span start;
  trace_begin_remote(&start, TRACE_INTERNAL, "init.start",
                     tp[0] == '0' && tp[1] == '0' ? tp : l->traceparent);
  if (rc_hooks_start_container(l, &err) < 0) {
    trace_end(&start, &err);
    init_die(l, &err, false);
  }
  /* The exec fifo stays open up to execve: `start` waits for it to close
   * before it runs the poststart hooks (container.c wait_for_execve). */
  int keep[] = {trace_fd(), rc_log_fd(), l->sync_init, l->fifo_fd};
  rc_process_close_fds(l->preserve_fds, keep, sizeof keep / sizeof keep[0]);
  /* seccomp last, so that none of the runtime's own syscalls is filtered. */
  if (rc_seccomp_load(&l->seccomp, &err) == 0)
    rc_process_exec(&l->spec->process, &target, &start, &err);
  trace_end(&start, &err);
  init_die(l, &err, false);
}

/* ---- runc:[1:CHILD] ----------------------------------------------------- */

static __attribute__((noreturn)) void
child_main(rc_launch *l)
{
  cut_err err = {0};
  trace_set_role("runc:[1:CHILD]");
  close(l->sync_parent);
  l->sync_parent = -1;
  trace_span sp;
  trace_begin_remote(&sp, TRACE_INTERNAL, "init.child", l->traceparent);
  if (join_namespaces(l, &err) < 0) {
    trace_end(&sp, &err);
    rc_sync_send(l->sync_init, RC_SYNC_ERROR, 0, NULL, &err);
    _exit(1);
  }
  char text[200];
  rc_clone_flags_text(l->clone_flags | CLONE_PARENT, text, sizeof text);
  trace_span cl;
  trace_begin(&cl, TRACE_SYSCALL, "clone", TA_STR("flags", text));
  pid_t pid = clone_raw(l->clone_flags | CLONE_PARENT);
  if (pid == 0)
    init_main(l);
  if (pid < 0) {
    cut_error(&err, errno, "clone %s", text);
    trace_end(&cl, &err);
    trace_end(&sp, &err);
    rc_sync_send(l->sync_init, RC_SYNC_ERROR, 0, NULL, &err);
    _exit(1);
  }
  trace_end(&cl, NULL, TA_INT("pid", pid));
  trace_end(&sp, NULL);
  rc_sync_send(l->sync_init, RC_SYNC_PID, pid, NULL, NULL);
  _exit(0);
}

/* ---- parent side -------------------------------------------------------- */

int
rc_launch_clone(rc_launch *l, cut_err *err)
{
  char text[200];
  int flags = l->two_stage ? 0 : l->clone_flags;
  rc_clone_flags_text(flags, text, sizeof text);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "clone", TA_STR("flags", text),
              TA_STR("role", l->two_stage ? "runc:[1:CHILD]" : "runc:[2:INIT]"));
  pid_t pid = clone_raw(flags);
  if (pid == 0) {
    if (l->two_stage)
      child_main(l);
    init_main(l);
  }
  if (pid < 0) {
    cut_error(err, errno, "clone %s", text);
    trace_end(&sp, err);
    return -1;
  }
  trace_end(&sp, NULL, TA_INT("pid", pid));
  close(l->sync_init);
  l->sync_init = -1;
  if (!l->two_stage) {
    l->pid = pid;
    return 0;
  }
  rc_sync_msg m;
  int r = rc_sync_expect(l->sync_parent, RC_SYNC_PID, &m, "runc:[1:CHILD]", err);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return -1;
  l->pid = m.value;
  return 0;
}

static int
write_map(pid_t pid, const char *file, const rc_idmap *maps, size_t n, cut_err *err)
{
  char text[4096], path[64];
  size_t used = 0;
  for (size_t i = 0; i < n && used < sizeof text - 40; i++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%u %u %u\n", maps[i].container_id,
                             maps[i].host_id, maps[i].size);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, file, TA_INT("pid", pid), TA_STR("map", text));
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  ssize_t w = -1;
  if (fd >= 0) {
    w = write(fd, text, used);
    int e = errno;
    close(fd);
    errno = e;
  }
  if (trace_end_sys(&sp, w < 0 ? -1 : 0) < 0)
    return cut_error(err, errno, "write %s", path);
  return 0;
}

int
rc_launch_write_idmaps(const rc_launch *l, cut_err *err)
{
  if (!l->new_userns)
    return 0;
  const rc_spec *s = l->spec;
  if (write_map(l->pid, "uid_map", s->uid_maps, s->n_uid_maps, err) < 0 ||
      write_map(l->pid, "gid_map", s->gid_maps, s->n_gid_maps, err) < 0)
    return cut_wrap(err, "user namespace");
  return 0;
}
