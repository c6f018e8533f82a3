/* runc_cgroups_v1.c: the cgroup manager against a fake cgroup v1 tree,
 * laid out like this host (a hybrid: one directory per controller set,
 * "cpu" and "cpuacct" as symlinks to "cpu,cpuacct", the named systemd
 * hierarchy, and an empty cgroup2 tree at unified/).
 *
 * Checks the directory made in every hierarchy, the value of every knob,
 * the order of the writes that must be ordered (devices as listed; memory
 * before or after memsw; period before quota), cpuset seeding, freezer,
 * stats, nested cgroups at destroy, and cleanup after a failed create. */
#include "runc_cgroups_fake.h"

static const char *hierarchies[] = {
    "blkio",  "cpu,cpuacct",      "cpuset", "devices", "freezer", "hugetlb",
    "memory", "net_cls,net_prio", "pids",   "systemd", "unified",
};
#define NHIER (sizeof hierarchies / sizeof hierarchies[0])

/* The knob files each hierarchy shows in a new cgroup. */
static void
v1_after_mkdir(const char *path)
{
  const char *rel = path + strlen(fk_root) + 1;
  size_t hl = strcspn(rel, "/");
  fk_putf(path, "cgroup.procs", "");
  static const struct {
    const char *hier, *files[12];
  } knobs[] = {
      {"cpu,cpuacct",
       {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.stat", "cpuacct.usage",
        "cpuacct.usage_percpu", "cpuacct.stat"}},
      {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
      {"memory",
       {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.oom_control",
        "memory.swappiness", "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt",
        "memory.stat", "memory.kmem.limit_in_bytes"}},
      {"pids", {"pids.max", "pids.current"}},
      {"devices", {"devices.allow", "devices.deny", "devices.list"}},
      {"hugetlb", {"hugetlb.2MB.limit_in_bytes"}},
      {"blkio", {"blkio.weight"}},
      {"net_cls,net_prio", {"net_cls.classid", "net_prio.ifpriomap"}},
      {"unified", {"cgroup.controllers", "cgroup.subtree_control", "cgroup.events"}},
  };
  for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
    if (strlen(knobs[i].hier) != hl || strncmp(rel, knobs[i].hier, hl) != 0)
      continue;
    for (size_t k = 0; k < 12 && knobs[i].files[k]; k++)
      fk_putf(path, knobs[i].files[k], "");
  }
  if (strncmp(rel, "memory/", 7) == 0)
    fk_putf(path, "memory.memsw.limit_in_bytes", "9223372036854771712");
  if (strncmp(rel, "freezer/", 8) == 0)
    fk_putf(path, "freezer.state", "THAWED");
}

static const cg_test_hooks v1_hooks = {v1_after_mkdir, fk_before_rmdir};

static void
make_v1_root(void)
{
  char p[PATH_MAX];
  for (size_t i = 0; i < NHIER; i++) {
    snprintf(p, sizeof p, "%s/%s", fk_root, hierarchies[i]);
    mkdir(p, 0755);
    fk_putf(p, "cgroup.procs", "");
  }
  fk_set("cpuset/cpuset.cpus", "0-1");
  fk_set("cpuset/cpuset.mems", "0");
  fk_set("unified/cgroup.controllers", "");
  fk_set("unified/cgroup.subtree_control", "");
  /* Aliases, as systemd makes them: must not count as hierarchies. */
  snprintf(p, sizeof p, "%s/cpu", fk_root);
  if (symlink("cpu,cpuacct", p) < 0)
    tap_diag("symlink: %s", strerror(errno));
  snprintf(p, sizeof p, "%s/cpuacct", fk_root);
  if (symlink("cpu,cpuacct", p) < 0)
    tap_diag("symlink: %s", strerror(errno));
}

/* Directories in every hierarchy below the roots, comma-joined. */
static const char *
all_cgroups(void)
{
  static char out[4096];
  out[0] = '\0';
  for (size_t i = 0; i < NHIER; i++) {
    const char *d = fk_dirs(hierarchies[i]);
    size_t used = strlen(out);
    if (d[0] && snprintf(out + used, sizeof out - used, "%s%s:%s", used ? " " : "", hierarchies[i],
                         d) >= (int)(sizeof out - used))
      break;
  }
  return out;
}

/* dockerd's default device list (reference/oci-config-samples). */
static const char *docker_devices =
    "[{\"allow\":false,\"access\":\"rwm\"},"
    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
    "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
    "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"},"
    "{\"allow\":true,\"type\":\"b\",\"access\":\"m\"},"
    "{\"allow\":false,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rwm\"}]";

