/* dkd_exec.c: `docker exec` (dockerd's daemon/exec.go).
 *
 *   POST /containers/{id}/exec   records the process to run: 201 {"Id"}
 *   POST /exec/{id}/start        hijacks the connection (unless Detach),
 *                                then asks containerd for task/exec with
 *                                the exec's FIFOs: the shim runs
 *                                `cutaway-runc exec`; the output is relayed
 *                                to the connection until the process ends
 *   GET  /exec/{id}/json         its ExitCode: the CLI's exit status
 *
 * The process starts only once the hijacked connection has joined the
 * relay (dkd_hijack_hooks.on_attached), so not a byte of its output is
 * lost.  A monitor waits for its exit (task/wait?exec=), deletes it from
 * the task and records the exit code before anyone can read it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkd.h"
#include "json.h"
#include "thread.h"
#include "trace.h"

static dkd_exec *
exec_find(dkd *d, const char *id)
{
  for (dkd_exec *e = d->execs; e; e = e->next)
    if (id && strcmp(e->id, id) == 0)
      return e;
  return NULL;
}

/* "1000" or "1000:1000" as an OCI user; names need the image's
 * /etc/passwd, which only create's spec builder reads. */
static int
exec_user(const char *user, cJSON **out, cut_err *err)
{
  *out = NULL;
  if (user == NULL || *user == '\0')
    return 0;
  char *end;
  unsigned long uid = strtoul(user, &end, 10), gid = uid;
  if (end == user || (*end && *end != ':'))
    return cut_error(err, EINVAL, "exec --user %s: only a numeric uid[:gid] is supported", user);
  if (*end == ':') {
    const char *g = end + 1;
    gid = strtoul(g, &end, 10);
    if (end == g || *end)
      return cut_error(err, EINVAL, "exec --user %s: only a numeric uid[:gid] is supported", user);
  }
  *out = cJSON_CreateObject();
  cJSON_AddNumberToObject(*out, "uid", (double)uid);
  cJSON_AddNumberToObject(*out, "gid", (double)gid);
  return 0;
}

void
dkd_h_exec_create(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const cJSON *cmd = cJSON_GetObjectItem(body, "Cmd");
  if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
    httpd_reply_error(req, 400, "No exec command specified");
    return;
  }
  cJSON *user;
  cut_err err;
  if (exec_user(cJSON_GetStringValue(cJSON_GetObjectItem(body, "User")), &user, &err) < 0) {
    dkd_reply_err(req, 400, &err);
    return;
  }
  cJSON_Delete(user);
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  if (k->state != DKD_RUNNING) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_error(req, 409, "Container %s is %s", k->id,
                      k->state == DKD_PAUSED ? "paused, unpause the container before exec"
                                             : "not running");
    return;
  }
  dkd_exec *e = calloc(1, sizeof *e);
  dkd_random_hex(e->id, 32);
  snprintf(e->container_id, sizeof e->container_id, "%s", k->id);
  e->config = cJSON_Duplicate(body, true);
  e->stdio.rd_out = e->stdio.rd_err = e->stdio.wr_in = -1;
  e->next = d->execs;
  d->execs = e;
  pthread_mutex_unlock(&d->lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", e->id);
  httpd_reply_json(req, 201, o);
}

/* ---- running it ---- */

struct exec_run {
  dkd *d;
  dkd_exec *e;
};

static void
exec_path(const dkd_exec *e, const char *suffix, char *out, size_t len)
{
  snprintf(out, len, "/v1/containers/%s/task%s?exec=%s", e->container_id, suffix, e->id);
}

static void *
exec_monitor(void *arg)
{
  struct exec_run *x = arg;
  dkd *d = x->d;
  dkd_exec *e = x->e;
  free(x);
  char path[300];
  exec_path(e, "/wait", path, sizeof path);
  cJSON *out = NULL;
  cut_err err;
  int code = 126;
  if (dkd_ctd(d, "GET", path, NULL, NULL, &out, &err) == 0)
    code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "exit_status"));
  cJSON_Delete(out);
  exec_path(e, "", path, sizeof path);
  dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &err);
  pthread_mutex_lock(&d->lock);
  e->exit_code = code;
  e->running = false;
  e->done = true;
  e->done_at = dkd_monotonic();
  pthread_cond_broadcast(&d->changed);
  trace_event("exec.exit", TA_STR("exec_id", e->id), TA_INT("exit_status", code));
  char attr[96];
  snprintf(attr, sizeof attr, "execID=%s", e->id);
  dkd_event(d, "container", "exec_die", e->container_id, NULL, NULL, attr);
  e->stdio.exited_at = e->done_at;
  dkd_stdio_wait_drained(d, &e->stdio);
  dkd_stdio_close(&e->stdio);
  pthread_mutex_unlock(&d->lock);
  return NULL; /* e is not touched after this: dkd_sweep may free it */
}

