/* dkd_run.c: starting, waiting for and stopping containers (dockerd's
 * daemon/start.go, wait.go, stop.go, kill.go, monitor.go).
 *
 * `start` makes the container's FIFOs, asks containerd for a task with
 * them (containerd starts a shim, the shim runs `cutaway-runc create`),
 * starts relaying output to the attached clients, then starts the task.
 * A monitor thread per running container long-polls containerd's
 * task/wait, and when the process exits it waits for the relay to deliver
 * the last output, deletes the task (the shim goes, the rootfs is
 * unmounted), records the exit and wakes every /wait.  With
 * HostConfig.AutoRemove (`docker run --rm`) it then removes the container,
 * and only after that does a `wait?condition=removed` return, as the CLI
 * expects. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dkd.h"
#include "json.h"
#include "thread.h"
#include "trace.h"

static void
task_path(const dkd_container *k, const char *suffix, char *out, size_t len)
{
  snprintf(out, len, "/v1/containers/%s/task%s", k->id, suffix);
}

/* ---- the monitor ---- */

struct monitor {
  dkd *d;
  dkd_container *k;
};

/* containerd's task/wait: blocks until the process exits.  A transport
 * error (containerd restarting) is retried: the shim keeps the exit. */
static int
wait_exit(dkd *d, dkd_container *k, int *status, char *at, size_t at_len)
{
  char path[200];
  task_path(k, "/wait", path, sizeof path);
  for (int tries = 0; tries < 600; tries++) {
    cJSON *out = NULL;
    cut_err err;
    long st = 0;
    if (dkd_ctd(d, "GET", path, NULL, &st, &out, &err) == 0) {
      *status = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "exit_status"));
      const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(out, "exited_at"));
      snprintf(at, at_len, "%s", t ? t : "");
      cJSON_Delete(out);
      return 0;
    }
    if (st == 404)
      return -1; /* the task is gone: nothing to wait for */
    sleep(1);
  }
  return -1;
}

static void
record_exit(dkd *d, dkd_container *k, int status, const char *at)
{
  pthread_mutex_lock(&d->lock);
  k->stdio.exited_at = dkd_monotonic();
  dkd_stdio_wait_drained(d, &k->stdio);
  pthread_mutex_unlock(&d->lock);
  dkd_ports_stop(d, k);
  char path[200];
  cut_err err;
  task_path(k, "", path, sizeof path);
  dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &err);
  pthread_mutex_lock(&d->lock);
  dkd_stdio_close(&k->stdio);
  k->has_task = false;
  k->state = DKD_EXITED;
  k->exit_code = status;
  k->pid = 0;
  if (at && *at)
    snprintf(k->finished_at, sizeof k->finished_at, "%s", at);
  else
    dkd_now(k->finished_at, sizeof k->finished_at);
  k->exits++;
  if (dkd_container_save(d, k, &err) < 0)
    fprintf(stderr, "cutawayd: save %.12s: %s\n", k->id, err.msg);
  bool auto_remove = cJSON_IsTrue(cJSON_GetObjectItem(k->host_config, "AutoRemove"));
  if (auto_remove)
    k->removing = true;
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  trace_event("container.exit", TA_STR("id", k->id), TA_INT("exit_status", status));
  char code[32];
  snprintf(code, sizeof code, "exitCode=%d", status);
  dkd_event(d, "container", "die", k->id, k->name, k->image, code);
  if (!auto_remove)
    return;
  int r = dkd_container_destroy(d, k, &err);
  if (r < 0)
    fprintf(stderr, "cutawayd: remove %.12s: %s\n", k->id, err.msg);
  pthread_mutex_lock(&d->lock);
  k->removing = false;
  if (r == 0)
    dkd_container_removed(d, k);
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
}

