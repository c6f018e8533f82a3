/* exec.h: `exec`, a new process inside a running container (runc's
 * exec.go + nsexec.c's join path, crun's libcrun_container_exec), and the
 * runtime's protection of its own binary.
 *
 * A process is "inside" a container when it is in all of the container's
 * namespaces and its cgroup and runs under the same security settings.  The
 * runtime gets there with setns(2) on the files in /proc/<init pid>/ns (the user
 * namespace first: it grants the rights to join the others), writes the
 * process into the container's cgroup, then forks once more because setns
 * on a pid namespace only places the CHILDREN of the caller in it.  That
 * last child is created with CLONE_PARENT, so it is the child of the
 * `exec` command itself, which can wait for it and return its exit status.
 *
 * CVE-2019-5736: whatever process makes the last execve(2) into a
 * container is, until then, the runtime's binary, and a container that
 * points its program at a script starting `#!/proc/self/exe` makes the
 * kernel run "the current binary" again, inside the container, where its
 * processes can open it through /proc/<pid>/exe and, once it stops running,
 * overwrite the host's runtime.  Defence: that last execve is made by a
 * tiny freestanding stub (stub/exec_stub.c) run from a sealed memfd, so
 * "the current binary" is an immutable in-memory copy of the stub; and the
 * processes entering the container are non-dumpable until then, so the
 * container cannot even open their /proc/<pid>/exe.  Where the stub cannot
 * be built, the runtime re-executes all of itself from a sealed memfd copy
 * instead (rc_exe_seal), as runc does. */
#ifndef CUTAWAY_RUNC_EXEC_H
#define CUTAWAY_RUNC_EXEC_H

#include <stdbool.h>

#include "error.h"

/* The last step into a container, for the init and for exec: the user's
 * program is exec'ed through stub/exec_stub.c, a freestanding program of a
 * few hundred bytes run from a sealed memfd, so the current binary of the
 * process making that execve is never the host's runtime binary.
 *
 * rc_exec_stub_prepare makes the sealed memfd; call it before the seccomp
 * filter goes in (memfd_create may not be allowed after).  rc_exec_final
 * then execs the stub with { "cutaway-exec", path, argv... }, which execs
 * path; it returns only on failure (errno set), having fallen back to a
 * plain execve when the stub could not be run. */
void rc_exec_stub_prepare(void);
int rc_exec_final(const char *path, char *const argv[], char *const envp[]);

/* Where no stub could be built (rc_exec_stub_len == 0), commands that enter
 * a container re-execute the whole runtime from a sealed memfd copy of
 * itself instead, as runc does (does not return then).  Returns 1 when that
 * is not needed (the stub exists, or we already run sealed), 0 when
 * CUTAWAY_RUNC_NO_SEAL=1 turns both protections off (benchmarks and the
 * CVE test's counter-demonstration only), -1 on error. */
int rc_exe_seal(char **argv, cut_err *err);

/* True when the running binary is a sealed memfd (for tests and traces). */
bool rc_exe_is_sealed(void);

#endif