static void
test_create(cg_layout *l, cg_handle *h)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"devices\":%s,"
           "\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":134217728,"
           "\"disableOOMKiller\":true},"
           "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\","
           "\"mems\":\"0\"},"
           "\"pids\":{\"limit\":50},"
           "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
           "\"blockIO\":{\"weight\":500},"
           "\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5}]}}",
           docker_devices);
  cJSON *res = fk_json(text);
  cut_err err;
  long pos = fk_trace_pos();
  int r = cg_create(l, "/cutaway/v1", res, 0, h, &err);
  tap_ok(r == 0, "create /cutaway/v1 with every knob%s%s", r ? ": " : "", r ? err.msg : "");
  cJSON_Delete(res);
  bool everywhere = true;
  for (size_t i = 0; i < NHIER; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "%s/cutaway/v1", hierarchies[i]);
    if (!fk_exists(rel)) {
      tap_diag("missing %s", rel);
      everywhere = false;
    }
  }
  tap_ok(everywhere, "the cgroup exists in every hierarchy, systemd and unified included");
  tap_is_str(fk_writes(pos, "devices."),
             "devices.deny=a;devices.allow=c 1:5 rwm;devices.allow=c 1:3 rwm;"
             "devices.allow=c 136:* rwm;devices.allow=b *:* m;devices.deny=c 10:229 rwm",
             "device rules written in the order listed, deny-all first");
  tap_is_str(fk_writes(pos, "memory."),
             "memory.limit_in_bytes=67108864;memory.memsw.limit_in_bytes=134217728;"
             "memory.soft_limit_in_bytes=33554432;memory.oom_control=1",
             "memory limit before memsw (memsw = OCI swap), reservation, OOM killer off");
  tap_is_str(fk_writes(pos, "cpu."),
             "cpu.shares=1024;cpu.cfs_period_us=100000;cpu.cfs_quota_us=50000",
             "cpu shares as is; period before quota");
  tap_is_str(fk_get("cpuset/cutaway/cpuset.cpus"), "0-1", "a new cpuset parent is seeded");
  tap_is_str(fk_get("cpuset/cutaway/cpuset.mems"), "0", "with the parent's mems");
  tap_is_str(fk_get("cpuset/cutaway/v1/cpuset.cpus"), "0", "cpu.cpus -> cpuset.cpus");
  tap_is_str(fk_writes(pos, "cpuset.cpus"), "cpuset.cpus=0-1;cpuset.cpus=0-1;cpuset.cpus=0",
             "seeded at each level before the limit is written");
  tap_is_str(fk_get("pids/cutaway/v1/pids.max"), "50", "pids.max");
  tap_is_str(fk_get("hugetlb/cutaway/v1/hugetlb.2MB.limit_in_bytes"), "4194304",
             "hugetlb.2MB.limit_in_bytes");
  tap_is_str(fk_get("blkio/cutaway/v1/blkio.weight"), "500", "blkio.weight");
  tap_is_str(fk_get("net_cls,net_prio/cutaway/v1/net_cls.classid"), "1048577", "net_cls.classid");
  tap_is_str(fk_get("net_cls,net_prio/cutaway/v1/net_prio.ifpriomap"), "eth0 5",
             "net_prio.ifpriomap");
  tap_is_str(fk_get("unified/cgroup.subtree_control"), "",
             "no controller enabled in the hybrid's empty cgroup2 tree");
}

static void
test_update_memory_order(cg_handle *h)
{
  cut_err err;
  long pos = fk_trace_pos();
  cJSON *res = fk_json("{\"memory\":{\"limit\":268435456,\"swap\":536870912}}");
  tap_ok(cg_update(h, res, &err) == 0, "update raising memory and swap");
  tap_is_str(fk_writes(pos, "memory."),
             "memory.memsw.limit_in_bytes=536870912;memory.limit_in_bytes=268435456",
             "raising: memsw first, so limit <= memsw holds at every step");
  cJSON_Delete(res);
  pos = fk_trace_pos();
  res = fk_json("{\"memory\":{\"limit\":1048576,\"swap\":2097152}}");
  tap_ok(cg_update(h, res, &err) == 0, "update lowering memory and swap");
  tap_is_str(fk_writes(pos, "memory."),
             "memory.limit_in_bytes=1048576;memory.memsw.limit_in_bytes=2097152",
             "lowering: limit first");
  cJSON_Delete(res);
  pos = fk_trace_pos();
  res = fk_json("{\"memory\":{\"limit\":-1}}");
  tap_ok(cg_update(h, res, &err) == 0, "update lifting the memory limit");
  tap_is_str(fk_writes(pos, "memory."), "memory.memsw.limit_in_bytes=-1;memory.limit_in_bytes=-1",
             "lifting the limit lifts memsw too, first");
  cJSON_Delete(res);
}

