/* dkd_stats.c: GET /containers/{id}/stats, what `docker stats` shows
 * (dockerd's daemon/stats.go and stats_collector).
 *
 * The numbers are the kernel's, read from the container's cgroup by
 * cutaway-containerd (GET /v1/containers/{id}/task/metrics: memory usage and
 * limit, CPU time, pids), plus the host's total CPU time from /proc/stat and
 * the bytes through the container's veth.  The CLI computes CPU % itself
 * from two samples: (container CPU delta / host CPU delta) x online CPUs, so
 * every sample carries the previous one as `precpu_stats`; samples are one
 * second apart, as dockerd's collector takes them.  `stream=0` answers with
 * one sample (after a second, so that it has a previous one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "dkd.h"

struct sample {
  double cpu_ns, system_ns;
  bool ok;
};

struct stats_reader {
  dkd *d;
  char id[65], name[256], veth[16];
  bool stream;
  int sent;
  int conn_fd;
  struct sample prev;
};

/* The host's CPU time in ns, all CPUs, as dockerd reads it (/proc/stat). */
static double
system_cpu_ns(void)
{
  FILE *f = fopen("/proc/stat", "re");
  if (f == NULL)
    return 0;
  unsigned long long v[8] = {0};
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  double ticks = 0;
  for (int i = 0; i < n && i < 8; i++)
    ticks += (double)v[i];
  return ticks * (1e9 / (double)sysconf(_SC_CLK_TCK));
}

static double
read_counter(const char *veth, const char *what)
{
  char path[128];
  snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", veth, what);
  FILE *f = fopen(path, "re");
  unsigned long long v = 0;
  if (f) {
    if (fscanf(f, "%llu", &v) != 1)
      v = 0;
    fclose(f);
  }
  return (double)v;
}

static double
num(const cJSON *o, const char *a, const char *b)
{
  const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, a), b);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static cJSON *
cpu_json(const struct sample *s)
{
  cJSON *c = cJSON_CreateObject();
  cJSON *u = cJSON_AddObjectToObject(c, "cpu_usage");
  cJSON_AddNumberToObject(u, "total_usage", s->cpu_ns);
  cJSON_AddNumberToObject(c, "system_cpu_usage", s->system_ns);
  cJSON_AddNumberToObject(c, "online_cpus", get_nprocs());
  return c;
}

/* One sample in Docker's shape; NULL when the task is gone. */
static cJSON *
take_sample(struct stats_reader *r)
{
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s/task/metrics", r->id);
  cJSON *m = NULL;
  cut_err err;
  if (dkd_ctd(r->d, "GET", path, NULL, NULL, &m, &err) < 0)
    return NULL;
  struct sample now = {.cpu_ns = num(m, "cpu", "usage_ns"), .system_ns = system_cpu_ns(), .ok = 1};
  cJSON *o = cJSON_CreateObject();
  char ts[40];
  dkd_now(ts, sizeof ts);
  cJSON_AddStringToObject(o, "read", ts);
  cJSON_AddStringToObject(o, "name", r->name);
  cJSON_AddStringToObject(o, "id", r->id);
  cJSON *p = cJSON_AddObjectToObject(o, "pids_stats");
  cJSON_AddNumberToObject(p, "current", num(m, "pids", "current"));
  if (num(m, "pids", "limit") > 0)
    cJSON_AddNumberToObject(p, "limit", num(m, "pids", "limit"));
  cJSON_AddItemToObject(o, "cpu_stats", cpu_json(&now));
  cJSON_AddItemToObject(o, "precpu_stats", cpu_json(r->prev.ok ? &r->prev : &now));
  /* No limit: the host's memory, as dockerd reports it. */
  double limit = num(m, "memory", "limit");
  struct sysinfo si;
  if ((limit <= 0) && sysinfo(&si) == 0)
    limit = (double)si.totalram * si.mem_unit;
  cJSON *mem = cJSON_AddObjectToObject(o, "memory_stats");
  cJSON_AddNumberToObject(mem, "usage", num(m, "memory", "usage"));
  cJSON_AddNumberToObject(mem, "max_usage", num(m, "memory", "max_usage"));
  cJSON_AddNumberToObject(mem, "limit", limit);
  cJSON *st = cJSON_AddObjectToObject(mem, "stats");
  cJSON_AddNumberToObject(st, "cache", num(m, "memory", "cache"));
  cJSON_AddObjectToObject(o, "blkio_stats");
  if (r->veth[0]) {
    /* The host end's rx is what the container sent. */
    cJSON *eth0 = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "networks"), "eth0");
    cJSON_AddNumberToObject(eth0, "rx_bytes", read_counter(r->veth, "tx_bytes"));
    cJSON_AddNumberToObject(eth0, "tx_bytes", read_counter(r->veth, "rx_bytes"));
  }
  cJSON_Delete(m);
  r->prev = now;
  return o;
}

static ssize_t
stats_read(void *cls, char *buf, size_t max)
{
  struct stats_reader *r = cls;
  if (!r->stream && r->sent > 0)
    return 0;
  if (!r->prev.ok) { /* a first sample, to compute the CPU of the next */
    cJSON_Delete(take_sample(r));
  }
  for (int i = 0; i < 10; i++) { /* a second, a tenth at a time */
    if (httpd_fd_gone(r->conn_fd))
      return -1;
    usleep(100 * 1000);
  }
  cJSON *o = take_sample(r);
  if (o == NULL)
    return 0; /* the container stopped: the stream ends */
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  int n = snprintf(buf, max, "%s\n", text ? text : "{}");
  free(text);
  r->sent++;
  return n < 0 || (size_t)n >= max ? -1 : n;
}

void
dkd_h_containers_stats(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  struct stats_reader *r = calloc(1, sizeof *r);
  r->d = d;
  snprintf(r->id, sizeof r->id, "%s", k->id);
  snprintf(r->name, sizeof r->name, "%s", k->name);
  snprintf(r->veth, sizeof r->veth, "%s", k->veth);
  bool running = k->state == DKD_RUNNING || k->state == DKD_PAUSED;
  pthread_mutex_unlock(&d->lock);
  const char *s = httpd_query(req, "stream");
  r->stream = s == NULL || (strcmp(s, "0") != 0 && strcmp(s, "false") != 0);
  r->conn_fd = httpd_peer_fd(req);
  if (!running) {
    /* dockerd answers a stopped container with one empty sample. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "read", "0001-01-01T00:00:00Z");
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "id", r->id);
    free(r);
    httpd_reply_json(req, 200, o);
    return;
  }
  httpd_reply_stream(req, 200, "application/json", stats_read, r, free);
}
