/* sync.h: the parent <-> container init handshake.
 *
 * runc's parent and its init talk over a socketpair with typed messages
 * (nsexec.c's enum sync_t: SYNC_USERMAP_PLS, SYNC_RECVPID_PLS, ...).  Ours is
 * a SOCK_SEQPACKET socketpair, so one send is one message, and each message
 * is the fixed struct below: the init can report a failure with the full
 * cut_err text (which then becomes the one-line error of `create`) and the
 * parent can hand the init the trace context of the command that released
 * it.  Both ends are O_CLOEXEC: when the init's execve succeeds its end
 * closes and the parent reads end-of-file, which is how `run` learns that
 * the container's program really started. */
#ifndef CUTAWAY_RUNC_SYNC_H
#define CUTAWAY_RUNC_SYNC_H

#include <sys/types.h>

#include "error.h"

enum rc_sync_type {
  RC_SYNC_GO = 1,     /* parent -> init: maps written, cgroup joined: set up   */
  RC_SYNC_PID,        /* runc:[1:CHILD] -> parent: the init's pid (value)      */
  RC_SYNC_READY,      /* init -> parent: set up, waiting for start              */
  RC_SYNC_START,      /* parent -> init (run): go on to execve                  */
  RC_SYNC_ERROR,      /* init -> parent: failed, see err                        */
  RC_SYNC_HOOKS,      /* init -> parent: run prestart/createRuntime (hooks.c) */
  RC_SYNC_HOOKS_DONE, /* parent -> init: they succeeded                       */
  RC_SYNC_CGROUP,     /* parent -> init: you are in your cgroup now           */
};

typedef struct rc_sync_msg {
  int type;
  int value;
  char traceparent[64];
  cut_err err;
} rc_sync_msg;

/* Create the pair: fds[0] for the parent, fds[1] for the init. */
int rc_sync_pair(int fds[2], cut_err *err);

int rc_sync_send(int fd, int type, int value, const char *traceparent, const cut_err *payload);

/* Receive one message; end-of-file is reported as type 0. */
int rc_sync_recv(int fd, rc_sync_msg *m, cut_err *err);

/* Receive and insist on `type`; an RC_SYNC_ERROR becomes *err, EOF becomes
 * "the container init exited" with `what` as context. */
int rc_sync_expect(int fd, int type, rc_sync_msg *m, const char *what, cut_err *err);

#endif
