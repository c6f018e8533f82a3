/* cgroups_res.c: linux.resources -> cgroup files (see the table at the top
 * of cgroups.c), for runc's fs (v1) and fs2 (v2) drivers alike.
 *
 * Each controller's writer parses its part of the config, finds the tree
 * holding the controller and writes the file names of that tree's version.
 * The same code runs twice at create: once "dry" (nothing written; the
 * config is checked against the host and the controllers it needs are
 * collected) and once for real, so a bad value fails before any directory
 * exists and the two passes can never disagree. */
#include "cgroups_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

/* ---- small helpers ------------------------------------------------------ */

/* An integer member; absent or null leaves *present false.  cJSON keeps
 * doubles, so INT64_MAX arrives as 2^63: clamp it (it means "no limit"). */
static int
num(const cJSON *obj, const char *key, const char *path, bool *present, int64_t *v, cut_err *err)
{
  const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  *present = false;
  *v = 0;
  if (it == NULL || cJSON_IsNull(it))
    return 0;
  double d = it->valuedouble;
  if (!cJSON_IsNumber(it) || d != d || d < -9223372036854775808.0)
    return cut_error(err, 0, "%s.%s: expected an integer", path, key);
  if (d >= 9223372036854775807.0) {
    *v = INT64_MAX;
  } else {
    if ((double)(int64_t)d != d)
      return cut_error(err, 0, "%s.%s: expected an integer", path, key);
    *v = (int64_t)d;
  }
  *present = true;
  return 0;
}

static int
unsigned_num(const cJSON *obj, const char *key, const char *path, bool *present, int64_t *v,
             cut_err *err)
{
  if (num(obj, key, path, present, v, err) < 0)
    return -1;
  if (*present && *v < 0)
    return cut_error(err, 0, "%s.%s: %lld is negative", path, key, (long long)*v);
  return 0;
}

static int
object_or_null(const cJSON *parent, const char *key, const char *path, const cJSON **out,
               cut_err *err)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, key);
  *out = NULL;
  if (it == NULL || cJSON_IsNull(it))
    return 0;
  if (!cJSON_IsObject(it))
    return cut_error(err, 0, "%s.%s: expected an object", path, key);
  *out = it;
  return 0;
}

static int
array_or_null(const cJSON *parent, const char *key, const char *path, const cJSON **out,
              cut_err *err)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, key);
  *out = NULL;
  if (it == NULL || cJSON_IsNull(it))
    return 0;
  if (!cJSON_IsArray(it))
    return cut_error(err, 0, "%s.%s: expected an array", path, key);
  *out = it;
  return 0;
}

/* The tree holding controller c, or an error naming the field that asked. */
static const cg_hier *
need(cg_apply *a, enum cg_ctrl c, const char *what, cut_err *err)
{
  const cg_hier *h = cg_tree_find(a->tree, c);
  if (h == NULL) {
    cut_error(err, 0, "%s: the %s controller is not available under %s", what,
              cg_ctrl_name(c, a->tree->layout->mode == CG_V2) ?: cg_ctrl_name(c, false),
              a->tree->layout->root);
    return NULL;
  }
  a->needed |= CG_BIT(c);
  return h;
}

static int
set_in(cg_apply *a, const cg_hier *h, const char *file, const char *value, cut_err *err)
{
  if (a->dry_run)
    return 0;
  char p[PATH_MAX];
  if (cg_join(a->tree, h, a->cgpath, file, p, err) < 0)
    return -1;
  return cg_write(p, value, err);
}

static int
set_num(cg_apply *a, const cg_hier *h, const char *file, int64_t v, cut_err *err)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  return set_in(a, h, file, buf, err);
}

/* Does the knob exist in the container's cgroup?  (Never asked dry.) */
static bool
has_file(cg_apply *a, const cg_hier *h, const char *file)
{
  char p[PATH_MAX];
  cut_err e;
  return cg_join(a->tree, h, a->cgpath, file, p, &e) == 0 && access(p, F_OK) == 0;
}

static int
unsupported_v2(const char *what, cut_err *err)
{
  return cut_error(err, 0, "%s: cgroup v2 has no equivalent of this setting", what);
}

/* ---- memory ------------------------------------------------------------- */

