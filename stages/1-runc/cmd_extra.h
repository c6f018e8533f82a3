/* cmd_extra.h: the runc commands a container manager needs beyond the
 * lifecycle (runc's ps.go, pause.go, update.go, events.go, exec.go).
 *
 * containerd's runc shim calls them with these command lines
 * (reference/runtime-calls.txt):
 *   runc ... exec --process /tmp/runc-process123 --detach --pid-file F ID
 *   runc ... ps --format json ID          (`ctr task ps`, `docker top`)
 *   runc ... pause ID / resume ID         (`docker pause`)
 *   runc ... update --resources - ID      (`docker update`; JSON on stdin)
 *   runc ... events --stats ID            (`docker stats` via go-runc)
 *
 * Each function takes the global --root and the command's own arguments
 * (argv[0] is the command name) and returns the process exit status: 0, the
 * exec'ed process's status, or, on failure, a negative value with err
 * filled (main prints it and exits 1). */
#ifndef CUTAWAY_RUNC_CMD_EXTRA_H
#define CUTAWAY_RUNC_CMD_EXTRA_H

#include "container.h"
#include "error.h"

int rc_cmd_exec(const rc_global *g, int argc, char **argv, cut_err *err);
int rc_cmd_ps(const rc_global *g, int argc, char **argv, cut_err *err);
int rc_cmd_pause(const rc_global *g, int argc, char **argv, cut_err *err);
int rc_cmd_resume(const rc_global *g, int argc, char **argv, cut_err *err);
int rc_cmd_update(const rc_global *g, int argc, char **argv, cut_err *err);
int rc_cmd_events(const rc_global *g, int argc, char **argv, cut_err *err);

/* LISTEN_FDS (systemd socket activation, sd_listen_fds(3)): when the
 * runtime itself was handed N listening sockets as fds 3..3+N-1, they pass
 * on to the container process, before any --preserve-fds ones, and its env
 * gets LISTEN_FDS=N and LISTEN_PID=1 (it is pid 1 in its namespace), as
 * runc does.  Adds N to *preserve_fds; p->env is replaced by a new vector
 * (the old one is kept, owned by the spec). */
int rc_listen_fds_apply(rc_process *p, int *preserve_fds, cut_err *err);

/* Before `kill` signals a container's init: the kernel drops any signal but
 * SIGKILL/SIGSTOP sent to a pid-namespace init with no handler for it, and
 * right after `start` the program may not have installed one yet.  Waits
 * (at most ~100 ms) until it has; returns at once for other processes. */
void rc_signal_wait_handler(pid_t pid, int sig);

#endif
