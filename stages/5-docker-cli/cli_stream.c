/* cli_stream.c: an attached session (run without -d, exec), the docker
 * CLI's hijackedIOStreamer rebuilt around one poll(2) loop.
 *
 * - Output: the hijacked connection carries stdcopy frames (no TTY: stdout
 *   and stderr kept apart) or the raw bytes of the container's pty (TTY).
 *   The stream ends when the daemon closes the socket.
 * - Input: our stdin is copied raw (never framed); at its EOF we
 *   shutdown(SHUT_WR) the socket, which the daemon turns into EOF on the
 *   process's stdin.  The session goes on until the daemon closes.
 * - Signals (docker's --sig-proxy): SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
 *   and SIGUSR2 are read from a signalfd and forwarded as
 *   POST /containers/ID/kill?signal=NAME, so ^C stops the container, not the
 *   client.  SIGWINCH sends our terminal size (POST .../resize?h=&w=).
 * - The terminal: with -t and -i it goes to raw mode (keys reach the
 *   container's line discipline, not ours: ^C becomes a byte for the pty)
 *   and is restored on every way out. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static struct termios saved_tio;
static bool tio_saved;

void
cli_term_restore(void)
{
  if (tio_saved) {
    tcsetattr(0, TCSADRAIN, &saved_tio);
    tio_saved = false;
  }
}

void
cli_term_raw(void)
{
  if (tio_saved || !isatty(0) || tcgetattr(0, &saved_tio) < 0)
    return;
  struct termios raw = saved_tio;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSADRAIN, &raw) == 0) {
    tio_saved = true;
    atexit(cli_term_restore);
  }
}

int
cli_write_fd(int fd, const void *p, size_t n)
{
  const char *s = p;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

void
cli_send_resize(cli *c, const char *resize_path)
{
  struct winsize ws;
  if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0)
    return;
  if (ws.ws_row == 0 || ws.ws_col == 0)
    return;
  char path[512];
  snprintf(path, sizeof path, "%s?h=%u&w=%u", resize_path, ws.ws_row, ws.ws_col);
  cli_call call;
  cut_err err;
  /* On aux: main may be held by the wait.  A 409 (already exited) is fine. */
  int r = cli_call_begin(c, &call, CLI_ON_AUX, "POST", path, NULL, NULL, 0, &err);
  if (r == 0) {
    char sink[1024];
    while (cli_conn_body(call.conn, &call.resp, sink, sizeof sink, &err) > 0)
      ;
  }
  cli_call_end(c, &call, NULL);
}

static const char *
signal_name(int sig)
{
  switch (sig) {
  case SIGINT: return "INT";
  case SIGTERM: return "TERM";
  case SIGHUP: return "HUP";
  case SIGQUIT: return "QUIT";
  case SIGUSR1: return "USR1";
  case SIGUSR2: return "USR2";
  default: return NULL;
  }
}

static void
forward_signal(cli *c, cli_attach *a, int sig)
{
  const char *name = signal_name(sig);
  if (name == NULL || a->kill_path == NULL)
    return;
  char path[512];
  snprintf(path, sizeof path, "%s?signal=%s", a->kill_path, name);
  cli_call call;
  cut_err err;
  int r = cli_call_begin(c, &call, CLI_ON_AUX, "POST", path, NULL, NULL, 0, &err);
  if (r == 0) {
    char sink[1024];
    while (cli_conn_body(call.conn, &call.resp, sink, sizeof sink, &err) > 0)
      ;
  }
  cli_call_end(c, &call, r < 0 ? &err : NULL);
}

struct out_ctx {
  cli_attach *a;
};

static int
on_frame(int stream, const char *p, size_t n, void *ctx)
{
  struct out_ctx *o = ctx;
  if (stream == 3) { /* systemerr: the daemon's own error about the stream */
    size_t have = strlen(o->a->syserr);
    snprintf(o->a->syserr + have, sizeof o->a->syserr - have, "%.*s", (int)n, p);
    return 0;
  }
  cli_write_fd(stream == 2 ? 2 : 1, p, n);
  return 0;
}

/* The signals we take over while attached. */
static void
proxy_sigset(sigset_t *set, bool proxy, bool resize)
{
  sigemptyset(set);
  if (proxy) {
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
  }
  if (resize)
    sigaddset(set, SIGWINCH);
}

int
cli_attach_pump(cli *c, cli_attach *a, cut_err *err)
{
  sigset_t set, old;
  proxy_sigset(&set, a->proxy_signals, a->resize);
  int sfd = -1;
  if (a->proxy_signals || a->resize) {
    sigprocmask(SIG_BLOCK, &set, &old);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
  }
  cli_demux dm = {0};
  struct out_ctx oc = {a};
  bool in_open = a->send_stdin;
  char buf[32768];
  int rc = 0;
  for (;;) {
    /* Output the daemon already sent with the 101 head comes first. */
    struct pollfd p[3] = {{.fd = a->conn->fd, .events = POLLIN},
                          {.fd = in_open ? 0 : -1, .events = POLLIN},
                          {.fd = sfd, .events = POLLIN}};
    if (cli_conn_buffered(a->conn) == 0 && poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      rc = cut_error(err, errno, "poll");
      break;
    }
    if (cli_conn_buffered(a->conn) > 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = cli_conn_raw_read(a->conn, buf, sizeof buf, err);
      if (n < 0) {
        rc = -1;
        break;
      }
      if (n == 0)
        break; /* the daemon closed: the process's output is over */
      if (a->tty)
        cli_write_fd(1, buf, (size_t)n);
      else
        cli_demux_feed(&dm, buf, (size_t)n, on_frame, &oc);
      continue;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        in_open = false;
        shutdown(a->conn->fd, SHUT_WR); /* EOF for the process's stdin */
      } else if (cli_conn_write_all(a->conn, buf, (size_t)n, err) < 0) {
        in_open = false; /* the daemon stopped reading: output may still come */
      }
    }
    if (sfd >= 0 && (p[2].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if ((int)si.ssi_signo == SIGWINCH)
          cli_send_resize(c, a->resize_path);
        else if (a->proxy_signals)
          forward_signal(c, a, (int)si.ssi_signo);
      }
    }
  }
  if (sfd >= 0) {
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  return rc;
}