/* containerd's task/exec with the exec's FIFOs, then the relay and the
 * monitor. */
static int
exec_launch(dkd *d, dkd_exec *e, cut_err *err)
{
  const cJSON *c = e->config;
  cJSON *b = cJSON_CreateObject(), *user = NULL;
  cJSON_AddStringToObject(b, "exec_id", e->id);
  cJSON_AddItemToObject(b, "args", cJSON_Duplicate(cJSON_GetObjectItem(c, "Cmd"), true));
  const cJSON *env = cJSON_GetObjectItem(c, "Env");
  if (cJSON_IsArray(env))
    cJSON_AddItemToObject(b, "env", cJSON_Duplicate(env, true));
  const char *wd = cJSON_GetStringValue(cJSON_GetObjectItem(c, "WorkingDir"));
  if (wd && *wd)
    cJSON_AddStringToObject(b, "cwd", wd);
  exec_user(cJSON_GetStringValue(cJSON_GetObjectItem(c, "User")), &user, err);
  if (user)
    cJSON_AddItemToObject(b, "user", user);
  dkd_stdio_body(&e->stdio, b);
  char path[300];
  snprintf(path, sizeof path, "/v1/containers/%s/task/exec", e->container_id);
  cJSON *out = NULL;
  long st = 0;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "exec.Start", TA_STR("exec_id", e->id),
              TA_STR("container", e->container_id));
  int r = dkd_ctd(d, "POST", path, b, &st, &out, err);
  trace_end(&sp, r < 0 ? err : NULL);
  cJSON_Delete(b);
  if (r < 0) {
    cJSON_Delete(out);
    return -1;
  }
  pthread_mutex_lock(&d->lock);
  e->pid = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(out, "pid"));
  e->running = true;
  pthread_mutex_unlock(&d->lock);
  cJSON_Delete(out);
  dkd_stdio_start(d, &e->stdio);
  char action[300], attr[96];
  const cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "Cmd"), 0);
  snprintf(action, sizeof action, "exec_start: %s", cJSON_IsString(a0) ? a0->valuestring : "");
  snprintf(attr, sizeof attr, "execID=%s", e->id);
  dkd_event(d, "container", action, e->container_id, NULL, NULL, attr);
  struct exec_run *x = malloc(sizeof *x);
  *x = (struct exec_run){.d = d, .e = e};
  if (cut_thread_detached(exec_monitor, x, 0) < 0)
    free(x);
  return 0;
}

/* A failed launch: the client's stream ends with the error on stderr. */
static void
exec_failed(dkd *d, dkd_exec *e, const cut_err *err)
{
  pthread_mutex_lock(&d->lock);
  e->exit_code = strstr(err->msg, "No such file") ? 127 : 126;
  e->done = true;
  e->done_at = dkd_monotonic();
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  char msg[CUT_ERR_MAX + 64];
  snprintf(msg, sizeof msg, "OCI runtime exec failed: %s\r\n", err->msg);
  dkd_stdio_close_attachers(d, &e->stdio, msg);
  dkd_stdio_close(&e->stdio);
}

static void
on_attached(dkd *d, void *arg)
{
  dkd_exec *e = arg;
  cut_err err;
  if (exec_launch(d, e, &err) < 0)
    exec_failed(d, e, &err);
}

static void
exec_close_stdin(dkd *d, void *arg)
{
  dkd_exec *e = arg;
  char path[300];
  cut_err err;
  exec_path(e, "/closeio", path, sizeof path);
  dkd_ctd(d, "POST", path, NULL, NULL, NULL, &err);
}