typedef struct mem_cfg {
  bool has_limit, has_res, has_swap, has_kmem, has_ktcp, has_swappiness, oom_off;
  int64_t limit, res, swap, kmem, ktcp, swappiness;
} mem_cfg;

static int
memory_parse(const cJSON *m, mem_cfg *c, cut_err *err)
{
  const char *p = "linux.resources.memory";
  memset(c, 0, sizeof *c);
  if (num(m, "limit", p, &c->has_limit, &c->limit, err) < 0 ||
      num(m, "reservation", p, &c->has_res, &c->res, err) < 0 ||
      num(m, "swap", p, &c->has_swap, &c->swap, err) < 0 ||
      num(m, "kernel", p, &c->has_kmem, &c->kmem, err) < 0 ||
      num(m, "kernelTCP", p, &c->has_ktcp, &c->ktcp, err) < 0 ||
      num(m, "swappiness", p, &c->has_swappiness, &c->swappiness, err) < 0)
    return -1;
  const cJSON *oom = cJSON_GetObjectItemCaseSensitive(m, "disableOOMKiller");
  if (oom && !cJSON_IsNull(oom) && !cJSON_IsBool(oom))
    return cut_error(err, 0, "%s.disableOOMKiller: expected a boolean", p);
  c->oom_off = cJSON_IsTrue(oom);
  /* 0 means "not set" for the byte limits, as in runc. */
  c->has_limit &= c->limit != 0;
  c->has_res &= c->res != 0;
  c->has_swap &= c->swap != 0;
  c->has_kmem &= c->kmem != 0;
  c->has_ktcp &= c->ktcp != 0;
  c->has_swappiness &= c->swappiness != -1;
  if (c->has_swappiness && (c->swappiness < 0 || c->swappiness > 100))
    return cut_error(err, 0, "%s.swappiness: %lld is not within 0..100", p,
                     (long long)c->swappiness);
  if (c->has_limit && c->limit < -1)
    return cut_error(err, 0, "%s.limit: %lld is not a limit", p, (long long)c->limit);
  /* OCI's swap is memory+swap (v1's memsw), so it cannot be below limit. */
  if (c->has_swap && c->swap != -1 && c->has_limit && c->limit != -1 && c->swap < c->limit)
    return cut_error(err, 0, "%s.swap: %lld is below memory.limit %lld (swap counts memory+swap)",
                     p, (long long)c->swap, (long long)c->limit);
  return 0;
}

/* v1: the kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes
 * at every moment, so when the new memsw is above the current one it must
 * be raised first, and otherwise lowered last. */
static int
memory_v1_limits(cg_apply *a, const cg_hier *h, const mem_cfg *c, cut_err *err)
{
  bool swap_first = false;
  int64_t swap = c->swap;
  bool has_swap = c->has_swap;
  if (!a->dry_run && !has_file(a, h, "memory.memsw.limit_in_bytes")) {
    if (has_swap && swap != -1)
      return cut_error(err, 0,
                       "linux.resources.memory.swap: swap accounting is off on this host "
                       "(no memory.memsw.limit_in_bytes)");
    has_swap = false;
  } else if (!a->dry_run) {
    /* Lifting the memory limit without a swap value lifts memsw too. */
    if (!has_swap && c->has_limit && c->limit == -1) {
      has_swap = true;
      swap = -1;
    }
    if (has_swap) {
      char p[PATH_MAX], cur[64];
      cut_err ignored;
      if (swap == -1)
        swap_first = true;
      else if (cg_join(a->tree, h, a->cgpath, "memory.memsw.limit_in_bytes", p, &ignored) == 0 &&
               cg_read(p, cur, sizeof cur, &ignored) == 0)
        swap_first = (unsigned long long)swap > strtoull(cur, NULL, 10);
    }
  }
  if (has_swap && swap_first && set_num(a, h, "memory.memsw.limit_in_bytes", swap, err) < 0)
    return -1;
  if (c->has_limit && set_num(a, h, "memory.limit_in_bytes", c->limit, err) < 0)
    return -1;
  if (has_swap && !swap_first && set_num(a, h, "memory.memsw.limit_in_bytes", swap, err) < 0)
    return -1;
  return 0;
}

