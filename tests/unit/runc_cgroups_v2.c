/* runc_cgroups_v2.c: the cgroup manager against a fake cgroup v2 tree.
 *
 * Checks which file receives which value for a full linux.resources
 * object, the cgroup.subtree_control propagation, path resolution, the
 * shares -> weight and swap arithmetic, unified, freeze, stats, the handle
 * JSON, and that a failing create leaves nothing behind. */
#include "runc_cgroups_fake.h"

/* A v2 cgroup's files appear with it: the core ones, and those of every
 * controller its parent enabled in cgroup.subtree_control. */
static void
v2_after_mkdir(const char *path)
{
  char parent[PATH_MAX], sub[PATH_MAX + 32] = "", ctrls[512] = "";
  snprintf(parent, sizeof parent, "%s", path);
  *strrchr(parent, '/') = '\0';
  snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", parent);
  FILE *f = fopen(sub, "r");
  size_t n = f ? fread(ctrls, 1, sizeof ctrls - 1, f) : 0;
  if (f)
    fclose(f);
  ctrls[n] = '\0';
  /* "+cpu +memory" -> "cpu memory" */
  char list[512] = "";
  for (char *w = strtok(ctrls, " \n"); w; w = strtok(NULL, " \n")) {
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "", w[0] == '+' ? w + 1 : w);
  }
  fk_putf(path, "cgroup.controllers", list);
  fk_putf(path, "cgroup.subtree_control", "");
  fk_putf(path, "cgroup.procs", "");
  fk_putf(path, "cgroup.freeze", "0");
  fk_putf(path, "cgroup.events", "populated 0\nfrozen 0\n");
  fk_putf(path, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
  static const struct {
    const char *ctrl, *files[6];
  } knobs[] = {
      {"memory", {"memory.max", "memory.low", "memory.high", "memory.swap.max", "memory.current"}},
      {"cpu", {"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle"}},
      {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
      {"pids", {"pids.max", "pids.current"}},
      {"io", {"io.weight", "io.max"}},
      {"hugetlb", {"hugetlb.2MB.max", "hugetlb.1GB.max"}},
  };
  char padded[520];
  snprintf(padded, sizeof padded, " %s ", list);
  for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
    char word[32];
    snprintf(word, sizeof word, " %s ", knobs[i].ctrl);
    if (!strstr(padded, word))
      continue;
    for (size_t k = 0; k < 6 && knobs[i].files[k]; k++)
      fk_putf(path, knobs[i].files[k], "");
  }
}

static const cg_test_hooks v2_hooks = {v2_after_mkdir, fk_before_rmdir};

static void
make_v2_root(const char *controllers)
{
  fk_set("cgroup.controllers", controllers);
  fk_set("cgroup.subtree_control", "");
  fk_set("cgroup.procs", "");
}

static void
test_detect(void)
{
  cg_layout l;
  cut_err err;
  tap_is_int(cg_detect(fk_root, &l, &err), 0, "detect a v2 root");
  tap_is_int(l.mode, CG_V2, "a root with cgroup.controllers is v2");
  char empty[PATH_MAX];
  snprintf(empty, sizeof empty, "%s/empty", fk_root);
  mkdir(empty, 0755);
  tap_ok(cg_detect(empty, &l, &err) < 0 && strstr(err.msg, "no cgroup hierarchy"),
         "a directory that is no cgroupfs is refused: %s", err.msg);
  rmdir(empty);
}

static void
test_paths(void)
{
  char out[512];
  cut_err err;
  tap_ok(cg_resolve_path(NULL, "web", out, sizeof out, &err) == 0 && !strcmp(out, "/cutaway/web"),
         "no cgroupsPath: /cutaway/<id> (%s)", out);
  tap_ok(cg_resolve_path("a/b", "web", out, sizeof out, &err) == 0 && !strcmp(out, "/cutaway/a/b"),
         "relative cgroupsPath goes under /cutaway (%s)", out);
  tap_ok(cg_resolve_path("/docker//x/./y/", "web", out, sizeof out, &err) == 0 &&
             !strcmp(out, "/docker/x/y"),
         "absolute cgroupsPath is cleaned and kept (%s)", out);
  tap_ok(cg_resolve_path("/a/../../etc", "web", out, sizeof out, &err) < 0 &&
             strstr(err.msg, "\"..\""),
         "\"..\" in an absolute path is refused: %s", err.msg);
  tap_ok(cg_resolve_path("x/..", "web", out, sizeof out, &err) < 0, "\"..\" in a relative path");
  tap_ok(cg_resolve_path("/", "web", out, sizeof out, &err) < 0 && strstr(err.msg, "root"),
         "the root cgroup is refused: %s", err.msg);
  tap_ok(cg_resolve_path(NULL, "../x", out, sizeof out, &err) < 0, "an id with a slash");
}