static void
test_freeze_stats_pids(cg_handle *h)
{
  cut_err err;
  tap_ok(cg_freeze(h, true, &err) == 0 &&
             !strcmp(fk_get("freezer/cutaway/v1/freezer.state"), "FROZEN"),
         "pause writes FROZEN to freezer.state and reads it back");
  tap_ok(cg_freeze(h, false, &err) == 0 &&
             !strcmp(fk_get("freezer/cutaway/v1/freezer.state"), "THAWED"),
         "resume writes THAWED");
  fk_set("memory/cutaway/v1/memory.usage_in_bytes", "4096");
  fk_set("memory/cutaway/v1/memory.limit_in_bytes", "1048576");
  fk_set("cpu,cpuacct/cutaway/v1/cpuacct.usage", "5000");
  fk_set("cpu,cpuacct/cutaway/v1/cpuacct.usage_percpu", "2000 3000 ");
  fk_set("pids/cutaway/v1/pids.current", "2");
  fk_set("pids/cutaway/v1/pids.max", "max");
  cJSON *st = NULL;
  tap_ok(cg_stats(h, &st, &err) == 0, "stats");
  char *txt = cJSON_PrintUnformatted(st);
  const char *t = txt ? txt : "";
  tap_ok(strstr(t, "\"usage\":{\"total\":5000,\"percpu\":[2000,3000]") != NULL,
         "cpuacct usage and percpu: %s", t);
  tap_ok(strstr(t, "\"usage\":{\"usage\":4096,") && strstr(t, "\"limit\":1048576"),
         "memory usage and limit");
  tap_ok(strstr(t, "\"pids\":{\"current\":2,\"limit\":0}") != NULL, "pids, unlimited as 0");
  free(txt);
  cJSON_Delete(st);
  fk_set("pids/cutaway/v1/cgroup.procs", "2147483001\n2147483002\n");
  pid_t *pids;
  size_t n;
  tap_ok(cg_pids(h, &pids, &n, &err) == 0 && n == 2 && pids[0] == 2147483001, "pids read back");
  free(pids);
  fk_set("pids/cutaway/v1/cgroup.procs", "");
}

static void
test_destroy_nested(cg_handle *h)
{
  cut_err err;
  /* A container with a cgroup namespace made a child cgroup of its own. */
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/memory/cutaway/v1/inner", fk_root);
  mkdir(p, 0755);
  fk_putf(p, "cgroup.procs", "");
  tap_ok(cg_destroy(h, &err) == 0, "destroy%s%s", err.msg[0] ? ": " : "", err.msg);
  tap_is_str(all_cgroups(), "", "nested and container cgroups gone from every hierarchy");
}

static void
test_failure_cleanup(cg_layout *l)
{
  cg_handle h;
  cut_err err;
  fk_omit = "pids.max";
  cJSON *res = fk_json("{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":7}}");
  tap_ok(cg_create(l, "/cutaway/f1", res, 0, &h, &err) < 0 && strstr(err.msg, "write 7 to ") &&
             strstr(err.msg, "/pids/cutaway/f1/pids.max"),
         "a knob that cannot be written fails create: %s", err.msg);
  tap_is_str(all_cgroups(), "", "nothing created remains in any hierarchy");
  fk_omit = NULL;
  cJSON_Delete(res);
  res = fk_json("{\"rdma\":{\"mlx4_0\":{\"hcaHandles\":2}}}");
  tap_ok(cg_create(l, "/cutaway/f2", res, 0, &h, &err) < 0 && strstr(err.msg, "rdma"),
         "a controller this host lacks: %s", err.msg);
  cJSON_Delete(res);
  res = fk_json("{\"unified\":{\"memory.high\":\"1\"}}");
  tap_ok(cg_create(l, "/cutaway/f3", res, 0, &h, &err) < 0 && strstr(err.msg, "memory.high"),
         "unified needs the controller in the cgroup2 tree: %s", err.msg);
  cJSON_Delete(res);
  tap_is_str(all_cgroups(), "", "still nothing left");
}

int
main(void)
{
  fk_setup("cgv1");
  cg_set_test_hooks(&v1_hooks);
  make_v1_root();
  cg_layout l;
  cut_err err;
  tap_ok(cg_detect(fk_root, &l, &err) == 0 && l.mode == CG_V1,
         "a hybrid root (v1 dirs + empty unified) is driven as v1");
  cg_handle h;
  test_create(&l, &h);
  test_update_memory_order(&h);
  test_freeze_stats_pids(&h);
  test_destroy_nested(&h);
  test_failure_cleanup(&l);
  fk_teardown();
  return tap_done();
}