static int
memory_v1(cg_apply *a, const cg_hier *h, const mem_cfg *c, cut_err *err)
{
  if (memory_v1_limits(a, h, c, err) < 0)
    return -1;
  if (c->has_res && set_num(a, h, "memory.soft_limit_in_bytes", c->res, err) < 0)
    return -1;
  if (c->has_kmem && set_num(a, h, "memory.kmem.limit_in_bytes", c->kmem, err) < 0)
    return -1;
  if (c->has_ktcp && set_num(a, h, "memory.kmem.tcp.limit_in_bytes", c->ktcp, err) < 0)
    return -1;
  if (c->has_swappiness && set_num(a, h, "memory.swappiness", c->swappiness, err) < 0)
    return -1;
  if (c->oom_off && set_in(a, h, "memory.oom_control", "1", err) < 0)
    return -1;
  return 0;
}

static void
bytes_or_max(int64_t v, char buf[32])
{
  if (v == -1 || v == INT64_MAX)
    snprintf(buf, 32, "max");
  else
    snprintf(buf, 32, "%lld", (long long)v);
}

/* v2 counts swap alone: memory.swap.max = OCI swap - OCI limit. */
static int
memory_v2_swap(const mem_cfg *c, char buf[32], cut_err *err)
{
  if (c->swap == -1 || c->swap == INT64_MAX) {
    snprintf(buf, 32, "max");
    return 0;
  }
  if (!c->has_limit || c->limit == -1)
    return cut_error(err, 0,
                     "linux.resources.memory.swap: cgroup v2 cannot limit memory+swap (%lld) "
                     "without a memory limit",
                     (long long)c->swap);
  snprintf(buf, 32, "%lld", (long long)(c->swap - c->limit));
  return 0;
}

static int
memory_v2(cg_apply *a, const cg_hier *h, const mem_cfg *c, cut_err *err)
{
  char buf[32];
  const char *p = "linux.resources.memory";
  if (c->oom_off)
    return unsupported_v2("linux.resources.memory.disableOOMKiller", err);
  if (c->has_swappiness)
    return unsupported_v2("linux.resources.memory.swappiness", err);
  (void)p;
  if (c->has_limit) {
    bytes_or_max(c->limit, buf);
    if (set_in(a, h, "memory.max", buf, err) < 0)
      return -1;
  }
  if (c->has_swap) {
    if (memory_v2_swap(c, buf, err) < 0)
      return -1;
    /* No swap accounting (no memory.swap.max): "no swap limit" is still met. */
    bool skip = !a->dry_run && strcmp(buf, "max") == 0 && !has_file(a, h, "memory.swap.max");
    if (!skip && set_in(a, h, "memory.swap.max", buf, err) < 0)
      return -1;
  }
  if (c->has_res) {
    bytes_or_max(c->res, buf);
    if (set_in(a, h, "memory.low", buf, err) < 0)
      return -1;
  }
  return 0; /* kernel / kernelTCP: deprecated in OCI, no v2 file; ignored. */
}

static int
apply_memory(cg_apply *a, const cJSON *m, cut_err *err)
{
  mem_cfg c;
  if (memory_parse(m, &c, err) < 0)
    return -1;
  if (!(c.has_limit || c.has_res || c.has_swap || c.has_kmem || c.has_ktcp || c.has_swappiness ||
        c.oom_off))
    return 0;
  const cg_hier *h = need(a, CGC_MEMORY, "linux.resources.memory", err);
  if (h == NULL)
    return -1;
  return h->v2 ? memory_v2(a, h, &c, err) : memory_v1(a, h, &c, err);
}

/* ---- cpu and cpuset ----------------------------------------------------- */

/* runc's mapping of v1 shares (2..262144, default 1024) onto v2 weight
 * (1..10000, default 100): linear, so 2 -> 1 and 262144 -> 10000. */