static void
test_weight(void)
{
  tap_is_int(cg_shares_to_weight(1024), 39, "shares 1024 -> weight 39 (runc's formula)");
  tap_is_int(cg_shares_to_weight(2), 1, "shares 2 -> weight 1");
  tap_is_int(cg_shares_to_weight(262144), 10000, "shares 262144 -> weight 10000");
  tap_is_int(cg_shares_to_weight(512), 20, "shares 512 -> weight 20");
  tap_is_int(cg_shares_to_weight(1), 1, "shares below 2 clamp to weight 1");
}

static const char *full_resources =
    "{\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":134217728,"
    "\"disableOOMKiller\":false},"
    "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\"},"
    "\"pids\":{\"limit\":50},"
    "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
    "\"blockIO\":{\"weight\":500},"
    "\"unified\":{\"memory.high\":\"50000000\"}}";

static void
test_full_create(cg_layout *l)
{
  cJSON *res = fk_json(full_resources);
  cg_handle h;
  cut_err err;
  long pos = fk_trace_pos();
  int r = cg_create(l, "/cutaway/t1", res, 0, &h, &err);
  tap_ok(r == 0, "create /cutaway/t1 with every knob%s%s", r ? ": " : "", r ? err.msg : "");
  tap_is_str(fk_get("cgroup.subtree_control"), "+cpu +cpuset +memory +pids +io +hugetlb",
             "root enables the needed controllers in one write");
  tap_is_str(fk_get("cutaway/cgroup.subtree_control"), "+cpu +cpuset +memory +pids +io +hugetlb",
             "so does every ancestor");
  tap_is_str(fk_get("cutaway/t1/memory.max"), "67108864", "memory.limit -> memory.max");
  tap_is_str(fk_get("cutaway/t1/memory.low"), "33554432", "memory.reservation -> memory.low");
  tap_is_str(fk_get("cutaway/t1/memory.swap.max"), "67108864",
             "memory.swap 128M with limit 64M -> memory.swap.max 64M");
  tap_is_str(fk_get("cutaway/t1/cpu.weight"), "39", "cpu.shares 1024 -> cpu.weight 39");
  tap_is_str(fk_get("cutaway/t1/cpu.max"), "50000 100000", "quota/period -> cpu.max");
  tap_is_str(fk_get("cutaway/t1/cpuset.cpus"), "0", "cpu.cpus -> cpuset.cpus");
  tap_is_str(fk_get("cutaway/t1/cpuset.mems"), "0", "cpu.mems -> cpuset.mems");
  tap_is_str(fk_get("cutaway/t1/pids.max"), "50", "pids.limit -> pids.max");
  tap_is_str(fk_get("cutaway/t1/hugetlb.2MB.max"), "4194304", "hugetlb 2MB -> hugetlb.2MB.max");
  tap_is_str(fk_get("cutaway/t1/io.weight"), "default 4950", "blockIO.weight 500 -> io.weight");
  tap_is_str(fk_get("cutaway/t1/memory.high"), "50000000", "unified memory.high written as is");
  tap_is_str(fk_get("cutaway/t1/cgroup.procs"), "", "pid 0: no process moved");
  tap_is_str(fk_writes(pos, "pids"), "pids.max=50", "the trace holds the pids.max write");
  tap_is_str(h.path, "/cutaway/t1", "handle path");

  /* enter, update, freeze, stats, handle JSON, destroy on this cgroup */
  tap_ok(cg_enter(&h, 4242, &err) == 0 && !strcmp(fk_get("cutaway/t1/cgroup.procs"), "4242"),
         "enter writes the pid to cgroup.procs");
  fk_set("cutaway/t1/cgroup.procs", "");
  cJSON *upd = fk_json("{\"pids\":{\"limit\":-1},\"memory\":{\"limit\":-1}}");
  tap_ok(cg_update(&h, upd, &err) == 0, "update");
  tap_is_str(fk_get("cutaway/t1/pids.max"), "max", "pids.limit -1 -> max");
  tap_is_str(fk_get("cutaway/t1/memory.max"), "max", "memory.limit -1 -> max");
  cJSON_Delete(upd);

  fk_set("cutaway/t1/cgroup.events", "populated 1\nfrozen 1\n");
  tap_ok(cg_freeze(&h, true, &err) == 0 && !strcmp(fk_get("cutaway/t1/cgroup.freeze"), "1"),
         "freeze writes cgroup.freeze 1 and sees frozen 1 in cgroup.events");
  fk_set("cutaway/t1/cgroup.events", "populated 1\nfrozen 0\n");
  tap_ok(cg_freeze(&h, false, &err) == 0 && !strcmp(fk_get("cutaway/t1/cgroup.freeze"), "0"),
         "thaw writes cgroup.freeze 0");

  fk_set("cutaway/t1/memory.current", "1234");
  fk_set("cutaway/t1/pids.current", "3");
  fk_set("cutaway/t1/pids.max", "50");
  fk_set("cutaway/t1/cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
  cJSON *st = NULL;
  tap_ok(cg_stats(&h, &st, &err) == 0, "stats");
  char *txt = cJSON_PrintUnformatted(st);
  tap_ok(txt && strstr(txt, "\"pids\":{\"current\":3,\"limit\":50}"), "stats pids: %s",
         txt ? txt : "");
  tap_ok(txt && strstr(txt, "\"usage\":{\"total\":10000,\"kernel\":4000,\"user\":6000}"),
         "stats cpu usage in ns");
  tap_ok(txt && strstr(txt, "\"usage\":{\"usage\":1234,\"limit\":18446744073709551615"),
         "stats memory usage, unlimited as 2^64-1");
  free(txt);
  cJSON_Delete(st);

  cJSON *hj = cg_handle_to_json(&h);
  cg_handle back;
  tap_ok(cg_handle_from_json(hj, &back, &err) == 0 && back.layout.mode == CG_V2 &&
             !strcmp(back.path, h.path) && !strcmp(back.layout.root, fk_root),
         "handle JSON round trip");
  cJSON_Delete(hj);
  hj = fk_json("{\"mode\":\"v3\",\"root\":\"/x\",\"path\":\"/cutaway/a\"}");
  tap_ok(cg_handle_from_json(hj, &back, &err) < 0 && strstr(err.msg, "v3"), "bad mode: %s",
         err.msg);
  cJSON_Delete(hj);

  pos = fk_trace_pos();
  tap_ok(cg_destroy(&h, &err) == 0, "destroy");
  tap_is_str(fk_dirs(""), "", "destroy removed t1 and the empty /cutaway parent");
  tap_ok(strstr(fk_writes(pos, ""), "=") == NULL, "destroy of an empty cgroup writes nothing");
  tap_ok(cg_destroy(&h, &err) == 0, "destroying again is fine (missing dirs ok)");
  cJSON_Delete(res);
}

static void
test_swap_rules(cg_layout *l)
{
  cg_handle h;
  cut_err err;
  cJSON *res = fk_json("{\"memory\":{\"limit\":1000000,\"swap\":-1}}");
  tap_ok(cg_create(l, "/cutaway/s1", res, 0, &h, &err) == 0 &&
             !strcmp(fk_get("cutaway/s1/memory.swap.max"), "max"),
         "swap -1 -> memory.swap.max max");
  cg_destroy(&h, &err);
  cJSON_Delete(res);

  res = fk_json("{\"memory\":{\"limit\":2000000,\"swap\":1000000}}");
  tap_ok(cg_create(l, "/cutaway/s2", res, 0, &h, &err) < 0 && strstr(err.msg, "below"),
         "swap below limit is refused: %s", err.msg);
  tap_is_str(fk_dirs(""), "", "and nothing was created");
  cJSON_Delete(res);

  res = fk_json("{\"memory\":{\"swap\":1000000}}");
  tap_ok(cg_create(l, "/cutaway/s3", res, 0, &h, &err) < 0 && strstr(err.msg, "without a memory"),
         "swap without a memory limit is refused on v2: %s", err.msg);
  cJSON_Delete(res);

  res = fk_json("{\"memory\":{\"disableOOMKiller\":true}}");
  tap_ok(cg_create(l, "/cutaway/s4", res, 0, &h, &err) < 0 && strstr(err.msg, "disableOOMKiller"),
         "disableOOMKiller cannot be honoured on v2: %s", err.msg);
  cJSON_Delete(res);
}

static void
test_failures(cg_layout *l)
{
  cg_handle h;
  cut_err err;
  /* A knob missing in the new cgroup: the write fails, naming file and value. */
  fk_omit = "pids.max";
  cJSON *res = fk_json("{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":50}}");
  int r = cg_create(l, "/cutaway/deep/er/leaf", res, 0, &h, &err);
  tap_ok(r < 0 && strstr(err.msg, "write 50 to ") && strstr(err.msg, "pids.max: No such file"),
         "the error names value and file: %s", err.msg);
  tap_is_str(fk_dirs(""), "", "every directory this call made is gone");

  /* A pre-existing parent is not ours to remove. */
  char keep[PATH_MAX];
  snprintf(keep, sizeof keep, "%s/keep", fk_root);
  mkdir(keep, 0755);
  v2_after_mkdir(keep);
  r = cg_create(l, "/keep/x", res, 0, &h, &err);
  tap_ok(r < 0 && fk_exists("keep") && !fk_exists("keep/x"),
         "a failed create keeps the parent it found and removes what it made");
  fk_omit = NULL;
  cJSON_Delete(res);

  res = fk_json("{\"unified\":{\"../../etc/passwd\":\"x\"}}");
  tap_ok(cg_create(l, "/cutaway/u", res, 0, &h, &err) < 0 && strstr(err.msg, "not a cgroup file"),
         "a unified key that is a path is refused: %s", err.msg);
  cJSON_Delete(res);
  res = fk_json("{\"unified\":{\"nosuch.max\":\"1\"}}");
  tap_ok(cg_create(l, "/cutaway/u", res, 0, &h, &err) < 0 && strstr(err.msg, "nosuch"),
         "a unified key of an unknown controller is refused: %s", err.msg);
  cJSON_Delete(res);
  res = fk_json("{\"pids\":{\"limit\":\"many\"}}");
  tap_ok(cg_create(l, "/cutaway/u", res, 0, &h, &err) < 0 && strstr(err.msg, "pids.limit"),
         "a non-integer limit is refused: %s", err.msg);
  cJSON_Delete(res);
  res = fk_json("{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}");
  tap_ok(cg_create(l, "/cutaway/u", res, 0, &h, &err) < 0 && strstr(err.msg, "devices[0].type"),
         "a bad device rule is refused before anything is made: %s", err.msg);
  cJSON_Delete(res);
  tap_ok(cg_create(l, "/", NULL, 0, &h, &err) < 0, "creating the root cgroup is refused");
  tap_is_str(fk_dirs(""), "keep", "nothing left but the directory the test made");
}