static void *
monitor_thread(void *arg)
{
  struct monitor *m = arg;
  int status = 255;
  char at[64] = "";
  if (wait_exit(m->d, m->k, &status, at, sizeof at) < 0)
    status = 255;
  /* What follows the exit (the task's deletion, the removal of a --rm
   * container) continues the trace of the start that began it. */
  char tp[64];
  pthread_mutex_lock(&m->d->lock);
  snprintf(tp, sizeof tp, "%s", m->k->start_tp);
  pthread_mutex_unlock(&m->d->lock);
  trace_span sp;
  trace_begin_remote(&sp, TRACE_INTERNAL, "container.Exit", tp[0] ? tp : NULL,
                     TA_STR("container_id", m->k->id), TA_STR("name", m->k->name + 1),
                     TA_INT("exit_status", status));
  record_exit(m->d, m->k, status, at);
  trace_end(&sp, NULL);
  free(m);
  return NULL;
}

static void
monitor_start(dkd *d, dkd_container *k)
{
  struct monitor *m = malloc(sizeof *m);
  *m = (struct monitor){.d = d, .k = k};
  if (cut_thread_detached(monitor_thread, m, 0) < 0)
    free(m);
}

void
dkd_run_recover(dkd *d)
{
  pthread_mutex_lock(&d->lock);
  for (dkd_container *k = d->containers; k; k = k->next) {
    if (k->state != DKD_RUNNING && k->state != DKD_PAUSED)
      continue;
    k->has_task = true;
    bool tty = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "Tty"));
    bool in = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "OpenStdin"));
    /* The shim still writes to the FIFOs our previous run made: read them
     * again, so `docker attach` works after a restart as it did before. */
    bool fifos = dkd_stdio_reopen(d, &k->stdio, k->id, tty, in) == 0;
    pthread_mutex_unlock(&d->lock);
    if (fifos)
      dkd_stdio_start(d, &k->stdio);
    cut_err err;
    if (dkd_ports_start(d, k, &err) < 0)
      fprintf(stderr, "cutawayd: %.12s: %s\n", k->id, err.msg);
    pthread_mutex_lock(&d->lock);
    monitor_start(d, k);
  }
  pthread_mutex_unlock(&d->lock);
}

/* ---- start ---- */

/* Docker's wording for a runtime error, which the CLI reads: "no such file
 * or directory" (lower case) in it makes `docker run` exit 127. */
static void
docker_message(const char *in, char *out, size_t len)
{
  snprintf(out, len, "failed to create task for container: %s: unknown", in);
  /* strerror capitalises; the CLI matches these in lower case. */
  static const char *const reasons[] = {"No such file", "Permission denied", "Is a directory"};
  for (size_t r = 0; r < sizeof reasons / sizeof reasons[0]; r++)
    for (char *p = strstr(out, reasons[r]); p; p = strstr(p + 1, reasons[r]))
      *p = (char)(*p - 'A' + 'a');
}

/* The client closed stdin (StdinOnce): close the process's. */
static void
close_stdin(dkd *d, void *arg)
{
  dkd_container *k = arg;
  pthread_mutex_lock(&d->lock);
  bool running = k->has_task && k->state == DKD_RUNNING;
  bool once = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "StdinOnce"));
  if (!running)
    k->stdio.stdin_writers = -1; /* start closes it once the task exists */
  pthread_mutex_unlock(&d->lock);
  if (!running || !once)
    return;
  char path[200];
  cut_err err;
  task_path(k, "/closeio", path, sizeof path);
  dkd_ctd(d, "POST", path, NULL, NULL, NULL, &err);
}

