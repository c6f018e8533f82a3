/* cgroups_stats.c: a container's resource usage, read back from cgroupfs in
 * the shape of the "data" object of runc's `events --stats` (the numbers
 * `docker stats` shows come from there):
 *
 *   {"cpu":   {"usage": {"total", "percpu", "kernel", "user"},
 *              "throttling": {"periods", "throttledPeriods", "throttledTime"}},
 *    "memory":{"cache", "usage": {"limit", "usage", "max", "failcnt"},
 *              "swap": {...}, "raw": {memory.stat}},
 *    "pids":  {"current", "limit"}}
 *
 * Times are in nanoseconds, sizes in bytes.  v1 reads cpuacct.usage,
 * cpuacct.stat (in clock ticks), memory.usage_in_bytes, memory.memsw.*;
 * v2 reads cpu.stat (in microseconds), memory.current, memory.peak,
 * memory.swap.current.  As in runc, v2 "swap" is memory+swap (so it reads
 * like v1's memsw), an unlimited pids.max reads as limit 0 and an
 * unlimited memory.max as 2^64-1.  Numbers are written exactly (raw JSON),
 * not through a double. */
#include "cgroups_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_U64 "18446744073709551615"

typedef struct reader {
  const cg_tree *tree;
  const char *cgpath;
} reader;

/* Read a knob of controller c; false when the controller or file is absent. */
static bool
knob(const reader *r, enum cg_ctrl c, const char *file, char *buf, size_t len)
{
  const cg_hier *h = cg_tree_find(r->tree, c);
  char p[PATH_MAX];
  cut_err ignored;
  return h && cg_join(r->tree, h, r->cgpath, file, p, &ignored) == 0 &&
         cg_read(p, buf, len, &ignored) == 0;
}

static void
add_u64(cJSON *o, const char *key, unsigned long long v)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", v);
  cJSON_AddRawToObject(o, key, buf);
}

/* A number knob; "max" gives max_value (NULL: leave the key out). */
static bool
add_knob(const reader *r, cJSON *o, const char *key, enum cg_ctrl c, const char *file,
         const char *max_value)
{
  char buf[64];
  if (!knob(r, c, file, buf, sizeof buf))
    return false;
  if (strcmp(buf, "max") == 0) {
    if (max_value)
      cJSON_AddRawToObject(o, key, max_value);
    return max_value != NULL;
  }
  char *end;
  unsigned long long v = strtoull(buf, &end, 10);
  if (end == buf)
    return false;
  add_u64(o, key, v);
  return true;
}

/* "key value" lines (cpu.stat, memory.stat, cpuacct.stat) as an object. */
static cJSON *
keyed(const reader *r, enum cg_ctrl c, const char *file)
{
  char buf[8192];
  if (!knob(r, c, file, buf, sizeof buf))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char k[128];
    unsigned long long v;
    if (sscanf(line, "%127s %llu", k, &v) == 2)
      add_u64(o, k, v);
  }
  return o;
}

static unsigned long long
get(const cJSON *o, const char *key)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  if (it == NULL)
    return 0;
  if (cJSON_IsRaw(it))
    return strtoull(it->valuestring, NULL, 10);
  return cJSON_IsNumber(it) ? (unsigned long long)it->valuedouble : 0;
}

static bool
has(const cJSON *o, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

/* ---- cpu ---------------------------------------------------------------- */

static void
throttling(cJSON *cpu, const cJSON *st, const char *time_key, unsigned long long scale)
{
  if (st == NULL)
    return;
  cJSON *t = cJSON_AddObjectToObject(cpu, "throttling");
  add_u64(t, "periods", get(st, "nr_periods"));
  add_u64(t, "throttledPeriods", get(st, "nr_throttled"));
  add_u64(t, "throttledTime", get(st, time_key) * scale);
}

static void
cpu_v1(const reader *r, cJSON *cpu)
{
  cJSON *u = cJSON_AddObjectToObject(cpu, "usage");
  add_knob(r, u, "total", CGC_CPUACCT, "cpuacct.usage", NULL);
  char buf[4096];
  if (knob(r, CGC_CPUACCT, "cpuacct.usage_percpu", buf, sizeof buf)) {
    cJSON *arr = cJSON_AddArrayToObject(u, "percpu");
    char *save = NULL;
    for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
      cJSON_AddItemToArray(arr, cJSON_CreateRaw(w));
  }
  /* cpuacct.stat counts USER_HZ ticks. */
  cJSON *st = keyed(r, CGC_CPUACCT, "cpuacct.stat");
  if (st) {
    unsigned long long ns_per_tick = 1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK);
    add_u64(u, "kernel", get(st, "system") * ns_per_tick);
    add_u64(u, "user", get(st, "user") * ns_per_tick);
    cJSON_Delete(st);
  }
  st = keyed(r, CGC_CPU, "cpu.stat");
  throttling(cpu, st, "throttled_time", 1);
  cJSON_Delete(st);
}