static void
test_missing_controller(void)
{
  /* A host (or a delegated subtree) without the pids controller. */
  make_v2_root("cpu memory");
  cg_layout l;
  cg_handle h;
  cut_err err;
  cg_detect(fk_root, &l, &err);
  cJSON *res = fk_json("{\"pids\":{\"limit\":10}}");
  tap_ok(cg_create(&l, "/cutaway/p", res, 0, &h, &err) < 0 &&
             strstr(err.msg, "pids controller is not available"),
         "a limit whose controller is missing: %s", err.msg);
  tap_is_str(fk_dirs(""), "keep", "and nothing was created");
  cJSON_Delete(res);
}

static void
test_bpf_compile(void)
{
  cut_err err;
  cJSON *devs =
      fk_json("[{\"allow\":false,\"access\":\"rwm\"},"
              "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
              "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rw\"}]");
  tap_is_int(cg_bpf_devices(devs, NULL, &err), 0, "a device list compiles to eBPF");
  cJSON_Delete(devs);
  devs = fk_json("[{\"allow\":true,\"type\":\"c\",\"access\":\"rwx\"}]");
  tap_ok(cg_bpf_devices(devs, NULL, &err) < 0 && strstr(err.msg, "access"), "bad access: %s",
         err.msg);
  cJSON_Delete(devs);
}

int
main(void)
{
  fk_setup("cgv2");
  cg_set_test_hooks(&v2_hooks);
  make_v2_root("cpuset cpu io memory hugetlb pids rdma misc");
  test_detect();
  test_paths();
  test_weight();
  cg_layout l;
  cut_err err;
  if (cg_detect(fk_root, &l, &err) < 0) {
    tap_diag("%s", err.msg);
    return 1;
  }
  test_full_create(&l);
  test_swap_rules(&l);
  test_failures(&l);
  test_missing_controller();
  test_bpf_compile();
  fk_teardown();
  return tap_done();
}
