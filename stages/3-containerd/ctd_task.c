/* ctd_task.c: tasks, the running side of a container (containerd's tasks
 * service and its runtime v2 "shim manager").
 *
 * tasks.Create does, in order (each a span):
 *   snapshot.prepare  an active snapshot over the image's chain, mounted
 *                     with overlayfs at EXEC_ROOT/tasks/<id>/rootfs
 *   bundle            config.json written next to it (the OCI bundle)
 *   shim.Start        cutaway-shim started in its own session; it forks,
 *                     the child serves EXEC_ROOT/s/<hash>.sock (dir 0700)
 *   POST /create      to the shim, which runs `runtime create`
 *   task.json         written last: from here on the task survives a
 *                     restart of containerd
 *
 * One monitor thread per task long-polls the shim's /wait; when it returns
 * the task is stopped and /tasks/exit is published.  After containerd is
 * killed and restarted, ctd_tasks_recover() reads every task.json, asks
 * each shim for its state and restarts the monitors; a shim that died
 * meanwhile left exit.json, else the exit is unknown (255, as containerd
 * reports).  A task directory without task.json is an interrupted create:
 * its shim is stopped, its runtime state deleted, its rootfs unmounted and
 * the directory removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgwarm.h"
#include "ctd.h"
#include "digest.h"
#include "fileutil.h"
#include "httpc.h"
#include "json.h"
#include "proc.h"
#include "thread.h"
#include "trace.h"

const char *
ctd_task_status_name(enum ctd_task_status s)
{
  static const char *const names[] = {"created", "running", "paused", "stopped", "unknown"};
  return names[s];
}

ctd_task *
ctd_task_find(ctd *c, const char *id)
{
  for (ctd_task *t = c->tasks; t; t = t->next)
    if (strcmp(t->id, id) == 0)
      return t;
  return NULL;
}

static void
task_paths(ctd *c, const char *id, char *dir, size_t dlen, char *sock, size_t slen)
{
  ctd_fmt(dir, dlen, "%s/tasks/%s", c->exec_root, id);
  /* Socket paths are limited to 108 bytes: a short hash of the id. */
  char d[CUT_DIGEST_LEN + 1];
  cut_err e;
  if (cut_sha256_buf(id, strlen(id), d, &e) < 0)
    ctd_fmt(d, sizeof d, "sha256:%s", id);
  ctd_fmt(sock, slen, "%s/s/%.16s.sock", c->exec_root, d + 7);
}

static void
runtime_root(ctd *c, char *out, size_t len)
{
  ctd_fmt(out, len, "%s/runtime", c->exec_root);
}

/* A call to the task's shim.  Transport errors are 503 (the shim is gone). */
static int
shim_call(const ctd_task *t, const char *method, const char *path, const cJSON *body, long *status,
          cJSON **out, cut_err *err)
{
  httpc_opts o = {.peer = "cutaway-shim"};
  long st = 0;
  int r = httpc_json(t->socket, method, path, body, &o, &st, out, err);
  if (status)
    *status = r < 0 && st == 0 ? 503 : st;
  return r;
}

static int
write_task_json(const ctd_task *t, cut_err *err)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", t->id);
  cJSON_AddStringToObject(o, "socket", t->socket);
  cJSON_AddNumberToObject(o, "shim_pid", t->shim_pid);
  cJSON_AddNumberToObject(o, "pid", t->pid);
  char path[PATH_MAX];
  ctd_fmt(path, sizeof path, "%s/task.json", t->dir);
  int r = ctd_json_write_volatile(path, o, false, err);
  cJSON_Delete(o);
  return r;
}

/* The exit recorded by a shim that is no longer there. */
static void
read_exit_file(ctd_task *t)
{
  char path[PATH_MAX];
  ctd_fmt(path, sizeof path, "%s/exit.json", t->dir);
  cJSON *doc = NULL;
  cut_err e;
  int64_t st = 255;
  const char *at = "";
  if (json_read_file(path, 4096, &doc, &e) == 0) {
    json_get_int64(doc, "exit_status", "exit_status", false, &st, &e);
    json_get_string(doc, "exited_at", "exited_at", false, &at, &e);
  }
  t->exit_status = (int)st;
  ctd_fmt(t->exited_at, sizeof t->exited_at, "%s", *at ? at : "");
  if (!*t->exited_at)
    ctd_now_rfc3339(t->exited_at);
  cJSON_Delete(doc);
}

/* ---- the monitor ---- */

struct monitor_arg {
  ctd *c;
  char id[CTD_ID_MAX + 1];
};