static int
start_task(dkd *d, dkd_container *k, cut_err *err)
{
  bool tty = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "Tty"));
  bool in = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "OpenStdin"));
  char path[200];
  pthread_mutex_lock(&d->lock);
  int r = dkd_stdio_open(d, &k->stdio, k->id, tty, in, err);
  pthread_mutex_unlock(&d->lock);
  /* Ports first: one already taken fails the start before anything runs,
   * as dockerd's "port is already allocated". */
  if (r < 0 || dkd_ports_start(d, k, err) < 0)
    return -1;
  cJSON *body = cJSON_CreateObject(), *out = NULL;
  dkd_stdio_body(&k->stdio, body);
  task_path(k, "", path, sizeof path);
  long st = 0;
  r = dkd_ctd(d, "POST", path, body, &st, &out, err);
  cJSON_Delete(body);
  cJSON_Delete(out);
  if (r < 0) {
    dkd_ports_stop(d, k);
    return -1;
  }
  k->has_task = true;
  dkd_stdio_start(d, &k->stdio);
  task_path(k, "/start", path, sizeof path);
  if (dkd_ctd(d, "POST", path, NULL, &st, &out, err) < 0) {
    cut_err e;
    task_path(k, "", path, sizeof path);
    dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &e);
    k->has_task = false;
    dkd_ports_stop(d, k);
    return -1;
  }
  int pid = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "pid"));
  cJSON_Delete(out);
  pthread_mutex_lock(&d->lock);
  k->pid = pid;
  k->state = DKD_RUNNING;
  k->error[0] = '\0';
  k->exit_code = 0;
  dkd_now(k->started_at, sizeof k->started_at);
  k->finished_at[0] = '\0';
  bool stdin_done = k->stdio.stdin_writers < 0;
  k->stdio.stdin_writers = 0;
  cut_err e;
  dkd_container_save(d, k, &e);
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  monitor_start(d, k);
  dkd_event(d, "container", "start", k->id, k->name, k->image, NULL);
  if (stdin_done)
    close_stdin(d, k);
  return 0;
}

/* After a failed start: the relay ends (the FIFOs close), attachers see
 * EOF, and the waiters get the exit code Docker reports (127 when the
 * program is missing). */
static void
start_failed(dkd *d, dkd_container *k, const char *msg)
{
  pthread_mutex_lock(&d->lock);
  dkd_stdio_wait_drained(d, &k->stdio);
  dkd_stdio_close(&k->stdio);
  snprintf(k->error, sizeof k->error, "%.255s", msg);
  k->exit_code = strstr(msg, "no such file") || strstr(msg, "not found") ? 127 : 126;
  /* (docker: 126 for "permission denied" and "is a directory", else 125;
   * dockerd's wait reports 127 or 126, the CLI computes its own.) */
  k->state = k->started_at[0] ? DKD_EXITED : DKD_CREATED;
  dkd_now(k->finished_at, sizeof k->finished_at);
  k->exits++;
  cut_err e;
  dkd_container_save(d, k, &e);
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  /* The attachers of a start that never happened: close them too. */
  dkd_stdio_close_attachers(d, &k->stdio, NULL);
  /* `docker run --rm` waits for the removal even when start failed. */
  if (!cJSON_IsTrue(cJSON_GetObjectItem(k->host_config, "AutoRemove")))
    return;
  pthread_mutex_lock(&d->lock);
  k->removing = true;
  pthread_mutex_unlock(&d->lock);
  cut_err err;
  int r = dkd_container_destroy(d, k, &err);
  pthread_mutex_lock(&d->lock);
  k->removing = false;
  if (r == 0)
    dkd_container_removed(d, k);
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
}

void
dkd_h_containers_start(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  if (k->state == DKD_RUNNING || k->state == DKD_PAUSED) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_raw(req, 304, NULL, "", 0); /* already started: success */
    return;
  }
  if (k->removing || k->has_task || k->starting) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_error(req, 409, "container %s is being removed, started or stopped", k->id);
    return;
  }
  k->starting = true; /* a second start meanwhile is a 409 */
  pthread_mutex_unlock(&d->lock);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "container.Start", TA_STR("id", k->id));
  pthread_mutex_lock(&d->lock);
  if (!trace_traceparent(&sp, k->start_tp))
    k->start_tp[0] = '\0';
  pthread_mutex_unlock(&d->lock);
  cut_err err;
  int r = start_task(d, k, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  pthread_mutex_lock(&d->lock);
  k->starting = false;
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    char msg[CUT_ERR_MAX + 64];
    docker_message(err.msg, msg, sizeof msg);
    start_failed(d, k, msg);
    httpd_reply_error(req, 400, "%s", msg);
    return;
  }
  httpd_reply_raw(req, 204, NULL, "", 0);
}

/* ---- wait ---- */

enum wait_cond { WAIT_NOT_RUNNING, WAIT_NEXT_EXIT, WAIT_REMOVED };

struct waiter {
  dkd *d;
  dkd_container *k;
  enum wait_cond cond;
  uint64_t exits_before;
  int conn_fd; /* the client's connection, to notice it going away */
  bool sent;
};

