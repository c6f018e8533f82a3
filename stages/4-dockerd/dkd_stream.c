/* dkd_stream.c: a process's stdio between the shim and the clients
 * attached to it (dockerd's container/stream and daemon/attach.go).
 *
 *   shim ──FIFO stdout/stderr──▶ relay thread ──stdcopy frames──▶ attachers
 *   attacher (socket) ──stdin thread──▶ FIFO stdin ──▶ shim ──▶ process
 *
 * Like dockerd, we create the FIFOs and give their paths to containerd in
 * the task (or exec) request; the shim opens its ends.  An attacher is an
 * HTTP connection the client "hijacked": `POST /containers/{id}/attach`
 * (or `/exec/{id}/start`) with `Upgrade: tcp` is answered `101`, and from
 * then on the socket carries raw bytes: to the client, the process's output,
 * each piece framed with an 8-byte stdcopy header (stream, 0, 0, 0, length
 * big-endian) unless the process has a TTY (a pty merges both streams);
 * from the client, stdin, never framed.  The CLI attaches *before* it
 * starts the container, so attachers wait here for the relay of the next
 * start; when the process's output ends (the shim closes the FIFOs) the
 * relay closes every attacher, which is how `docker run` knows the output
 * is complete. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "dkd.h"
#include "fileutil.h"
#include "thread.h"
#include "trace.h"

void
dkd_stdcopy_header(unsigned char hdr[8], int stream, uint32_t len)
{
  uint32_t be = htonl(len);
  hdr[0] = (unsigned char)stream;
  hdr[1] = hdr[2] = hdr[3] = 0;
  memcpy(hdr + 4, &be, 4);
}

/* ---- the FIFOs ---- */

