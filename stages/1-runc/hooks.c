/* hooks.c: run OCI lifecycle hooks (see hooks.h for when each kind runs).
 *
 * Mirrors runc's configs.Hook.Run: the hook is fork+execve'd with its own
 * path, args and env, the state JSON on stdin, and a deadline.  Differences
 * worth knowing: stdin is a memfd holding the state instead of a pipe fed by
 * a thread (no SIGPIPE if the hook never reads it, no size limit), and the
 * hook's stdout and stderr go to a second memfd so a failing hook's own words
 * can be put in the error line without any risk of a pipe filling up. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "init.h"
#include "json.h"
#include "proc.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "trace.h"

extern char **environ;

static const char *const hook_names[HOOK_KIND_COUNT] = {
    [HOOK_PRESTART] = "prestart",
    [HOOK_CREATE_RUNTIME] = "createRuntime",
    [HOOK_CREATE_CONTAINER] = "createContainer",
    [HOOK_START_CONTAINER] = "startContainer",
    [HOOK_POSTSTART] = "poststart",
    [HOOK_POSTSTOP] = "poststop",
};

const char *
hook_kind_name(enum hook_kind kind)
{
  return kind < HOOK_KIND_COUNT ? hook_names[kind] : "unknown";
}

/* Failures of these kinds only warn (runtime-spec: "the runtime MUST log a
 * warning and continue"); the others abort the operation. */
static bool
hook_kind_warns(enum hook_kind kind)
{
  return kind == HOOK_POSTSTART || kind == HOOK_POSTSTOP;
}

static int
hook_validate_one(const cJSON *hook, const char *where, cut_err *err)
{
  if (!cJSON_IsObject(hook))
    return cut_error(err, 0, "%s: expected an object", where);
  const char *path = NULL;
  if (json_get_string(hook, "path", where, true, &path, err) < 0)
    return -1;
  if (path[0] != '/')
    return cut_error(err, 0, "%s.path: %s is not an absolute path", where, path);
  const cJSON *arr = NULL;
  char **v = NULL;
  size_t n = 0;
  static const char *const lists[] = {"args", "env"};
  for (size_t i = 0; i < 2; i++) {
    if (json_get_array(hook, lists[i], where, false, &arr, err) < 0)
      return -1;
    if (arr == NULL)
      continue;
    char name[160];
    snprintf(name, sizeof name, "%s.%s", where, lists[i]);
    if (json_string_array(arr, name, &v, &n, err) < 0)
      return -1;
    free(v);
    arr = NULL;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(hook, "timeout");
  if (t != NULL && !cJSON_IsNull(t) && (!json_is_integer(t) || t->valuedouble <= 0))
    return cut_error(err, 0, "%s.timeout: must be a positive integer (seconds)", where);
  return 0;
}

int
hooks_validate(const cJSON *hooks, cut_err *err)
{
  if (hooks == NULL || cJSON_IsNull(hooks))
    return 0;
  if (!cJSON_IsObject(hooks))
    return cut_error(err, 0, "hooks: expected an object");
  for (int k = 0; k < HOOK_KIND_COUNT; k++) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(hooks, hook_names[k]);
    if (list == NULL || cJSON_IsNull(list))
      continue;
    if (!cJSON_IsArray(list))
      return cut_error(err, 0, "hooks.%s: expected an array", hook_names[k]);
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, list)
    {
      char where[96];
      snprintf(where, sizeof where, "hooks.%s[%d]", hook_names[k], i++);
      if (hook_validate_one(h, where, err) < 0)
        return -1;
    }
  }
  return 0;
}

bool
hooks_have(const cJSON *hooks, enum hook_kind kind)
{
  if (!cJSON_IsObject(hooks) || kind >= HOOK_KIND_COUNT)
    return false;
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(hooks, hook_names[kind]);
  return cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0;
}

/* The hook's environment: its own env (or, when absent, ours, as runc does
 * through Go's exec.Cmd), with TRACEPARENT set to the hook's span so a
 * traced hook continues this trace.  Returns a malloc'ed vector whose
 * strings point into the config, environ or `tp_entry`. */
static char **
hook_build_env(char **own, size_t n_own, char *tp_entry)
{
  char **src = own;
  size_t n = n_own;
  if (src == NULL) {
    src = environ;
    for (n = 0; src != NULL && src[n] != NULL; n++)
      ;
  }
  char **env = calloc(n + 2, sizeof *env);
  if (env == NULL)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i++)
    if (tp_entry[0] == '\0' || strncmp(src[i], "TRACEPARENT=", 12) != 0)
      env[j++] = src[i];
  if (tp_entry[0] != '\0')
    env[j++] = tp_entry;
  env[j] = NULL;
  return env;
}

