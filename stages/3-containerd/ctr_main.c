/* cutaway-ctr: a small client of cutaway-containerd in the manner of
 * containerd's `ctr`, for labs, tests and benchmarks.
 *
 *   cutaway-ctr [--address SOCKET] images pull|ls|rm|import|export|inspect|tag ...
 *   cutaway-ctr run [--rm] [-d] [-t] [-i] [--env K=V] [--memory BYTES] [--cpus N]
 *                   [--pids-limit N] [--user U] [--cwd DIR] [--hostname H]
 *                   [--mount SRC:DST[:ro]] [--runtime PATH] IMAGE ID [CMD...]
 *   cutaway-ctr tasks ls|start|wait|kill|exec|ps|pause|resume|rm|metrics ...
 *   cutaway-ctr containers ls|rm|info ...
 *   cutaway-ctr snapshots ls | content ls | events | gc | version
 *
 * How `run` attaches to a container, as ctr does it: the client makes FIFOs
 * in a private temp dir, names them in the task-create request, and the shim
 * opens the other end; the container's output flows
 * container -> pipe -> shim -> FIFO -> this process, while the shim also
 * writes it to the json-file log.  The client holds a dummy writer on each
 * FIFO until the shim has opened it, so it never reads a premature EOF.
 *
 * One `run` is one trace: the root span "ctr.run" here, the HTTP client
 * spans carry its traceparent to containerd, which passes it on to the
 * shim, which passes TRACEPARENT to the runtime. */
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
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "httpc.h"
#include "json.h"
#include "thread.h"
#include "trace.h"

#define PROG "cutaway-ctr"

static const char *address = "/run/cutaway/containerd/containerd.sock";

static int
fail(const cut_err *err)
{
  cut_err_print(PROG, err);
  return CUT_EXIT_FAILURE;
}

static int
usage_err(const char *what)
{
  fprintf(stderr, PROG ": usage: " PROG " %s\n", what);
  return 2;
}

/* One JSON call; prints nothing. */
static int
call(const char *method, const char *path, const cJSON *body, cJSON **out, cut_err *err)
{
  httpc_opts o = {.peer = "cutaway-containerd"};
  return httpc_json(address, method, path, body, &o, NULL, out, err);
}

static void
print_json(const cJSON *doc)
{
  char *s = cJSON_Print(doc);
  if (s)
    printf("%s\n", s);
  free(s);
}

/* Percent-encode a reference for a path segment ("/" stays: the route
 * takes the rest of the path). */
static void
path_escape(const char *in, char *out, size_t len)
{
  size_t j = 0;
  for (; *in && j + 4 < len; in++) {
    unsigned char ch = (unsigned char)*in;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        strchr("-._~/:@", ch))
      out[j++] = (char)ch;
    else
      j += (size_t)snprintf(out + j, len - j, "%%%02X", ch);
  }
  out[j] = '\0';
}

/* ---- images ---- */

