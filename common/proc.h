/* proc.h: starting and waiting for child processes.
 *
 * Daemons in cutaway start other programs (containerd starts shims, the
 * shim runs the runtime, the runtime runs hooks) and must wait with a
 * deadline (a hook that hangs must not hang `create`).  Where the kernel has
 * pidfd_open(2) (5.3+) the wait polls a pidfd, which cannot be confused with
 * a recycled pid; otherwise it polls waitpid(WNOHANG). */
#ifndef CUTAWAY_PROC_H
#define CUTAWAY_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef struct cut_spawn_opts {
  char *const *envp; /* NULL: inherit environ */
  int stdin_fd;      /* -1: /dev/null */
  int stdout_fd;     /* -1: /dev/null, -2: inherit */
  int stderr_fd;     /* -1: /dev/null, -2: inherit */
  const char *cwd;   /* NULL: inherit */
  bool new_session;  /* setsid() in the child */
} cut_spawn_opts;

/* A cut_spawn_opts that inherits all three stdio fds. */
#define CUT_SPAWN_INHERIT                                                                          \
  ((cut_spawn_opts){.envp = NULL, .stdin_fd = -2, .stdout_fd = -2, .stderr_fd = -2})

/* fork + execvp(argv[0]); every fd but 0-2 is closed in the child. */
int cut_spawn(char *const argv[], const cut_spawn_opts *opts, pid_t *pid, cut_err *err);

/* Wait for pid for at most timeout_ms (-1: forever).  On exit *status is the
 * raw wait status.  Returns 0, or -1 with ETIMEDOUT (the child is left
 * running: the caller decides whether to kill it). */
int cut_wait_timeout(pid_t pid, int timeout_ms, int *status, cut_err *err);

/* The shell's view of a wait status: the exit code, or 128+signal. */
int cut_exit_code(int status);

/* pidfd_open(2), or -1 with errno ENOSYS where the kernel lacks it. */
int cut_pidfd_open(pid_t pid);

/* Close every fd >= from (close_range(2) where available). */
void cut_close_fds_from(int from);

#endif