uint64_t
cg_shares_to_weight(uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

typedef struct cpu_cfg {
  bool has_shares, has_quota, has_period, has_burst, has_idle, has_rt_rt, has_rt_period;
  int64_t shares, quota, period, burst, idle, rt_rt, rt_period;
  const char *cpus, *mems;
} cpu_cfg;

static bool
valid_cpu_list(const char *s)
{
  return strspn(s, "0123456789,- ") == strlen(s);
}

static int
cpu_parse(const cJSON *c, cpu_cfg *o, cut_err *err)
{
  const char *p = "linux.resources.cpu";
  memset(o, 0, sizeof *o);
  if (unsigned_num(c, "shares", p, &o->has_shares, &o->shares, err) < 0 ||
      num(c, "quota", p, &o->has_quota, &o->quota, err) < 0 ||
      unsigned_num(c, "period", p, &o->has_period, &o->period, err) < 0 ||
      unsigned_num(c, "burst", p, &o->has_burst, &o->burst, err) < 0 ||
      num(c, "idle", p, &o->has_idle, &o->idle, err) < 0 ||
      num(c, "realtimeRuntime", p, &o->has_rt_rt, &o->rt_rt, err) < 0 ||
      unsigned_num(c, "realtimePeriod", p, &o->has_rt_period, &o->rt_period, err) < 0)
    return -1;
  o->has_shares &= o->shares != 0;
  o->has_quota &= o->quota != 0;
  o->has_period &= o->period != 0;
  o->has_rt_rt &= o->rt_rt != 0;
  o->has_rt_period &= o->rt_period != 0;
  if (json_get_string(c, "cpus", "linux.resources.cpu.cpus", false, &o->cpus, err) < 0 ||
      json_get_string(c, "mems", "linux.resources.cpu.mems", false, &o->mems, err) < 0)
    return -1;
  if (o->cpus && o->cpus[0] == '\0')
    o->cpus = NULL;
  if (o->mems && o->mems[0] == '\0')
    o->mems = NULL;
  if ((o->cpus && !valid_cpu_list(o->cpus)) || (o->mems && !valid_cpu_list(o->mems)))
    return cut_error(err, 0, "%s: cpus/mems \"%s\" is not a list like 0-2,4", p,
                     o->cpus && !valid_cpu_list(o->cpus) ? o->cpus : o->mems);
  return 0;
}

static int
cpu_v1(cg_apply *a, const cg_hier *h, const cpu_cfg *c, cut_err *err)
{
  if (c->has_shares && set_num(a, h, "cpu.shares", c->shares, err) < 0)
    return -1;
  /* The period first: the quota is checked against it. */
  if (c->has_period && set_num(a, h, "cpu.cfs_period_us", c->period, err) < 0)
    return -1;
  if (c->has_quota && set_num(a, h, "cpu.cfs_quota_us", c->quota, err) < 0)
    return -1;
  if (c->has_burst && set_num(a, h, "cpu.cfs_burst_us", c->burst, err) < 0)
    return -1;
  if (c->has_rt_period && set_num(a, h, "cpu.rt_period_us", c->rt_period, err) < 0)
    return -1;
  if (c->has_rt_rt && set_num(a, h, "cpu.rt_runtime_us", c->rt_rt, err) < 0)
    return -1;
  if (c->has_idle && set_num(a, h, "cpu.idle", c->idle, err) < 0)
    return -1;
  return 0;
}

static int
cpu_v2(cg_apply *a, const cg_hier *h, const cpu_cfg *c, cut_err *err)
{
  char buf[64];
  if (c->has_rt_rt || c->has_rt_period)
    return unsupported_v2("linux.resources.cpu.realtimeRuntime/realtimePeriod", err);
  if (c->has_shares) {
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)cg_shares_to_weight(c->shares));
    if (set_in(a, h, "cpu.weight", buf, err) < 0)
      return -1;
  }
  if (c->has_quota || c->has_period) {
    int n = c->has_quota && c->quota > 0 ? snprintf(buf, sizeof buf, "%lld", (long long)c->quota)
                                         : snprintf(buf, sizeof buf, "max");
    if (c->has_period)
      snprintf(buf + n, sizeof buf - n, " %lld", (long long)c->period);
    if (set_in(a, h, "cpu.max", buf, err) < 0)
      return -1;
  }
  if (c->has_burst && set_num(a, h, "cpu.max.burst", c->burst, err) < 0)
    return -1;
  if (c->has_idle && set_num(a, h, "cpu.idle", c->idle, err) < 0)
    return -1;
  return 0;
}