int
dkd_stdio_open(dkd *d, dkd_stdio *s, const char *name, bool tty, bool with_stdin, cut_err *err)
{
  if (s->rd_out >= 0) /* already made (an attach came first) */
    return 0;
  snprintf(s->dir, sizeof s->dir, "%s/fifos/%s", d->exec_root, name);
  if (cut_mkdir_p(s->dir, 0700, err) < 0)
    return -1;
  snprintf(s->out, sizeof s->out, "%s/stdout", s->dir);
  snprintf(s->err, sizeof s->err, "%s/stderr", s->dir);
  snprintf(s->in, sizeof s->in, "%s/stdin", s->dir);
  s->tty = tty;
  s->with_stdin = with_stdin;
  s->drained = false;
  const char *paths[] = {s->out, s->err, s->in};
  bool wanted[] = {true, !tty, with_stdin};
  for (int i = 0; i < 3; i++) {
    unlink(paths[i]);
    if (wanted[i] && mkfifo(paths[i], 0600) < 0)
      return cut_error(err, errno, "mkfifo %s", paths[i]);
  }
  /* Readers open non-blocking (no writer yet); stdin O_RDWR so that what
   * a client sends before the shim opens its end waits in the pipe. */
  s->rd_out = open(s->out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  s->rd_err = tty ? -1 : open(s->err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  s->wr_in = with_stdin ? open(s->in, O_RDWR | O_CLOEXEC) : -1;
  if (s->rd_out < 0 || (!tty && s->rd_err < 0) || (with_stdin && s->wr_in < 0))
    return cut_error(err, errno, "open the FIFOs in %s", s->dir);
  return 0;
}

int
dkd_stdio_reopen(dkd *d, dkd_stdio *s, const char *name, bool tty, bool with_stdin)
{
  snprintf(s->dir, sizeof s->dir, "%s/fifos/%s", d->exec_root, name);
  snprintf(s->out, sizeof s->out, "%s/stdout", s->dir);
  snprintf(s->err, sizeof s->err, "%s/stderr", s->dir);
  snprintf(s->in, sizeof s->in, "%s/stdin", s->dir);
  s->tty = tty;
  s->with_stdin = with_stdin;
  s->rd_out = open(s->out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  s->rd_err = tty ? -1 : open(s->err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  s->wr_in = with_stdin ? open(s->in, O_RDWR | O_NONBLOCK | O_CLOEXEC) : -1;
  return s->rd_out >= 0 ? 0 : -1;
}

void
dkd_stdio_body(const dkd_stdio *s, cJSON *body)
{
  cJSON_AddStringToObject(body, "stdout", s->out);
  if (!s->tty)
    cJSON_AddStringToObject(body, "stderr", s->err);
  if (s->with_stdin)
    cJSON_AddStringToObject(body, "stdin", s->in);
  cJSON_AddBoolToObject(body, "terminal", s->tty);
}

void
dkd_stdio_close(dkd_stdio *s)
{
  int *fds[] = {&s->rd_out, &s->rd_err, &s->wr_in};
  for (int i = 0; i < 3; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  if (s->dir[0]) {
    unlink(s->out);
    unlink(s->err);
    unlink(s->in);
    rmdir(s->dir);
  }
}

/* ---- attachers ---- */

static int
send_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void
attacher_send(dkd_attacher *a, int stream, const char *data, size_t n)
{
  if (a->closed || (stream == 1 && !a->want_stdout) || (stream == 2 && !a->want_stderr))
    return;
  unsigned char hdr[8];
  dkd_stdcopy_header(hdr, stream, (uint32_t)n);
  if ((!a->tty && send_all(a->fd, hdr, 8) < 0) || send_all(a->fd, data, n) < 0)
    a->closed = true; /* the client went away: the process does not care */
}

/* The end of the stream: the client sees EOF and finishes.  SHUT_RD as
 * well wakes our stdin copier blocked in recv() on this socket (closing an
 * fd does not wake a thread blocked on it), before the fd is closed. */
static void
attacher_close(dkd_attacher *a)
{
  shutdown(a->fd, SHUT_RDWR);
  MHD_upgrade_action(a->urh, MHD_UPGRADE_ACTION_CLOSE);
}

void
dkd_stdio_close_attachers(dkd *d, dkd_stdio *s, const char *last_words)
{
  pthread_mutex_lock(&d->lock);
  dkd_attacher *list = s->attachers;
  s->attachers = NULL;
  pthread_mutex_unlock(&d->lock);
  while (list) {
    dkd_attacher *next = list->next;
    if (last_words)
      attacher_send(list, 2, last_words, strlen(last_words));
    attacher_close(list);
    free(list);
    list = next;
  }
}

/* ---- the relay ---- */

struct relay {
  dkd *d;
  dkd_stdio *s;
};

/* Output of one stream to every attacher (written outside the lock: a slow
 * client must not stall the daemon; only this thread removes attachers). */
static void
relay_chunk(dkd *d, dkd_stdio *s, int stream, const char *buf, size_t n)
{
  pthread_mutex_lock(&d->lock);
  dkd_attacher *list = s->attachers;
  pthread_mutex_unlock(&d->lock);
  for (dkd_attacher *a = list; a; a = a->next)
    attacher_send(a, stream, buf, n);
}

/* The end of the output is the shim closing the FIFOs.  A FIFO reopened
 * after a daemon restart whose writer had already gone never reports it
 * (poll sees POLLHUP only for a writer that left after our open): a second
 * after the process exited, the relay stops waiting. */
static bool
gave_up(dkd *d, dkd_stdio *s)
{
  pthread_mutex_lock(&d->lock);
  bool late = s->exited_at > 0 && dkd_monotonic() - s->exited_at > 1.0;
  pthread_mutex_unlock(&d->lock);
  return late;
}

static void *
relay_thread(void *arg)
{
  struct relay *r = arg;
  dkd *d = r->d;
  dkd_stdio *s = r->s;
  free(r);
  int fds[2] = {s->rd_out, s->rd_err};
  bool open_[2] = {fds[0] >= 0, fds[1] >= 0};
  char buf[32 * 1024];
  while (open_[0] || open_[1]) {
    struct pollfd p[2] = {{.fd = open_[0] ? fds[0] : -1, .events = POLLIN},
                          {.fd = open_[1] ? fds[1] : -1, .events = POLLIN}};
    int n = poll(p, 2, 500);
    if (n < 0 && errno != EINTR)
      break;
    if (n == 0 && gave_up(d, s))
      break;
    for (int i = 0; i < 2; i++) {
      if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n > 0)
        relay_chunk(d, s, i + 1, buf, (size_t)n);
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        open_[i] = false; /* the shim closed its end: this stream is over */
    }
  }
  pthread_mutex_lock(&d->lock);
  dkd_attacher *list = s->attachers;
  s->attachers = NULL;
  s->relaying = false;
  s->drained = true;
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  while (list) {
    dkd_attacher *next = list->next;
    attacher_close(list);
    free(list);
    list = next;
  }
  return NULL;
}

void
dkd_stdio_start(dkd *d, dkd_stdio *s)
{
  struct relay *r = malloc(sizeof *r);
  *r = (struct relay){.d = d, .s = s};
  pthread_mutex_lock(&d->lock);
  s->relaying = true;
  s->drained = false;
  s->exited_at = 0;
  pthread_mutex_unlock(&d->lock);
  if (cut_thread_detached(relay_thread, r, 0) < 0) {
    free(r);
    pthread_mutex_lock(&d->lock);
    s->relaying = false;
    s->drained = true;
    pthread_mutex_unlock(&d->lock);
  }
}

void
dkd_stdio_wait_drained(dkd *d, dkd_stdio *s)
{
  while (s->relaying)
    pthread_cond_wait(&d->changed, &d->lock);
}

/* ---- hijacking ---- */

struct hijack {
  dkd *d;
  dkd_stdio *s;
  bool out, err, in, tty;
  dkd_hijack_hooks hooks;
  char traceparent[64]; /* the request's server span: the upgrade runs after it ended */
  /* for the stdin thread */
  int fd;
  char *extra;
  size_t extra_len;
};

static int
stdin_write(dkd *d, dkd_stdio *s, const char *data, size_t n)
{
  pthread_mutex_lock(&d->lock);
  int fd = s->wr_in;
  pthread_mutex_unlock(&d->lock);
  while (n > 0 && fd >= 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Client -> process.  EOF (the CLI's shutdown(SHUT_WR) when its stdin
 * ends) closes the process's stdin through the callback. */
static void *
stdin_thread(void *arg)
{
  struct hijack *h = arg;
  if (h->extra_len)
    stdin_write(h->d, h->s, h->extra, h->extra_len);
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = recv(h->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (stdin_write(h->d, h->s, buf, (size_t)n) < 0)
      break;
  }
  if (h->hooks.on_stdin_eof)
    h->hooks.on_stdin_eof(h->d, h->hooks.arg);
  free(h->extra);
  free(h);
  return NULL;
}

static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
           size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  struct hijack *h = cls;
  /* Blocking writes: the relay thread sends whole frames.  But a client
   * that stops reading must not stall the relay (and with it the exit of
   * the container, which waits for its output): a send blocked for 5 s
   * fails, and that attacher is dropped. */
  int fl = fcntl(sock, F_GETFL);
  if (fl >= 0)
    fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
  struct timeval tmo = {.tv_sec = 5};
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
  dkd_attacher *a = calloc(1, sizeof *a);
  *a = (dkd_attacher){.fd = sock,
                      .urh = urh,
                      .want_stdout = h->out,
                      .want_stderr = h->err,
                      .want_stdin = h->in,
                      .tty = h->tty};
  pthread_mutex_lock(&h->d->lock);
  a->next = h->s->attachers;
  h->s->attachers = a;
  pthread_mutex_unlock(&h->d->lock);
  /* In the request's trace (its server span has ended: the upgrade comes
   * after the 101), with what the hook does (exec's start) under it. */
  trace_span sp;
  trace_begin_remote(&sp, TRACE_INTERNAL, "attach.hijacked",
                     h->traceparent[0] ? h->traceparent : NULL, TA_BOOL("stdin", h->in),
                     TA_BOOL("tty", h->tty));
  if (h->hooks.on_attached)
    h->hooks.on_attached(h->d, h->hooks.arg);
  trace_end(&sp, NULL);
  if (!h->in) {
    free(h);
    return;
  }
  h->fd = sock;
  if (extra_in_size) {
    h->extra = malloc(extra_in_size);
    memcpy(h->extra, extra_in, extra_in_size);
    h->extra_len = extra_in_size;
  }
  if (cut_thread_detached(stdin_thread, h, 0) < 0) {
    free(h->extra);
    free(h);
  }
}

void
dkd_reply_hijack(httpd_req *req, dkd *d, dkd_stdio *s, bool out, bool err, bool in, bool tty,
                 const dkd_hijack_hooks *hooks)
{
  struct hijack *h = calloc(1, sizeof *h);
  *h = (struct hijack){.d = d, .s = s, .out = out, .err = err, .in = in, .tty = tty};
  if (hooks)
    h->hooks = *hooks;
  if (!trace_traceparent(NULL, h->traceparent))
    h->traceparent[0] = '\0';
  struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, h);
  if (r == NULL) {
    free(h);
    httpd_reply_error(req, 500, "cannot upgrade the connection");
    return;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.docker.raw-stream");
  MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "tcp");
  httpd_reply_response(req, 101, r);
}