static int
cmd_images(int argc, char **argv)
{
  if (argc < 2)
    return usage_err("images pull|ls|rm|import|export|inspect|tag ...");
  const char *verb = argv[1];
  cut_err err;
  cJSON *out = NULL;
  if (strcmp(verb, "ls") == 0 || strcmp(verb, "list") == 0) {
    if (call("GET", "/v1/images", NULL, &out, &err) < 0)
      return fail(&err);
    printf("%-50s %-20s %s\n", "REF", "DIGEST", "MEDIATYPE");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "images"))
    {
      const cJSON *t = cJSON_GetObjectItem(it, "target");
      const cJSON *d = cJSON_GetObjectItem(t, "digest"), *m = cJSON_GetObjectItem(t, "mediaType");
      printf("%-50s %-20.19s %s\n", cJSON_GetObjectItem(it, "name")->valuestring,
             cJSON_IsString(d) ? d->valuestring : "", cJSON_IsString(m) ? m->valuestring : "");
    }
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "pull") == 0) {
    const char *platform = NULL;
    cJSON *body = cJSON_CreateObject();
    cJSON *ins = cJSON_AddArrayToObject(body, "insecure_registries");
    int i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
      if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc)
        platform = argv[++i];
      else if (strcmp(argv[i], "--insecure-registry") == 0 && i + 1 < argc)
        cJSON_AddItemToArray(ins, cJSON_CreateString(argv[++i]));
      else {
        cJSON_Delete(body);
        return usage_err("images pull [--platform OS/ARCH] [--insecure-registry HOST] REF");
      }
    }
    if (i + 1 != argc) {
      cJSON_Delete(body);
      return usage_err("images pull [--platform OS/ARCH] [--insecure-registry HOST] REF");
    }
    cJSON_AddStringToObject(body, "ref", argv[i]);
    if (platform)
      cJSON_AddStringToObject(body, "platform", platform);
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, "ctr.pull", TA_STR("ref", argv[i]));
    int r = call("POST", "/v1/images/pull", body, &out, &err);
    trace_end(&sp, r < 0 ? &err : NULL);
    cJSON_Delete(body);
    if (r < 0)
      return fail(&err);
    printf("%s: %s\n", cJSON_GetObjectItem(out, "name")->valuestring,
           cJSON_GetObjectItem(out, "manifest")->valuestring);
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "import") == 0) {
    const char *name = NULL;
    int i = 2;
    if (i + 1 < argc && strcmp(argv[i], "--name") == 0) {
      name = argv[i + 1];
      i += 2;
    }
    if (i + 1 != argc)
      return usage_err("images import [--name REF] OCI_LAYOUT_DIR");
    char abs[PATH_MAX];
    if (realpath(argv[i], abs) == NULL) {
      cut_error(&err, errno, "import %s", argv[i]);
      return fail(&err);
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "path", abs);
    if (name)
      cJSON_AddStringToObject(body, "name", name);
    int r = call("POST", "/v1/images/import", body, &out, &err);
    cJSON_Delete(body);
    if (r < 0)
      return fail(&err);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "images"))
    {
      const cJSON *name = cJSON_GetObjectItem(it, "name");
      if (cJSON_IsString(name))
        printf("%s\n", name->valuestring);
    }
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "export") == 0) {
    if (argc < 4)
      return usage_err("images export DIR REF...");
    char abs[PATH_MAX];
    if (mkdir(argv[2], 0755) < 0 && errno != EEXIST) {
      cut_error(&err, errno, "export %s", argv[2]);
      return fail(&err);
    }
    if (realpath(argv[2], abs) == NULL) {
      cut_error(&err, errno, "export %s", argv[2]);
      return fail(&err);
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "path", abs);
    cJSON *names = cJSON_AddArrayToObject(body, "names");
    for (int i = 3; i < argc; i++)
      cJSON_AddItemToArray(names, cJSON_CreateString(argv[i]));
    int r = call("POST", "/v1/images/export", body, NULL, &err);
    cJSON_Delete(body);
    return r < 0 ? fail(&err) : 0;
  }
  if (strcmp(verb, "tag") == 0) {
    if (argc != 4)
      return usage_err("images tag SOURCE TARGET");
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "source", argv[2]);
    cJSON_AddStringToObject(body, "target", argv[3]);
    int r = call("POST", "/v1/images/tag", body, NULL, &err);
    cJSON_Delete(body);
    return r < 0 ? fail(&err) : 0;
  }
  if (strcmp(verb, "rm") == 0 || strcmp(verb, "inspect") == 0) {
    if (argc < 3)
      return usage_err("images rm|inspect REF...");
    int status = 0;
    for (int i = 2; i < argc; i++) {
      char path[1200], esc[1024];
      path_escape(argv[i], esc, sizeof esc);
      snprintf(path, sizeof path, "/v1/images/%s", esc);
      bool rm = strcmp(verb, "rm") == 0;
      if (call(rm ? "DELETE" : "GET", path, NULL, &out, &err) < 0) {
        cut_err_print(PROG, &err);
        status = 1;
        continue;
      }
      if (rm)
        printf("%s\n", argv[i]);
      else
        print_json(out);
      cJSON_Delete(out);
    }
    return status;
  }
  fprintf(stderr, PROG ": images: unknown command '%s'\n", verb);
  return 2;
}

/* ---- attaching: FIFOs and copy threads ---- */

typedef struct attach {
  char dir[64];
  char in[96], out[96], err[96];
  int rd_out, rd_err, wr_in;
  int dummy_out, dummy_err;
  bool stdin_on, tty;
  pthread_t th_out, th_err;
  struct termios saved;
  bool raw;
} attach;

