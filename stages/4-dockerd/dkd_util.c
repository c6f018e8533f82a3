/* dkd_util.c: small helpers of cutawayd: ids, times, `docker ps` status
 * text, names, signals, and the client of cutaway-containerd's API. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dkd.h"
#include "httpc.h"

void
dkd_random_hex(char *out, size_t nbytes)
{
  unsigned char buf[64];
  if (nbytes > sizeof buf)
    nbytes = sizeof buf;
  if (getrandom(buf, nbytes, 0) != (ssize_t)nbytes)
    for (size_t i = 0; i < nbytes; i++)
      buf[i] = (unsigned char)rand();
  for (size_t i = 0; i < nbytes; i++)
    sprintf(out + 2 * i, "%02x", buf[i]);
  out[2 * nbytes] = '\0';
}

void
dkd_now(char *out, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, len - n, ".%09ldZ", ts.tv_nsec);
}

double
dkd_seconds_since(const char *rfc3339)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (rfc3339 == NULL || strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  time_t t = timegm(&tm);
  return difftime(time(NULL), t);
}

/* Docker's go-units HumanDuration. */
void
dkd_human_duration(double s, char *out, size_t len)
{
  long secs = (long)s;
  if (secs < 1)
    snprintf(out, len, "Less than a second");
  else if (secs == 1)
    snprintf(out, len, "1 second");
  else if (secs < 60)
    snprintf(out, len, "%ld seconds", secs);
  else if (secs / 60 == 1)
    snprintf(out, len, "About a minute");
  else if (secs < 3600)
    snprintf(out, len, "%ld minutes", secs / 60);
  else if (secs / 3600 == 1)
    snprintf(out, len, "About an hour");
  else if (secs < 48 * 3600)
    snprintf(out, len, "%ld hours", secs / 3600);
  else
    snprintf(out, len, "%ld days", secs / 86400);
}

const char *
dkd_state_name(enum dkd_state s)
{
  switch (s) {
  case DKD_CREATED: return "created";
  case DKD_RUNNING: return "running";
  case DKD_PAUSED: return "paused";
  case DKD_EXITED: return "exited";
  case DKD_DEAD: return "dead";
  }
  return "unknown";
}

void
dkd_status_text(const dkd_container *k, char *out, size_t len)
{
  char dur[64];
  switch (k->state) {
  case DKD_CREATED: snprintf(out, len, "Created"); break;
  case DKD_RUNNING:
  case DKD_PAUSED:
    dkd_human_duration(dkd_seconds_since(k->started_at), dur, sizeof dur);
    snprintf(out, len, "Up %s%s", dur, k->state == DKD_PAUSED ? " (Paused)" : "");
    break;
  case DKD_EXITED:
    dkd_human_duration(dkd_seconds_since(k->finished_at), dur, sizeof dur);
    snprintf(out, len, "Exited (%d) %s ago", k->exit_code, dur);
    break;
  case DKD_DEAD: snprintf(out, len, "Dead"); break;
  }
  if (k->removing)
    snprintf(out, len, "Removal In Progress");
}

/* A few adjectives and the people whose work this stack stands on. */
void
dkd_random_name(char *out, size_t len)
{
  static const char *const adj[] = {"brave",    "calm",    "eager", "gentle", "happy",
                                    "jolly",    "keen",    "lucid", "nifty",  "quirky",
                                    "serene",   "sharp",   "swift", "tender", "vibrant",
                                    "wizardly", "zealous", "bold",  "clever", "dreamy"};
  static const char *const who[] = {"torvalds",  "ritchie", "thompson", "kerrisk",  "menage",
                                    "biederman", "hykes",   "crosby",   "scrivano", "poettering",
                                    "drewry",    "morton",  "heo",      "corbet",   "hopper",
                                    "lovelace",  "knuth",   "liskov",   "hamilton", "mcilroy"};
  unsigned char r[2];
  if (getrandom(r, 2, 0) != 2)
    r[0] = (unsigned char)rand(), r[1] = (unsigned char)rand();
  snprintf(out, len, "%s_%s", adj[r[0] % 20], who[r[1] % 20]);
}

int
dkd_signal_number(const char *name)
{
  if (name == NULL || *name == '\0')
    return SIGKILL;
  char *end;
  long n = strtol(name, &end, 10);
  if (*end == '\0')
    return n > 0 && n < 65 ? (int)n : -1;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  static const struct {
    const char *name;
    int sig;
  } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
              {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"TERM", SIGTERM}, {"STOP", SIGSTOP},
              {"CONT", SIGCONT}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (strcasecmp(name, sigs[i].name) == 0)
      return sigs[i].sig;
  return -1;
}

int
dkd_ctd(dkd *d, const char *method, const char *path, const cJSON *body, long *status, cJSON **out,
        cut_err *err)
{
  httpc_opts o = {.peer = "cutaway-containerd"};
  long st = 0;
  int r = httpc_json(d->containerd, method, path, body, &o, &st, out, err);
  if (status)
    *status = st;
  return r;
}

void
dkd_reply_err(httpd_req *req, unsigned status, const cut_err *err)
{
  /* Docker's messages are sentences without our ": <strerror>" tail. */
  size_t n = strlen(err->msg);
  const char *tail = err->errnum ? strerror(err->errnum) : NULL;
  size_t t = tail ? strlen(tail) : 0;
  if (tail && n > t + 2 && strcmp(err->msg + n - t, tail) == 0 && err->msg[n - t - 2] == ':')
    n -= t + 2;
  httpd_reply_error(req, status, "%.*s", (int)n, err->msg);
}

double
dkd_monotonic(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
dkd_container_removed(dkd *d, dkd_container *k)
{
  k->removed = true;
  k->removed_at = dkd_monotonic();
  /* Its execs never started never will: they can go with it. */
  for (dkd_exec *e = d->execs; e; e = e->next)
    if (!e->started && strcmp(e->container_id, k->id) == 0) {
      e->done = true;
      e->done_at = k->removed_at;
    }
  pthread_cond_broadcast(&d->changed);
}

/* Every thread that holds a container or an exec (a /wait, a log reader,
 * the monitor, a relay, a stdin copier) lets go within a second of its
 * removal or end: they are woken by d->changed or by their socket
 * closing.  Five minutes later the memory goes, as dockerd prunes its
 * finished execs after five minutes. */
#define DKD_GRACE_S 300.0

static void
container_free(dkd_container *k)
{
  cJSON_Delete(k->config);
  cJSON_Delete(k->host_config);
  cJSON_Delete(k->args);
  free(k);
}

void
dkd_sweep(dkd *d)
{
  double now = dkd_monotonic();
  for (dkd_container **pp = &d->containers; *pp;) {
    dkd_container *k = *pp;
    if (k->removed && now - k->removed_at > DKD_GRACE_S && !k->stdio.relaying) {
      *pp = k->next;
      container_free(k);
    } else {
      pp = &k->next;
    }
  }
  for (dkd_exec **pp = &d->execs; *pp;) {
    dkd_exec *e = *pp;
    if (e->done && now - e->done_at > DKD_GRACE_S && !e->stdio.relaying) {
      *pp = e->next;
      cJSON_Delete(e->config);
      free(e);
    } else {
      pp = &e->next;
    }
  }
}

void
dkd_failpoint(const char *name)
{
  const char *fp = getenv("CUTAWAY_FAILPOINT");
  if (fp && strcmp(fp, name) == 0) {
    fprintf(stderr, "cutawayd: failpoint %s: killing myself\n", name);
    raise(SIGKILL);
  }
}