static bool
oom_killed(const char *cgroups_path)
{
  const char *const files[] = {"/sys/fs/cgroup/memory%s/memory.oom_control",
                               "/sys/fs/cgroup%s/memory.events"};
  for (size_t i = 0; i < 2; i++) {
    char path[PATH_MAX];
    ctd_fmt(path, sizeof path, files[i], cgroups_path);
    FILE *f = fopen(path, "re");
    if (f == NULL)
      continue;
    char key[64];
    long long v;
    bool oom = false;
    while (fscanf(f, "%63s %lld", key, &v) == 2)
      if (strcmp(key, "oom_kill") == 0 && v > 0)
        oom = true;
    fclose(f);
    return oom;
  }
  return false;
}

static void
task_cgroups_path(ctd *c, const char *id, char *out, size_t len)
{
  out[0] = '\0';
  pthread_mutex_lock(&c->lock);
  ctd_container *k = ctd_container_find(c, id);
  const cJSON *spec = k ? cJSON_GetObjectItem(k->record, "spec") : NULL;
  const cJSON *cg = cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "linux"), "cgroupsPath");
  if (cJSON_IsString(cg))
    ctd_fmt(out, len, "%s", cg->valuestring);
  pthread_mutex_unlock(&c->lock);
}

static void *
monitor_thread(void *arg)
{
  struct monitor_arg *m = arg;
  ctd *c = m->c;
  pthread_mutex_lock(&c->lock);
  ctd_task *t = ctd_task_find(c, m->id);
  ctd_task copy = t ? *t : (ctd_task){0};
  pthread_mutex_unlock(&c->lock);
  if (t == NULL) {
    free(m);
    return NULL;
  }
  cJSON *out = NULL;
  cut_err err;
  long status = 0;
  int r = shim_call(&copy, "GET", "/wait", NULL, &status, &out, &err);
  if (c->stopping) {
    cJSON_Delete(out);
    free(m);
    return NULL;
  }
  char cg[512];
  task_cgroups_path(c, m->id, cg, sizeof cg);
  bool oom = *cg && oom_killed(cg);
  pthread_mutex_lock(&c->lock);
  t = ctd_task_find(c, m->id);
  if (t) {
    if (r == 0) {
      int64_t st = 255;
      const char *at = "";
      json_get_int64(out, "exit_status", "exit_status", false, &st, &err);
      json_get_string(out, "exited_at", "exited_at", false, &at, &err);
      t->exit_status = (int)st;
      ctd_fmt(t->exited_at, sizeof t->exited_at, "%s", at);
    } else {
      read_exit_file(t);
    }
    t->status = TASK_STOPPED;
    t->monitoring = false;
    copy = *t;
    pthread_cond_broadcast(&c->task_cv);
  }
  pthread_mutex_unlock(&c->lock);
  cJSON_Delete(out);
  if (t) {
    if (oom) {
      cJSON *ev = cJSON_CreateObject();
      cJSON_AddStringToObject(ev, "container_id", m->id);
      ctd_publish(c, "/tasks/oom", ev);
    }
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "container_id", m->id);
    cJSON_AddNumberToObject(ev, "pid", copy.pid);
    cJSON_AddNumberToObject(ev, "exit_status", copy.exit_status);
    cJSON_AddStringToObject(ev, "exited_at", copy.exited_at);
    ctd_publish(c, "/tasks/exit", ev);
  }
  free(m);
  return NULL;
}

static void
start_monitor(ctd *c, ctd_task *t)
{
  struct monitor_arg *m = calloc(1, sizeof *m);
  m->c = c;
  ctd_fmt(m->id, sizeof m->id, "%s", t->id);
  t->monitoring = true;
  /* Small stacks: one monitor per running container. */
  if (cut_thread_detached(monitor_thread, m, 256 * 1024) < 0) {
    t->monitoring = false;
    free(m);
  }
}

/* ---- create ---- */

/* Start the shim: it prints its pid once its socket is listening. */
static void *
cgroup_warm_thread(void *arg)
{
  cut_cgroup_warm_write(arg);
  free(arg);
  return NULL;
}

/* A detached thread does the warm-up write under the current span. */
static void
cgroup_warm_async(void)
{
  char *tp = malloc(TRACEPARENT_LEN);
  if (tp == NULL)
    return;
  if (!trace_traceparent(NULL, tp)) {
    free(tp);
    tp = NULL;
  }
  if (cut_thread_detached(cgroup_warm_thread, tp, 0) < 0)
    free(tp);
}