static int
attach_open(attach *a, bool with_stdin, bool tty, cut_err *err)
{
  memset(a, 0, sizeof *a);
  a->rd_out = a->rd_err = a->wr_in = a->dummy_out = a->dummy_err = -1;
  snprintf(a->dir, sizeof a->dir, "/tmp/cutaway-ctr.XXXXXX");
  if (mkdtemp(a->dir) == NULL)
    return cut_error(err, errno, "fifo dir");
  snprintf(a->out, sizeof a->out, "%s/stdout", a->dir);
  snprintf(a->err, sizeof a->err, "%s/stderr", a->dir);
  snprintf(a->in, sizeof a->in, "%s/stdin", a->dir);
  a->stdin_on = with_stdin;
  a->tty = tty;
  if (mkfifo(a->out, 0600) < 0 || (!tty && mkfifo(a->err, 0600) < 0) ||
      (with_stdin && mkfifo(a->in, 0600) < 0))
    return cut_error(err, errno, "mkfifo in %s", a->dir);
  /* Reader first (non-blocking open succeeds with no writer), then a dummy
   * writer so that reads before the shim opens its end are not EOF. */
  a->rd_out = open(a->out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  a->dummy_out = open(a->out, O_WRONLY | O_CLOEXEC);
  if (!tty) {
    a->rd_err = open(a->err, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    a->dummy_err = open(a->err, O_WRONLY | O_CLOEXEC);
  }
  if (with_stdin)
    a->wr_in = open(a->in, O_RDWR | O_CLOEXEC);
  if (a->rd_out < 0 || a->dummy_out < 0 || (!tty && (a->rd_err < 0 || a->dummy_err < 0)))
    return cut_error(err, errno, "open fifos in %s", a->dir);
  return 0;
}

static void
attach_body(const attach *a, cJSON *body)
{
  cJSON_AddStringToObject(body, "stdout", a->out);
  if (!a->tty)
    cJSON_AddStringToObject(body, "stderr", a->err);
  if (a->stdin_on)
    cJSON_AddStringToObject(body, "stdin", a->in);
}

struct copy_arg {
  int from, to;
};

static void *
copy_thread(void *arg)
{
  struct copy_arg *c = arg;
  char buf[32 * 1024];
  for (;;) {
    struct pollfd p = {.fd = c->from, .events = POLLIN};
    if (poll(&p, 1, -1) < 0 && errno != EINTR)
      break;
    ssize_t n = read(c->from, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0)
      break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c->to, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += w;
    }
  }
  free(c);
  return NULL;
}

static void
spawn_copy(pthread_t *th, int from, int to)
{
  struct copy_arg *c = malloc(sizeof *c);
  c->from = from;
  c->to = to;
  pthread_create(th, NULL, copy_thread, c);
}

/* The shim has opened its ends: drop the dummies and start copying. */
static void
attach_start(attach *a)
{
  close(a->dummy_out);
  a->dummy_out = -1;
  spawn_copy(&a->th_out, a->rd_out, 1);
  if (!a->tty) {
    close(a->dummy_err);
    a->dummy_err = -1;
    spawn_copy(&a->th_err, a->rd_err, 2);
  }
  if (a->stdin_on) {
    struct copy_arg *c = malloc(sizeof *c);
    c->from = 0;
    c->to = a->wr_in;
    if (cut_thread_detached(copy_thread, c, 0) < 0)
      free(c);
  }
  if (a->tty && isatty(0) && tcgetattr(0, &a->saved) == 0) {
    struct termios raw = a->saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
    a->raw = true;
  }
}

/* After the process exited: its output is complete once the shim closed
 * the FIFOs, so the copy threads end by themselves. */
static void
attach_finish(attach *a, bool started)
{
  if (started) {
    pthread_join(a->th_out, NULL);
    if (!a->tty)
      pthread_join(a->th_err, NULL);
  }
  if (a->raw)
    tcsetattr(0, TCSANOW, &a->saved);
  int fds[] = {a->rd_out, a->rd_err, a->dummy_out, a->dummy_err};
  for (size_t i = 0; i < 4; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  unlink(a->out);
  unlink(a->err);
  unlink(a->in);
  rmdir(a->dir);
}

/* ---- signals: forwarded to the task while attached ---- */

static const char *sig_task;
static const char *sig_exec;

static void *
signal_thread(void *arg)
{
  sigset_t *set = arg;
  for (;;) {
    int sig;
    if (sigwait(set, &sig) != 0)
      continue;
    if (sig == SIGWINCH) {
      struct winsize ws;
      if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "width", ws.ws_col);
        cJSON_AddNumberToObject(b, "height", ws.ws_row);
        if (sig_exec)
          cJSON_AddStringToObject(b, "exec", sig_exec);
        char path[200];
        snprintf(path, sizeof path, "/v1/containers/%s/task/resize", sig_task);
        cut_err e;
        call("POST", path, b, NULL, &e);
        cJSON_Delete(b);
      }
      continue;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "signal", sig);
    if (sig_exec)
      cJSON_AddStringToObject(b, "exec", sig_exec);
    char path[200];
    snprintf(path, sizeof path, "/v1/containers/%s/task/kill", sig_task);
    cut_err e;
    call("POST", path, b, NULL, &e);
    cJSON_Delete(b);
  }
  return NULL;
}