/* A memfd holding `data`, rewound, for the hook's stdin. */
static int
hook_stdin_fd(const char *data, cut_err *err)
{
  int fd = memfd_create("hook-state", MFD_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "memfd_create");
  size_t len = strlen(data), off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      return cut_error(err, e, "write state");
    }
    off += (size_t)w;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/* The first line of what the hook printed, to make its error readable. */
static void
hook_output_tail(int fd, char *buf, size_t size)
{
  buf[0] = '\0';
  if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
    return;
  ssize_t r = read(fd, buf, size - 1);
  if (r <= 0)
    return;
  buf[r] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl)
    *nl = '\0';
}

/* In the forked child: wire stdio and exec.  Never returns. */
static void __attribute__((noreturn))
hook_child(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd)
{
  /* The runtime may block signals around critical sections; a hook starts
   * with a clean signal state like any program. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
    _exit(126);
  cut_close_fds_from(3);
  execve(path, argv, envp);
  dprintf(2, "exec %s: %s\n", path, strerror(errno));
  _exit(127);
}

/* Run one hook; 0 when it exited 0 within its timeout. */
static int
hook_run_one(const cJSON *hook, enum hook_kind kind, int index, const char *state_json,
             cut_err *err)
{
  const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hook, "path"));
  if (path == NULL)
    return cut_error(err, 0, "hooks.%s[%d]: no path", hook_names[kind], index);
  char **args = NULL, **own_env = NULL;
  size_t n_args = 0, n_env = 0;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(hook, "args");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(hook, "env");
  if (cJSON_IsArray(a) && json_string_array(a, "args", &args, &n_args, err) < 0)
    return -1;
  if (cJSON_IsArray(e) && json_string_array(e, "env", &own_env, &n_env, err) < 0) {
    free(args);
    return -1;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(hook, "timeout");
  int timeout_ms = cJSON_IsNumber(t) && t->valuedouble > 0 ? (int)t->valuedouble * 1000 : -1;

  char span_name[48];
  snprintf(span_name, sizeof span_name, "hook.%s", hook_names[kind]);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, span_name, TA_STR("path", path), TA_INT("index", index),
              TA_INT("timeout_s", timeout_ms < 0 ? 0 : timeout_ms / 1000));

  char tp_entry[TRACEPARENT_LEN + 16] = "";
  trace_env_entry(tp_entry);
  char *default_argv[2] = {(char *)path, NULL};
  char **argv = n_args > 0 ? args : default_argv;
  char **envp = hook_build_env(own_env, n_env, tp_entry);
  int in_fd = hook_stdin_fd(state_json ? state_json : "{}", err);
  int out_fd = memfd_create("hook-output", MFD_CLOEXEC);
  int rc = -1;
  pid_t pid = -1;
  if (envp == NULL) {
    cut_error(err, ENOMEM, "hook %s", path);
    goto out;
  }
  if (in_fd < 0)
    goto out;
  if (out_fd < 0) {
    cut_error(err, errno, "hook %s: memfd_create", path);
    goto out;
  }
  pid = fork();
  if (pid < 0) {
    cut_error(err, errno, "hook %s: fork", path);
    goto out;
  }
  if (pid == 0)
    hook_child(path, argv, envp, in_fd, out_fd);

  int status = 0;
  if (cut_wait_timeout(pid, timeout_ms, &status, err) < 0) {
    if (err->errnum == ETIMEDOUT) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      cut_error(err, ETIMEDOUT, "hook %s: killed after its timeout of %d s", path,
                timeout_ms / 1000);
    }
    goto out;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    rc = 0;
    goto out;
  }
  char said[200];
  hook_output_tail(out_fd, said, sizeof said);
  if (WIFSIGNALED(status))
    cut_error(err, 0, "hook %s: killed by signal %d%s%s", path, WTERMSIG(status),
              said[0] ? ": " : "", said);
  else
    cut_error(err, 0, "hook %s: exit status %d%s%s", path, WEXITSTATUS(status), said[0] ? ": " : "",
              said);
out:
  trace_end_rc(&sp, rc, err);
  if (in_fd >= 0)
    close(in_fd);
  if (out_fd >= 0)
    close(out_fd);
  free(envp);
  free(args);
  free(own_env);
  return rc;
}

