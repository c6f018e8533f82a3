/* synth.c: `cutaway-trace synth --events N -o FILE` writes a synthetic
 * trace file for benchmarks and tests of the reader: requests shaped like a
 * real `cutaway run` (CLI -> daemon -> containerd -> shim -> runc -> kernel,
 * with registry pulls), one after another,
 * with now and then an error and a process that died.  Deterministic:
 * the same N gives the same file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"

struct synth {
  int fd;
  char buf[1 << 16];
  size_t len;
  uint64_t rng, events, limit;
  int64_t ts;
  int ok;
};

static uint64_t
rnd(struct synth *s)
{
  s->rng ^= s->rng << 13;
  s->rng ^= s->rng >> 7;
  s->rng ^= s->rng << 17;
  return s->rng;
}

static void
flush_buf(struct synth *s)
{
  size_t off = 0;
  while (off < s->len) {
    ssize_t w = write(s->fd, s->buf + off, s->len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      s->ok = -errno;
      break;
    }
    off += (size_t)w;
  }
  s->len = 0;
}

struct proc {
  const char *comp, *role;
  int pid;
};

static void
line(struct synth *s, const char *tid, const char *span, const char *parent, const char *ev,
     const struct proc *p, const char *kind, const char *name, const char *status,
     const char *attrs)
{
  if (s->events >= s->limit)
    return;
  if (s->len + 1024 > sizeof s->buf)
    flush_buf(s);
  s->ts += 1000 + (int64_t)(rnd(s) % 50000);
  int n = snprintf(s->buf + s->len, sizeof s->buf - s->len,
                   "{\"ts\":%lld,\"trace\":\"%s\",\"span\":\"%s\"%s%s%s,\"ev\":\"%s\","
                   "\"comp\":\"%s\",\"role\":\"%s\",\"pid\":%d,\"kind\":\"%s\",\"name\":\"%s\""
                   "%s%s%s%s%s}\n",
                   (long long)s->ts, tid, span, parent ? ",\"parent\":\"" : "",
                   parent ? parent : "", parent ? "\"" : "", ev, p->comp, p->role, p->pid, kind,
                   name, status ? ",\"status\":\"" : "", status ? status : "", status ? "\"" : "",
                   status && strcmp(status, "error") == 0
                       ? ",\"err\":\"mount proc on /proc: Operation not permitted\",\"errno\":1"
                       : "",
                   attrs ? attrs : "");
  s->len += (size_t)n;
  s->events++;
}

/* One span: begin, children (via the callback), end. */
struct ctx {
  struct synth *s;
  char tid[33];
  unsigned next;
  bool fail, die;
};

static void
span_id(struct ctx *c, char out[17])
{
  snprintf(out, 17, "%016llx", (unsigned long long)(((uint64_t)rnd(c->s) << 8) | ++c->next));
}

static void
leaf(struct ctx *c, const char *parent, const struct proc *p, const char *kind, const char *name,
     const char *attrs, bool err)
{
  char id[17];
  span_id(c, id);
  line(c->s, c->tid, id, parent, "begin", p, kind, name, NULL, attrs);
  line(c->s, c->tid, id, NULL, "end", p, kind, name, err ? "error" : "ok", NULL);
}