static void
forward_signals(const char *id, const char *exec_id)
{
  static sigset_t set;
  sig_task = id;
  sig_exec = exec_id;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  cut_thread_detached(signal_thread, &set, 0);
}

static void
send_winsize(const char *id, const char *exec_id)
{
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
    return;
  cJSON *b = cJSON_CreateObject();
  cJSON_AddNumberToObject(b, "width", ws.ws_col);
  cJSON_AddNumberToObject(b, "height", ws.ws_row);
  if (exec_id)
    cJSON_AddStringToObject(b, "exec", exec_id);
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s/task/resize", id);
  cut_err e;
  call("POST", path, b, NULL, &e);
  cJSON_Delete(b);
}

static int
wait_exit(const char *id, const char *exec_id, int *status, cut_err *err)
{
  char path[300];
  if (exec_id)
    snprintf(path, sizeof path, "/v1/containers/%s/task/wait?exec=%s", id, exec_id);
  else
    snprintf(path, sizeof path, "/v1/containers/%s/task/wait", id);
  cJSON *out = NULL;
  if (call("GET", path, NULL, &out, err) < 0)
    return -1;
  int64_t st = 255;
  json_get_int64(out, "exit_status", "exit_status", false, &st, err);
  cJSON_Delete(out);
  *status = (int)st;
  return 0;
}

/* ---- run ---- */

static int
parse_mount(const char *spec, cJSON *mounts, cut_err *err)
{
  char buf[2048];
  snprintf(buf, sizeof buf, "%s", spec);
  char *src = buf, *dst = strchr(buf, ':');
  if (dst == NULL)
    return cut_error(err, EINVAL, "--mount %s: expected SRC:DST[:ro]", spec);
  *dst++ = '\0';
  char *mode = strchr(dst, ':');
  if (mode)
    *mode++ = '\0';
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "type", "bind");
  cJSON_AddStringToObject(m, "source", src);
  cJSON_AddStringToObject(m, "destination", dst);
  cJSON *o = cJSON_AddArrayToObject(m, "options");
  cJSON_AddItemToArray(o, cJSON_CreateString("rbind"));
  cJSON_AddItemToArray(o, cJSON_CreateString(mode && strcmp(mode, "ro") == 0 ? "ro" : "rw"));
  cJSON_AddItemToArray(mounts, m);
  return 0;
}

static int
delete_task_and_container(const char *id, cut_err *err)
{
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s/task", id);
  cJSON *out = NULL;
  if (call("DELETE", path, NULL, &out, err) < 0)
    return -1;
  cJSON_Delete(out);
  snprintf(path, sizeof path, "/v1/containers/%s", id);
  return call("DELETE", path, NULL, NULL, err);
}

static const char run_usage[] =
    "run [--rm] [-d] [-t] [-i] [--env K=V] [--memory BYTES] [--cpus N] [--pids-limit N]\n"
    "       [--user U] [--cwd DIR] [--hostname H] [--mount SRC:DST[:ro]] [--runtime PATH]\n"
    "       IMAGE ID [CMD...]";

