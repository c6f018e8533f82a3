/* cmd_extra.c: `ps`, `pause`, `resume`, `update` and `events` (see
 * cmd_extra.h); `exec` lives in exec.c.
 *
 * All of them work on the container's cgroup, found again from the state
 * file: the cgroup is the only reliable list of a container's processes
 * (pids in a pid namespace can fork faster than any /proc walk), the
 * freezer is what stops them all at once, and the limits are its knobs. */
#include "cmd_extra.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroups.h"
#include "json.h"
#include "state.h"
#include "trace.h"

/* Load the state of the one ID operand left after the options. */
static int
extra_load(const char *root, const char *cmd, int argc, char **argv, rc_state *st, cut_err *err)
{
  if (optind >= argc)
    return cut_error(err, 0, "%s: missing container id", cmd);
  if (argc - optind > 1 && strcmp(cmd, "ps") != 0)
    return cut_error(err, 0, "%s: unexpected argument \"%s\"", cmd, argv[optind + 1]);
  if (rc_state_load(root, argv[optind], st, err) < 0)
    return cut_wrap(err, "%s", cmd);
  if (!st->have_cgroup) {
    rc_state_free(st);
    return cut_error(err, 0, "%s %s: the container has no cgroup", cmd, argv[optind]);
  }
  return 0;
}

/* ---- ps ---------------------------------------------------------------- */

/* One row of the table, read from /proc like `ps -ef` does. */
static void
ps_print_row(pid_t pid)
{
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *rp = strrchr(buf, ')');
  char *lp = strchr(buf, '(');
  if (rp == NULL || lp == NULL)
    return;
  *rp = '\0';
  char comm[64];
  snprintf(comm, sizeof comm, "%s", lp + 1);
  char state = '?';
  int ppid = 0;
  unsigned long utime = 0, stime = 0;
  sscanf(rp + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &ppid, &utime,
         &stime);
  long hz = sysconf(_SC_CLK_TCK);
  unsigned long secs = (utime + stime) / (unsigned long)(hz > 0 ? hz : 100);

  /* Real uid from status; the command line, NULs turned into spaces. */
  unsigned uid = 0;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if ((f = fopen(path, "re")) != NULL) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "Uid: %u", &uid) == 1)
        break;
    fclose(f);
  }
  char cmd[512] = "";
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t r = read(fd, cmd, sizeof cmd - 1);
    close(fd);
    if (r > 0) {
      cmd[r] = '\0';
      for (ssize_t i = 0; i < r - 1; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
    }
  }
  if (cmd[0] == '\0')
    snprintf(cmd, sizeof cmd, "[%s]", comm);
  printf("%-8u %-7d %-7d %-4c %02lu:%02lu:%02lu %s\n", uid, (int)pid, ppid, state, secs / 3600,
         secs / 60 % 60, secs % 60, cmd);
}

int
rc_cmd_ps(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
  const char *format = "table";
  optind = 0;
  int c;
  while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
    if (c != 'f')
      return cut_error(err, 0, "ps: unknown option %s", argv[optind - 1]);
    format = optarg;
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return cut_error(err, 0, "ps: invalid format \"%s\" (table or json)", format);
  rc_state st;
  if (extra_load(root, "ps", argc, argv, &st, err) < 0)
    return -1;
  pid_t *pids = NULL;
  size_t n = 0;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.ps", TA_STR("id", st.id), TA_STR("format", format));
  int r = cg_pids(&st.cgroup, &pids, &n, err);
  if (r == 0)
    trace_end(&sp, NULL, TA_INT("pids", (long long)n));
  else
    trace_end(&sp, err);
  rc_state_free(&st);
  if (r < 0)
    return cut_wrap(err, "ps %s", argv[optind]);
  if (strcmp(format, "json") == 0) {
    /* runc prints a bare JSON array of host pids; containerd parses it. */
    printf("[");
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    printf("]\n");
  } else {
    printf("%-8s %-7s %-7s %-4s %-8s %s\n", "UID", "PID", "PPID", "STAT", "TIME", "CMD");
    for (size_t i = 0; i < n; i++)
      ps_print_row(pids[i]);
  }
  free(pids);
  return 0;
}

/* ---- pause / resume ------------------------------------------------------ */

