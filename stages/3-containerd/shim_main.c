/* cutaway-shim: one per container, the process that owns it (containerd's
 * containerd-shim-runc-v2).
 *
 * Why a shim exists: the container's processes must have a parent that
 * waits for them, holds their stdio and remembers their exit status, and
 * that parent must not be the daemon, or restarting the daemon would kill
 * or orphan every container.  So cutaway-containerd starts one shim per
 * container in its own session (setsid), and the shim:
 *
 *   - makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): when the
 *     runtime's `create` exits, the container's init is re-parented to the
 *     shim instead of to pid 1, so the shim can waitpid() it;
 *   - runs the runtime (cutaway-runc, runc, crun) with exactly the argument
 *     style of containerd's runc shim:
 *        RUNTIME --root DIR --log BUNDLE/log.json --log-format json \
 *                create --bundle BUNDLE --pid-file BUNDLE/init.pid \
 *                [--console-socket SOCK] ID
 *     and start, kill, delete, exec, ps, pause, resume the same way, each
 *     with TRACEPARENT in its environment so the runtime's spans nest under
 *     the request that caused them;
 *   - holds the stdio: pipes (or a pty master received over the console
 *     socket) whose output it copies to the container log in Docker's
 *     json-file format and to the client's FIFOs when one is attached;
 *   - writes the exit status to BUNDLE/exit.json atomically when init dies;
 *   - serves a small HTTP API on a unix socket in a 0700 directory (never an
 *     abstract socket: those are reachable from any container sharing the
 *     host's network namespace, CVE-2020-15257).
 *
 * cutaway-containerd can be killed and restarted at any time: the shim keeps
 * running, logging, and holding the exit status until containerd comes back
 * and asks for it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctd.h"
#include "error.h"
#include "fileutil.h"
#include "httpd.h"
#include "json.h"
#include "proc.h"
#include "thread.h"
#include "trace.h"

extern char **environ;

#define PROG "cutaway-shim"

/* A process the shim watches: the init ("" id) or an exec. */
typedef struct sproc {
  char id[65];
  pid_t pid;
  bool started;
  bool reaped; /* waitpid returned */
  bool exited; /* reaped and its output drained: visible to wait */
  int status;  /* exit code as the shell sees it */
  char exited_at[40];
  bool terminal;
  int stdin_w; /* our end of the container's stdin (pipe or pty master) */
  int master;  /* pty master, -1 */
  int io_open; /* output copy threads still running */
  struct sproc *next;
} sproc;

struct reaped {
  pid_t pid;
  int status;
};

static struct {
  char id[65];
  char bundle[1024];
  char socket[108];
  char runtime[1024];
  char runtime_root[1024];
  char log_path[1024]; /* the container's json-file log */
  char cgroups_path[512];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sproc init;
  sproc *execs;
  struct reaped reaped[256];
  size_t nreaped;
  int children; /* spawned and not yet reaped, wakes the reaper */
  int log_fd;
  pthread_mutex_t log_mu;
  httpd *srv;
  bool deleted;
  bool paused;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER,
       .log_mu = PTHREAD_MUTEX_INITIALIZER,
       .log_fd = -1};

/* ---- time ---- */

/* Go's time.RFC3339Nano, which Docker's json-file uses: trailing zeros of
 * the fraction are dropped. */
static void
rfc3339nano(char out[40])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[32], frac[16];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
  size_t n = strlen(frac);
  while (n > 1 && frac[n - 1] == '0')
    frac[--n] = '\0';
  if (n == 1)
    frac[0] = '\0';
  snprintf(out, 40, "%s%sZ", base, frac);
}

/* ---- the reaper: one thread waits for every child ---- */

/* All children are waited for here (runtime invocations, the container's
 * init and exec processes re-parented to us as subreaper), so no other
 * waitpid() can steal an exit status.  Statuses are kept in a small table
 * until someone claims them: an exec'd process may die before `runc exec`
 * even reports its pid. */
static void *
reaper_thread(void *arg)
{
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, __WALL);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      /* No children: sleep until the next spawn. */
      pthread_mutex_lock(&S.mu);
      struct timespec dl;
      clock_gettime(CLOCK_REALTIME, &dl);
      dl.tv_nsec += 50 * 1000 * 1000;
      if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
      }
      if (S.children <= 0)
        pthread_cond_timedwait(&S.cv, &S.mu, &dl);
      pthread_mutex_unlock(&S.mu);
      continue;
    }
    if (!WIFEXITED(st) && !WIFSIGNALED(st))
      continue;
    pthread_mutex_lock(&S.mu);
    if (S.nreaped == sizeof S.reaped / sizeof S.reaped[0]) {
      memmove(S.reaped, S.reaped + 1, sizeof S.reaped - sizeof S.reaped[0]);
      S.nreaped--;
    }
    S.reaped[S.nreaped++] = (struct reaped){pid, st};
    pthread_cond_broadcast(&S.cv);
    pthread_mutex_unlock(&S.mu);
  }
  return NULL;
}

/* Take the status of pid out of the table, waiting for it (mu held). */
static int
claim_exit_locked(pid_t pid, bool block, int *status)
{
  for (;;) {
    for (size_t i = 0; i < S.nreaped; i++)
      if (S.reaped[i].pid == pid) {
        *status = S.reaped[i].status;
        memmove(S.reaped + i, S.reaped + i + 1, (S.nreaped - i - 1) * sizeof S.reaped[0]);
        S.nreaped--;
        return 0;
      }
    if (!block)
      return -1;
    pthread_cond_wait(&S.cv, &S.mu);
  }
}

/* ---- running the runtime ---- */

static char **
env_with_traceparent(void)
{
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "TRACEPARENT=", 12) != 0)
      env[k++] = environ[i];
  static __thread char tp[TRACEPARENT_LEN + 16];
  if (trace_env_entry(tp))
    env[k++] = tp;
  env[k] = NULL;
  return env;
}