void
dkd_h_exec_start(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0)
    return;
  pthread_mutex_lock(&d->lock);
  dkd_exec *e = exec_find(d, httpd_param(req, "id"));
  if (e == NULL || e->started) {
    pthread_mutex_unlock(&d->lock);
    if (e)
      httpd_reply_error(req, 409, "Exec %s has already been started", e->id);
    else
      httpd_reply_error(req, 404, "No such exec instance: %s", httpd_param(req, "id"));
    return;
  }
  e->started = true;
  const cJSON *c = e->config;
  bool tty = cJSON_IsTrue(cJSON_GetObjectItem(c, "Tty"));
  bool in = cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStdin"));
  bool detach = cJSON_IsTrue(cJSON_GetObjectItem(body, "Detach"));
  cut_err err;
  int r = dkd_stdio_open(d, &e->stdio, e->id, tty, in && !detach, &err);
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  if (detach) {
    if (exec_launch(d, e, &err) < 0) {
      exec_failed(d, e, &err); /* done, FIFOs closed: nothing left */
      dkd_reply_err(req, 500, &err);
      return;
    }
    httpd_reply_raw(req, 200, NULL, "", 0);
    return;
  }
  dkd_hijack_hooks hooks = {.on_attached = on_attached, .on_stdin_eof = exec_close_stdin, .arg = e};
  dkd_reply_hijack(req, d, &e->stdio, cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStdout")),
                   cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStderr")), in, tty, &hooks);
}

void
dkd_h_exec_inspect(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_exec *e = exec_find(d, httpd_param(req, "id"));
  if (e == NULL) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_error(req, 404, "No such exec instance: %s", httpd_param(req, "id"));
    return;
  }
  /* The CLI asks right after the stream closed: the exit is recorded a
   * moment later by the monitor, so wait for it (bounded). */
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += 5;
  while (e->running && e->stdio.drained && !e->done)
    if (pthread_cond_timedwait(&d->changed, &d->lock, &end) == ETIMEDOUT)
      break;
  const cJSON *c = e->config;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "ID", e->id);
  cJSON_AddBoolToObject(o, "Running", e->running);
  if (e->done)
    cJSON_AddNumberToObject(o, "ExitCode", e->exit_code);
  else
    cJSON_AddNullToObject(o, "ExitCode");
  cJSON *pc = cJSON_AddObjectToObject(o, "ProcessConfig");
  cJSON_AddBoolToObject(pc, "tty", cJSON_IsTrue(cJSON_GetObjectItem(c, "Tty")));
  const cJSON *cmd = cJSON_GetObjectItem(c, "Cmd");
  const cJSON *first = cJSON_GetArrayItem(cmd, 0);
  cJSON_AddStringToObject(pc, "entrypoint", cJSON_IsString(first) ? first->valuestring : "");
  cJSON *args = cJSON_AddArrayToObject(pc, "arguments");
  for (const cJSON *it = first ? first->next : NULL; it; it = it->next)
    cJSON_AddItemToArray(args, cJSON_Duplicate(it, true));
  cJSON_AddBoolToObject(o, "OpenStdin", cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStdin")));
  cJSON_AddBoolToObject(o, "OpenStdout", cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStdout")));
  cJSON_AddBoolToObject(o, "OpenStderr", cJSON_IsTrue(cJSON_GetObjectItem(c, "AttachStderr")));
  cJSON_AddBoolToObject(o, "CanRemove", e->done);
  cJSON_AddStringToObject(o, "ContainerID", e->container_id);
  cJSON_AddStringToObject(o, "DetachKeys", "");
  cJSON_AddNumberToObject(o, "Pid", e->pid);
  pthread_mutex_unlock(&d->lock);
  httpd_reply_json(req, 200, o);
}

void
dkd_h_exec_resize(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_exec *e = exec_find(d, httpd_param(req, "id"));
  bool running = e && e->running;
  pthread_mutex_unlock(&d->lock);
  if (!running) {
    httpd_reply_error(req, e ? 409 : 404, "cannot resize a stopped exec");
    return;
  }
  const char *h = httpd_query(req, "h"), *w = httpd_query(req, "w");
  cJSON *b = cJSON_CreateObject();
  cJSON_AddNumberToObject(b, "width", w ? atoi(w) : 80);
  cJSON_AddNumberToObject(b, "height", h ? atoi(h) : 24);
  cJSON_AddStringToObject(b, "exec", e->id);
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s/task/resize", e->container_id);
  cut_err err;
  int r = dkd_ctd(d, "POST", path, b, NULL, NULL, &err);
  cJSON_Delete(b);
  if (r < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  httpd_reply_raw(req, 200, NULL, "", 0);
}