static int
pause_or_resume(const char *root, int argc, char **argv, bool frozen, cut_err *err)
{
  const char *cmd = frozen ? "pause" : "resume";
  optind = 1;
  if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
    return cut_error(err, 0, "%s: unknown option %s", cmd, argv[1]);
  if (argc > 1 && strcmp(argv[1], "--") == 0)
    optind = 2;
  rc_state st;
  if (extra_load(root, cmd, argc, argv, &st, err) < 0)
    return -1;
  enum rc_status s = rc_state_status(&st);
  int r = 0;
  if (frozen && s != RC_RUNNING)
    r = cut_error(err, 0, "pause %s: container is %s, not running", st.id, rc_status_name(s));
  else if (!frozen && s != RC_PAUSED)
    r = cut_error(err, 0, "resume %s: container is %s, not paused", st.id, rc_status_name(s));
  if (r == 0) {
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, frozen ? "runc.pause" : "runc.resume", TA_STR("id", st.id));
    r = cg_freeze(&st.cgroup, frozen, err);
    if (r < 0)
      cut_wrap(err, "%s %s", cmd, st.id);
    trace_end_rc(&sp, r, err);
  }
  rc_state_free(&st);
  return r < 0 ? -1 : 0;
}

int
rc_cmd_pause(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  return pause_or_resume(root, argc, argv, true, err);
}

int
rc_cmd_resume(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  return pause_or_resume(root, argc, argv, false, err);
}

/* ---- update -------------------------------------------------------------- */

/* "512m", "1G", "100000", "-1": bytes (runc uses docker's RAMInBytes). */
static int
parse_bytes(const char *flag, const char *s, int64_t *out, cut_err *err)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno != 0)
    return cut_error(err, 0, "update: %s: invalid size \"%s\"", flag, s);
  int64_t mul = 1;
  switch (tolower((unsigned char)*end)) {
  case '\0': break;
  case 'b': mul = 1; break;
  case 'k': mul = 1LL << 10; break;
  case 'm': mul = 1LL << 20; break;
  case 'g': mul = 1LL << 30; break;
  case 't': mul = 1LL << 40; break;
  default: return cut_error(err, 0, "update: %s: invalid size \"%s\"", flag, s);
  }
  if (*end != '\0' && end[1] != '\0' && !(tolower((unsigned char)end[1]) == 'b' && end[2] == '\0'))
    return cut_error(err, 0, "update: %s: invalid size \"%s\"", flag, s);
  *out = (int64_t)(v * (double)mul);
  return 0;
}

static int
parse_int(const char *flag, const char *s, int64_t *out, cut_err *err)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0)
    return cut_error(err, 0, "update: %s: invalid number \"%s\"", flag, s);
  *out = v;
  return 0;
}

/* The object `key` of res, created when missing. */
static cJSON *
res_section(cJSON *res, const char *key)
{
  cJSON *o = cJSON_GetObjectItemCaseSensitive(res, key);
  if (o == NULL)
    o = cJSON_AddObjectToObject(res, key);
  return o;
}

static void
res_set_number(cJSON *obj, const char *key, int64_t v)
{
  cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
  cJSON_AddNumberToObject(obj, key, (double)v);
}

static void
res_set_string(cJSON *obj, const char *key, const char *v)
{
  cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
  cJSON_AddStringToObject(obj, key, v);
}

