/* cgroups.c: the cgroup manager's foundations: deciding v1 or v2, naming
 * the container's cgroup, listing the hierarchies, and the traced file
 * primitives every other cgroups*.c goes through.  It mirrors runc's
 * libcontainer/cgroups (fs and fs2 drivers) and crun's cgroup-*.c, without
 * the systemd driver: directories are made with mkdir(2) and limits are
 * plain writes to cgroupfs files, which the kernel then enforces.
 *
 * What each linux.resources field becomes (a learner's table):
 *
 *   OCI field                    cgroup v1 file                    cgroup v2 file
 *   ---------------------------  --------------------------------  ---------------------------
 *   memory.limit                 memory.limit_in_bytes             memory.max ("max" for -1)
 *   memory.reservation           memory.soft_limit_in_bytes        memory.low
 *   memory.swap (memory+swap!)   memory.memsw.limit_in_bytes       memory.swap.max = swap - limit
 *   memory.disableOOMKiller      memory.oom_control = 1            (none: an error)
 *   memory.swappiness            memory.swappiness                 (none: an error)
 *   memory.kernel / kernelTCP    memory.kmem[.tcp].limit_in_bytes  (none: ignored, deprecated)
 *   cpu.shares                   cpu.shares                        cpu.weight =
 * 1+((s-2)*9999)/262142 cpu.quota / cpu.period       cpu.cfs_quota_us / cfs_period_us  cpu.max =
 * "quota period" cpu.burst                    cpu.cfs_burst_us                  cpu.max.burst
 *   cpu.idle                     cpu.idle                          cpu.idle
 *   cpu.realtimeRuntime/Period   cpu.rt_runtime_us / rt_period_us  (none: an error)
 *   cpu.cpus / cpu.mems          cpuset.cpus / cpuset.mems         cpuset.cpus / cpuset.mems
 *   pids.limit (-1, 0: none)     pids.max                          pids.max
 *   devices[] (in order)         devices.allow / devices.deny      an eBPF program
 *                                                                  (BPF_CGROUP_DEVICE)
 *   hugepageLimits[]             hugetlb.<size>.limit_in_bytes     hugetlb.<size>.max
 *   blockIO.weight               blkio.weight (or blkio.bfq.weight) io.weight (10..1000 mapped
 *                                                                  to 1..10000) or io.bfq.weight
 *   blockIO.leafWeight           blkio.leaf_weight                 (none: an error)
 *   blockIO.weightDevice[]       blkio.weight_device "M:m W"       io.weight "M:m W"
 *   blockIO.throttle*Device[]    blkio.throttle.{read,write}_      io.max "M:m rbps=N" (wbps,
 *                                {bps,iops}_device "M:m N"         riops, wiops)
 *   network.classID              net_cls.classid                   (none: an error)
 *   network.priorities[]         net_prio.ifpriomap "if prio"      (none: an error)
 *   rdma{dev:{hcaHandles,..}}    rdma.max "dev hca_handle=N ..."   rdma.max (same syntax)
 *   unified{file: value}         (the hybrid host's cgroup2 tree)  <file> written as given
 *   (pause / resume)             freezer.state FROZEN / THAWED     cgroup.freeze 1 / 0
 *   (join a process)             cgroup.procs in every hierarchy   cgroup.procs
 *
 * On v2 a controller's files only exist in a cgroup when its parent lists
 * the controller in cgroup.subtree_control, so create writes "+memory
 * +pids ..." down the path first.  On v1 every hierarchy gets its own
 * directory, and a new cpuset cgroup holds no CPUs until cpuset.cpus and
 * cpuset.mems are copied from the parent (the kernel refuses tasks before).
 * A value that is 0 or absent in config.json means "not set" and writes
 * nothing; anything set that this host cannot apply is an error. */
#include "cgroups_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "trace.h"

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"
#define CG_DEFAULT_PARENT "/cutaway"

