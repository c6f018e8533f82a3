/* init.h: cloning the container init, and what the init does.
 *
 * runc re-executes itself ("runc init") and runs nsexec.c's three stages
 * (runc:[0:PARENT], runc:[1:CHILD], runc:[2:INIT]) before Go starts.  A C
 * runtime needs no re-exec: the init is a clone(2) of the runtime process
 * with the CLONE_NEW* flags, and already holds the parsed config and the
 * compiled seccomp filter in its copy of the memory.  That saves an execve
 * and a second config parse on every container start.
 *
 * Joining an existing pid or user namespace cannot be done by the init
 * itself (setns into a pid namespace only affects children; a user
 * namespace must be joined before the others are created), so then an
 * intermediate process, runc:[1:CHILD], joins and clones the init with
 * CLONE_PARENT, like runc's stage 1.
 *
 * The handshake (sync.h):
 *   parent: [seccomp cache lookup] -> clone -> [uid/gid maps]
 *           -> [oom_score_adj] -> GO -> cgroup -> CGROUP
 *   init:   GO -> [seccomp compile, on a cache miss] -> joins -> mounts
 *           -> CGROUP -> cgroupns -> pivot_root -> hostname
 *           -> sysctl/masked/readonly -> READY -> wait for start
 *   parent: READY -> [store the compiled program in the cache]
 *   start:  exec fifo (create/start) or START message (run)
 *   init:   fds, rlimits, user, capset, cwd, seccomp -> execve */
#ifndef CUTAWAY_RUNC_INIT_H
#define CUTAWAY_RUNC_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "seccomp.h"
#include "seccomp_cache.h"
#include "spec.h"
#include "trace.h"

typedef struct rc_launch {
  rc_spec *spec;
  rc_seccomp seccomp;         /* from the cache, or compiled by the init */
  int seccomp_fd;             /* cache miss: memfd the init hands the program back in, or -1 */
  rc_seccomp_key seccomp_key; /* the profile's cache identity (no ident: no cache) */
  int sync_parent, sync_init; /* the socketpair's two ends */
  int fifo_fd;                /* exec fifo opened O_RDWR, or -1 (run) */
  int join_fds[RC_NS_COUNT];  /* namespaces joined by path, -1 if not */
  int preserve_fds;
  int clone_flags;   /* CLONE_NEW* for the init's clone */
  bool new_cgroupns; /* unshared by the init once in its cgroup */
  bool new_userns;
  bool two_stage;                    /* through runc:[1:CHILD] */
  char traceparent[TRACEPARENT_LEN]; /* the command span, the init's parent */
  pid_t pid;                         /* the init, as the parent sees it */
  struct rc_rootfs_ctx *rootfs_ctx;  /* the init's (init.c) */
  const char *id;                    /* container id (hooks' state) */
  int console_fd;                    /* console socket, connected (console.c), or -1 */
  int console_peer;                  /* `run -t` without a socket: our end, or -1 */
} rc_launch;

/* Clone the init (through runc:[1:CHILD] when needed); on return in the
 * parent l->pid is set.  The init never returns from this call. */
int rc_launch_clone(rc_launch *l, cut_err *err);

/* Write /proc/<pid>/uid_map and gid_map (parent side, traced). */
int rc_launch_write_idmaps(const rc_launch *l, cut_err *err);

/* Does the spec need runc:[1:CHILD]? */
bool rc_launch_needs_child(const rc_spec *spec);

#endif