/* --resources FILE ("-": stdin) as the starting point. */
static int
update_read_resources(const char *file, cJSON **out, cut_err *err)
{
  if (strcmp(file, "-") != 0)
    return json_read_file(file, 1 << 20, out, err) < 0 ? cut_wrap(err, "update: --resources") : 0;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (buf == NULL)
      return cut_error(err, ENOMEM, "update: read resources");
    if (len + 1 >= cap) {
      cap *= 2;
      if (cap > (1 << 20)) {
        free(buf);
        return cut_error(err, EFBIG, "update: resources on stdin");
      }
      char *nb = realloc(buf, cap);
      if (nb == NULL)
        free(buf);
      buf = nb;
      continue;
    }
    ssize_t r = read(0, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return cut_error(err, e, "update: read resources from stdin");
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  int rc = json_parse(buf, len, "resources", out, err);
  free(buf);
  return rc < 0 ? cut_wrap(err, "update") : 0;
}

enum {
  UPD_RESOURCES = 1000,
  UPD_MEMORY,
  UPD_MEMORY_RESERVATION,
  UPD_MEMORY_SWAP,
  UPD_KERNEL_MEMORY,
  UPD_CPU_SHARES,
  UPD_CPU_QUOTA,
  UPD_CPU_PERIOD,
  UPD_CPUSET_CPUS,
  UPD_CPUSET_MEMS,
  UPD_PIDS_LIMIT,
  UPD_BLKIO_WEIGHT,
};

/* Apply one flag to the resources document. */
static int
update_flag(cJSON *res, int c, const char *val, cut_err *err)
{
  int64_t v = 0;
  if (val == NULL)
    return cut_error(err, 0, "update: an option lacks its value");
  switch (c) {
  case UPD_MEMORY:
  case UPD_MEMORY_RESERVATION:
  case UPD_MEMORY_SWAP:
  case UPD_KERNEL_MEMORY: {
    static const char *const keys[] = {"limit", "reservation", "swap", "kernel"};
    if (parse_bytes("memory", val, &v, err) < 0)
      return -1;
    res_set_number(res_section(res, "memory"), keys[c - UPD_MEMORY], v);
    return 0;
  }
  case UPD_CPU_SHARES:
  case UPD_CPU_QUOTA:
  case UPD_CPU_PERIOD: {
    static const char *const keys[] = {"shares", "quota", "period"};
    if (parse_int("cpu", val, &v, err) < 0)
      return -1;
    res_set_number(res_section(res, "cpu"), keys[c - UPD_CPU_SHARES], v);
    return 0;
  }
  case UPD_CPUSET_CPUS: res_set_string(res_section(res, "cpu"), "cpus", val); return 0;
  case UPD_CPUSET_MEMS: res_set_string(res_section(res, "cpu"), "mems", val); return 0;
  case UPD_PIDS_LIMIT:
    if (parse_int("--pids-limit", val, &v, err) < 0)
      return -1;
    res_set_number(res_section(res, "pids"), "limit", v);
    return 0;
  case UPD_BLKIO_WEIGHT:
    if (parse_int("--blkio-weight", val, &v, err) < 0)
      return -1;
    res_set_number(res_section(res, "blockIO"), "weight", v);
    return 0;
  }
  return cut_error(err, 0, "update: unknown option");
}

int
rc_cmd_update(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  static const struct option opts[] = {
      {"resources", required_argument, NULL, UPD_RESOURCES},
      {"r", required_argument, NULL, UPD_RESOURCES},
      {"memory", required_argument, NULL, UPD_MEMORY},
      {"memory-reservation", required_argument, NULL, UPD_MEMORY_RESERVATION},
      {"memory-swap", required_argument, NULL, UPD_MEMORY_SWAP},
      {"kernel-memory", required_argument, NULL, UPD_KERNEL_MEMORY},
      {"cpu-shares", required_argument, NULL, UPD_CPU_SHARES},
      {"cpu-quota", required_argument, NULL, UPD_CPU_QUOTA},
      {"cpu-period", required_argument, NULL, UPD_CPU_PERIOD},
      {"cpuset-cpus", required_argument, NULL, UPD_CPUSET_CPUS},
      {"cpuset-mems", required_argument, NULL, UPD_CPUSET_MEMS},
      {"pids-limit", required_argument, NULL, UPD_PIDS_LIMIT},
      {"blkio-weight", required_argument, NULL, UPD_BLKIO_WEIGHT},
      {0}};
  /* Options are collected first: --resources is the base whatever its
   * position, the single flags override it. */
  const char *file = NULL;
  int codes[32];
  const char *vals[32];
  int nflags = 0;
  optind = 0;
  int c;
  while ((c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
    if (c == UPD_RESOURCES || c == 'r') {
      file = optarg;
    } else if (c >= UPD_MEMORY && nflags < 32) {
      codes[nflags] = c;
      vals[nflags++] = optarg;
    } else {
      return cut_error(err, 0, "update: unknown option %s", argv[optind - 1]);
    }
  }
  cJSON *res = NULL;
  if (file && update_read_resources(file, &res, err) < 0)
    return -1;
  if (res == NULL)
    res = cJSON_CreateObject();
  if (!cJSON_IsObject(res)) {
    cJSON_Delete(res);
    return cut_error(err, 0, "update: resources: expected a JSON object");
  }
  for (int i = 0; i < nflags; i++)
    if (update_flag(res, codes[i], vals[i], err) < 0) {
      cJSON_Delete(res);
      return -1;
    }
  rc_state st;
  if (extra_load(root, "update", argc, argv, &st, err) < 0) {
    cJSON_Delete(res);
    return -1;
  }
  int r = 0;
  enum rc_status s = rc_state_status(&st);
  if (s == RC_STOPPED)
    r = cut_error(err, 0, "update %s: container is stopped", st.id);
  if (r == 0) {
    char *text = cJSON_PrintUnformatted(res);
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, "runc.update", TA_STR("id", st.id),
                TA_JSON("resources", text ? text : "{}"));
    free(text);
    r = cg_update(&st.cgroup, res, err);
    if (r < 0)
      cut_wrap(err, "update %s", st.id);
    trace_end_rc(&sp, r, err);
  }
  rc_state_free(&st);
  cJSON_Delete(res);
  return r < 0 ? -1 : 0;
}

/* ---- events -------------------------------------------------------------- */

/* "5s", "100ms", "1m", "2": a duration in milliseconds. */
static int
parse_interval(const char *s, long *ms, cut_err *err)
{
  char *end;
  double v = strtod(s, &end);
  double mul = 1000;
  if (strcmp(end, "ms") == 0)
    mul = 1;
  else if (strcmp(end, "s") == 0 || *end == '\0')
    mul = 1000;
  else if (strcmp(end, "m") == 0)
    mul = 60000;
  else
    v = -1;
  if (end == s || v <= 0)
    return cut_error(err, 0, "events: invalid interval \"%s\"", s);
  *ms = (long)(v * mul);
  if (*ms < 1)
    *ms = 1;
  return 0;
}

/* One {"type":"stats","id":...,"data":...} line on stdout. */
static int
events_print_stats(const rc_state *st, cut_err *err)
{
  cJSON *data = NULL;
  if (cg_stats(&st->cgroup, &data, err) < 0)
    return cut_wrap(err, "events %s", st->id);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "type", "stats");
  cJSON_AddStringToObject(ev, "id", st->id);
  cJSON_AddItemToObject(ev, "data", data);
  char *text = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  if (text == NULL)
    return cut_error(err, ENOMEM, "events");
  printf("%s\n", text);
  fflush(stdout);
  free(text);
  return 0;
}