static int
cmd_run(int argc, char **argv)
{
  static const struct option opts[] = {{"rm", no_argument, NULL, 'R'},
                                       {"detach", no_argument, NULL, 'd'},
                                       {"tty", no_argument, NULL, 't'},
                                       {"interactive", no_argument, NULL, 'i'},
                                       {"env", required_argument, NULL, 'e'},
                                       {"memory", required_argument, NULL, 'm'},
                                       {"cpus", required_argument, NULL, 'c'},
                                       {"pids-limit", required_argument, NULL, 'p'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"cwd", required_argument, NULL, 'w'},
                                       {"hostname", required_argument, NULL, 'H'},
                                       {"mount", required_argument, NULL, 'M'},
                                       {"runtime", required_argument, NULL, 'r'},
                                       {NULL, 0, NULL, 0}};
  bool rm = false, detach = false, tty = false, interactive = false;
  cJSON *body = cJSON_CreateObject();
  cJSON *env = cJSON_AddArrayToObject(body, "env");
  cJSON *mounts = cJSON_AddArrayToObject(body, "mounts");
  cJSON *res = cJSON_AddObjectToObject(body, "resources");
  cut_err err;
  int ch;
  optind = 1;
  /* "+": options stop at IMAGE, so CMD keeps its own flags. */
  while ((ch = getopt_long(argc, argv, "+dtie:u:w:", opts, NULL)) != -1) {
    char *end;
    switch (ch) {
    case 'R': rm = true; break;
    case 'd': detach = true; break;
    case 't': tty = true; break;
    case 'i': interactive = true; break;
    case 'e': cJSON_AddItemToArray(env, cJSON_CreateString(optarg)); break;
    case 'm':
    case 'p': {
      long long v = strtoll(optarg, &end, 10);
      if (*end || v <= 0) {
        cJSON_Delete(body);
        fprintf(stderr, PROG ": run: --%s %s: expected a positive integer\n",
                ch == 'm' ? "memory" : "pids-limit", optarg);
        return 2;
      }
      cJSON_AddNumberToObject(res, ch == 'm' ? "memory" : "pids_limit", (double)v);
      break;
    }
    case 'c': {
      double v = strtod(optarg, &end);
      if (*end || v <= 0) {
        cJSON_Delete(body);
        fprintf(stderr, PROG ": run: --cpus %s: expected a positive number\n", optarg);
        return 2;
      }
      cJSON_AddNumberToObject(res, "cpus", v);
      break;
    }
    case 'u': cJSON_AddStringToObject(body, "user", optarg); break;
    case 'w': cJSON_AddStringToObject(body, "workdir", optarg); break;
    case 'H': cJSON_AddStringToObject(body, "hostname", optarg); break;
    case 'r': cJSON_AddStringToObject(body, "runtime", optarg); break;
    case 'M':
      if (parse_mount(optarg, mounts, &err) < 0) {
        cJSON_Delete(body);
        return fail(&err);
      }
      break;
    default: cJSON_Delete(body); return usage_err(run_usage);
    }
  }
  if (argc - optind < 2) {
    cJSON_Delete(body);
    return usage_err(run_usage);
  }
  const char *image = argv[optind], *id = argv[optind + 1];
  cJSON_AddStringToObject(body, "image", image);
  cJSON_AddStringToObject(body, "id", id);
  cJSON_AddBoolToObject(body, "terminal", tty);
  cJSON_AddBoolToObject(body, "auto_remove", rm);
  if (argc - optind > 2) {
    cJSON *args = cJSON_AddArrayToObject(body, "args");
    for (int i = optind + 2; i < argc; i++)
      cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
  }

  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "ctr.run", TA_STR("image", image), TA_STR("id", id));
  int status = 0, r;
  bool created = false, started = false;
  attach a = {.rd_out = -1, .rd_err = -1, .dummy_out = -1, .dummy_err = -1, .dir = ""};
  r = call("POST", "/v1/containers", body, NULL, &err);
  cJSON_Delete(body);
  if (r < 0)
    goto out;
  created = true;
  cJSON *tb = cJSON_CreateObject();
  if (!detach) {
    if ((r = attach_open(&a, interactive || tty, tty, &err)) < 0) {
      cJSON_Delete(tb);
      goto out;
    }
    attach_body(&a, tb);
  }
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s/task", id);
  r = call("POST", path, tb, NULL, &err);
  cJSON_Delete(tb);
  if (r < 0)
    goto out;
  if (!detach) {
    attach_start(&a);
    started = true;
    forward_signals(id, NULL);
  }
  snprintf(path, sizeof path, "/v1/containers/%s/task/start", id);
  if ((r = call("POST", path, NULL, NULL, &err)) < 0)
    goto out;
  if (detach) {
    trace_end(&sp, NULL);
    return 0;
  }
  if (tty)
    send_winsize(id, NULL);
  r = wait_exit(id, NULL, &status, &err);