int
hooks_run(const cJSON *hooks, enum hook_kind kind, const char *state_json, cut_err *err)
{
  if (!hooks_have(hooks, kind))
    return 0;
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(hooks, hook_names[kind]);
  int i = 0;
  const cJSON *h;
  cJSON_ArrayForEach(h, list)
  {
    cut_err herr = {0};
    if (hook_run_one(h, kind, i, state_json, &herr) < 0) {
      if (hook_kind_warns(kind)) {
        dprintf(2, "cutaway-runc: warning: %s hook failed: %s\n", hook_names[kind], herr.msg);
        trace_event("hook.warning", TA_STR("kind", hook_names[kind]), TA_STR("error", herr.msg));
      } else {
        if (err)
          *err = herr;
        return cut_wrap(err, "%s hook", hook_names[kind]);
      }
    }
    i++;
  }
  return 0;
}

/* ======================================================================
 * Where the runtime runs them.
 *
 * create:  parent                         init (new namespaces)
 *          clone ------------------------> mounts prepared in the rootfs
 *                 <--- RC_SYNC_HOOKS ----- (rc_hooks_before_pivot)
 *          prestart, createRuntime
 *                 --- RC_SYNC_HOOKS_DONE -> createContainer (container's
 *                                          mount ns, host root still visible)
 *                                          pivot_root, ... READY
 * start:   release the init --------------> startContainer, then execve
 *          poststart
 * delete:  kill/wait, cgroup gone, poststop
 * ====================================================================== */

#define HOOKS_SAVED "hooks.json"

char *
hooks_state_json(const char *oci_version, const char *id, const char *status, pid_t pid,
                 const char *bundle, const cJSON *annotations)
{
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "ociVersion", oci_version && *oci_version ? oci_version : "1.2.0");
  cJSON_AddStringToObject(doc, "id", id ? id : "");
  cJSON_AddStringToObject(doc, "status", status);
  cJSON_AddNumberToObject(doc, "pid", pid);
  cJSON_AddStringToObject(doc, "bundle", bundle ? bundle : "");
  cJSON_AddItemToObject(doc, "annotations",
                        annotations ? cJSON_Duplicate(annotations, 1) : cJSON_CreateObject());
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  return text;
}

bool
rc_hooks_need_init_stop(const cJSON *hooks)
{
  return hooks_have(hooks, HOOK_PRESTART) || hooks_have(hooks, HOOK_CREATE_RUNTIME) ||
         hooks_have(hooks, HOOK_CREATE_CONTAINER) || hooks_have(hooks, HOOK_START_CONTAINER);
}

/* The init's pid as the host sees it, read before pivot_root while the
 * host's /proc is still mounted (getpid() says 1 in a new pid namespace). */
static pid_t hooks_init_host_pid;

static pid_t
hooks_read_host_pid(void)
{
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  if (n <= 0)
    return getpid();
  buf[n] = '\0';
  return (pid_t)atoi(buf);
}

static char *
hooks_launch_state(const rc_launch *l, const char *status)
{
  return hooks_state_json(l->spec->oci_version, l->id, status, hooks_init_host_pid, l->spec->bundle,
                          l->spec->annotations);
}

int
rc_hooks_before_pivot(void *launch, cut_err *err)
{
  rc_launch *l = launch;
  const cJSON *hooks = l->spec->hooks;
  hooks_init_host_pid = hooks_read_host_pid();
  if (hooks_have(hooks, HOOK_PRESTART) || hooks_have(hooks, HOOK_CREATE_RUNTIME)) {
    rc_sync_msg m;
    if (rc_sync_send(l->sync_init, RC_SYNC_HOOKS, 0, NULL, NULL) < 0)
      return cut_error(err, errno, "ask the runtime to run the prestart hooks");
    if (rc_sync_expect(l->sync_init, RC_SYNC_HOOKS_DONE, &m, "wait for the prestart hooks", err) <
        0)
      return -1;
  }
  if (!hooks_have(hooks, HOOK_CREATE_CONTAINER))
    return 0;
  char *state = hooks_launch_state(l, "created");
  int r = hooks_run(hooks, HOOK_CREATE_CONTAINER, state, err);
  free(state);
  return r;
}

int
rc_hooks_start_container(const rc_launch *l, cut_err *err)
{
  if (!hooks_have(l->spec->hooks, HOOK_START_CONTAINER))
    return 0;
  char *state = hooks_launch_state(l, "running");
  int r = hooks_run(l->spec->hooks, HOOK_START_CONTAINER, state, err);
  free(state);
  return r;
}