/* The last "error" line of the runtime's JSON log (--log-format json):
 * how containerd reports why runc failed. */
static void
runtime_last_error(char *out, size_t len)
{
  char path[PATH_MAX + 16], *buf = NULL;
  size_t n;
  cut_err e;
  snprintf(path, sizeof path, "%s/log.json", S.bundle);
  out[0] = '\0';
  if (cut_read_file(path, 4 << 20, &buf, &n, &e) < 0)
    return;
  char *save, *line = strtok_r(buf, "\n", &save);
  for (; line; line = strtok_r(NULL, "\n", &save)) {
    cJSON *doc = cJSON_Parse(line);
    const cJSON *lvl = cJSON_GetObjectItem(doc, "level");
    const cJSON *msg = cJSON_GetObjectItem(doc, "msg");
    if (cJSON_IsString(lvl) && cJSON_IsString(msg) &&
        (strcmp(lvl->valuestring, "error") == 0 || strcmp(lvl->valuestring, "fatal") == 0))
      snprintf(out, len, "%s", msg->valuestring);
    cJSON_Delete(doc);
  }
  free(buf);
}

typedef struct rt_io {
  int in, out, err; /* for the runtime's stdio: -1 /dev/null */
  bool capture;     /* capture stdout (ps) and stderr (errors) */
  char *captured;   /* stdout */
} rt_io;

static int
read_all(int fd, char **out)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return -1;
  for (;;) {
    if (len + 1024 > cap) {
      char *nb = realloc(buf, cap *= 2);
      if (nb == NULL) {
        free(buf);
        return -1;
      }
      buf = nb;
    }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  *out = buf;
  return 0;
}

/* The runtime's command line exactly as containerd's runc shim builds it
 * (shared/reference/runtime-calls.txt):
 *   RUNTIME --root R --log BUNDLE/log.json --log-format json VERB ARGS...
 * argv has room for 32 entries; logp holds the log path it points to. */
static void
runtime_argv(const char *verb, const char *const *args, char *logp, size_t logp_len,
             const char *argv[32])
{
  snprintf(logp, logp_len, "%s/log.json", S.bundle);
  int n = 0;
  argv[n++] = S.runtime;
  argv[n++] = "--root";
  argv[n++] = S.runtime_root;
  argv[n++] = "--log";
  argv[n++] = logp;
  argv[n++] = "--log-format";
  argv[n++] = "json";
  argv[n++] = verb;
  for (int i = 0; args && args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
}

/* RUNTIME --root R --log B/log.json --log-format json ARGS... as a span
 * "runtime.<verb>"; fails with the runtime's own error message. */
static int
run_runtime(const char *verb, const char *const *args, rt_io *io, pid_t *out_pid, cut_err *err)
{
  char logp[PATH_MAX + 16];
  const char *argv[32];
  runtime_argv(verb, args, logp, sizeof logp, argv);
  char name[64], cmdline[1024] = "";
  snprintf(name, sizeof name, "runtime.%s", verb);
  for (int i = 0; argv[i] != NULL; i++) {
    size_t l = strlen(cmdline);
    snprintf(cmdline + l, sizeof cmdline - l, "%s%s", i ? " " : "", argv[i]);
  }
  trace_span sp;
  trace_begin(&sp, TRACE_CLIENT, name, TA_STR("argv", cmdline), TA_STR("peer", "runtime"));
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  if (io && io->capture && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)) {
    cut_error(err, errno, "%s: pipe", name);
    trace_end(&sp, err);
    return -1;
  }
  char **env = env_with_traceparent();
  cut_spawn_opts so = {.envp = env,
                       .stdin_fd = io ? io->in : -1,
                       .stdout_fd = io && io->capture ? outp[1]
                                    : io              ? io->out
                                                      : -1,
                       .stderr_fd = io && io->capture ? errp[1]
                                    : io              ? io->err
                                                      : -1};
  pid_t pid;
  pthread_mutex_lock(&S.mu);
  S.children++;
  pthread_cond_broadcast(&S.cv);
  pthread_mutex_unlock(&S.mu);
  int r = cut_spawn((char *const *)argv, &so, &pid, err);
  free(env);
  if (outp[1] >= 0)
    close(outp[1]);
  if (errp[1] >= 0)
    close(errp[1]);
  char *errtext = NULL;
  if (r == 0 && io && io->capture) {
    read_all(outp[0], &io->captured);
    read_all(errp[0], &errtext);
  }
  if (outp[0] >= 0)
    close(outp[0]);
  if (errp[0] >= 0)
    close(errp[0]);
  int st = 0;
  pthread_mutex_lock(&S.mu);
  if (r == 0)
    claim_exit_locked(pid, true, &st);
  S.children--;
  pthread_mutex_unlock(&S.mu);
  if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
    char msg[900];
    runtime_last_error(msg, sizeof msg);
    if (!*msg && errtext && *errtext)
      snprintf(msg, sizeof msg, "%.*s", (int)strcspn(errtext, "\n"), errtext);
    r = cut_error(err, 0, "%s %s failed (exit %d)%s%s", S.runtime, verb, cut_exit_code(st),
                  *msg ? ": " : "", msg);
  }
  free(errtext);
  if (out_pid)
    *out_pid = pid;
  trace_end(&sp, r < 0 ? err : NULL);
  return r;
}

static int
read_pid_file(const char *path, pid_t *pid, cut_err *err)
{
  char *buf;
  size_t n;
  if (cut_read_file(path, 64, &buf, &n, err) < 0)
    return -1;
  *pid = (pid_t)strtol(buf, NULL, 10);
  free(buf);
  if (*pid <= 0)
    return cut_error(err, EINVAL, "pid file %s: no pid", path);
  return 0;
}

/* ---- stdio and the json-file log ---- */

