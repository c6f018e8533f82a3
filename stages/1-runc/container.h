/* container.h: the lifecycle of the OCI runtime-spec (runtime.md), one
 * function per runc command.
 *
 *   create  config.json -> a container init, set up and waiting   "created"
 *   start   release the init: it execs the user's program         "running"
 *   (exit)  the program exits                                     "stopped"
 *   delete  remove what create made (cgroup, state)
 *
 * `run` is create + start + wait + delete in one process; since nobody
 * else needs to release the init, it skips the exec fifo and hands over
 * through the sync socket, and it is what `make bench` measures.
 *
 * Each command is one span ("runc.create", "runc.start", ...) under the
 * caller's TRACEPARENT, and every kernel step under it a `syscall` span. */
#ifndef CUTAWAY_RUNC_CONTAINER_H
#define CUTAWAY_RUNC_CONTAINER_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"
#include "state.h"

typedef struct rc_global {
  const char *root; /* state directory (--root) */
} rc_global;

typedef struct rc_create_opts {
  const char *bundle;         /* default "." */
  const char *pid_file;       /* NULL: none */
  const char *console_socket; /* NULL: none (terminal: issue 4) */
  int preserve_fds;           /* fds 3..3+n-1 pass to the container */
  bool detach;                /* run --detach */
} rc_create_opts;

int rc_cmd_create(const rc_global *g, const char *id, const rc_create_opts *o, cut_err *err);
int rc_cmd_start(const rc_global *g, const char *id, cut_err *err);
/* *exit_code: the container's exit code (128+signal when killed). */
int rc_cmd_run(const rc_global *g, const char *id, const rc_create_opts *o, int *exit_code,
               cut_err *err);
int rc_cmd_state(const rc_global *g, const char *id, cut_err *err);
int rc_cmd_kill(const rc_global *g, const char *id, int sig, bool all, cut_err *err);
int rc_cmd_delete(const rc_global *g, const char *id, bool force, cut_err *err);
int rc_cmd_list(const rc_global *g, bool json, bool quiet, cut_err *err);
int rc_cmd_spec(const char *bundle, cut_err *err);

/* "KILL", "SIGKILL", "9" -> 9; -1 when unknown. */
int rc_signal_parse(const char *s);

/* Send sig to a container's init, pinned by pidfd and start time so a
 * recycled pid is never signalled (also used by exec/ps later). */
int rc_signal_init(const rc_state *st, int sig, cut_err *err);

/* Wait until the init of st has exited (at most timeout_ms). */
int rc_wait_init_gone(const rc_state *st, int timeout_ms, cut_err *err);

#endif