static const struct {
  const char *v1, *v2;
} ctrl_names[CGC_COUNT] = {
    [CGC_CPU] = {"cpu", "cpu"},
    [CGC_CPUACCT] = {"cpuacct", NULL},
    [CGC_CPUSET] = {"cpuset", "cpuset"},
    [CGC_MEMORY] = {"memory", "memory"},
    [CGC_PIDS] = {"pids", "pids"},
    [CGC_DEVICES] = {"devices", NULL},
    [CGC_FREEZER] = {"freezer", NULL},
    [CGC_IO] = {"blkio", "io"},
    [CGC_HUGETLB] = {"hugetlb", "hugetlb"},
    [CGC_NET_CLS] = {"net_cls", NULL},
    [CGC_NET_PRIO] = {"net_prio", NULL},
    [CGC_RDMA] = {"rdma", "rdma"},
    [CGC_MISC] = {"misc", "misc"},
    [CGC_PERF_EVENT] = {"perf_event", "perf_event"},
};

static const cg_test_hooks no_hooks;
const cg_test_hooks *cg_hooks = &no_hooks;

void
cg_set_test_hooks(const cg_test_hooks *hooks)
{
  cg_hooks = hooks ? hooks : &no_hooks;
}

const char *
cg_ctrl_name(enum cg_ctrl c, bool v2)
{
  if ((int)c < 0 || c >= CGC_COUNT)
    return NULL;
  return v2 ? ctrl_names[c].v2 : ctrl_names[c].v1;
}

static int
ctrl_by_name(const char *name, bool v2)
{
  for (int c = 0; c < CGC_COUNT; c++) {
    const char *n = cg_ctrl_name((enum cg_ctrl)c, v2);
    if (n && strcmp(n, name) == 0)
      return c;
  }
  return -1;
}

static bool
file_exists(const char *dir, const char *name)
{
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
    return false;
  return access(p, F_OK) == 0;
}

/* ---- detection ---------------------------------------------------------- */

/* Decided from files, not from statfs, so that a fake tree of plain files
 * is read exactly like cgroupfs: a v2 root has cgroup.controllers; a v1
 * root is a tmpfs of per-controller directories.  A hybrid host's root is
 * the v1 tmpfs (its cgroup2 tree sits at unified/), hence v1. */
int
cg_detect(const char *root, cg_layout *out, cut_err *err)
{
  if (root == NULL)
    root = CG_DEFAULT_ROOT;
  memset(out, 0, sizeof *out);
  if (snprintf(out->root, sizeof out->root, "%s", root) >= (int)sizeof out->root)
    return cut_error(err, ENAMETOOLONG, "cgroup root %s", root);
  if (file_exists(root, "cgroup.controllers")) {
    out->mode = CG_V2;
    return 0;
  }
  out->mode = CG_V1;
  cg_tree tree;
  if (cg_tree_scan(out, &tree, err) < 0)
    return -1;
  for (size_t i = 0; i < tree.n; i++)
    if (!tree.h[i].v2)
      return 0;
  return cut_error(err, 0, "no cgroup hierarchy found under %s", root);
}

/* ---- path resolution ---------------------------------------------------- */

/* Copy the components of `in` after `prefix`, dropping empty ones and ".",
 * refusing "..": a cgroupsPath must not climb out of where it is put. */
static int
append_clean(char *out, size_t out_len, const char *in, const char *what, cut_err *err)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", in) >= (int)sizeof buf)
    return cut_error(err, ENAMETOOLONG, "%s %s", what, in);
  char *save = NULL;
  for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0)
      return cut_error(err, 0, "%s %s: \"..\" is not allowed", what, in);
    size_t used = strlen(out);
    if (snprintf(out + used, out_len - used, "/%s", c) >= (int)(out_len - used))
      return cut_error(err, ENAMETOOLONG, "%s %s: too long", what, in);
  }
  return 0;
}

int
cg_resolve_path(const char *cgroups_path, const char *container_id, char *out, size_t out_len,
                cut_err *err)
{
  if (out_len == 0)
    return cut_error(err, 0, "cgroupsPath: no room");
  out[0] = '\0';
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    if (container_id == NULL || container_id[0] == '\0' || strchr(container_id, '/') ||
        strcmp(container_id, ".") == 0 || strcmp(container_id, "..") == 0)
      return cut_error(err, 0, "cgroup name from container id \"%s\": not a valid name",
                       container_id ? container_id : "");
    snprintf(out, out_len, "%s", CG_DEFAULT_PARENT);
    return append_clean(out, out_len, container_id, "container id", err);
  }
  if (cgroups_path[0] != '/')
    snprintf(out, out_len, "%s", CG_DEFAULT_PARENT);
  if (append_clean(out, out_len, cgroups_path, "cgroupsPath", err) < 0)
    return -1;
  if (out[0] == '\0')
    return cut_error(err, 0, "cgroupsPath %s: names the root cgroup", cgroups_path);
  return 0;
}

