/* console.h: the container's terminal (runc's --console-socket and
 * libcontainer/console_linux.go, crun's terminal.c).
 *
 * When process.terminal is true the container's stdio is the slave side of a
 * pseudo-terminal, and someone outside (containerd's shim, `docker run -it`)
 * holds the master.  The pty must be made INSIDE the container, in its own
 * devpts instance (/dev/pts mounted with newinstance,ptmxmode=0666): a pty
 * from the host's devpts would leak the host's pts numbering and let the
 * container see /dev/pts of the host.  The master fd is then sent to the
 * caller over a unix socket (the "console socket") as SCM_RIGHTS ancillary
 * data, with the file's name as the message payload: exactly what runc
 * sends and what containerd's console.RecvFd reads.
 *
 * Sequence in the container init (after /dev/pts is mounted):
 *   console_open_pty      open <root>/dev/pts/ptmx, verified to be devpts'
 *                         ptmx, and get the slave with TIOCGPTPEER (no path
 *                         lookup that a racer could swap: CVE-2025-52565)
 *   console_send_master   SCM_RIGHTS over the connected console socket
 *   console_bind_console  bind the slave onto <root>/dev/console, the target
 *                         opened inside the root without following symlinks
 *   console_set_stdio     setsid, TIOCSCTTY, slave on fds 0, 1, 2
 *
 * Without a console socket, `run` of a terminal container makes a socketpair,
 * receives the master itself (console_recv_master) and relays it to its own
 * terminal (console_relay), as `runc run -t` does. */
#ifndef CUTAWAY_RUNC_CONSOLE_H
#define CUTAWAY_RUNC_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Connect to the console socket (a listening unix stream socket) from the
 * runtime's side, before any namespace is entered: the path is a host path.
 * The returned fd is O_CLOEXEC; the init inherits it across clone. */
int console_connect(const char *socket_path, cut_err *err);

/* Open a new pty in the devpts mounted at <root_fd>/dev/pts (root_fd is the
 * rootfs before pivot_root, or an fd of "/" after it).  *master and *slave
 * are O_CLOEXEC; pts_name receives "/dev/pts/N". */
int console_open_pty(int root_fd, int *master, int *slave, char pts_name[32], cut_err *err);

/* Send `fd` over the connected unix socket `sock` with `name` as payload. */
int console_send_master(int sock, int fd, const char *name, cut_err *err);

/* Receive an fd sent by console_send_master (or by runc); returns the fd. */
int console_recv_master(int sock, cut_err *err);

/* Bind-mount the slave onto <root_fd>/dev/console (created as an empty file
 * when missing; a symlink there is refused). */
int console_bind_console(int root_fd, int slave, cut_err *err);

/* Make the slave the controlling terminal and stdin/stdout/stderr of this
 * process (a new session); closes `slave` when it is above 2. */
int console_set_stdio(int slave, cut_err *err);

/* Whole in-container sequence for an init or an exec'd process: open, send,
 * optionally bind /dev/console, set stdio; closes `sock`. */
int console_setup(int root_fd, int sock, bool bind_dev_console, cut_err *err);

/* Relay between our stdin/stdout and the pty master until the container
 * side hangs up, our terminal in raw mode meanwhile (restored on return).
 * SIGWINCH on our terminal resizes the pty. */
int console_relay(int master, cut_err *err);

/* ---- where the runtime calls them (container.c, init.c) ---- */

struct rc_launch;

/* create/run, before the clone: for a terminal process, connect to the
 * console socket, or (foreground `run` without one) make a socketpair whose
 * other end this process keeps.  Sets l->console_fd / l->console_peer. */
int rc_console_prepare(struct rc_launch *l, bool terminal, const char *socket_path, bool foreground,
                       cut_err *err);

/* In the init, after pivot_root: the pty, sent out, bound on /dev/console,
 * made the controlling terminal and stdio.  No-op without a console. */
int rc_console_init(struct rc_launch *l, cut_err *err);

/* Foreground `run` of a terminal container: receive the master from the
 * socketpair and relay it until the container hangs up. */
int rc_console_relay_peer(struct rc_launch *l, cut_err *err);

#endif