static int
shim_start(ctd *c, ctd_task *t, const char *runtime, cut_err *err)
{
  char rroot[PATH_MAX], log[PATH_MAX];
  runtime_root(c, rroot, sizeof rroot);
  ctd_fmt(log, sizeof log, "%s/containers/%s/%s-json.log", c->root, t->id, t->id);
  trace_span sp;
  trace_begin(&sp, TRACE_CLIENT, "shim.Start", TA_STR("shim", c->shim), TA_STR("socket", t->socket),
              TA_STR("runtime", runtime), TA_STR("peer", "cutaway-shim"));
  char *argv[] = {c->shim,   "--id",      t->id,           "--bundle",       t->dir, "--socket",
                  t->socket, "--runtime", (char *)runtime, "--runtime-root", rroot,  "--log",
                  log,       NULL};
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) {
    cut_error(err, errno, "shim.Start: pipe");
    trace_end(&sp, err);
    return -1;
  }
  char tp[TRACEPARENT_LEN + 16];
  extern char **environ;
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "TRACEPARENT=", 12) != 0)
      env[k++] = environ[i];
  if (trace_env_entry(tp))
    env[k++] = tp;
  cut_spawn_opts so = {
      .envp = env, .stdin_fd = -1, .stdout_fd = out[1], .stderr_fd = out[1], .new_session = true};
  pid_t pid;
  int r = cut_spawn(argv, &so, &pid, err);
  free(env);
  close(out[1]);
  char buf[1200] = "";
  size_t len = 0;
  if (r == 0) {
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(out[0], buf + len, sizeof buf - 1 - len)) != 0) {
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        break;
      len += (size_t)got;
    }
    buf[len] = '\0';
    int st;
    if (cut_wait_timeout(pid, 10000, &st, err) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      if (!(WIFEXITED(st)))
        kill(pid, SIGKILL);
      buf[strcspn(buf, "\n")] = '\0';
      r = cut_error(err, 0, "start shim: %s", *buf ? buf : "failed");
    } else {
      t->shim_pid = (pid_t)strtol(buf, NULL, 10);
    }
  }
  close(out[0]);
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("shim_pid", t->shim_pid));
  return r;
}

/* Undo what a create did (any step may be missing). */
static void
task_teardown(ctd *c, const ctd_task *t, bool shim_started)
{
  cut_err e;
  if (shim_started) {
    long st;
    if (shim_call(t, "POST", "/delete?force=1", NULL, &st, NULL, &e) < 0 && t->shim_pid > 0)
      kill(t->shim_pid, SIGKILL);
  }
  char rootfs[PATH_MAX];
  ctd_fmt(rootfs, sizeof rootfs, "%s/rootfs", t->dir);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "umount", TA_STR("target", rootfs));
  trace_end_sys(&sp, umount2(rootfs, MNT_DETACH));
  cut_rm_rf(t->dir, &e);
}

static int
write_bundle_config(const ctd_task *t, const cJSON *spec, cut_err *err)
{
  cJSON *s = cJSON_Duplicate(spec, true);
  cJSON *root = cJSON_GetObjectItem(s, "root");
  if (root == NULL)
    root = cJSON_AddObjectToObject(s, "root");
  char rootfs[PATH_MAX];
  ctd_fmt(rootfs, sizeof rootfs, "%s/rootfs", t->dir);
  cJSON_DeleteItemFromObject(root, "path");
  cJSON_AddStringToObject(root, "path", rootfs);
  char path[PATH_MAX];
  ctd_fmt(path, sizeof path, "%s/config.json", t->dir);
  int r = ctd_json_write_volatile(path, s, true, err);
  cJSON_Delete(s);
  return r;
}

static cJSON *
stdio_body(const cJSON *body)
{
  cJSON *o = cJSON_CreateObject();
  const char *keys[] = {"stdin", "stdout", "stderr"};
  for (size_t i = 0; i < 3; i++) {
    const cJSON *v = cJSON_GetObjectItem(body, keys[i]);
    if (cJSON_IsString(v))
      cJSON_AddStringToObject(o, keys[i], v->valuestring);
  }
  return o;
}