/* ---- hierarchies -------------------------------------------------------- */

/* The controllers a cgroup2 directory offers, from its cgroup.controllers. */
static int
v2_controllers(const char *dir, unsigned *ctrls, cut_err *err)
{
  char p[PATH_MAX], buf[512];
  snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
  if (cg_read(p, buf, sizeof buf, err) < 0)
    return -1;
  /* Built into every cgroup2 directory: eBPF device filter, cgroup.freeze. */
  *ctrls = CG_BIT(CGC_DEVICES) | CG_BIT(CGC_FREEZER);
  char *save = NULL;
  for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
    int c = ctrl_by_name(w, true);
    if (c >= 0)
      *ctrls |= CG_BIT(c);
  }
  return 0;
}

/* One v1 mount: a directory of the root named after its controllers
 * ("cpu,cpuacct"), or a named hierarchy ("systemd", no controller).
 * Symlinks ("cpu" -> "cpu,cpuacct") are aliases and are skipped. */
static void
add_v1_dir(cg_tree *tree, const char *name)
{
  if (tree->n >= CG_MAX_HIER || strlen(name) >= sizeof tree->h[0].dir)
    return;
  cg_hier *h = &tree->h[tree->n];
  memset(h, 0, sizeof *h);
  snprintf(h->dir, sizeof h->dir, "%s", name);
  char buf[64];
  snprintf(buf, sizeof buf, "%s", name);
  char *save = NULL;
  for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    int c = ctrl_by_name(w, false);
    if (c >= 0)
      h->ctrls |= CG_BIT(c);
  }
  tree->n++;
}

static int
scan_v1(cg_tree *tree, cut_err *err)
{
  const char *root = tree->layout->root;
  DIR *d = opendir(root);
  if (d == NULL)
    return cut_error(err, errno, "open cgroup root %s", root);
  struct dirent *de;
  char p[PATH_MAX];
  int r = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", root, de->d_name);
    if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || !file_exists(p, "cgroup.procs"))
      continue;
    if (file_exists(p, "cgroup.controllers")) { /* the hybrid cgroup2 tree */
      if (tree->n >= CG_MAX_HIER || strlen(de->d_name) >= sizeof tree->h[0].dir)
        continue;
      cg_hier *h = &tree->h[tree->n];
      memset(h, 0, sizeof *h);
      memcpy(h->dir, de->d_name, strlen(de->d_name) + 1);
      h->v2 = true;
      if ((r = v2_controllers(p, &h->ctrls, err)) < 0)
        break;
      tree->n++;
    } else {
      add_v1_dir(tree, de->d_name);
    }
  }
  closedir(d);
  return r;
}

int
cg_tree_scan(const cg_layout *layout, cg_tree *tree, cut_err *err)
{
  memset(tree, 0, sizeof *tree);
  tree->layout = layout;
  if (layout->mode == CG_V2) {
    tree->n = 1;
    tree->h[0].v2 = true;
    return v2_controllers(layout->root, &tree->h[0].ctrls, err);
  }
  if (scan_v1(tree, err) < 0)
    return -1;
  /* readdir order is arbitrary: sort by name so traces read the same on
   * every run (v1 trees before the cgroup2 one). */
  for (size_t i = 1; i < tree->n; i++)
    for (size_t j = i; j > 0; j--) {
      cg_hier *a = &tree->h[j - 1], *b = &tree->h[j];
      if (a->v2 > b->v2 || (a->v2 == b->v2 && strcmp(a->dir, b->dir) > 0)) {
        cg_hier t = *a;
        *a = *b;
        *b = t;
      }
    }
  return 0;
}

const cg_hier *
cg_tree_find(const cg_tree *tree, enum cg_ctrl c)
{
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < tree->n; i++)
      if (tree->h[i].v2 == (pass == 1) && (tree->h[i].ctrls & CG_BIT(c)))
        return &tree->h[i];
  return NULL;
}