static void
log_line(const char *stream, const char *data, size_t len)
{
  if (S.log_fd < 0)
    return;
  char ts[40];
  rfc3339nano(ts);
  char *msg = strndup(data, len);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "log", msg);
  cJSON_AddStringToObject(o, "stream", stream);
  cJSON_AddStringToObject(o, "time", ts);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  free(msg);
  if (text == NULL)
    return;
  size_t n = strlen(text);
  char *grown = realloc(text, n + 2);
  if (grown == NULL) {
    free(text);
    return;
  }
  text = grown;
  text[n] = '\n';
  /* One write(2) per record into an O_APPEND file: stdout and stderr lines
   * never interleave inside a record. */
  pthread_mutex_lock(&S.log_mu);
  ssize_t w = write(S.log_fd, text, n + 1);
  (void)w;
  pthread_mutex_unlock(&S.log_mu);
  free(text);
}

#define LOG_LINE_MAX (16 * 1024) /* Docker splits longer lines into partial records */

typedef struct copier {
  sproc *p;
  int from; /* pipe read end or pty master */
  int fifo; /* client's FIFO, -1 none */
  bool log; /* write the json-file log */
  const char *stream;
} copier;

static void
write_fifo(copier *c, const char *buf, size_t n)
{
  /* The FIFO is non-blocking: a client that stopped reading loses output,
   * the container never blocks on it (the log keeps everything). */
  while (c->fifo >= 0 && n > 0) {
    ssize_t w = write(c->fifo, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      if (errno != EAGAIN) {
        close(c->fifo);
        c->fifo = -1;
      }
      return;
    }
    buf += w;
    n -= (size_t)w;
  }
}