int
rc_cmd_events(const rc_global *g, int argc, char **argv, cut_err *err)
{
  const char *root = g->root;
  static const struct option opts[] = {
      {"stats", no_argument, NULL, 's'}, {"interval", required_argument, NULL, 'i'}, {0}};
  bool once = false;
  long interval_ms = 5000;
  optind = 0;
  int c;
  while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
    if (c == 's')
      once = true;
    else if (c == 'i' && parse_interval(optarg, &interval_ms, err) < 0)
      return -1;
    else if (c != 'i')
      return cut_error(err, 0, "events: unknown option %s", argv[optind - 1]);
  }
  rc_state st;
  if (extra_load(root, "events", argc, argv, &st, err) < 0)
    return -1;
  int r = 0;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "runc.events", TA_STR("id", st.id), TA_BOOL("stats", once));
  if (rc_state_status(&st) == RC_STOPPED)
    r = cut_error(err, 0, "events %s: container is stopped", st.id);
  while (r == 0) {
    r = events_print_stats(&st, err);
    if (r < 0 || once)
      break;
    struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    /* The stream ends with the container, as runc's does. */
    if (rc_state_status(&st) == RC_STOPPED)
      break;
  }
  trace_end_rc(&sp, r, err);
  rc_state_free(&st);
  return r < 0 ? -1 : 0;
}

/* ---- kill: a just-started init ---------------------------------------------- */

/* The mask of a "SigCgt:"-style line of /proc/<pid>/status, and whether the
 * process is the init of its pid namespace (last NSpid field is 1). */
static bool
status_signals(pid_t pid, unsigned long long *caught, bool *ns_init)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  *caught = 0;
  *ns_init = false;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "NSpid:", 6) == 0) {
      char *last = strrchr(line, '\t');
      *ns_init = last && atoi(last + 1) == 1 && strchr(line + 7, '\t') != NULL;
    } else if (strncmp(line, "SigCgt:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0) {
      *caught |= strtoull(line + 7, NULL, 16);
    }
  }
  fclose(f);
  return true;
}

void
rc_signal_wait_handler(pid_t pid, int sig)
{
  if (sig == SIGKILL || sig == SIGSTOP || sig <= 0 || sig > 64)
    return;
  /* The kernel drops a signal sent to a pid-namespace init that has no
   * handler for it (pid_namespaces(7)).  Right after `start`, the program
   * may not have installed its handler yet (a shell's `trap`): give it a
   * moment, as sending now would be lost for sure. */
  for (int i = 0; i < 500; i++) { /* at most ~100 ms */
    unsigned long long caught;
    bool ns_init;
    if (!status_signals(pid, &caught, &ns_init) || !ns_init || (caught & (1ULL << (sig - 1))))
      return;
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
  }
}