out:
  if (*a.dir)
    attach_finish(&a, started);
  if (r < 0) {
    trace_end(&sp, &err);
    cut_err_print(PROG, &err);
    if (created && rm) {
      cut_err e2;
      delete_task_and_container(id, &e2);
      char p2[200];
      snprintf(p2, sizeof p2, "/v1/containers/%s", id);
      call("DELETE", p2, NULL, NULL, &e2);
    }
    return CUT_EXIT_FAILURE;
  }
  if (rm && delete_task_and_container(id, &err) < 0) {
    trace_end(&sp, &err);
    return fail(&err);
  }
  trace_end(&sp, NULL, TA_INT("exit_status", status));
  return status;
}

/* ---- tasks ---- */

static int
task_simple(const char *method, const char *id, const char *suffix, const cJSON *body, cJSON **out,
            cut_err *err)
{
  char path[300];
  snprintf(path, sizeof path, "/v1/containers/%s/task%s", id, suffix);
  return call(method, path, body, out, err);
}

static int
parse_signal(const char *s)
{
  static const struct {
    const char *name;
    int sig;
  } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
               {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
               {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}};
  if (strncmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(s, names[i].name) == 0)
      return names[i].sig;
  char *end;
  long v = strtol(s, &end, 10);
  return *end || v <= 0 || v > 64 ? -1 : (int)v;
}