static void *
copy_out_thread(void *arg)
{
  copier *c = arg;
  char buf[32 * 1024];
  char *line = malloc(LOG_LINE_MAX);
  size_t llen = 0;
  for (;;) {
    ssize_t n = read(c->from, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* EOF, or EIO on a pty master once every slave is closed */
    write_fifo(c, buf, (size_t)n);
    if (!c->log)
      continue;
    for (ssize_t i = 0; i < n; i++) {
      line[llen++] = buf[i];
      if (buf[i] == '\n' || llen == LOG_LINE_MAX) {
        log_line(c->stream, line, llen);
        llen = 0;
      }
    }
  }
  if (c->log && llen)
    log_line(c->stream, line, llen);
  free(line);
  if (c->fifo >= 0)
    close(c->fifo);
  if (c->from != c->p->master)
    close(c->from);
  pthread_mutex_lock(&S.mu);
  c->p->io_open--;
  pthread_cond_broadcast(&S.cv);
  pthread_mutex_unlock(&S.mu);
  free(c);
  return NULL;
}

typedef struct in_copier {
  int fifo;
  sproc *p;
} in_copier;

static void *
copy_in_thread(void *arg)
{
  in_copier *c = arg;
  char buf[8192];
  for (;;) {
    ssize_t n = read(c->fifo, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    pthread_mutex_lock(&S.mu);
    int to = c->p->stdin_w;
    pthread_mutex_unlock(&S.mu);
    if (to < 0)
      break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        goto out;
      off += w;
    }
  }
out:
  close(c->fifo);
  free(c);
  return NULL;
}

static void
start_copier(sproc *p, int from, const char *fifo_path, bool log, const char *stream)
{
  copier *c = calloc(1, sizeof *c);
  c->p = p;
  c->from = from;
  c->log = log;
  c->stream = stream;
  c->fifo = -1;
  if (fifo_path && *fifo_path) {
    /* O_RDWR: opening never blocks waiting for the reader, and data waits in
     * the pipe until the client opens its end. */
    c->fifo = open(fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  pthread_mutex_lock(&S.mu);
  p->io_open++;
  pthread_mutex_unlock(&S.mu);
  cut_thread_detached(copy_out_thread, c, 0);
}

static void
start_stdin(sproc *p, const char *fifo_path)
{
  in_copier *c = calloc(1, sizeof *c);
  c->p = p;
  c->fifo = open(fifo_path, O_RDWR | O_CLOEXEC);
  if (c->fifo < 0) {
    free(c);
    return;
  }
  cut_thread_detached(copy_in_thread, c, 0);
}

/* The console socket: the runtime connects and sends the pty master of the
 * container's terminal as SCM_RIGHTS (runc's --console-socket protocol). */
static int
console_listen(char *dir, size_t dlen, char *path, size_t plen, cut_err *err)
{
  snprintf(dir, dlen, "/tmp/cutaway-pty.XXXXXX");
  if (mkdtemp(dir) == NULL)
    return cut_error(err, errno, "console socket dir");
  snprintf(path, plen, "%s/pty.sock", dir);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    rmdir(dir);
    return cut_error(err, e, "console socket %s", path);
  }
  return fd;
}

static int
console_receive(int lfd, pid_t runtime_pid, cut_err *err)
{
  for (;;) {
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int r = poll(&p, 1, 100);
    if (r > 0)
      break;
    pthread_mutex_lock(&S.mu);
    bool gone = false;
    for (size_t i = 0; i < S.nreaped; i++)
      gone |= S.reaped[i].pid == runtime_pid;
    pthread_mutex_unlock(&S.mu);
    if (gone)
      return cut_error(err, EPIPE, "console socket: the runtime exited without sending a pty");
  }
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return cut_error(err, errno, "console socket: accept");
  char data[256];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr mh = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  close(c);
  struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return cut_error(err, EPROTO, "console socket: no file descriptor received");
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

/* Stdio for a new process (init or exec): pipes or a terminal.  `log`
 * only for init (exec output is not part of the container log, as in
 * Docker).  Returns the runtime's three fds in io; *console_path set when
 * a terminal is used. */
typedef struct stdio_req {
  const char *in, *out, *err; /* client FIFOs, may be NULL/"" */
  bool terminal;
} stdio_req;

typedef struct stdio_setup {
  int rt_in, rt_out, rt_err;    /* handed to the runtime */
  int our_out, our_err, our_in; /* kept */
  int console_fd;               /* listening console socket */
  char console_dir[64], console_path[108];
} stdio_setup;

static int
stdio_prepare(const stdio_req *rq, stdio_setup *s, cut_err *err)
{
  *s = (stdio_setup){-1, -1, -1, -1, -1, -1, -1, "", ""};
  if (rq->terminal) {
    s->console_fd = console_listen(s->console_dir, sizeof s->console_dir, s->console_path,
                                   sizeof s->console_path, err);
    return s->console_fd < 0 ? -1 : 0;
  }
  int o[2], e[2];
  if (pipe2(o, O_CLOEXEC) < 0)
    return cut_error(err, errno, "stdout pipe");
  if (pipe2(e, O_CLOEXEC) < 0) {
    close(o[0]);
    close(o[1]);
    return cut_error(err, errno, "stderr pipe");
  }
  s->rt_out = o[1];
  s->our_out = o[0];
  s->rt_err = e[1];
  s->our_err = e[0];
  if (rq->in && *rq->in) {
    int i[2];
    if (pipe2(i, O_CLOEXEC) == 0) {
      s->rt_in = i[0];
      s->our_in = i[1];
    }
  }
  return 0;
}

static void
stdio_close_runtime_side(stdio_setup *s)
{
  if (s->rt_in >= 0)
    close(s->rt_in);
  if (s->rt_out >= 0)
    close(s->rt_out);
  if (s->rt_err >= 0)
    close(s->rt_err);
  s->rt_in = s->rt_out = s->rt_err = -1;
  if (s->console_fd >= 0) {
    close(s->console_fd);
    unlink(s->console_path);
    rmdir(s->console_dir);
    s->console_fd = -1;
  }
}

static void
stdio_abort(stdio_setup *s)
{
  stdio_close_runtime_side(s);
  if (s->our_in >= 0)
    close(s->our_in);
  if (s->our_out >= 0)
    close(s->our_out);
  if (s->our_err >= 0)
    close(s->our_err);
}

/* Start copying for process p. */
static void
stdio_attach(sproc *p, const stdio_req *rq, stdio_setup *s, int master, bool log)
{
  if (master >= 0) {
    p->master = master;
    p->stdin_w = master;
    start_copier(p, master, rq->out, log, "stdout");
    if (rq->in && *rq->in)
      start_stdin(p, rq->in);
    return;
  }
  p->stdin_w = s->our_in;
  start_copier(p, s->our_out, rq->out, log, "stdout");
  start_copier(p, s->our_err, rq->err, log, "stderr");
  if (s->our_in >= 0 && rq->in && *rq->in)
    start_stdin(p, rq->in);
}

/* ---- process exits ---- */

static void
write_exit_file(const sproc *p)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "pid", p->pid);
  cJSON_AddNumberToObject(o, "exit_status", p->status);
  cJSON_AddStringToObject(o, "exited_at", p->exited_at);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/exit.json", S.bundle);
  cut_err e;
  ctd_json_write_volatile(path, o, false, &e);
  cJSON_Delete(o);
}

/* Waits for p to be reaped, then (bounded) for its output to drain, so a
 * `wait` that returns sees the complete log. */
static void *
monitor_thread(void *arg)
{
  sproc *p = arg;
  int st;
  pthread_mutex_lock(&S.mu);
  claim_exit_locked(p->pid, true, &st);
  p->reaped = true;
  p->status = cut_exit_code(st);
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += 2;
  while (p->io_open > 0)
    if (pthread_cond_timedwait(&S.cv, &S.mu, &dl) == ETIMEDOUT)
      break;
  rfc3339nano(p->exited_at);
  pthread_mutex_unlock(&S.mu);
  trace_event(p->id[0] ? "exec.exit" : "init.exit", TA_INT("pid", p->pid),
              TA_INT("exit_status", p->status));
  if (p == &S.init)
    write_exit_file(p);
  pthread_mutex_lock(&S.mu);
  p->exited = true;
  if (p->stdin_w >= 0 && p->stdin_w != p->master)
    close(p->stdin_w);
  p->stdin_w = -1;
  pthread_cond_broadcast(&S.cv);
  pthread_mutex_unlock(&S.mu);
  return NULL;
}

static sproc *
find_proc_locked(const char *exec_id)
{
  if (exec_id == NULL || *exec_id == '\0')
    return &S.init;
  for (sproc *p = S.execs; p; p = p->next)
    if (strcmp(p->id, exec_id) == 0)
      return p;
  return NULL;
}

/* ---- API handlers ---- */

static void
get_stdio(const cJSON *body, stdio_req *rq)
{
  const cJSON *t = cJSON_GetObjectItem(body, "terminal");
  const cJSON *i = cJSON_GetObjectItem(body, "stdin");
  const cJSON *o = cJSON_GetObjectItem(body, "stdout");
  const cJSON *e = cJSON_GetObjectItem(body, "stderr");
  rq->terminal = cJSON_IsTrue(t);
  rq->in = cJSON_IsString(i) ? i->valuestring : NULL;
  rq->out = cJSON_IsString(o) ? o->valuestring : NULL;
  rq->err = cJSON_IsString(e) ? e->valuestring : NULL;
}

static cJSON *
pid_reply(pid_t pid)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "pid", pid);
  return o;
}