void
ctd_h_task_create(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  const char *id = httpd_param(req, "id");
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0)
    return;
  pthread_mutex_lock(&c->lock);
  ctd_container *k = ctd_container_find(c, id);
  if (k == NULL || k->record == NULL) {
    pthread_mutex_unlock(&c->lock);
    httpd_reply_error(req, 404, "container %s: not found", id);
    return;
  }
  if (ctd_task_find(c, id)) {
    pthread_mutex_unlock(&c->lock);
    httpd_reply_error(req, 409, "container %s: already has a task", id);
    return;
  }
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_lock(&k->busy);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Create", TA_STR("id", id));
  cut_err err;
  unsigned status = 500;
  ctd_task *t = calloc(1, sizeof *t);
  ctd_fmt(t->id, sizeof t->id, "%s", id);
  task_paths(c, id, t->dir, sizeof t->dir, t->socket, sizeof t->socket);
  bool shim_started = false, made_dir = false;
  pthread_mutex_lock(&c->lock);
  bool dup = ctd_task_find(c, id) != NULL;
  const cJSON *spec = cJSON_GetObjectItem(k->record, "spec");
  const cJSON *rt = cJSON_GetObjectItem(k->record, "runtime");
  const cJSON *parent = cJSON_GetObjectItem(k->record, "snapshot_parent");
  char runtime[CTD_DIR_MAX], parent_key[80];
  ctd_fmt(runtime, sizeof runtime, "%s", cJSON_IsString(rt) ? rt->valuestring : c->runtime);
  ctd_fmt(parent_key, sizeof parent_key, "%s", cJSON_IsString(parent) ? parent->valuestring : "");
  bool have_snap = ctd_snap_find(c, id) != NULL;
  bool auto_remove = cJSON_IsTrue(cJSON_GetObjectItem(k->record, "auto_remove"));
  /* A terminal is the spec's business (process.terminal), as containerd's
   * shim reads it from the bundle: the shim then needs a console socket. */
  bool terminal =
      cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "process"), "terminal"));
  pthread_mutex_unlock(&c->lock);
  if (dup) {
    ctd_err(&err, EEXIST, "container %s: already has a task", id);
    status = 409;
    goto fail;
  }
  char rootfs[PATH_MAX];
  ctd_fmt(rootfs, sizeof rootfs, "%s/rootfs", t->dir);
  if (mkdir(t->dir, 0711) < 0 || mkdir(rootfs, 0755) < 0) {
    cut_error(&err, errno, "task dir %s", t->dir);
    goto fail;
  }
  made_dir = true;

  trace_span ssp;
  trace_begin(&ssp, TRACE_INTERNAL, "snapshot.prepare", TA_STR("key", id),
              TA_STR("parent", parent_key));
  int r = have_snap ? 0 : ctd_snap_prepare(c, id, parent_key, false, &err);
  if (r == 0)
    r = ctd_snap_mount(c, id, rootfs, auto_remove, &err);
  trace_end(&ssp, r < 0 ? &err : NULL);
  if (r < 0)
    goto fail;

  /* The runtime will move the container's init into a cgroup; get the
   * kernel's RCU wait for that (cgwarm.h) going now, while the shim starts. */
  cgroup_warm_async();
  if (write_bundle_config(t, spec, &err) < 0 || shim_start(c, t, runtime, &err) < 0)
    goto fail;
  shim_started = true;

  cJSON *sb = stdio_body(body), *out = NULL;
  cJSON_AddBoolToObject(sb, "terminal", terminal);
  long st;
  r = shim_call(t, "POST", "/create", sb, &st, &out, &err);
  cJSON_Delete(sb);
  if (r < 0) {
    status = st >= 400 && st < 500 ? (unsigned)st : 500;
    goto fail;
  }
  int64_t pid = 0;
  json_get_int64(out, "pid", "pid", false, &pid, &err);
  cJSON_Delete(out);
  ctd_failpoint("tasks.create.before_state");
  t->pid = (pid_t)pid;
  t->status = TASK_CREATED;
  if (write_task_json(t, &err) < 0)
    goto fail;
  pthread_mutex_lock(&c->lock);
  t->next = c->tasks;
  c->tasks = t;
  start_monitor(c, t);
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_unlock(&k->busy);
  trace_end(&sp, NULL, TA_INT("pid", pid));
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", id);
  cJSON_AddNumberToObject(ev, "pid", (double)pid);
  cJSON_AddStringToObject(ev, "bundle", t->dir);
  ctd_publish(c, "/tasks/create", ev);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "pid", (double)pid);
  httpd_reply_json(req, 201, o);
  return;
fail:
  trace_end(&sp, &err);
  if (made_dir)
    task_teardown(c, t, shim_started);
  pthread_mutex_unlock(&k->busy);
  free(t);
  httpd_reply_err(req, status, &err);
}

/* ---- the rest of the task API: find the task, call its shim ---- */

/* A snapshot of the task for a call made without the lock. */
static int
task_get(httpd_req *req, ctd *c, ctd_task *out)
{
  const char *id = httpd_param(req, "id");
  pthread_mutex_lock(&c->lock);
  ctd_task *t = ctd_task_find(c, id);
  if (t)
    *out = *t;
  pthread_mutex_unlock(&c->lock);
  if (t == NULL) {
    bool has_container = ctd_container_find(c, id) != NULL;
    httpd_reply_error(req, 404, "%s %s: %s", has_container ? "task" : "container", id,
                      has_container ? "not found (no task created)" : "not found");
    return -1;
  }
  return 0;
}

static void
set_status(ctd *c, const char *id, enum ctd_task_status s)
{
  pthread_mutex_lock(&c->lock);
  ctd_task *t = ctd_task_find(c, id);
  if (t && t->status != TASK_STOPPED)
    t->status = s;
  pthread_cond_broadcast(&c->task_cv);
  pthread_mutex_unlock(&c->lock);
}