int
cg_join(const cg_tree *tree, const cg_hier *h, const char *cgpath, const char *file, char *buf,
        cut_err *err)
{
  int n = snprintf(buf, PATH_MAX, "%s%s%s%s%s%s", tree->layout->root, h->dir[0] ? "/" : "", h->dir,
                   cgpath ? cgpath : "", file ? "/" : "", file ? file : "");
  if (n >= PATH_MAX)
    return cut_error(err, ENAMETOOLONG, "cgroup path %s%s", cgpath ? cgpath : "", file ? file : "");
  return 0;
}

/* ---- traced primitives -------------------------------------------------- */

int
cg_write(const char *path, const char *value, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "cgroup.write", TA_STR("path", path), TA_STR("value", value));
  /* O_TRUNC is meaningless on cgroupfs but makes a fake tree's plain file
   * hold exactly the last value, as a knob reads back. */
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ssize_t w = -1;
  if (fd >= 0) {
    size_t len = strlen(value);
    w = write(fd, value, len);
    if (w >= 0 && (size_t)w != len) {
      w = -1;
      errno = EIO;
    }
    int e = errno;
    close(fd);
    errno = e;
  }
  if (trace_end_sys(&sp, fd < 0 ? -1 : w) < 0)
    return cut_error(err, errno, "write %s to %s", value, path);
  return 0;
}

int
cg_mkdir(const char *path, bool *created, cut_err *err)
{
  *created = false;
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "cgroup.mkdir", TA_STR("path", path));
  int r = mkdir(path, 0755);
  if (r < 0 && errno == EEXIST) {
    trace_end(&sp, NULL, TA_BOOL("existed", true));
    return 0;
  }
  if (trace_end_sys(&sp, r) < 0)
    return cut_error(err, errno, "mkdir %s", path);
  *created = true;
  if (cg_hooks->after_mkdir)
    cg_hooks->after_mkdir(path);
  return 0;
}

int
cg_rmdir(const char *path, cut_err *err)
{
  if (access(path, F_OK) < 0 && errno == ENOENT)
    return 0;
  if (cg_hooks->before_rmdir)
    cg_hooks->before_rmdir(path);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "cgroup.rmdir", TA_STR("path", path));
  int r = rmdir(path);
  if (r < 0 && errno == ENOENT) {
    trace_end(&sp, NULL);
    return 0;
  }
  if (trace_end_sys(&sp, r) < 0)
    return cut_error(err, errno, "rmdir %s", path);
  return 0;
}

int
cg_read(const char *path, char *buf, size_t len, cut_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  ssize_t n = read(fd, buf, len - 1);
  int e = errno;
  close(fd);
  if (n < 0)
    return cut_error(err, e, "read %s", path);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return 0;
}

/* ---- the handle in the state file --------------------------------------- */

cJSON *
cg_handle_to_json(const cg_handle *h)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cJSON_AddStringToObject(o, "mode", h->layout.mode == CG_V2 ? "v2" : "v1");
  cJSON_AddStringToObject(o, "root", h->layout.root);
  cJSON_AddStringToObject(o, "path", h->path);
  return o;
}

int
cg_handle_from_json(const cJSON *obj, cg_handle *out, cut_err *err)
{
  const char *mode = NULL, *root = NULL, *path = NULL;
  if (json_get_string(obj, "mode", "cgroup.mode", true, &mode, err) < 0 ||
      json_get_string(obj, "root", "cgroup.root", true, &root, err) < 0 ||
      json_get_string(obj, "path", "cgroup.path", true, &path, err) < 0)
    return -1;
  memset(out, 0, sizeof *out);
  if (strcmp(mode, "v1") == 0)
    out->layout.mode = CG_V1;
  else if (strcmp(mode, "v2") == 0)
    out->layout.mode = CG_V2;
  else
    return cut_error(err, 0, "cgroup.mode: \"%s\" is neither v1 nor v2", mode);
  if (snprintf(out->layout.root, sizeof out->layout.root, "%s", root) >=
          (int)sizeof out->layout.root ||
      snprintf(out->path, sizeof out->path, "%s", path) >= (int)sizeof out->path)
    return cut_error(err, ENAMETOOLONG, "cgroup: path too long");
  if (path[0] != '/' || strstr(path, "/..") || strcmp(path, "/") == 0)
    return cut_error(err, 0, "cgroup.path: \"%s\" is not a container cgroup", path);
  return 0;
}