static int
apply_cpu(cg_apply *a, const cJSON *cpu, cut_err *err)
{
  cpu_cfg c;
  if (cpu_parse(cpu, &c, err) < 0)
    return -1;
  if (c.has_shares || c.has_quota || c.has_period || c.has_burst || c.has_idle || c.has_rt_rt ||
      c.has_rt_period) {
    const cg_hier *h = need(a, CGC_CPU, "linux.resources.cpu", err);
    if (h == NULL || (h->v2 ? cpu_v2(a, h, &c, err) : cpu_v1(a, h, &c, err)) < 0)
      return -1;
  }
  if (c.cpus || c.mems) {
    const cg_hier *h = need(a, CGC_CPUSET, "linux.resources.cpu.cpus/mems", err);
    if (h == NULL)
      return -1;
    if (c.cpus && set_in(a, h, "cpuset.cpus", c.cpus, err) < 0)
      return -1;
    if (c.mems && set_in(a, h, "cpuset.mems", c.mems, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- pids --------------------------------------------------------------- */

static int
apply_pids(cg_apply *a, const cJSON *pids, cut_err *err)
{
  bool has;
  int64_t limit;
  if (num(pids, "limit", "linux.resources.pids", &has, &limit, err) < 0)
    return -1;
  if (!has)
    return 0;
  const cg_hier *h = need(a, CGC_PIDS, "linux.resources.pids", err);
  if (h == NULL)
    return -1;
  /* Same file and syntax on both versions; -1 and 0 mean no limit. */
  if (limit <= 0 || limit == INT64_MAX)
    return set_in(a, h, "pids.max", "max", err);
  return set_num(a, h, "pids.max", limit, err);
}

/* ---- devices ------------------------------------------------------------ */

int
cg_dev_rule_parse(const cJSON *item, size_t i, cg_dev_rule *r, cut_err *err)
{
  char p[64];
  snprintf(p, sizeof p, "linux.resources.devices[%zu]", i);
  memset(r, 0, sizeof *r);
  if (!cJSON_IsObject(item))
    return cut_error(err, 0, "%s: expected an object", p);
  const char *type = NULL, *access = NULL;
  bool has;
  int64_t v;
  if (json_get_bool(item, "allow", p, true, &r->allow, err) < 0 ||
      json_get_string(item, "type", p, false, &type, err) < 0 ||
      json_get_string(item, "access", p, false, &access, err) < 0)
    return -1;
  r->type = type && type[0] ? type[0] : 'a';
  if ((type && strlen(type) > 1) || !strchr("acb", r->type))
    return cut_error(err, 0, "%s.type: \"%s\" is not a, c or b", p, type);
  r->major = r->minor = -1;
  if (num(item, "major", p, &has, &v, err) < 0)
    return -1;
  if (has)
    r->major = v;
  if (num(item, "minor", p, &has, &v, err) < 0)
    return -1;
  if (has)
    r->minor = v;
  if (r->major < -1 || r->minor < -1 || r->major > 0xfffff || r->minor > 0xfffff)
    return cut_error(err, 0, "%s: device number out of range", p);
  if (access == NULL || access[0] == '\0')
    access = "rwm";
  if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
    return cut_error(err, 0, "%s.access: \"%s\" is not made of r, w and m", p, access);
  snprintf(r->access, sizeof r->access, "%s", access);
  return 0;
}

/* v1 devices.allow / devices.deny take "type major:minor access", "*" for
 * any number, and "a" alone for every device. */
static void
dev_rule_v1(const cg_dev_rule *r, char buf[64])
{
  char maj[24], min[24];
  if (r->type == 'a') {
    snprintf(buf, 64, "a");
    return;
  }
  if (r->major < 0)
    snprintf(maj, sizeof maj, "*");
  else
    snprintf(maj, sizeof maj, "%lld", r->major);
  if (r->minor < 0)
    snprintf(min, sizeof min, "*");
  else
    snprintf(min, sizeof min, "%lld", r->minor);
  snprintf(buf, 64, "%c %s:%s %s", r->type, maj, min, r->access);
}

static int
apply_devices(cg_apply *a, const cJSON *devs, cut_err *err)
{
  if (devs == NULL || cJSON_GetArraySize(devs) == 0)
    return 0;
  const cg_hier *h = need(a, CGC_DEVICES, "linux.resources.devices", err);
  if (h == NULL)
    return -1;
  if (h->v2) {
    char p[PATH_MAX];
    if (cg_join(a->tree, h, a->cgpath, NULL, p, err) < 0)
      return -1;
    return cg_bpf_devices(devs, a->dry_run ? NULL : p, err);
  }
  /* In the order listed: a later rule overrides an earlier one. */
  size_t i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, devs)
  {
    cg_dev_rule r;
    char line[64];
    if (cg_dev_rule_parse(item, i++, &r, err) < 0)
      return -1;
    dev_rule_v1(&r, line);
    if (set_in(a, h, r.allow ? "devices.allow" : "devices.deny", line, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- hugetlb ------------------------------------------------------------ */

static int
apply_hugetlb(cg_apply *a, const cJSON *list, cut_err *err)
{
  if (list == NULL || cJSON_GetArraySize(list) == 0)
    return 0;
  const cg_hier *h = need(a, CGC_HUGETLB, "linux.resources.hugepageLimits", err);
  if (h == NULL)
    return -1;
  size_t i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, list)
  {
    char p[64], file[96];
    const char *size = NULL;
    bool has;
    int64_t limit;
    snprintf(p, sizeof p, "linux.resources.hugepageLimits[%zu]", i++);
    if (json_get_string(item, "pageSize", p, true, &size, err) < 0 ||
        unsigned_num(item, "limit", p, &has, &limit, err) < 0)
      return -1;
    /* The size becomes part of a file name: letters and digits only. */
    if (size[0] == '\0' || strlen(size) > 16 || strspn(size, "0123456789KMGBkmgb") != strlen(size))
      return cut_error(err, 0, "%s.pageSize: \"%s\" is not a size like 2MB", p, size);
    if (!has)
      return cut_error(err, 0, "%s.limit: required field missing", p);
    snprintf(file, sizeof file, h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", size);
    if (set_num(a, h, file, limit, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- block I/O ---------------------------------------------------------- */

/* runc's mapping of blkio weight (10..1000) onto io.weight (1..10000). */
static int64_t
blkio_to_io_weight(int64_t w)
{
  if (w < 10)
    w = 10;
  if (w > 1000)
    w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

static int
io_weight(cg_apply *a, const cg_hier *h, int64_t w, cut_err *err)
{
  if (h->v2) {
    /* With the BFQ scheduler the weight goes to io.bfq.weight unconverted. */
    if (!a->dry_run && has_file(a, h, "io.bfq.weight"))
      return set_num(a, h, "io.bfq.weight", w, err);
    char buf[48];
    snprintf(buf, sizeof buf, "default %lld", (long long)blkio_to_io_weight(w));
    return set_in(a, h, "io.weight", buf, err);
  }
  if (!a->dry_run && !has_file(a, h, "blkio.weight") && has_file(a, h, "blkio.bfq.weight"))
    return set_num(a, h, "blkio.bfq.weight", w, err);
  return set_num(a, h, "blkio.weight", w, err);
}

static int
io_devices(cg_apply *a, const cg_hier *h, const cJSON *list, const char *key, const char *v1file,
           const char *v2key, cut_err *err)
{
  size_t i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, list)
  {
    char p[96], line[96];
    bool h1, h2, h3;
    int64_t maj, min, val;
    snprintf(p, sizeof p, "linux.resources.blockIO.%s[%zu]", key, i++);
    const char *vkey = v2key ? "rate" : "weight";
    if (unsigned_num(item, "major", p, &h1, &maj, err) < 0 ||
        unsigned_num(item, "minor", p, &h2, &min, err) < 0 ||
        unsigned_num(item, vkey, p, &h3, &val, err) < 0)
      return -1;
    if (!h1 || !h2 || !h3)
      return cut_error(err, 0, "%s: major, minor and %s are required", p, vkey);
    if (!h->v2)
      snprintf(line, sizeof line, "%lld:%lld %lld", (long long)maj, (long long)min, (long long)val);
    else if (v2key)
      snprintf(line, sizeof line, "%lld:%lld %s=%lld", (long long)maj, (long long)min, v2key,
               (long long)val);
    else
      snprintf(line, sizeof line, "%lld:%lld %lld", (long long)maj, (long long)min,
               (long long)blkio_to_io_weight(val));
    if (set_in(a, h, h->v2 ? (v2key ? "io.max" : "io.weight") : v1file, line, err) < 0)
      return -1;
  }
  return 0;
}

static int
apply_blockio(cg_apply *a, const cJSON *b, cut_err *err)
{
  static const struct {
    const char *key, *v1file, *v2key;
  } throttles[] = {
      {"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"},
      {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"},
      {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"},
      {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"},
  };
  const char *p = "linux.resources.blockIO";
  bool has_w, has_lw;
  int64_t w, lw;
  const cJSON *wdev, *lists[4];
  if (unsigned_num(b, "weight", p, &has_w, &w, err) < 0 ||
      unsigned_num(b, "leafWeight", p, &has_lw, &lw, err) < 0 ||
      array_or_null(b, "weightDevice", p, &wdev, err) < 0)
    return -1;
  has_w &= w != 0;
  has_lw &= lw != 0;
  bool any = has_w || has_lw || cJSON_GetArraySize(wdev) > 0;
  for (size_t i = 0; i < 4; i++) {
    if (array_or_null(b, throttles[i].key, p, &lists[i], err) < 0)
      return -1;
    any |= cJSON_GetArraySize(lists[i]) > 0;
  }
  if (!any)
    return 0;
  const cg_hier *h = need(a, CGC_IO, p, err);
  if (h == NULL)
    return -1;
  if (has_w && io_weight(a, h, w, err) < 0)
    return -1;
  if (has_lw && (h->v2 ? unsupported_v2("linux.resources.blockIO.leafWeight", err)
                       : set_num(a, h, "blkio.leaf_weight", lw, err)) < 0)
    return -1;
  if (wdev && io_devices(a, h, wdev, "weightDevice", "blkio.weight_device", NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < 4; i++)
    if (lists[i] && io_devices(a, h, lists[i], throttles[i].key, throttles[i].v1file,
                               throttles[i].v2key, err) < 0)
      return -1;
  return 0;
}

/* ---- network (v1 only) -------------------------------------------------- */

static int
apply_network(cg_apply *a, const cJSON *n, cut_err *err)
{
  const char *p = "linux.resources.network";
  bool has_id;
  int64_t id;
  const cJSON *prios;
  if (unsigned_num(n, "classID", p, &has_id, &id, err) < 0 ||
      array_or_null(n, "priorities", p, &prios, err) < 0)
    return -1;
  if (has_id && id != 0) {
    const cg_hier *h = need(a, CGC_NET_CLS, "linux.resources.network.classID", err);
    if (h == NULL)
      return -1;
    if (h->v2)
      return unsupported_v2("linux.resources.network.classID", err);
    if (set_num(a, h, "net_cls.classid", id, err) < 0)
      return -1;
  }
  if (cJSON_GetArraySize(prios) == 0)
    return 0;
  const cg_hier *h = need(a, CGC_NET_PRIO, "linux.resources.network.priorities", err);
  if (h == NULL)
    return -1;
  if (h->v2)
    return unsupported_v2("linux.resources.network.priorities", err);
  size_t i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, prios)
  {
    char ip[96], line[128];
    const char *name = NULL;
    bool has;
    int64_t prio;
    snprintf(ip, sizeof ip, "%s.priorities[%zu]", p, i++);
    if (json_get_string(item, "name", ip, true, &name, err) < 0 ||
        unsigned_num(item, "priority", ip, &has, &prio, err) < 0)
      return -1;
    if (name[0] == '\0' || strpbrk(name, " \n/") || !has)
      return cut_error(err, 0, "%s: needs an interface name and a priority", ip);
    snprintf(line, sizeof line, "%s %lld", name, (long long)prio);
    if (set_in(a, h, "net_prio.ifpriomap", line, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- rdma --------------------------------------------------------------- */

static int
apply_rdma(cg_apply *a, const cJSON *rdma, cut_err *err)
{
  if (rdma == NULL || cJSON_GetArraySize(rdma) == 0)
    return 0;
  const cg_hier *h = need(a, CGC_RDMA, "linux.resources.rdma", err);
  if (h == NULL)
    return -1;
  const cJSON *dev;
  cJSON_ArrayForEach(dev, rdma)
  {
    char p[128], line[192];
    bool hh, ho;
    int64_t handles, objects;
    snprintf(p, sizeof p, "linux.resources.rdma.%s", dev->string);
    if (strpbrk(dev->string, " \n/") || dev->string[0] == '\0')
      return cut_error(err, 0, "%s: not a device name", p);
    if (unsigned_num(dev, "hcaHandles", p, &hh, &handles, err) < 0 ||
        unsigned_num(dev, "hcaObjects", p, &ho, &objects, err) < 0)
      return -1;
    int n = snprintf(line, sizeof line, "%s", dev->string);
    if (hh)
      n += snprintf(line + n, sizeof line - n, " hca_handle=%lld", (long long)handles);
    if (ho)
      snprintf(line + n, sizeof line - n, " hca_object=%lld", (long long)objects);
    if ((hh || ho) && set_in(a, h, "rdma.max", line, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- unified (raw cgroup v2 files) --------------------------------------- */

static const cg_hier *
v2_tree(const cg_tree *t)
{
  for (size_t i = 0; i < t->n; i++)
    if (t->h[i].v2)
      return &t->h[i];
  return NULL;
}

static int
apply_unified(cg_apply *a, const cJSON *u, cut_err *err)
{
  if (u == NULL || cJSON_GetArraySize(u) == 0)
    return 0;
  const cg_hier *h = v2_tree(a->tree);
  if (h == NULL)
    return cut_error(err, 0, "linux.resources.unified: needs cgroup v2 (none under %s)",
                     a->tree->layout->root);
  const cJSON *kv;
  cJSON_ArrayForEach(kv, u)
  {
    const char *key = kv->string, *dot = strchr(key, '.');
    if (!cJSON_IsString(kv))
      return cut_error(err, 0, "linux.resources.unified.%s: expected a string", key);
    /* The key is a file name in the container's own cgroup, nothing else. */
    if (dot == NULL || dot == key || strchr(key, '/') || key[0] == '.')
      return cut_error(err, 0, "linux.resources.unified: \"%s\" is not a cgroup file name", key);
    char ctrl[32];
    snprintf(ctrl, sizeof ctrl, "%.*s", (int)(dot - key), key);
    if (strcmp(ctrl, "cgroup") != 0) {
      int c = -1;
      for (int i = 0; i < CGC_COUNT && c < 0; i++)
        if (cg_ctrl_name((enum cg_ctrl)i, true) && strcmp(cg_ctrl_name(i, true), ctrl) == 0)
          c = i;
      if (c < 0 || !(h->ctrls & CG_BIT(c)))
        return cut_error(err, 0,
                         "linux.resources.unified.%s: controller %s is not available under %s", key,
                         ctrl, a->tree->layout->root);
      a->needed |= CG_BIT(c);
    }
    if (set_in(a, h, key, kv->valuestring, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- all of linux.resources --------------------------------------------- */

int
cg_apply_resources(cg_apply *a, const cJSON *res, cut_err *err)
{
  if (res == NULL || cJSON_IsNull(res))
    return 0;
  const char *p = "linux.resources";
  if (!cJSON_IsObject(res))
    return cut_error(err, 0, "%s: expected an object", p);
  const cJSON *mem, *cpu, *pids, *devs, *huge, *blk, *net, *rdma, *uni;
  if (object_or_null(res, "memory", p, &mem, err) < 0 ||
      object_or_null(res, "cpu", p, &cpu, err) < 0 ||
      object_or_null(res, "pids", p, &pids, err) < 0 ||
      array_or_null(res, "devices", p, &devs, err) < 0 ||
      array_or_null(res, "hugepageLimits", p, &huge, err) < 0 ||
      object_or_null(res, "blockIO", p, &blk, err) < 0 ||
      object_or_null(res, "network", p, &net, err) < 0 ||
      object_or_null(res, "rdma", p, &rdma, err) < 0 ||
      object_or_null(res, "unified", p, &uni, err) < 0)
    return -1;
  /* Devices first: a container must never run a moment with the
   * parent's (wider) device access once it is in the cgroup. */
  if (apply_devices(a, devs, err) < 0)
    return -1;
  if ((mem && apply_memory(a, mem, err) < 0) || (cpu && apply_cpu(a, cpu, err) < 0) ||
      (pids && apply_pids(a, pids, err) < 0) || apply_hugetlb(a, huge, err) < 0 ||
      (blk && apply_blockio(a, blk, err) < 0) || (net && apply_network(a, net, err) < 0) ||
      apply_rdma(a, rdma, err) < 0 || apply_unified(a, uni, err) < 0)
    return -1;
  return 0;
}