static void
reply_shim_error(httpd_req *req, long st, const cut_err *err)
{
  httpd_reply_err(req, st >= 400 && st < 600 ? (unsigned)st : 500, err);
}

static cJSON *
task_json(const ctd_task *t)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", t->id);
  cJSON_AddNumberToObject(o, "pid", t->pid);
  cJSON_AddStringToObject(o, "status", ctd_task_status_name(t->status));
  cJSON_AddNumberToObject(o, "shim_pid", t->shim_pid);
  cJSON_AddStringToObject(o, "bundle", t->dir);
  if (t->status == TASK_STOPPED) {
    cJSON_AddNumberToObject(o, "exit_status", t->exit_status);
    cJSON_AddStringToObject(o, "exited_at", t->exited_at);
  }
  return o;
}

void
ctd_h_tasks_list(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&c->lock);
  for (ctd_task *t = c->tasks; t; t = t->next)
    cJSON_AddItemToArray(a, task_json(t));
  pthread_mutex_unlock(&c->lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "tasks", a);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_task_get(httpd_req *req, void *ctx)
{
  ctd_task t;
  if (task_get(req, ctx, &t) < 0)
    return;
  httpd_reply_json(req, 200, task_json(&t));
}

void
ctd_h_task_start(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  if (task_get(req, c, &t) < 0)
    return;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Start", TA_STR("id", t.id));
  cut_err err;
  long st;
  cJSON *out = NULL;
  int r = shim_call(&t, "POST", "/start", NULL, &st, &out, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    reply_shim_error(req, st, &err);
    return;
  }
  set_status(c, t.id, TASK_RUNNING);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", t.id);
  cJSON_AddNumberToObject(ev, "pid", t.pid);
  ctd_publish(c, "/tasks/start", ev);
  httpd_reply_json(req, 200, out);
}

/* Long poll: returns when the task (or ?exec=ID) has exited. */
void
ctd_h_task_wait(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  if (task_get(req, c, &t) < 0)
    return;
  const char *exec_id = httpd_query(req, "exec");
  if (exec_id && *exec_id) {
    char path[200];
    ctd_fmt(path, sizeof path, "/wait?exec=%.100s", exec_id);
    cut_err err;
    long st;
    cJSON *out = NULL;
    if (shim_call(&t, "GET", path, NULL, &st, &out, &err) < 0) {
      reply_shim_error(req, st, &err);
      return;
    }
    httpd_reply_json(req, 200, out);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Wait", TA_STR("id", t.id));
  pthread_mutex_lock(&c->lock);
  ctd_task *tp;
  while ((tp = ctd_task_find(c, t.id)) && tp->status != TASK_STOPPED &&
         !httpd_stopping(httpd_server(req))) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 1;
    pthread_cond_timedwait(&c->task_cv, &c->lock, &dl);
    if (httpd_client_gone(req))
      break;
  }
  cJSON *o = NULL;
  if (tp && tp->status == TASK_STOPPED) {
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exit_status", tp->exit_status);
    cJSON_AddStringToObject(o, "exited_at", tp->exited_at);
  }
  pthread_mutex_unlock(&c->lock);
  const cJSON *es = cJSON_GetObjectItem(o, "exit_status");
  trace_end(&sp, NULL, TA_INT("exit_status", cJSON_IsNumber(es) ? es->valueint : -1));
  if (o == NULL) {
    httpd_reply_error(req, tp ? 503 : 404, "task %s: %s", t.id,
                      tp ? "wait interrupted" : "deleted while waiting");
    return;
  }
  httpd_reply_json(req, 200, o);
}

void
ctd_h_task_kill(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0 || task_get(req, c, &t) < 0)
    return;
  if (t.status == TASK_STOPPED) {
    httpd_reply_error(req, 409, "task %s: already stopped", t.id);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Kill", TA_STR("id", t.id));
  cut_err err;
  long st;
  int r = shim_call(&t, "POST", "/kill", body, &st, NULL, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    reply_shim_error(req, st, &err);
    return;
  }
  httpd_reply_json(req, 200, NULL);
}