static int
cmd_tasks(int argc, char **argv)
{
  if (argc < 2)
    return usage_err("tasks ls|start|wait|kill|exec|ps|pause|resume|rm|metrics ...");
  const char *verb = argv[1];
  cut_err err;
  cJSON *out = NULL;
  if (strcmp(verb, "ls") == 0 || strcmp(verb, "list") == 0) {
    if (call("GET", "/v1/tasks", NULL, &out, &err) < 0)
      return fail(&err);
    printf("%-30s %-8s %s\n", "TASK", "PID", "STATUS");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "tasks"))
    {
      printf("%-30s %-8d %s\n", cJSON_GetObjectItem(it, "id")->valuestring,
             cJSON_GetObjectItem(it, "pid")->valueint,
             cJSON_GetObjectItem(it, "status")->valuestring);
    }
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "kill") == 0) {
    int sig = SIGTERM, i = 2;
    bool all = false;
    for (; i < argc && argv[i][0] == '-'; i++) {
      if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--signal") == 0) && i + 1 < argc) {
        sig = parse_signal(argv[++i]);
        if (sig < 0) {
          fprintf(stderr, PROG ": tasks kill: unknown signal %s\n", argv[i]);
          return 2;
        }
      } else if (strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "--all") == 0) {
        all = true;
      } else {
        return usage_err("tasks kill [-s SIGNAL] [--all] ID");
      }
    }
    if (i + 1 != argc)
      return usage_err("tasks kill [-s SIGNAL] [--all] ID");
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "signal", sig);
    cJSON_AddBoolToObject(b, "all", all);
    int r = task_simple("POST", argv[i], "/kill", b, NULL, &err);
    cJSON_Delete(b);
    return r < 0 ? fail(&err) : 0;
  }
  if (strcmp(verb, "exec") == 0) {
    const char *exec_id = NULL;
    bool tty = false, interactive = false, detach = false;
    int i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
      if (strcmp(argv[i], "--exec-id") == 0 && i + 1 < argc)
        exec_id = argv[++i];
      else if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--tty") == 0)
        tty = true;
      else if (strcmp(argv[i], "-i") == 0)
        interactive = true;
      else if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--detach") == 0)
        detach = true;
      else
        return usage_err("tasks exec [--exec-id X] [-t] [-i] [-d] ID CMD...");
    }
    if (argc - i < 2)
      return usage_err("tasks exec [--exec-id X] [-t] [-i] [-d] ID CMD...");
    const char *id = argv[i];
    char gen[32];
    if (exec_id == NULL) {
      snprintf(gen, sizeof gen, "exec-%d", (int)getpid());
      exec_id = gen;
    }
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, "ctr.exec", TA_STR("id", id), TA_STR("exec_id", exec_id));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "exec_id", exec_id);
    cJSON_AddBoolToObject(b, "terminal", tty);
    cJSON *args = cJSON_AddArrayToObject(b, "args");
    for (int k = i + 1; k < argc; k++)
      cJSON_AddItemToArray(args, cJSON_CreateString(argv[k]));
    attach a = {.rd_out = -1, .rd_err = -1, .dummy_out = -1, .dummy_err = -1, .dir = ""};
    int status = 0, r = 0;
    bool started = false;
    if (!detach && (r = attach_open(&a, interactive || tty, tty, &err)) == 0)
      attach_body(&a, b);
    if (r == 0)
      r = task_simple("POST", id, "/exec", b, NULL, &err);
    cJSON_Delete(b);
    if (r == 0 && !detach) {
      attach_start(&a);
      started = true;
      forward_signals(id, exec_id);
      if (tty)
        send_winsize(id, exec_id);
      r = wait_exit(id, exec_id, &status, &err);
    }
    if (*a.dir)
      attach_finish(&a, started);
    if (r == 0 && !detach) {
      char suffix[120];
      snprintf(suffix, sizeof suffix, "?exec=%s", exec_id);
      cut_err e2;
      task_simple("DELETE", id, suffix, NULL, NULL, &e2);
    }
    trace_end(&sp, r < 0 ? &err : NULL);
    return r < 0 ? fail(&err) : status;
  }
  if (argc != 3) {
    fprintf(stderr, PROG ": usage: " PROG " tasks %s ID\n", verb);
    return 2;
  }
  const char *id = argv[2];
  if (strcmp(verb, "wait") == 0) {
    int status;
    if (wait_exit(id, NULL, &status, &err) < 0)
      return fail(&err);
    printf("%d\n", status);
    return status;
  }
  if (strcmp(verb, "start") == 0)
    return task_simple("POST", id, "/start", NULL, NULL, &err) < 0 ? fail(&err) : 0;
  if (strcmp(verb, "pause") == 0)
    return task_simple("POST", id, "/pause", NULL, NULL, &err) < 0 ? fail(&err) : 0;
  if (strcmp(verb, "resume") == 0)
    return task_simple("POST", id, "/resume", NULL, NULL, &err) < 0 ? fail(&err) : 0;
  if (strcmp(verb, "rm") == 0 || strcmp(verb, "delete") == 0) {
    if (task_simple("DELETE", id, "", NULL, &out, &err) < 0)
      return fail(&err);
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "ps") == 0) {
    if (task_simple("GET", id, "/pids", NULL, &out, &err) < 0)
      return fail(&err);
    printf("PID\n");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "pids")) printf("%d\n", it->valueint);
    cJSON_Delete(out);
    return 0;
  }
  if (strcmp(verb, "metrics") == 0) {
    if (task_simple("GET", id, "/metrics", NULL, &out, &err) < 0)
      return fail(&err);
    print_json(out);
    cJSON_Delete(out);
    return 0;
  }
  fprintf(stderr, PROG ": tasks: unknown command '%s'\n", verb);
  return 2;
}

/* ---- containers, snapshots, content, events, gc ---- */

static int
cmd_containers(int argc, char **argv)
{
  if (argc < 2)
    return usage_err("containers ls|rm|info ...");
  cut_err err;
  cJSON *out = NULL;
  if (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0) {
    if (call("GET", "/v1/containers", NULL, &out, &err) < 0)
      return fail(&err);
    printf("%-30s %-45s %s\n", "CONTAINER", "IMAGE", "TASK");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "containers"))
    {
      const cJSON *img = cJSON_GetObjectItem(it, "image");
      const cJSON *task = cJSON_GetObjectItem(it, "task");
      printf("%-30s %-45s %s\n", cJSON_GetObjectItem(it, "id")->valuestring,
             cJSON_IsString(img) ? img->valuestring : "",
             cJSON_IsString(task) && *task->valuestring ? task->valuestring : "-");
    }
    cJSON_Delete(out);
    return 0;
  }
  if ((strcmp(argv[1], "rm") == 0 || strcmp(argv[1], "delete") == 0 ||
       strcmp(argv[1], "info") == 0) &&
      argc >= 3) {
    int status = 0;
    bool info = strcmp(argv[1], "info") == 0;
    for (int i = 2; i < argc; i++) {
      char path[200];
      snprintf(path, sizeof path, "/v1/containers/%s", argv[i]);
      if (call(info ? "GET" : "DELETE", path, NULL, &out, &err) < 0) {
        cut_err_print(PROG, &err);
        status = 1;
        continue;
      }
      if (info)
        print_json(out);
      cJSON_Delete(out);
    }
    return status;
  }
  return usage_err("containers ls|rm ID...|info ID");
}