int
rc_hooks_create_wait_ready(rc_launch *l, const char *id, cut_err *err)
{
  for (;;) {
    rc_sync_msg m;
    if (rc_sync_recv(l->sync_parent, &m, err) < 0)
      return cut_wrap(err, "container init");
    if (m.type == RC_SYNC_READY)
      return 0;
    if (m.type == RC_SYNC_ERROR) {
      *err = m.err;
      return -1;
    }
    if (m.type == 0)
      return cut_error(err, 0, "container init: the container init exited");
    if (m.type != RC_SYNC_HOOKS)
      return cut_error(err, EPROTO, "container init: unexpected message %d", m.type);
    /* Both run in the runtime's namespaces, with the container's
     * namespaces already there to act on (dockerd's libnetwork-setkey
     * moves an interface into /proc/<pid>/ns/net). */
    const cJSON *hooks = l->spec->hooks;
    char *state = hooks_state_json(l->spec->oci_version, id, "created", l->pid, l->spec->bundle,
                                   l->spec->annotations);
    int r = hooks_run(hooks, HOOK_PRESTART, state, err);
    if (r == 0)
      r = hooks_run(hooks, HOOK_CREATE_RUNTIME, state, err);
    free(state);
    if (r < 0)
      return -1; /* the caller kills the init and cleans up */
    if (rc_sync_send(l->sync_parent, RC_SYNC_HOOKS_DONE, 0, NULL, NULL) < 0)
      return cut_error(err, errno, "resume the container init after the hooks");
  }
}

int
rc_hooks_save(const char *state_dir, const cJSON *hooks, cut_err *err)
{
  if (!hooks_have(hooks, HOOK_POSTSTART) && !hooks_have(hooks, HOOK_POSTSTOP))
    return 0;
  cJSON *keep = cJSON_CreateObject();
  static const enum hook_kind later[] = {HOOK_POSTSTART, HOOK_POSTSTOP};
  for (size_t i = 0; i < 2; i++) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(hooks, hook_names[later[i]]);
    if (cJSON_IsArray(list))
      cJSON_AddItemToObject(keep, hook_names[later[i]], cJSON_Duplicate(list, 1));
  }
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", state_dir, HOOKS_SAVED);
  int r = json_write_file(path, keep, false, err);
  cJSON_Delete(keep);
  return r;
}

void
rc_hooks_run_warn(const cJSON *hooks, enum hook_kind kind, const rc_state *st, pid_t pid,
                  const char *status)
{
  if (!hooks_have(hooks, kind))
    return;
  char *state = hooks_state_json(st->oci_version, st->id, status, pid, st->bundle, st->annotations);
  cut_err ignored = {0};
  hooks_run(hooks, kind, state, &ignored); /* warning kinds: never fails */
  free(state);
}

static void
hooks_run_saved(const rc_state *st, enum hook_kind kind, pid_t pid, const char *status)
{
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", st->dir, HOOKS_SAVED);
  if (access(path, F_OK) != 0)
    return;
  cJSON *hooks = NULL;
  cut_err err = {0};
  if (json_read_file(path, 1 << 20, &hooks, &err) < 0) {
    dprintf(2, "cutaway-runc: warning: %s hooks: %s\n", hook_names[kind], err.msg);
    return;
  }
  rc_hooks_run_warn(hooks, kind, st, pid, status);
  cJSON_Delete(hooks);
}

/* `start` only releases the init; poststart must follow the execve of the
 * user's program (runtime-spec: "after the user-specified process is
 * executed").  The init is named runc:[2:INIT] until execve gives it the
 * program's name, so wait (briefly) for /proc/<pid>/comm to change. */
static void
hooks_wait_execed(pid_t pid)
{
  char path[64], comm[32];
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  for (int i = 0; i < 10000; i++) { /* at most ~2 s */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return; /* gone: it ran and exited */
    ssize_t n = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (n <= 0 || strncmp(comm, "runc:[2:INIT]", 13) != 0)
      return;
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
  }
}

void
rc_hooks_after_start(const rc_state *st)
{
  /* Always: a `kill` right after `start` must reach the user's program, not
   * the init that has not exec'ed it yet (a pid-namespace init ignores
   * signals it has no handler for; the OCI suite's killsig checks this). */
  hooks_wait_execed(st->pid);
  hooks_run_saved(st, HOOK_POSTSTART, st->pid, "running");
}

void
rc_hooks_at_delete(const rc_state *st)
{
  hooks_run_saved(st, HOOK_POSTSTOP, 0, "stopped");
}