void
ctd_h_task_delete(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  if (task_get(req, c, &t) < 0)
    return;
  const char *exec_id = httpd_query(req, "exec");
  bool force = httpd_query_bool(req, "force");
  cut_err err;
  long st;
  if (exec_id && *exec_id) {
    char path[200];
    ctd_fmt(path, sizeof path, "/delete?exec=%.100s", exec_id);
    cJSON *out = NULL;
    if (shim_call(&t, "POST", path, NULL, &st, &out, &err) < 0) {
      reply_shim_error(req, st, &err);
      return;
    }
    httpd_reply_json(req, 200, out);
    return;
  }
  if (t.status != TASK_STOPPED && t.status != TASK_CREATED && !force) {
    httpd_reply_error(req, 409, "task %s: is %s, kill it first (or ?force=1)", t.id,
                      ctd_task_status_name(t.status));
    return;
  }
  ctd_container *k;
  pthread_mutex_lock(&c->lock);
  k = ctd_container_find(c, t.id);
  pthread_mutex_unlock(&c->lock);
  if (k)
    pthread_mutex_lock(&k->busy);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Delete", TA_STR("id", t.id));
  cJSON *out = NULL;
  int r = shim_call(&t, "POST", force ? "/delete?force=1" : "/delete", NULL, &st, &out, &err);
  if (r < 0 && st != 503) {
    trace_end(&sp, &err);
    if (k)
      pthread_mutex_unlock(&k->busy);
    reply_shim_error(req, st, &err);
    return;
  }
  if (r < 0) {
    /* The shim is gone: clean the runtime's state ourselves. */
    char rroot[PATH_MAX];
    runtime_root(c, rroot, sizeof rroot);
    pthread_mutex_lock(&c->lock);
    const cJSON *rt = k ? cJSON_GetObjectItem(k->record, "runtime") : NULL;
    char runtime[CTD_DIR_MAX];
    ctd_fmt(runtime, sizeof runtime, "%s", cJSON_IsString(rt) ? rt->valuestring : c->runtime);
    pthread_mutex_unlock(&c->lock);
    char *argv[] = {runtime, "--root", rroot, "delete", "--force", t.id, NULL};
    pid_t pid;
    int wst;
    cut_err e2;
    if (cut_spawn(argv, NULL, &pid, &e2) == 0)
      cut_wait_timeout(pid, 10000, &wst, &e2);
  }
  /* Wait for the monitor to record the exit (the shim answered /wait
   * before it went away). */
  pthread_mutex_lock(&c->lock);
  ctd_task *tp = ctd_task_find(c, t.id);
  for (int i = 0; tp && tp->monitoring && i < 50; i++) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 100 * 1000 * 1000;
    if (dl.tv_nsec >= 1000000000) {
      dl.tv_sec++;
      dl.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&c->task_cv, &c->lock, &dl);
    tp = ctd_task_find(c, t.id);
  }
  int exit_status = 255;
  if (tp && tp->status == TASK_STOPPED)
    exit_status = tp->exit_status;
  else if (out) {
    int64_t v = 255;
    json_get_int64(out, "exit_status", "exit_status", false, &v, &err);
    exit_status = (int)v;
  }
  for (ctd_task **pp = &c->tasks; *pp; pp = &(*pp)->next)
    if (*pp == tp) {
      *pp = tp->next;
      break;
    }
  pthread_mutex_unlock(&c->lock);
  task_teardown(c, &t, false);
  free(tp);
  if (k)
    pthread_mutex_unlock(&k->busy);
  trace_end(&sp, NULL, TA_INT("exit_status", exit_status));
  cJSON_Delete(out);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", t.id);
  cJSON_AddNumberToObject(ev, "pid", t.pid);
  cJSON_AddNumberToObject(ev, "exit_status", exit_status);
  ctd_publish(c, "/tasks/delete", ev);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "exit_status", exit_status);
  httpd_reply_json(req, 200, o);
}

/* POST .../task/exec {"exec_id", "args", "env"?, "cwd"?, "user"?,
 * "terminal"?, "stdin"?, "stdout"?, "stderr"?}: the process is the
 * container's own process spec with these replaced (what ctr and
 * docker exec send). */