static bool
wait_done(const struct waiter *w)
{
  const dkd_container *k = w->k;
  switch (w->cond) {
  case WAIT_NOT_RUNNING: return k->state != DKD_RUNNING && k->state != DKD_PAUSED;
  case WAIT_NEXT_EXIT: return k->exits > w->exits_before || k->removed;
  case WAIT_REMOVED: return k->removed;
  }
  return true;
}

/* The body of /wait: produced only when the condition holds.  The headers
 * have gone out before (the CLI starts the container only once it has
 * them: holding them back would deadlock `docker run`). */
static ssize_t
wait_read(void *cls, char *buf, size_t max)
{
  struct waiter *w = cls;
  if (w->sent)
    return 0;
  dkd *d = w->d;
  pthread_mutex_lock(&d->lock);
  while (!wait_done(w)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&d->changed, &d->lock, &ts);
    if (!wait_done(w) && httpd_fd_gone(w->conn_fd)) {
      pthread_mutex_unlock(&d->lock);
      return -1; /* `docker run -d` hung up: stop waiting */
    }
  }
  int code = w->k->exit_code;
  pthread_mutex_unlock(&d->lock);
  /* A failed start is reported by start itself; its wait, like dockerd's,
   * only carries the status (127 for a missing program). */
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "StatusCode", code);
  cJSON_AddNullToObject(o, "Error");
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  int n = snprintf(buf, max, "%s\n", text);
  free(text);
  w->sent = true;
  return n;
}

void
dkd_h_containers_wait(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *c = httpd_query(req, "condition");
  enum wait_cond cond = WAIT_NOT_RUNNING;
  if (c && strcmp(c, "next-exit") == 0)
    cond = WAIT_NEXT_EXIT;
  else if (c && strcmp(c, "removed") == 0)
    cond = WAIT_REMOVED;
  else if (c && *c && strcmp(c, "not-running") != 0) {
    httpd_reply_error(req, 400, "invalid condition: \"%s\"", c);
    return;
  }
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  struct waiter *w = calloc(1, sizeof *w);
  *w = (struct waiter){.d = d, .k = k, .cond = cond, .exits_before = k->exits};
  pthread_mutex_unlock(&d->lock);
  w->conn_fd = httpd_peer_fd(req);
  httpd_reply_stream(req, 200, "application/json", wait_read, w, free);
}

/* ---- stop, kill, restart ---- */

static int
send_signal(dkd *d, dkd_container *k, int sig, bool all, cut_err *err)
{
  char path[200];
  task_path(k, "/kill", path, sizeof path);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddNumberToObject(b, "signal", sig);
  cJSON_AddBoolToObject(b, "all", all);
  int r = dkd_ctd(d, "POST", path, b, NULL, NULL, err);
  cJSON_Delete(b);
  return r;
}

/* Wait (d->lock held) up to `seconds` for the container to stop running. */
static bool
wait_stopped(dkd *d, dkd_container *k, int seconds)
{
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += seconds;
  while (k->state == DKD_RUNNING || k->state == DKD_PAUSED)
    if (pthread_cond_timedwait(&d->changed, &d->lock, &end) == ETIMEDOUT)
      return false;
  return true;
}

int
dkd_container_stop(dkd *d, dkd_container *k, int sig, int timeout_s, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "container.Stop", TA_STR("id", k->id), TA_INT("signal", sig),
              TA_INT("timeout_s", timeout_s));
  if (k->state == DKD_PAUSED) {
    char path[200];
    task_path(k, "/resume", path, sizeof path);
    cut_err e;
    dkd_ctd(d, "POST", path, NULL, NULL, NULL, &e);
  }
  /* A signal that cannot be sent (the process just exited) is no failure:
   * what counts is whether the container stopped. */
  cut_err ignored;
  send_signal(d, k, sig, false, &ignored);
  pthread_mutex_lock(&d->lock);
  bool stopped = wait_stopped(d, k, sig == SIGKILL ? 10 : timeout_s);
  pthread_mutex_unlock(&d->lock);
  if (!stopped && sig != SIGKILL) {
    /* The grace period is over: SIGKILL, as dockerd does after -t seconds. */
    send_signal(d, k, SIGKILL, true, &ignored);
    pthread_mutex_lock(&d->lock);
    stopped = wait_stopped(d, k, 10);
    pthread_mutex_unlock(&d->lock);
  }
  int r = stopped ? 0 : cut_error(err, ETIMEDOUT, "container %s did not stop", k->id);
  trace_end(&sp, r < 0 ? err : NULL);
  return r;
}