static void
h_state(httpd_req *req, void *ctx)
{
  cJSON *o = cJSON_CreateObject();
  pthread_mutex_lock(&S.mu);
  cJSON_AddStringToObject(o, "id", S.id);
  cJSON_AddStringToObject(o, "bundle", S.bundle);
  cJSON_AddNumberToObject(o, "pid", S.init.pid);
  cJSON_AddNumberToObject(o, "shim_pid", getpid());
  const char *status = !S.init.pid      ? "unknown"
                       : S.init.exited  ? "stopped"
                       : S.paused       ? "paused"
                       : S.init.started ? "running"
                                        : "created";
  cJSON_AddStringToObject(o, "status", status);
  if (S.init.exited) {
    cJSON_AddNumberToObject(o, "exit_status", S.init.status);
    cJSON_AddStringToObject(o, "exited_at", S.init.exited_at);
  }
  cJSON *ex = cJSON_AddArrayToObject(o, "execs");
  for (sproc *p = S.execs; p; p = p->next) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", p->id);
    cJSON_AddNumberToObject(e, "pid", p->pid);
    cJSON_AddBoolToObject(e, "exited", p->exited);
    if (p->exited)
      cJSON_AddNumberToObject(e, "exit_status", p->status);
    cJSON_AddItemToArray(ex, e);
  }
  pthread_mutex_unlock(&S.mu);
  httpd_reply_json(req, 200, o);
}

/* Runs the runtime with a console socket: the pty must be accepted while
 * the runtime is still running, so the runtime is waited for afterwards. */
static int
run_with_console(const char *verb, const char *const *args, stdio_setup *s, int *master,
                 cut_err *err)
{
  char logp[PATH_MAX + 16];
  const char *argv[32];
  runtime_argv(verb, args, logp, sizeof logp, argv);
  char name[64];
  snprintf(name, sizeof name, "runtime.%s", verb);
  trace_span sp;
  trace_begin(&sp, TRACE_CLIENT, name, TA_STR("console_socket", s->console_path),
              TA_STR("peer", "runtime"));
  char **env = env_with_traceparent();
  cut_spawn_opts so = {.envp = env, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid;
  pthread_mutex_lock(&S.mu);
  S.children++;
  pthread_cond_broadcast(&S.cv);
  pthread_mutex_unlock(&S.mu);
  int r = cut_spawn((char *const *)argv, &so, &pid, err);
  free(env);
  int fd = -1;
  cut_err cerr;
  if (r == 0)
    fd = console_receive(s->console_fd, pid, &cerr);
  int st = 0;
  pthread_mutex_lock(&S.mu);
  if (r == 0)
    claim_exit_locked(pid, true, &st);
  S.children--;
  pthread_mutex_unlock(&S.mu);
  if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
    char msg[900];
    runtime_last_error(msg, sizeof msg);
    r = cut_error(err, 0, "%s %s failed (exit %d)%s%s", S.runtime, verb, cut_exit_code(st),
                  *msg ? ": " : "", msg);
  } else if (r == 0 && fd < 0) {
    *err = cerr;
    r = -1;
  }
  if (r < 0 && fd >= 0)
    close(fd);
  *master = r == 0 ? fd : -1;
  trace_end(&sp, r < 0 ? err : NULL);
  return r;
}

/* create or exec --detach, with stdio, pid file and monitor. */
static int
launch(sproc *p, const char *verb, const char **args, int nargs, const char *pid_file,
       const stdio_req *rq, bool log, cut_err *err)
{
  stdio_setup s;
  if (stdio_prepare(rq, &s, err) < 0)
    return -1;
  if (rq->terminal) {
    args[nargs++] = "--console-socket";
    args[nargs++] = s.console_path;
  }
  args[nargs++] = S.id;
  args[nargs] = NULL;
  int master = -1, r;
  if (rq->terminal) {
    r = run_with_console(verb, args, &s, &master, err);
  } else {
    rt_io io = {.in = s.rt_in, .out = s.rt_out, .err = s.rt_err};
    r = run_runtime(verb, args, &io, NULL, err);
  }
  stdio_close_runtime_side(&s);
  pid_t pid = 0;
  if (r == 0)
    r = read_pid_file(pid_file, &pid, err);
  if (r < 0) {
    stdio_abort(&s);
    if (master >= 0)
      close(master);
    return -1;
  }
  pthread_mutex_lock(&S.mu);
  p->pid = pid;
  p->terminal = rq->terminal;
  pthread_mutex_unlock(&S.mu);
  stdio_attach(p, rq, &s, master, log);
  cut_thread_detached(monitor_thread, p, 0);
  return 0;
}