void
ctd_h_task_exec(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0 || task_get(req, c, &t) < 0)
    return;
  const char *exec_id = NULL, *cwd = NULL;
  const cJSON *args = NULL, *env = NULL, *user = NULL;
  cut_err err;
  if (json_get_string(body, "exec_id", "exec_id", true, &exec_id, &err) < 0 ||
      json_get_array(body, "args", "args", true, &args, &err) < 0 ||
      json_get_array(body, "env", "env", false, &env, &err) < 0 ||
      json_get_object(body, "user", "user", false, &user, &err) < 0 ||
      json_get_string(body, "cwd", "cwd", false, &cwd, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  if (!ctd_valid_id(exec_id)) {
    httpd_reply_error(req, 400, "exec id \"%.80s\": invalid", exec_id);
    return;
  }
  if (cJSON_GetArraySize(args) == 0) {
    httpd_reply_error(req, 400, "args: at least the program to run");
    return;
  }
  if (t.status != TASK_RUNNING) {
    httpd_reply_error(req, 409, "task %s: is %s, cannot exec into it", t.id,
                      ctd_task_status_name(t.status));
    return;
  }
  pthread_mutex_lock(&c->lock);
  ctd_container *k = ctd_container_find(c, t.id);
  const cJSON *spec = k ? cJSON_GetObjectItem(k->record, "spec") : NULL;
  cJSON *proc = cJSON_Duplicate(cJSON_GetObjectItem(spec, "process"), true);
  pthread_mutex_unlock(&c->lock);
  if (proc == NULL)
    proc = cJSON_CreateObject();
  cJSON_DeleteItemFromObject(proc, "args");
  cJSON_AddItemToObject(proc, "args", cJSON_Duplicate(args, true));
  const cJSON *it;
  cJSON *penv = cJSON_GetObjectItem(proc, "env");
  if (penv == NULL)
    penv = cJSON_AddArrayToObject(proc, "env");
  cJSON_ArrayForEach(it, env) if (cJSON_IsString(it))
      cJSON_AddItemToArray(penv, cJSON_CreateString(it->valuestring));
  if (cwd) {
    cJSON_DeleteItemFromObject(proc, "cwd");
    cJSON_AddStringToObject(proc, "cwd", cwd);
  }
  if (user) {
    cJSON_DeleteItemFromObject(proc, "user");
    cJSON_AddItemToObject(proc, "user", cJSON_Duplicate(user, true));
  }
  cJSON_DeleteItemFromObject(proc, "terminal");
  cJSON_AddBoolToObject(proc, "terminal", cJSON_IsTrue(cJSON_GetObjectItem(body, "terminal")));
  cJSON *sb = stdio_body(body);
  cJSON_AddStringToObject(sb, "exec_id", exec_id);
  cJSON_AddItemToObject(sb, "process", proc);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Exec", TA_STR("id", t.id), TA_STR("exec_id", exec_id));
  long st;
  cJSON *out = NULL;
  int r = shim_call(&t, "POST", "/exec", sb, &st, &out, &err);
  cJSON_Delete(sb);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    reply_shim_error(req, st, &err);
    return;
  }
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", t.id);
  cJSON_AddStringToObject(ev, "exec_id", exec_id);
  ctd_publish(c, "/tasks/exec-started", ev);
  httpd_reply_json(req, 200, out);
}

/* Forward a request to the task's shim; 0 when it succeeded. */
static int
proxy(httpd_req *req, ctd *c, const char *method, const char *path, const cJSON *body,
      const char *span, bool need_running)
{
  ctd_task t;
  if (task_get(req, c, &t) < 0)
    return -1;
  if (need_running && t.status == TASK_STOPPED) {
    httpd_reply_error(req, 409, "task %s: is stopped", t.id);
    return -1;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, span, TA_STR("id", t.id));
  cut_err err;
  long st;
  cJSON *out = NULL;
  int r = shim_call(&t, method, path, body, &st, &out, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    reply_shim_error(req, st, &err);
    return -1;
  }
  httpd_reply_json(req, 200, out);
  return 0;
}

void
ctd_h_task_pause(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  if (proxy(req, c, "POST", "/pause", NULL, "tasks.Pause", true) < 0)
    return;
  set_status(c, httpd_param(req, "id"), TASK_PAUSED);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", httpd_param(req, "id"));
  ctd_publish(c, "/tasks/paused", ev);
}

void
ctd_h_task_resume(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  if (proxy(req, c, "POST", "/resume", NULL, "tasks.Resume", true) < 0)
    return;
  set_status(c, httpd_param(req, "id"), TASK_RUNNING);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "container_id", httpd_param(req, "id"));
  ctd_publish(c, "/tasks/resumed", ev);
}

void
ctd_h_task_ps(httpd_req *req, void *ctx)
{
  proxy(req, ctx, "GET", "/ps", NULL, "tasks.ListPids", true);
}

void
ctd_h_task_resize(httpd_req *req, void *ctx)
{
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  proxy(req, ctx, "POST", "/resize", body, "tasks.ResizePty", true);
}

void
ctd_h_task_closeio(httpd_req *req, void *ctx)
{
  const char *exec_id = httpd_query(req, "exec");
  char path[200] = "/closeio";
  if (exec_id && *exec_id)
    ctd_fmt(path, sizeof path, "/closeio?exec=%.100s", exec_id);
  proxy(req, ctx, "POST", path, NULL, "tasks.CloseIO", false);
}