static void
request(struct synth *s, int n)
{
  struct ctx c = {.s = s};
  snprintf(c.tid, sizeof c.tid, "%016llx%016llx", (unsigned long long)rnd(s),
           (unsigned long long)(n + 1));
  c.fail = n % 17 == 5;
  c.die = n % 23 == 7;
  int base = 1000 + (n % 30000) * 8;
  struct proc cli = {"cutaway", "cutaway", base}, d = {"cutawayd", "cutawayd", 900},
              ctd = {"cutaway-containerd", "cutaway-containerd", 901},
              shim = {"cutaway-shim", "cutaway-shim", base + 1},
              runc = {"cutaway-runc", "runc", base + 2},
              child = {"cutaway-runc", "runc:[1:CHILD]", base + 3},
              init = {"cutaway-runc", "runc:[2:INIT]", base + 4};
  char a[17], b[17], cc[17], dd[17], e[17], f[17], g[17];
  span_id(&c, a);
  line(s, c.tid, a, NULL, "begin", &cli, "client", "POST /containers/create", NULL,
       ",\"attrs\":{\"name\":\"web\",\"image\":\"busybox\"}");
  span_id(&c, b);
  line(s, c.tid, b, a, "begin", &d, "server", "POST /containers/create", NULL, NULL);
  span_id(&c, cc);
  line(s, c.tid, cc, b, "begin", &d, "client", "POST /v1/containers", NULL, NULL);
  span_id(&c, dd);
  line(s, c.tid, dd, cc, "begin", &ctd, "server", "POST /v1/containers", NULL, NULL);
  if (n % 4 == 0) {
    leaf(&c, dd, &ctd, "client", "GET /v2/library/busybox/manifests/latest",
         ",\"attrs\":{\"registry\":\"127.0.0.1:5000\"}", false);
    leaf(&c, dd, &ctd, "client", "GET /v2/library/busybox/blobs/sha256:0a1b", NULL, false);
  }
  leaf(&c, dd, &ctd, "internal", "snapshot.prepare", NULL, false);
  span_id(&c, e);
  line(s, c.tid, e, dd, "begin", &shim, "server", "task.Create", NULL, NULL);
  span_id(&c, f);
  line(s, c.tid, f, e, "begin", &runc, "internal", "runc.create", NULL,
       ",\"attrs\":{\"id\":\"c0ffee\",\"bundle\":\"/run/cutaway/c0ffee\"}");
  leaf(&c, f, &runc, "syscall", "clone", ",\"attrs\":{\"flags\":\"CLONE_NEWPID|CLONE_NEWNS\"}",
       false);
  span_id(&c, g);
  line(s, c.tid, g, f, "begin", &child, "internal", "runc.child", NULL, NULL);
  leaf(&c, g, &child, "syscall", "unshare", NULL, false);
  leaf(&c, g, &init, "syscall", "mount", ",\"attrs\":{\"target\":\"/proc\"}", c.fail);
  leaf(&c, g, &init, "syscall", "pivot_root", NULL, false);
  leaf(&c, g, &init, "syscall", "cgroup.write",
       ",\"attrs\":{\"path\":\"memory.max\",\"value\":\"67108864\"}", false);
  leaf(&c, g, &init, "syscall", "capset", NULL, false);
  leaf(&c, g, &init, "syscall", "seccomp.load", ",\"attrs\":{\"rules\":312}", false);
  if (c.die)
    return; /* the process died: its spans and all callers stay open */
  char x[17];
  span_id(&c, x);
  line(s, c.tid, x, g, "begin", &init, "syscall", "execve", NULL, NULL);
  line(s, c.tid, g, NULL, "end", &child, "internal", "runc.child", "ok", NULL);
  line(s, c.tid, f, NULL, "end", &runc, "internal", "runc.create", "ok", NULL);
  line(s, c.tid, e, NULL, "end", &shim, "server", "task.Create", "ok", NULL);
  line(s, c.tid, dd, NULL, "end", &ctd, "server", "POST /v1/containers", "ok", NULL);
  line(s, c.tid, cc, NULL, "end", &d, "client", "POST /v1/containers", "ok", NULL);
  line(s, c.tid, b, NULL, "end", &d, "server", "POST /containers/create", "ok", NULL);
  line(s, c.tid, a, NULL, "end", &cli, "client", "POST /containers/create", "ok", NULL);
}

int
trace_cmd_synth(int argc, char **argv)
{
  static const struct option opts[] = {
      {"events", required_argument, 0, 'e'}, {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
  long long n = 0;
  const char *out = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "e:o:", opts, NULL)) != -1) {
    if (c == 'e')
      n = atoll(optarg);
    else if (c == 'o')
      out = optarg;
    else
      return 2;
  }
  if (n <= 0 || !out || optind != argc) {
    fprintf(stderr, "usage: cutaway-trace synth --events N -o FILE\n");
    return 2;
  }
  struct synth *s = calloc(1, sizeof *s);
  if (s == NULL)
    return 1;
  s->fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s->fd < 0) {
    cut_err err;
    cut_error(&err, errno, "open %s", out);
    cut_err_print("cutaway-trace synth", &err);
    free(s);
    return 1;
  }
  s->rng = 0x9e3779b97f4a7c15ULL;
  s->limit = (uint64_t)n;
  s->ts = 1764435813000000000LL;
  for (int i = 0; s->events < s->limit; i++)
    request(s, i);
  flush_buf(s);
  int rc = s->ok < 0 || close(s->fd) < 0;
  if (rc)
    fprintf(stderr, "cutaway-trace synth: write %s failed\n", out);
  free(s);
  return rc;
}
