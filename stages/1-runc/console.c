/* console.c: the container's pty and the console socket (see console.h).
 *
 * Kernel rules this code leans on:
 *  - each devpts mounted with `newinstance` is its own pty namespace; its
 *    "ptmx" node (major 5, minor 2, inside the pts directory) allocates ptys
 *    from that instance only;
 *  - ioctl(TIOCGPTPEER) (Linux 4.13) opens the slave straight from the
 *    master, so no /dev/pts/N path is ever looked up;
 *  - a process becomes a terminal's controlling process with setsid() then
 *    ioctl(TIOCSCTTY), and the terminal then sends it SIGHUP/SIGINT/...;
 *  - SCM_RIGHTS copies an open file description into the receiver. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "fileutil.h"
#include "init.h"
#include "trace.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif

/* Unix98 pty slaves use majors 136..143. */
static bool
console_is_pts_slave(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && major(st->st_rdev) >= 136 && major(st->st_rdev) <= 143;
}

int
console_connect(const char *socket_path, cut_err *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path)
    return cut_error(err, ENAMETOOLONG, "console socket %s", socket_path);
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cut_error(err, errno, "console socket: socket");
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "connect", TA_STR("path", socket_path));
  if (trace_end_sys(&sp, connect(fd, (struct sockaddr *)&addr, sizeof addr)) < 0) {
    int e = errno;
    close(fd);
    return cut_error(err, e, "connect to console socket %s", socket_path);
  }
  return fd;
}

int
console_open_pty(int root_fd, int *master, int *slave, char pts_name[32], cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "openpty", TA_STR("ptmx", "/dev/pts/ptmx"));
  int m = cut_open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0, err);
  if (m < 0) {
    cut_wrap(err, "open pty");
    trace_end(&sp, err);
    return -1;
  }
  struct stat st;
  struct statfs sfs;
  /* The devpts instance's own ptmx, nothing else (a symlink or bind planted
   * there would hand the container a pty of some other instance). */
  if (fstat(m, &st) < 0 || fstatfs(m, &sfs) < 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(5, 2) || sfs.f_type != DEVPTS_SUPER_MAGIC) {
    close(m);
    cut_error(err, 0, "open pty: /dev/pts/ptmx is not the ptmx of a devpts instance");
    trace_end(&sp, err);
    return -1;
  }
  int unlock = 0, n = -1;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
    int e = errno;
    close(m);
    cut_error(err, e, "open pty: unlock");
    trace_end(&sp, err);
    return -1;
  }
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0 || fstat(s, &st) < 0 || !console_is_pts_slave(&st)) {
    int e = errno;
    if (s >= 0)
      close(s);
    close(m);
    cut_error(err, s < 0 ? e : 0, "open pty: slave of pts %d", n);
    trace_end(&sp, err);
    return -1;
  }
  snprintf(pts_name, 32, "/dev/pts/%d", n);
  trace_end(&sp, NULL, TA_STR("slave", pts_name));
  *master = m;
  *slave = s;
  return 0;
}

int
console_send_master(int sock, int fd, const char *name, cut_err *err)
{
  char ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "sendmsg", TA_STR("rights", "SCM_RIGHTS"), TA_STR("name", name));
  ssize_t r;
  do
    r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (trace_end_sys(&sp, r) < 0)
    return cut_error(err, errno, "send pty master over the console socket");
  return 0;
}