static void
h_create(httpd_req *req, void *ctx)
{
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0)
    return;
  pthread_mutex_lock(&S.mu);
  bool dup = S.init.pid != 0;
  pthread_mutex_unlock(&S.mu);
  if (dup) {
    httpd_reply_error(req, 409, "task %s: already created", S.id);
    return;
  }
  stdio_req rq;
  get_stdio(body, &rq);
  char pidf[PATH_MAX + 16];
  snprintf(pidf, sizeof pidf, "%s/init.pid", S.bundle);
  const char *args[16] = {"--bundle", S.bundle, "--pid-file", pidf};
  cut_err err;
  if (launch(&S.init, "create", args, 4, pidf, &rq, true, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  httpd_reply_json(req, 200, pid_reply(S.init.pid));
}

static void
h_start(httpd_req *req, void *ctx)
{
  pthread_mutex_lock(&S.mu);
  bool ok = S.init.pid && !S.init.started && !S.init.exited;
  pthread_mutex_unlock(&S.mu);
  if (!ok) {
    httpd_reply_error(req, 409, "task %s: not in the created state", S.id);
    return;
  }
  const char *args[] = {S.id, NULL};
  cut_err err;
  if (run_runtime("start", args, NULL, NULL, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  pthread_mutex_lock(&S.mu);
  S.init.started = true;
  pthread_mutex_unlock(&S.mu);
  httpd_reply_json(req, 200, pid_reply(S.init.pid));
}

static void
h_wait(httpd_req *req, void *ctx)
{
  const char *exec_id = httpd_query(req, "exec");
  pthread_mutex_lock(&S.mu);
  sproc *p = find_proc_locked(exec_id);
  if (p == NULL || p->pid == 0) {
    pthread_mutex_unlock(&S.mu);
    httpd_reply_error(req, 404, "process %s: not found", exec_id ? exec_id : "init");
    return;
  }
  while (!p->exited && !httpd_stopping(S.srv)) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 1;
    pthread_cond_timedwait(&S.cv, &S.mu, &dl);
    if (!p->exited && httpd_client_gone(req))
      break;
  }
  cJSON *o = cJSON_CreateObject();
  bool done = p->exited;
  cJSON_AddNumberToObject(o, "exit_status", p->status);
  cJSON_AddStringToObject(o, "exited_at", p->exited_at);
  pthread_mutex_unlock(&S.mu);
  if (!done) {
    cJSON_Delete(o);
    httpd_reply_error(req, 503, "shim stopping");
    return;
  }
  httpd_reply_json(req, 200, o);
}

static void
h_kill(httpd_req *req, void *ctx)
{
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0)
    return;
  int64_t sig = SIGTERM;
  bool all = false;
  const char *exec_id = NULL;
  cut_err err;
  if (json_get_int64(body, "signal", "signal", false, &sig, &err) < 0 ||
      json_get_bool(body, "all", "all", false, &all, &err) < 0 ||
      json_get_string(body, "exec", "exec", false, &exec_id, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  if (sig <= 0 || sig >= 65) {
    httpd_reply_error(req, 400, "signal %lld: out of range", (long long)sig);
    return;
  }
  pthread_mutex_lock(&S.mu);
  sproc *p = find_proc_locked(exec_id);
  bool exited = p && p->reaped;
  pid_t pid = p ? p->pid : 0;
  pthread_mutex_unlock(&S.mu);
  if (p == NULL || pid == 0) {
    httpd_reply_error(req, 404, "process %s: not found", exec_id ? exec_id : "init");
    return;
  }
  if (exited) {
    httpd_reply_error(req, 409, "process %s: already exited", exec_id ? exec_id : "init");
    return;
  }
  if (exec_id && *exec_id) {
    /* An exec'd process is signalled directly, as the runc shim does. */
    if (kill(pid, (int)sig) < 0) {
      httpd_reply_error(req, 500, "kill %d: %s", pid, strerror(errno));
      return;
    }
  } else {
    char signame[16];
    snprintf(signame, sizeof signame, "%lld", (long long)sig);
    const char *args_all[] = {"--all", S.id, signame, NULL};
    const char *args_one[] = {S.id, signame, NULL};
    if (run_runtime("kill", all ? args_all : args_one, NULL, NULL, &err) < 0) {
      httpd_reply_err(req, 500, &err);
      return;
    }
  }
  httpd_reply_json(req, 200, NULL);
}

static void
after_delete(void *ctx)
{
  /* The reply is on the wire: the shim's job is done. */
  raise(SIGTERM);
}

static void
h_delete(httpd_req *req, void *ctx)
{
  const char *exec_id = httpd_query(req, "exec");
  bool force = httpd_query_bool(req, "force");
  cut_err err;
  if (exec_id && *exec_id) {
    pthread_mutex_lock(&S.mu);
    sproc **pp = &S.execs, *p = NULL;
    for (; *pp; pp = &(*pp)->next)
      if (strcmp((*pp)->id, exec_id) == 0) {
        p = *pp;
        break;
      }
    if (p && (p->exited || !p->pid))
      *pp = p->next;
    pthread_mutex_unlock(&S.mu);
    if (p == NULL) {
      httpd_reply_error(req, 404, "exec %s: not found", exec_id);
      return;
    }
    if (!(p->exited || !p->pid)) {
      httpd_reply_error(req, 409, "exec %s: still running", exec_id);
      return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exit_status", p->status);
    httpd_reply_json(req, 200, o);
    return;
  }
  pthread_mutex_lock(&S.mu);
  bool running = S.init.pid && !S.init.reaped;
  bool created_only = S.init.pid && !S.init.started;
  pthread_mutex_unlock(&S.mu);
  if (running && !force && !created_only) {
    httpd_reply_error(req, 409, "task %s: is running, stop it first or force", S.id);
    return;
  }
  const char *args_force[] = {"--force", S.id, NULL};
  const char *args[] = {S.id, NULL};
  if (S.init.pid &&
      run_runtime("delete", running || force ? args_force : args, NULL, NULL, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  if (running) {
    /* delete --force killed it: wait for the monitor to record the exit. */
    pthread_mutex_lock(&S.mu);
    while (!S.init.exited)
      pthread_cond_wait(&S.cv, &S.mu);
    pthread_mutex_unlock(&S.mu);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "pid", S.init.pid);
  cJSON_AddNumberToObject(o, "exit_status", S.init.status);
  cJSON_AddStringToObject(o, "exited_at", S.init.exited_at);
  S.deleted = true;
  httpd_after_reply(req, after_delete, NULL);
  httpd_reply_json(req, 200, o);
}

static void
h_exec(httpd_req *req, void *ctx)
{
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *exec_id = NULL;
  const cJSON *process = NULL;
  cut_err err;
  if (json_get_string(body, "exec_id", "exec_id", true, &exec_id, &err) < 0 ||
      json_get_object(body, "process", "process", true, &process, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  bool bad = strlen(exec_id) > 64 || strchr(exec_id, '/') || exec_id[0] == '.';
  pthread_mutex_lock(&S.mu);
  bool dup = find_proc_locked(exec_id) != NULL && *exec_id;
  bool alive = S.init.started && !S.init.reaped;
  pthread_mutex_unlock(&S.mu);
  if (bad || !*exec_id) {
    httpd_reply_error(req, 400, "exec id %s: invalid", exec_id);
    return;
  }
  if (dup) {
    httpd_reply_error(req, 409, "exec %s: already exists", exec_id);
    return;
  }
  if (!alive) {
    httpd_reply_error(req, 409, "task %s: is not running, cannot exec into it", S.id);
    return;
  }
  char procf[PATH_MAX + 80], pidf[PATH_MAX + 80];
  snprintf(procf, sizeof procf, "%s/exec-%s.json", S.bundle, exec_id);
  snprintf(pidf, sizeof pidf, "%s/exec-%s.pid", S.bundle, exec_id);
  if (ctd_json_write_volatile(procf, process, false, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  stdio_req rq;
  get_stdio(body, &rq);
  const cJSON *t = cJSON_GetObjectItem(process, "terminal");
  rq.terminal = cJSON_IsTrue(t);
  sproc *p = calloc(1, sizeof *p);
  snprintf(p->id, sizeof p->id, "%s", exec_id);
  p->stdin_w = p->master = -1;
  pthread_mutex_lock(&S.mu);
  p->next = S.execs;
  S.execs = p;
  pthread_mutex_unlock(&S.mu);
  const char *args[16] = {"--process", procf, "--detach", "--pid-file", pidf};
  int r = launch(p, "exec", args, 5, pidf, &rq, false, &err);
  unlink(procf);
  if (r < 0) {
    pthread_mutex_lock(&S.mu);
    for (sproc **pp = &S.execs; *pp; pp = &(*pp)->next)
      if (*pp == p) {
        *pp = p->next;
        break;
      }
    pthread_mutex_unlock(&S.mu);
    free(p);
    httpd_reply_err(req, 500, &err);
    return;
  }
  p->started = true;
  httpd_reply_json(req, 200, pid_reply(p->pid));
}

/* ps from the container's cgroup when the runtime has no `ps`. */
static cJSON *
cgroup_pids(void)
{
  const char *const roots[] = {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup",
                               "/sys/fs/cgroup/unified"};
  for (size_t i = 0; i < 4; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s/cgroup.procs", roots[i], S.cgroups_path);
    FILE *f = fopen(path, "re");
    if (f == NULL)
      continue;
    cJSON *a = cJSON_CreateArray();
    long pid;
    while (fscanf(f, "%ld", &pid) == 1)
      cJSON_AddItemToArray(a, cJSON_CreateNumber((double)pid));
    fclose(f);
    return a;
  }
  return NULL;
}

static void
h_ps(httpd_req *req, void *ctx)
{
  const char *args[] = {"--format", "json", S.id, NULL};
  rt_io io = {.in = -1, .capture = true};
  cut_err err;
  cJSON *pids = NULL;
  if (run_runtime("ps", args, &io, NULL, &err) == 0 && io.captured)
    pids = cJSON_Parse(io.captured);
  free(io.captured);
  if (!cJSON_IsArray(pids)) {
    cJSON_Delete(pids);
    pids = cgroup_pids();
  }
  if (pids == NULL) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "pids", pids);
  httpd_reply_json(req, 200, o);
}

static void
pause_resume(httpd_req *req, bool pause)
{
  const char *args[] = {S.id, NULL};
  cut_err err;
  pthread_mutex_lock(&S.mu);
  bool running = S.init.started && !S.init.reaped;
  pthread_mutex_unlock(&S.mu);
  if (!running) {
    httpd_reply_error(req, 409, "task %s: is not running", S.id);
    return;
  }
  if (run_runtime(pause ? "pause" : "resume", args, NULL, NULL, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  pthread_mutex_lock(&S.mu);
  S.paused = pause;
  pthread_mutex_unlock(&S.mu);
  httpd_reply_json(req, 200, NULL);
}

static void
h_pause(httpd_req *req, void *ctx)
{
  pause_resume(req, true);
}
static void
h_resume(httpd_req *req, void *ctx)
{
  pause_resume(req, false);
}

static void
h_resize(httpd_req *req, void *ctx)
{
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  int64_t w = 0, h = 0;
  const char *exec_id = NULL;
  cut_err err;
  if (json_get_int64(body, "width", "width", true, &w, &err) < 0 ||
      json_get_int64(body, "height", "height", true, &h, &err) < 0 ||
      json_get_string(body, "exec", "exec", false, &exec_id, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  pthread_mutex_lock(&S.mu);
  sproc *p = find_proc_locked(exec_id);
  int master = p ? p->master : -1;
  pthread_mutex_unlock(&S.mu);
  if (master < 0) {
    httpd_reply_error(req, 409, "process %s: has no terminal", exec_id ? exec_id : "init");
    return;
  }
  struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
  if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
    httpd_reply_error(req, 500, "resize: %s", strerror(errno));
    return;
  }
  httpd_reply_json(req, 200, NULL);
}

static void
h_closeio(httpd_req *req, void *ctx)
{
  const char *exec_id = httpd_query(req, "exec");
  pthread_mutex_lock(&S.mu);
  sproc *p = find_proc_locked(exec_id);
  if (p && p->stdin_w >= 0) {
    if (p->master >= 0) {
      /* On a terminal, EOF is the VEOF character (^D), not a close. */
      char eof = 4;
      ssize_t w = write(p->master, &eof, 1);
      (void)w;
    } else {
      close(p->stdin_w);
      p->stdin_w = -1;
    }
  }
  pthread_mutex_unlock(&S.mu);
  if (p == NULL) {
    httpd_reply_error(req, 404, "process %s: not found", exec_id ? exec_id : "init");
    return;
  }
  httpd_reply_json(req, 200, NULL);
}

static const httpd_route routes[] = {
    {"GET", "/state", h_state},    {"POST", "/create", h_create}, {"POST", "/start", h_start},
    {"GET", "/wait", h_wait},      {"POST", "/kill", h_kill},     {"POST", "/delete", h_delete},
    {"POST", "/exec", h_exec},     {"GET", "/ps", h_ps},          {"POST", "/pause", h_pause},
    {"POST", "/resume", h_resume}, {"POST", "/resize", h_resize}, {"POST", "/closeio", h_closeio},
};

/* ---- startup ---- */

static int term_pipe[2] = {-1, -1};

static void
on_pipe(int sig)
{
}

static void
on_term(int sig)
{
  int e = errno;
  ssize_t w = write(term_pipe[1], "x", 1);
  (void)w;
  errno = e;
}

static void
usage(void)
{
  fprintf(stderr,
          "usage: %s --id ID --bundle DIR --socket PATH --runtime PATH --runtime-root DIR "
          "[--log FILE]\n",
          PROG);
}

static void
cgroups_path_from_bundle(void)
{
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/config.json", S.bundle);
  cJSON *doc = NULL;
  cut_err e;
  if (json_read_file(path, 16 << 20, &doc, &e) < 0)
    return;
  const cJSON *lx = cJSON_GetObjectItem(doc, "linux");
  const cJSON *cg = cJSON_GetObjectItem(lx, "cgroupsPath");
  if (cJSON_IsString(cg))
    snprintf(S.cgroups_path, sizeof S.cgroups_path, "%s", cg->valuestring);
  cJSON_Delete(doc);
}

/* The daemon side of the shim: runs in the grandchild, in its own session. */
static int
serve(int ready_fd)
{
  cut_err err;
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  trace_set_role("shim");
  S.init.stdin_w = S.init.master = -1;
  if (*S.log_path) {
    S.log_fd = open(S.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (S.log_fd < 0) {
      cut_error(&err, errno, "open log %s", S.log_path);
      goto fail;
    }
  }
  cgroups_path_from_bundle();
  pthread_t th;
  pthread_create(&th, NULL, reaper_thread, NULL);
  pthread_detach(th);
  httpd_opts o = {.socket_path = S.socket,
                  .socket_mode = 0600,
                  .routes = routes,
                  .nroutes = sizeof routes / sizeof routes[0]};
  if (httpd_start(&o, &S.srv, &err) < 0)
    goto fail;
  char pidf[PATH_MAX + 16], buf[32];
  snprintf(pidf, sizeof pidf, "%s/shim.pid", S.bundle);
  int n = snprintf(buf, sizeof buf, "%d", (int)getpid());
  if (ctd_write_volatile(pidf, buf, (size_t)n, &err) < 0)
    goto fail;
  ssize_t w = write(ready_fd, "ok", 2);
  (void)w;
  close(ready_fd);
  /* Wait for SIGTERM (sent by ourselves after delete, or by an admin). */
  char b;
  while (read(term_pipe[0], &b, 1) < 0 && errno == EINTR)
    ;
  pthread_mutex_lock(&S.mu);
  bool created = S.init.pid != 0;
  pthread_mutex_unlock(&S.mu);
  if (created && !S.deleted) {
    /* Asked to go before containerd deleted the task: take the container
     * down with us (running or not, its runtime state and cgroup go too)
     * rather than leave an unsupervised container. */
    const char *args[] = {"--force", S.id, NULL};
    run_runtime("delete", args, NULL, NULL, &err);
  }
  httpd_stop(S.srv);
  return 0;
fail : {
  char msg[CUT_ERR_MAX + 8];
  int len = snprintf(msg, sizeof msg, "E%s", err.msg);
  ssize_t w2 = write(ready_fd, msg, (size_t)len);
  (void)w2;
  return 1;
}
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {{"id", required_argument, NULL, 'i'},
                                           {"bundle", required_argument, NULL, 'b'},
                                           {"socket", required_argument, NULL, 's'},
                                           {"runtime", required_argument, NULL, 'r'},
                                           {"runtime-root", required_argument, NULL, 'R'},
                                           {"log", required_argument, NULL, 'l'},
                                           {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case 'i': snprintf(S.id, sizeof S.id, "%s", optarg); break;
    case 'b': snprintf(S.bundle, sizeof S.bundle, "%s", optarg); break;
    case 's': snprintf(S.socket, sizeof S.socket, "%s", optarg); break;
    case 'r': snprintf(S.runtime, sizeof S.runtime, "%s", optarg); break;
    case 'R': snprintf(S.runtime_root, sizeof S.runtime_root, "%s", optarg); break;
    case 'l': snprintf(S.log_path, sizeof S.log_path, "%s", optarg); break;
    default: usage(); return 2;
    }
  }
  if (!*S.id || !*S.bundle || !*S.socket || !*S.runtime || !*S.runtime_root) {
    usage();
    return 2;
  }
  trace_init(PROG, "shim");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "shim.Start", TA_STR("id", S.id), TA_STR("socket", S.socket));
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) {
    perror(PROG ": pipe");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror(PROG ": fork");
    return 1;
  }
  if (child == 0) {
    close(pfd[0]);
    setsid();
    /* Let go of the caller's stdio: containerd reads our parent's stdout
     * until EOF, and a daemon must not hold a terminal either. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      close(null);
    }
    /* SIGTERM/SIGINT end the shim through a self-pipe rather than a
     * blocked-signal sigwait: a blocked mask would be inherited by the
     * runtime and, through it, by the container's processes; a handler
     * is reset to default by execve. */
    if (pipe2(term_pipe, O_CLOEXEC) < 0)
      _exit(1);
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A handler, not SIG_IGN: an ignored SIGPIPE would be inherited by the
     * container through execve. */
    struct sigaction sp_pipe = {.sa_handler = on_pipe};
    sigemptyset(&sp_pipe.sa_mask);
    sigaction(SIGPIPE, &sp_pipe, NULL);
    _exit(serve(pfd[1]));
  }
  close(pfd[1]);
  char buf[CUT_ERR_MAX + 8];
  ssize_t n = read(pfd[0], buf, sizeof buf - 1);
  close(pfd[0]);
  cut_err err;
  if (n == 2 && memcmp(buf, "ok", 2) == 0) {
    trace_end(&sp, NULL, TA_INT("shim_pid", child));
    printf("%d\n", (int)child);
    return 0;
  }
  buf[n > 1 ? n : 1] = '\0';
  cut_error(&err, 0, "start shim for %s: %s", S.id, n > 1 ? buf + 1 : "exited early");
  trace_end(&sp, &err);
  cut_err_print(PROG, &err);
  waitpid(child, NULL, 0);
  return 1;
}