static void
cpu_v2(const reader *r, cJSON *cpu)
{
  /* cpu.stat exists in every v2 cgroup, cpu controller or not. */
  const cg_hier *h = cg_tree_find(r->tree, CGC_FREEZER);
  char p[PATH_MAX], buf[2048];
  cut_err ignored;
  if (h == NULL || cg_join(r->tree, h, r->cgpath, "cpu.stat", p, &ignored) < 0 ||
      cg_read(p, buf, sizeof buf, &ignored) < 0)
    return;
  cJSON *st = cJSON_CreateObject();
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char k[64];
    unsigned long long v;
    if (sscanf(line, "%63s %llu", k, &v) == 2)
      add_u64(st, k, v);
  }
  cJSON *u = cJSON_AddObjectToObject(cpu, "usage");
  add_u64(u, "total", get(st, "usage_usec") * 1000);
  add_u64(u, "kernel", get(st, "system_usec") * 1000);
  add_u64(u, "user", get(st, "user_usec") * 1000);
  if (has(st, "nr_periods"))
    throttling(cpu, st, "throttled_usec", 1000);
  cJSON_Delete(st);
}

/* ---- memory ------------------------------------------------------------- */

static void
memory_v1(const reader *r, cJSON *mem)
{
  static const struct {
    const char *key, *prefix;
  } entries[] = {{"usage", "memory."}, {"swap", "memory.memsw."}, {"kernel", "memory.kmem."}};
  for (size_t i = 0; i < 3; i++) {
    cJSON *e = cJSON_CreateObject();
    char f[64];
    snprintf(f, sizeof f, "%susage_in_bytes", entries[i].prefix);
    bool ok = add_knob(r, e, "usage", CGC_MEMORY, f, NULL);
    snprintf(f, sizeof f, "%smax_usage_in_bytes", entries[i].prefix);
    add_knob(r, e, "max", CGC_MEMORY, f, NULL);
    snprintf(f, sizeof f, "%slimit_in_bytes", entries[i].prefix);
    add_knob(r, e, "limit", CGC_MEMORY, f, NULL);
    snprintf(f, sizeof f, "%sfailcnt", entries[i].prefix);
    add_knob(r, e, "failcnt", CGC_MEMORY, f, NULL);
    if (ok)
      cJSON_AddItemToObject(mem, entries[i].key, e);
    else
      cJSON_Delete(e);
  }
  cJSON *raw = keyed(r, CGC_MEMORY, "memory.stat");
  if (raw) {
    add_u64(mem, "cache", get(raw, has(raw, "total_cache") ? "total_cache" : "cache"));
    cJSON_AddItemToObject(mem, "raw", raw);
  }
}

static void
memory_v2(const reader *r, cJSON *mem)
{
  cJSON *u = cJSON_CreateObject();
  if (!add_knob(r, u, "usage", CGC_MEMORY, "memory.current", NULL)) {
    cJSON_Delete(u);
    return;
  }
  add_knob(r, u, "limit", CGC_MEMORY, "memory.max", MAX_U64);
  add_knob(r, u, "max", CGC_MEMORY, "memory.peak", NULL);
  cJSON *ev = keyed(r, CGC_MEMORY, "memory.events");
  add_u64(u, "failcnt", get(ev, "max"));
  cJSON_Delete(ev);
  cJSON_AddItemToObject(mem, "usage", u);
  /* Swap as memory+swap, like v1's memsw. */
  char sw[64], mx[64];
  if (knob(r, CGC_MEMORY, "memory.swap.current", sw, sizeof sw)) {
    cJSON *s = cJSON_AddObjectToObject(mem, "swap");
    add_u64(s, "usage", strtoull(sw, NULL, 10) + get(u, "usage"));
    bool limited = knob(r, CGC_MEMORY, "memory.max", mx, sizeof mx) && strcmp(mx, "max") != 0 &&
                   knob(r, CGC_MEMORY, "memory.swap.max", sw, sizeof sw) && strcmp(sw, "max") != 0;
    if (limited)
      add_u64(s, "limit", strtoull(sw, NULL, 10) + strtoull(mx, NULL, 10));
    else
      cJSON_AddRawToObject(s, "limit", MAX_U64);
  }
  cJSON *raw = keyed(r, CGC_MEMORY, "memory.stat");
  if (raw) {
    add_u64(mem, "cache", get(raw, "file"));
    cJSON_AddItemToObject(mem, "raw", raw);
  }
}

/* ---- all ---------------------------------------------------------------- */

int
cg_stats(const cg_handle *h, cJSON **out, cut_err *err)
{
  cg_tree t;
  *out = NULL;
  if (cg_tree_scan(&h->layout, &t, err) < 0)
    return -1;
  /* The cgroup must exist in at least one tree. */
  bool exists = false;
  for (size_t i = 0; i < t.n && !exists; i++) {
    char p[PATH_MAX];
    exists = cg_join(&t, &t.h[i], h->path, NULL, p, err) == 0 && access(p, F_OK) == 0;
  }
  if (!exists)
    return cut_error(err, ENOENT, "stats of cgroup %s: it does not exist under %s", h->path,
                     h->layout.root);
  reader r = {.tree = &t, .cgpath = h->path};
  bool v2 = h->layout.mode == CG_V2;
  cJSON *data = cJSON_CreateObject();
  cJSON *cpu = cJSON_AddObjectToObject(data, "cpu");
  if (v2)
    cpu_v2(&r, cpu);
  else
    cpu_v1(&r, cpu);
  cJSON *mem = cJSON_AddObjectToObject(data, "memory");
  const cg_hier *mh = cg_tree_find(&t, CGC_MEMORY);
  if (mh && mh->v2)
    memory_v2(&r, mem);
  else if (mh)
    memory_v1(&r, mem);
  cJSON *pids = cJSON_AddObjectToObject(data, "pids");
  add_knob(&r, pids, "current", CGC_PIDS, "pids.current", NULL);
  add_knob(&r, pids, "limit", CGC_PIDS, "pids.max", "0");
  *out = data;
  return 0;
}