static int
print_get(const char *path)
{
  cut_err err;
  cJSON *out = NULL;
  if (call("GET", path, NULL, &out, &err) < 0)
    return fail(&err);
  print_json(out);
  cJSON_Delete(out);
  return 0;
}

static int
on_event(const char *data, size_t len, void *ctx)
{
  /* Skip heartbeat blank lines, pass events through as JSON lines. */
  for (size_t i = 0; i < len; i++)
    if (data[i] != '\n') {
      fwrite(data, 1, len, stdout);
      fflush(stdout);
      return 0;
    }
  return 0;
}

static int
cmd_events(int argc, char **argv)
{
  cut_err err;
  httpc_opts o = {.peer = "cutaway-containerd"};
  if (httpc_stream(address, "GET", "/v1/events", NULL, 0, &o, on_event, NULL, NULL, &err) < 0)
    return fail(&err);
  return 0;
}

static void
usage(FILE *f)
{
  fprintf(f,
          "usage: %s [--address SOCKET] COMMAND ...\n\n"
          "commands:\n"
          "  images pull|ls|rm|import|export|inspect|tag\n"
          "  run [--rm] [-d] [-t] [--env K=V] [--memory B] [--cpus N] [--pids-limit N] IMAGE ID "
          "[CMD...]\n"
          "  tasks ls|start|wait|kill|exec|ps|pause|resume|rm|metrics\n"
          "  containers ls|rm|info\n"
          "  snapshots ls | content ls | events | gc | version\n",
          PROG);
}

int
main(int argc, char **argv)
{
  const char *env = getenv("CUTAWAY_CONTAINERD_ADDRESS");
  if (env && *env)
    address = env;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if ((strcmp(argv[i], "--address") == 0 || strcmp(argv[i], "-a") == 0) && i + 1 < argc)
      address = argv[++i];
    else if (strncmp(argv[i], "--address=", 10) == 0)
      address = argv[i] + 10;
    else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  trace_init(PROG, "ctr");
  const char *cmd = argv[i];
  int sub_argc = argc - i;
  char **sub_argv = argv + i;
  if (strcmp(cmd, "images") == 0 || strcmp(cmd, "image") == 0 || strcmp(cmd, "i") == 0)
    return cmd_images(sub_argc, sub_argv);
  if (strcmp(cmd, "run") == 0)
    return cmd_run(sub_argc, sub_argv);
  if (strcmp(cmd, "tasks") == 0 || strcmp(cmd, "task") == 0 || strcmp(cmd, "t") == 0)
    return cmd_tasks(sub_argc, sub_argv);
  if (strcmp(cmd, "containers") == 0 || strcmp(cmd, "container") == 0 || strcmp(cmd, "c") == 0)
    return cmd_containers(sub_argc, sub_argv);
  if (strcmp(cmd, "events") == 0)
    return cmd_events(sub_argc, sub_argv);
  if (strcmp(cmd, "snapshots") == 0)
    return print_get("/v1/snapshots");
  if (strcmp(cmd, "content") == 0)
    return print_get("/v1/content");
  if (strcmp(cmd, "version") == 0)
    return print_get("/v1/version");
  if (strcmp(cmd, "gc") == 0) {
    cut_err err;
    cJSON *out = NULL;
    if (call("POST", "/v1/gc", NULL, &out, &err) < 0)
      return fail(&err);
    print_json(out);
    cJSON_Delete(out);
    return 0;
  }
  fprintf(stderr, PROG ": unknown command '%s' (try --help)\n", cmd);
  return 2;
}