static int
stop_signal(const dkd_container *k)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(k->config, "StopSignal"));
  int sig = s && *s ? dkd_signal_number(s) : SIGTERM;
  return sig > 0 ? sig : SIGTERM;
}

/* The container of the path, running; else a reply (304 or 404) and NULL. */
static dkd_container *
running_or_reply(dkd *d, httpd_req *req, unsigned not_running_status)
{
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  bool running = k && (k->state == DKD_RUNNING || k->state == DKD_PAUSED) && !k->removing;
  pthread_mutex_unlock(&d->lock);
  if (k && !running) {
    if (not_running_status == 304)
      httpd_reply_raw(req, 304, NULL, "", 0);
    else
      httpd_reply_error(req, not_running_status, "Container %s is not running", k->id);
  }
  return running ? k : NULL;
}

void
dkd_h_containers_stop(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  dkd_container *k = running_or_reply(d, req, 304);
  if (k == NULL)
    return;
  const char *t = httpd_query(req, "t");
  int timeout = t ? atoi(t) : 10;
  cut_err err;
  if (dkd_container_stop(d, k, stop_signal(k), timeout < 0 ? 0 : timeout, &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  dkd_event(d, "container", "stop", k->id, k->name, k->image, NULL);
  httpd_reply_raw(req, 204, NULL, "", 0);
}

void
dkd_h_containers_kill(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = httpd_query(req, "signal");
  int sig = dkd_signal_number(name);
  if (sig < 0) {
    httpd_reply_error(req, 400, "Invalid signal: %s", name);
    return;
  }
  dkd_container *k = running_or_reply(d, req, 409);
  if (k == NULL)
    return;
  cut_err err;
  if (send_signal(d, k, sig, false, &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  char sigattr[32];
  snprintf(sigattr, sizeof sigattr, "signal=%d", sig);
  dkd_event(d, "container", "kill", k->id, k->name, k->image, sigattr);
  httpd_reply_raw(req, 204, NULL, "", 0);
}

void
dkd_h_containers_restart(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  bool running = k && (k->state == DKD_RUNNING || k->state == DKD_PAUSED);
  bool busy = k && (k->removing || k->starting);
  if (k && !busy)
    k->starting = true; /* as start's guard: one start at a time */
  pthread_mutex_unlock(&d->lock);
  if (k == NULL)
    return;
  if (busy) {
    httpd_reply_error(req, 409, "container %s is being removed or started", k->id);
    return;
  }
  cut_err err;
  const char *t = httpd_query(req, "t");
  int r = running ? dkd_container_stop(d, k, stop_signal(k), t ? atoi(t) : 10, &err) : 0;
  pthread_mutex_lock(&d->lock);
  /* The monitor deletes the old task right after the exit: wait for it. */
  while (r == 0 && k->has_task)
    pthread_cond_wait(&d->changed, &d->lock);
  k->restart_count += r == 0;
  pthread_mutex_unlock(&d->lock);
  char msg[CUT_ERR_MAX + 64] = "";
  if (r == 0 && start_task(d, k, &err) < 0) {
    docker_message(err.msg, msg, sizeof msg);
    start_failed(d, k, msg);
    r = -1;
  }
  pthread_mutex_lock(&d->lock);
  k->starting = false;
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    httpd_reply_error(req, 500, "%s", msg[0] ? msg : err.msg);
    return;
  }
  httpd_reply_raw(req, 204, NULL, "", 0);
}

/* ---- resize, pause, unpause, top ---- */

static void
task_call(httpd_req *req, dkd *d, dkd_container *k, const char *suffix, cJSON *body,
          unsigned ok_status, enum dkd_state new_state)
{
  char path[200];
  task_path(k, suffix, path, sizeof path);
  cut_err err;
  long st = 0;
  int r = dkd_ctd(d, "POST", path, body, &st, NULL, &err);
  cJSON_Delete(body);
  if (r < 0) {
    dkd_reply_err(req, st == 409 ? 409 : 500, &err);
    return;
  }
  if (new_state != DKD_DEAD) {
    dkd_event(d, "container", new_state == DKD_PAUSED ? "pause" : "unpause", k->id, k->name,
              k->image, NULL);
    pthread_mutex_lock(&d->lock);
    k->state = new_state;
    cut_err e;
    dkd_container_save(d, k, &e);
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
  }
  httpd_reply_raw(req, ok_status, NULL, "", 0);
}

void
dkd_h_containers_resize(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  dkd_container *k = running_or_reply(d, req, 409);
  if (k == NULL)
    return;
  const char *h = httpd_query(req, "h"), *w = httpd_query(req, "w");
  cJSON *b = cJSON_CreateObject();
  cJSON_AddNumberToObject(b, "width", w ? atoi(w) : 80);
  cJSON_AddNumberToObject(b, "height", h ? atoi(h) : 24);
  task_call(req, d, k, "/resize", b, 200, DKD_DEAD);
}

void
dkd_h_containers_pause(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  dkd_container *k = running_or_reply(d, req, 409);
  if (k)
    task_call(req, d, k, "/pause", NULL, 204, DKD_PAUSED);
}

void
dkd_h_containers_unpause(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  dkd_container *k = running_or_reply(d, req, 409);
  if (k)
    task_call(req, d, k, "/resume", NULL, 204, DKD_RUNNING);
}

void
dkd_h_containers_top(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  dkd_container *k = running_or_reply(d, req, 409);
  if (k == NULL)
    return;
  char path[200];
  task_path(k, "/pids", path, sizeof path);
  cJSON *out = NULL;
  cut_err err;
  if (dkd_ctd(d, "GET", path, NULL, NULL, &out, &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON *titles = cJSON_AddArrayToObject(o, "Titles");
  cJSON_AddItemToArray(titles, cJSON_CreateString("PID"));
  cJSON_AddItemToArray(titles, cJSON_CreateString("CMD"));
  cJSON *procs = cJSON_AddArrayToObject(o, "Processes");
  const cJSON *it;
  const cJSON *pids = cJSON_GetObjectItem(out, "pids");
  if (pids == NULL)
    pids = out;
  cJSON_ArrayForEach(it, pids)
  {
    int pid = cJSON_IsNumber(it) ? it->valueint
                                 : (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "pid"));
    char file[64], cmd[512] = "";
    snprintf(file, sizeof file, "/proc/%d/cmdline", pid);
    FILE *f = fopen(file, "r");
    if (f) {
      size_t n = fread(cmd, 1, sizeof cmd - 1, f);
      fclose(f);
      for (size_t i = 0; i + 1 < n; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
      cmd[n] = '\0';
    }
    cJSON *row = cJSON_CreateArray();
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    cJSON_AddItemToArray(row, cJSON_CreateString(p));
    cJSON_AddItemToArray(row, cJSON_CreateString(cmd));
    cJSON_AddItemToArray(procs, row);
  }
  cJSON_Delete(out);
  httpd_reply_json(req, 200, o);
}

/* ---- attach ---- */

void
dkd_h_containers_attach(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  bool tty = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "Tty"));
  bool open_stdin = cJSON_IsTrue(cJSON_GetObjectItem(k->config, "OpenStdin"));
  cut_err err;
  /* The FIFOs exist from the first attach, so that stdin sent before
   * `start` (docker run -i < file) waits in the pipe. */
  int r = k->has_task ? 0 : dkd_stdio_open(d, &k->stdio, k->id, tty, open_stdin, &err);
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  bool in = httpd_query_bool(req, "stdin") && open_stdin;
  dkd_hijack_hooks hooks = {.on_stdin_eof = close_stdin, .arg = k};
  dkd_reply_hijack(req, d, &k->stdio, httpd_query_bool(req, "stdout"),
                   httpd_query_bool(req, "stderr"), in, tty, &hooks);
}
