/* process.h: the last steps before a container's program runs.
 *
 * Shared by the container init (create/run) and by `exec` (issue 4): both
 * end the same way, in the order runc's standard_init_linux.go and
 * finalizeNamespace use, each step a `syscall` trace span.  The container
 * init does everything down to the cwd check during `create`, before it
 * reports ready, so a config the host cannot apply (a capability outside
 * the runtime's bounding set, a user it cannot become) fails `create`;
 * only the fd cleanup, the seccomp load and execve wait for `start`:
 *
 *   setrlimit for each process.rlimits entry
 *   "exec <profile>" into /proc/self/attr/apparmor/exec (a verified procfs)
 *     when process.apparmorProfile is set and AppArmor is enabled
 *   prctl(PR_SET_NO_NEW_PRIVS) when noNewPrivileges
 *   prctl(PR_CAPBSET_DROP) for each capability not in the bounding set
 *   setgroups, setgid, setuid  (with PR_SET_KEEPCAPS so permitted survives)
 *   capset: effective, permitted, inheritable; then the ambient set
 *   umask; chdir(cwd) and getcwd() must name a path inside the root
 *   ---- (the container init waits for `start` here) ----
 *   close every fd above 2 but the preserved ones  (CVE-2024-21626)
 *   seccomp load  (always last; without noNewPrivileges and CAP_SYS_ADMIN,
 *                  capset holds CAP_SYS_ADMIN for it until execve)
 *   execve  (its span has a begin and, on success, no end: the image is
 *            replaced and the trace fd, O_CLOEXEC, is closed by the kernel)
 */
#ifndef CUTAWAY_RUNC_PROCESS_H
#define CUTAWAY_RUNC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "seccomp.h"
#include "spec.h"
#include "trace.h"

typedef struct rc_exec_target {
  char path[4096]; /* args[0] resolved through the container's PATH */
  char *argv_json; /* argv as a JSON array, for the execve span (malloc) */
} rc_exec_target;

/* Resolve args[0] (PATH from the process env, else the default PATH) in
 * the current root; a missing or non-executable program is an error. */
int rc_process_lookup(const rc_process *p, rc_exec_target *t, cut_err *err);

/* Close every fd >= 3 except the first `preserve` ones above stdio and the
 * fds in keep[] (which must be O_CLOEXEC: the trace, log and sync fds). */
void rc_process_close_fds(int preserve, const int *keep, size_t n_keep);

/* The steps above from setrlimit to the cwd check.  `sc` (may be NULL:
 * no filter) tells whether CAP_SYS_ADMIN must be held for the seccomp load. */
int rc_process_drop_privileges(const rc_process *p, const rc_seccomp *sc, cut_err *err);

/* rc_process_drop_privileges, then the seccomp load (rc_seccomp_load). */
int rc_process_finalize(const rc_process *p, rc_seccomp *sc, cut_err *err);

/* execve(2) with exactly p->env; returns only on failure.  `handover`, when
 * not NULL, is a span of the caller that ends (ok) right after the execve
 * span begins: the process's work is done once the kernel takes over. */
int rc_process_exec(const rc_process *p, const rc_exec_target *t, trace_span *handover,
                    cut_err *err);

/* The capability sets as "0x..." text for traces. */
void rc_caps_text(uint64_t mask, char buf[24]);

#endif
