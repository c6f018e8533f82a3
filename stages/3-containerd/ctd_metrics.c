/* ctd_metrics.c: a task's metrics read from its cgroup (what containerd's
 * cgroups.Metrics and `docker stats` report), on cgroup v1 (one hierarchy
 * per controller: memory/, cpuacct/, pids/) and v2 (one unified tree). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctd.h"

/* The first number in a file, or -1 ("max" is -1 too). */
static long long
read_num(const char *fmt, const char *cg)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, fmt, cg);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  long long v = -1;
  if (fscanf(f, "%lld", &v) != 1)
    v = -1;
  fclose(f);
  return v;
}

/* "key value" lines (memory.stat, cpu.stat). */
static long long
read_key(const char *fmt, const char *cg, const char *key)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, fmt, cg);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  char k[128];
  long long v, out = -1;
  while (fscanf(f, "%127s %lld", k, &v) == 2)
    if (strcmp(k, key) == 0) {
      out = v;
      break;
    }
  fclose(f);
  return out;
}

/* Negative: absent.  v1 reports "no limit" as a huge page-aligned number
 * (PAGE_COUNTER_MAX pages): shown as -1, as v2's "max" is. */
static void
add(cJSON *o, const char *k, long long v)
{
  if (v >= (1LL << 62))
    cJSON_AddNumberToObject(o, k, -1);
  else if (v >= 0)
    cJSON_AddNumberToObject(o, k, (double)v);
}

int
ctd_metrics(const char *cg, cJSON **out, cut_err *err)
{
  if (cg == NULL || *cg == '\0')
    return ctd_err(err, ENOENT, "metrics: the container has no cgroup path");
  char probe[PATH_MAX];
  struct stat st;
  cJSON *o = cJSON_CreateObject();
  cJSON *mem = cJSON_AddObjectToObject(o, "memory");
  cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
  cJSON *pids = cJSON_AddObjectToObject(o, "pids");
  snprintf(probe, sizeof probe, "/sys/fs/cgroup/memory%s", cg);
  if (stat(probe, &st) == 0) {
    cJSON_AddStringToObject(o, "cgroup", "v1");
    add(mem, "usage", read_num("/sys/fs/cgroup/memory%s/memory.usage_in_bytes", cg));
    add(mem, "max_usage", read_num("/sys/fs/cgroup/memory%s/memory.max_usage_in_bytes", cg));
    add(mem, "limit", read_num("/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cg));
    add(mem, "cache", read_key("/sys/fs/cgroup/memory%s/memory.stat", cg, "cache"));
    add(mem, "rss", read_key("/sys/fs/cgroup/memory%s/memory.stat", cg, "rss"));
    add(mem, "oom_kill", read_key("/sys/fs/cgroup/memory%s/memory.oom_control", cg, "oom_kill"));
    add(cpu, "usage_ns", read_num("/sys/fs/cgroup/cpuacct%s/cpuacct.usage", cg));
    add(cpu, "nr_throttled", read_key("/sys/fs/cgroup/cpu%s/cpu.stat", cg, "nr_throttled"));
    add(cpu, "throttled_ns", read_key("/sys/fs/cgroup/cpu%s/cpu.stat", cg, "throttled_time"));
    add(pids, "current", read_num("/sys/fs/cgroup/pids%s/pids.current", cg));
    add(pids, "limit", read_num("/sys/fs/cgroup/pids%s/pids.max", cg));
  } else {
    snprintf(probe, sizeof probe, "/sys/fs/cgroup%s/cgroup.controllers", cg);
    if (stat(probe, &st) < 0) {
      cJSON_Delete(o);
      return ctd_err(err, ENOENT, "metrics: cgroup %s not found (task not running?)", cg);
    }
    cJSON_AddStringToObject(o, "cgroup", "v2");
    add(mem, "usage", read_num("/sys/fs/cgroup%s/memory.current", cg));
    add(mem, "max_usage", read_num("/sys/fs/cgroup%s/memory.peak", cg));
    add(mem, "limit", read_num("/sys/fs/cgroup%s/memory.max", cg));
    add(mem, "anon", read_key("/sys/fs/cgroup%s/memory.stat", cg, "anon"));
    add(mem, "file", read_key("/sys/fs/cgroup%s/memory.stat", cg, "file"));
    add(mem, "oom_kill", read_key("/sys/fs/cgroup%s/memory.events", cg, "oom_kill"));
    long long us = read_key("/sys/fs/cgroup%s/cpu.stat", cg, "usage_usec");
    add(cpu, "usage_ns", us >= 0 ? us * 1000 : -1);
    add(cpu, "nr_throttled", read_key("/sys/fs/cgroup%s/cpu.stat", cg, "nr_throttled"));
    long long th = read_key("/sys/fs/cgroup%s/cpu.stat", cg, "throttled_usec");
    add(cpu, "throttled_ns", th >= 0 ? th * 1000 : -1);
    add(pids, "current", read_num("/sys/fs/cgroup%s/pids.current", cg));
    add(pids, "limit", read_num("/sys/fs/cgroup%s/pids.max", cg));
  }
  *out = o;
  return 0;
}