int
console_recv_master(int sock, cut_err *err)
{
  char name[4096];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t r;
  do
    r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return cut_error(err, errno, "receive pty master");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return cut_error(err, EPROTO, "receive pty master: no fd in the message");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int
console_bind_console(int root_fd, int slave, cut_err *err)
{
  int t = cut_open_in_root(root_fd, "/dev/console", O_PATH | O_NOFOLLOW, 0, err);
  if (t < 0 && err->errnum == ENOENT) {
    /* No node yet: an empty file is enough to bind onto. */
    int c = cut_open_in_root(root_fd, "/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                             0666, err);
    if (c < 0)
      return cut_wrap(err, "create /dev/console");
    close(c);
    t = cut_open_in_root(root_fd, "/dev/console", O_PATH | O_NOFOLLOW, 0, err);
  }
  if (t < 0)
    return cut_wrap(err, "open /dev/console");
  struct stat st;
  if (fstat(t, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    close(t);
    return cut_error(err, 0, "/dev/console in the rootfs is neither a file nor a device");
  }
  char src[32], dst[32];
  cut_fd_path(slave, src);
  cut_fd_path(t, dst);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "mount", TA_STR("source", "pty slave"),
              TA_STR("target", "/dev/console"), TA_STR("flags", "MS_BIND"));
  long r = trace_end_sys(&sp, mount(src, dst, NULL, MS_BIND, NULL));
  int e = errno;
  close(t);
  if (r < 0)
    return cut_error(err, e, "bind pty onto /dev/console");
  return 0;
}

int
console_set_stdio(int slave, cut_err *err)
{
  trace_span sp;
  /* A session leader already (the init calls setsid itself): only a
   * process that is not gets a new session here (exec). */
  if (getsid(0) != getpid()) {
    trace_begin(&sp, TRACE_SYSCALL, "setsid");
    if (trace_end_sys(&sp, setsid()) < 0)
      return cut_error(err, errno, "setsid");
  }
  trace_begin(&sp, TRACE_SYSCALL, "ioctl", TA_STR("request", "TIOCSCTTY"));
  if (trace_end_sys(&sp, ioctl(slave, TIOCSCTTY, 0)) < 0)
    return cut_error(err, errno, "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return cut_error(err, errno, "dup pty onto fd %d", fd);
  if (slave > 2)
    close(slave);
  return 0;
}

int
console_setup(int root_fd, int sock, bool bind_dev_console, cut_err *err)
{
  int master = -1, slave = -1;
  char name[32];
  int rc = -1;
  if (console_open_pty(root_fd, &master, &slave, name, err) < 0)
    goto out;
  if (console_send_master(sock, master, "/dev/ptmx", err) < 0)
    goto out;
  close(master);
  master = -1;
  if (bind_dev_console && console_bind_console(root_fd, slave, err) < 0)
    goto out;
  rc = console_set_stdio(slave, err);
  slave = -1;
out:
  if (master >= 0)
    close(master);
  if (slave > 2)
    close(slave);
  close(sock);
  return rc;
}

/* ---- foreground relay (`run` of a terminal container, no socket) ---- */

static volatile sig_atomic_t console_winch;

static void
console_on_winch(int sig)
{
  (void)sig;
  console_winch = 1;
}

static void
console_copy_winsize(int master)
{
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Write all of buf, or give up on a hard error. */
static int
console_write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

int
console_relay(int master, cut_err *err)
{
  struct termios saved, raw;
  bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty) {
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
    console_copy_winsize(master);
    struct sigaction sa = {.sa_handler = console_on_winch};
    sigaction(SIGWINCH, &sa, NULL);
  }
  struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  char buf[8192];
  int rc = 0;
  for (;;) {
    if (console_winch) {
      console_winch = 0;
      console_copy_winsize(master);
    }
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      rc = cut_error(err, errno, "console relay: poll");
      break;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0) /* EIO: every slave fd is closed, the container is gone */
        break;
      if (console_write_all(1, buf, (size_t)r) < 0)
        break;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) {
        p[1].fd = -1; /* our stdin ended: keep relaying output */
        if (!tty) {
          /* Pass the end of input on as the terminal's EOF character. */
          char eof = 4;
          console_write_all(master, &eof, 1);
        }
      } else if (console_write_all(master, buf, (size_t)r) < 0) {
        p[1].fd = -1;
      }
    }
  }
  if (tty) {
    tcsetattr(0, TCSANOW, &saved);
    signal(SIGWINCH, SIG_DFL);
  }
  return rc;
}

/* ---- where the runtime calls them ----------------------------------------- */

int
rc_console_prepare(rc_launch *l, bool terminal, const char *socket_path, bool foreground,
                   cut_err *err)
{
  if (!terminal) {
    /* runc ignores a console socket given for a non-terminal process. */
    return 0;
  }
  if (socket_path != NULL) {
    l->console_fd = console_connect(socket_path, err);
    return l->console_fd < 0 ? -1 : 0;
  }
  if (!foreground)
    return cut_error(err, 0, "process.terminal is true: a --console-socket is needed");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return cut_error(err, errno, "console socketpair");
  l->console_peer = pair[0];
  l->console_fd = pair[1];
  return 0;
}

int
rc_console_init(rc_launch *l, cut_err *err)
{
  if (l->console_fd < 0)
    return 0;
  if (l->console_peer >= 0) {
    close(l->console_peer); /* the parent's end */
    l->console_peer = -1;
  }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return cut_error(err, errno, "console: open /");
  int r = console_setup(root, l->console_fd, true, err);
  l->console_fd = -1;
  close(root);
  return r < 0 ? cut_wrap(err, "console") : 0;
}

int
rc_console_relay_peer(rc_launch *l, cut_err *err)
{
  if (l->console_peer < 0)
    return 0;
  int master = console_recv_master(l->console_peer, err);
  close(l->console_peer);
  l->console_peer = -1;
  if (master < 0)
    return -1;
  int r = console_relay(master, err);
  close(master);
  return r;
}