void
ctd_h_task_metrics(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  ctd_task t;
  if (task_get(req, c, &t) < 0)
    return;
  char cg[512];
  task_cgroups_path(c, t.id, cg, sizeof cg);
  cJSON *m = NULL;
  cut_err err;
  if (ctd_metrics(cg, &m, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON_AddStringToObject(m, "id", t.id);
  httpd_reply_json(req, 200, m);
}

/* ---- restart ---- */

/* Is pid a cutaway-shim (and not a recycled pid)? */
static bool
is_shim(pid_t pid)
{
  char path[64], buf[256] = "";
  ctd_fmt(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 && strstr(buf, "cutaway-shim") != NULL;
}

/* An interrupted create: stop what it started, remove what it made. */
static void
cleanup_partial(ctd *c, const char *id, const char *dir)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "tasks.Cleanup", TA_STR("id", id), TA_STR("dir", dir));
  char path[PATH_MAX], *buf;
  size_t n;
  cut_err e;
  ctd_fmt(path, sizeof path, "%s/shim.pid", dir);
  if (cut_read_file(path, 64, &buf, &n, &e) == 0) {
    pid_t pid = (pid_t)strtol(buf, NULL, 10);
    free(buf);
    /* SIGTERM: the shim deletes its container (runtime delete --force)
     * before it exits. */
    if (pid > 0 && is_shim(pid)) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
        usleep(20 * 1000);
      if (kill(pid, 0) == 0)
        kill(pid, SIGKILL);
    }
  }
  char rroot[PATH_MAX];
  runtime_root(c, rroot, sizeof rroot);
  char *argv[] = {c->runtime, "--root", rroot, "delete", "--force", (char *)id, NULL};
  cut_spawn_opts so = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid;
  int st;
  if (cut_spawn(argv, &so, &pid, &e) == 0)
    cut_wait_timeout(pid, 10000, &st, &e);
  ctd_task t = {0};
  ctd_fmt(t.dir, sizeof t.dir, "%s", dir);
  task_teardown(c, &t, false);
  trace_end(&sp, NULL);
}

int
ctd_tasks_recover(ctd *c, cut_err *err)
{
  char dir[PATH_MAX];
  ctd_fmt(dir, sizeof dir, "%s/tasks", c->exec_root);
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : cut_error(err, errno, "open %s", dir);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char tdir[PATH_MAX], path[PATH_MAX + 16];
    ctd_fmt(tdir, sizeof tdir, "%s/%s", dir, de->d_name);
    ctd_fmt(path, sizeof path, "%s/task.json", tdir);
    cJSON *doc = NULL;
    cut_err e;
    const char *sock = NULL;
    int64_t shim_pid = 0, pid = 0;
    bool has_container = ctd_valid_id(de->d_name) && ctd_container_find(c, de->d_name);
    if (!has_container || json_read_file(path, 65536, &doc, &e) < 0 ||
        json_get_string(doc, "socket", "socket", true, &sock, &e) < 0 ||
        json_get_int64(doc, "shim_pid", "shim_pid", false, &shim_pid, &e) < 0 ||
        json_get_int64(doc, "pid", "pid", false, &pid, &e) < 0) {
      cJSON_Delete(doc);
      cleanup_partial(c, de->d_name, tdir);
      continue;
    }
    ctd_task *t = calloc(1, sizeof *t);
    ctd_fmt(t->id, sizeof t->id, "%s", de->d_name);
    ctd_fmt(t->dir, sizeof t->dir, "%s", tdir);
    ctd_fmt(t->socket, sizeof t->socket, "%s", sock);
    t->shim_pid = (pid_t)shim_pid;
    t->pid = (pid_t)pid;
    cJSON_Delete(doc);
    /* Ask the shim: it has been running the container all along. */
    cJSON *state = NULL;
    long st;
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, "tasks.Reconnect", TA_STR("id", t->id),
                TA_STR("socket", t->socket));
    if (shim_call(t, "GET", "/state", NULL, &st, &state, &e) == 0) {
      const char *s = "unknown";
      json_get_string(state, "status", "status", false, &s, &e);
      t->status = strcmp(s, "running") == 0   ? TASK_RUNNING
                  : strcmp(s, "paused") == 0  ? TASK_PAUSED
                  : strcmp(s, "created") == 0 ? TASK_CREATED
                  : strcmp(s, "stopped") == 0 ? TASK_STOPPED
                                              : TASK_UNKNOWN;
      if (t->status == TASK_STOPPED) {
        int64_t es = 255;
        const char *at = "";
        json_get_int64(state, "exit_status", "exit_status", false, &es, &e);
        json_get_string(state, "exited_at", "exited_at", false, &at, &e);
        t->exit_status = (int)es;
        ctd_fmt(t->exited_at, sizeof t->exited_at, "%s", at);
      }
    } else {
      /* The shim died while we were down: its exit file, if any. */
      t->status = TASK_STOPPED;
      read_exit_file(t);
    }
    trace_end(&sp, NULL, TA_STR("status", ctd_task_status_name(t->status)));
    cJSON_Delete(state);
    t->next = c->tasks;
    c->tasks = t;
    if (t->status != TASK_STOPPED)
      start_monitor(c, t);
  }
  closedir(d);
  return 0;
}
