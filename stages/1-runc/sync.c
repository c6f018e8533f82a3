/* sync.c: see sync.h. */
#include "sync.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
rc_sync_pair(int fds[2], cut_err *err)
{
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return cut_error(err, errno, "socketpair");
  return 0;
}

int
rc_sync_send(int fd, int type, int value, const char *traceparent, const cut_err *payload)
{
  rc_sync_msg m;
  memset(&m, 0, offsetof(rc_sync_msg, err));
  m.type = type;
  m.value = value;
  if (traceparent)
    snprintf(m.traceparent, sizeof m.traceparent, "%s", traceparent);
  size_t len = offsetof(rc_sync_msg, err);
  if (payload) {
    m.err = *payload;
    len = sizeof m;
  }
  for (;;) {
    ssize_t w = send(fd, &m, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    return w == (ssize_t)len ? 0 : -1;
  }
}

int
rc_sync_recv(int fd, rc_sync_msg *m, cut_err *err)
{
  memset(m, 0, sizeof *m);
  for (;;) {
    ssize_t r = recv(fd, m, sizeof *m, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return cut_error(err, errno, "read from container init");
    if (r == 0) {
      m->type = 0;
      return 0;
    }
    if (r < (ssize_t)offsetof(rc_sync_msg, err))
      return cut_error(err, EPROTO, "short message from container init");
    m->err.msg[sizeof m->err.msg - 1] = '\0';
    return 0;
  }
}

int
rc_sync_expect(int fd, int type, rc_sync_msg *m, const char *what, cut_err *err)
{
  if (rc_sync_recv(fd, m, err) < 0)
    return cut_wrap(err, "%s", what);
  if (m->type == type)
    return 0;
  if (m->type == RC_SYNC_ERROR) {
    *err = m->err;
    return -1;
  }
  if (m->type == 0)
    return cut_error(err, 0, "%s: the container init exited", what);
  return cut_error(err, EPROTO, "%s: unexpected message %d", what, m->type);
}
