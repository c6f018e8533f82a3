/* cgroups_internal.h: what the cgroups*.c files share and nothing else
 * includes (the runtime uses cgroups.h).
 *
 * The manager sees a host as a list of hierarchies ("trees"): one on a pure
 * v2 host (the root itself), one per mounted controller set on v1
 * (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu,cpuacct, the named
 * name=systemd tree), plus, on a hybrid host, the cgroup2 tree mounted at
 * /sys/fs/cgroup/unified.  A knob is written in the tree that holds its
 * controller, with the file name of that tree's version. */
#ifndef CUTAWAY_RUNC_CGROUPS_INTERNAL_H
#define CUTAWAY_RUNC_CGROUPS_INTERNAL_H

#include <limits.h>

#include "cgroups.h"

/* Logical controllers.  CGC_IO is "blkio" on v1 and "io" on v2; on v2,
 * devices (eBPF) and freezer (cgroup.freeze) are built into every cgroup. */
enum cg_ctrl {
  CGC_CPU,
  CGC_CPUACCT,
  CGC_CPUSET,
  CGC_MEMORY,
  CGC_PIDS,
  CGC_DEVICES,
  CGC_FREEZER,
  CGC_IO,
  CGC_HUGETLB,
  CGC_NET_CLS,
  CGC_NET_PRIO,
  CGC_RDMA,
  CGC_MISC,
  CGC_PERF_EVENT,
  CGC_COUNT
};
#define CG_BIT(c) (1u << (c))

/* The name of a controller in a v1 mount / in v2's cgroup.controllers. */
const char *cg_ctrl_name(enum cg_ctrl c, bool v2);

#define CG_MAX_HIER 24

typedef struct cg_hier {
  char dir[64];   /* below the layout root: "memory", "cpu,cpuacct", "systemd",
                     "unified"; "" is the root itself (pure v2) */
  bool v2;        /* a cgroup2 tree */
  unsigned ctrls; /* CG_BIT()s of the controllers this tree holds */
} cg_hier;

typedef struct cg_tree {
  const cg_layout *layout;
  cg_hier h[CG_MAX_HIER];
  size_t n;
} cg_tree;

/* List the hierarchies of a layout (reads the root directory and, for v2
 * trees, cgroup.controllers). */
int cg_tree_scan(const cg_layout *layout, cg_tree *tree, cut_err *err);

/* The tree holding controller c (v1 trees first), or NULL. */
const cg_hier *cg_tree_find(const cg_tree *tree, enum cg_ctrl c);

/* "<root>/<dir><cgpath>[/<file>]" into buf (PATH_MAX). */
int cg_join(const cg_tree *tree, const cg_hier *h, const char *cgpath, const char *file, char *buf,
            cut_err *err);

/* Traced primitives.  Errors name the file and the value. */
int cg_write(const char *path, const char *value, cut_err *err);
int cg_mkdir(const char *path, bool *created, cut_err *err);
int cg_rmdir(const char *path, cut_err *err); /* ENOENT is success */
/* Read a small file, trailing newline stripped. */
int cg_read(const char *path, char *buf, size_t len, cut_err *err);

/* Resource application (cgroups_res.c).  In dry-run mode nothing is written:
 * the resources are validated against the tree and *needed collects the
 * controllers they use, so create can fail before it makes anything. */
typedef struct cg_apply {
  const cg_tree *tree;
  const char *cgpath;
  bool dry_run;
  unsigned needed; /* out: CG_BIT()s used */
} cg_apply;
int cg_apply_resources(cg_apply *a, const cJSON *resources, cut_err *err);

/* runc's v1 cpu.shares -> v2 cpu.weight: 1 + ((shares - 2) * 9999) / 262142,
 * shares clamped to the kernel's 2..262144 first. */
uint64_t cg_shares_to_weight(uint64_t shares);

/* v2 device filter (cgroups_bpf.c): compile linux.resources.devices into a
 * BPF_CGROUP_DEVICE program; when dir_path is non-NULL, load it and attach
 * it to that cgroup directory (replacing the previous one). */
int cg_bpf_devices(const cJSON *devices, const char *dir_path, cut_err *err);

/* Parse one device rule (shared by the v1 writer and the eBPF compiler). */
typedef struct cg_dev_rule {
  bool allow;
  char type;       /* 'a', 'c' or 'b' */
  long long major; /* -1: any */
  long long minor; /* -1: any */
  char access[4];  /* subset of "rwm" */
} cg_dev_rule;
int cg_dev_rule_parse(const cJSON *item, size_t index, cg_dev_rule *out, cut_err *err);

/* Test seam: unit tests drive the manager over a tree of plain files, where
 * nothing appears by itself in a new directory as it does on cgroupfs, and
 * rmdir refuses a directory with files in it.  These hooks let a test play
 * the kernel's part; production code never sets them. */
typedef struct cg_test_hooks {
  void (*after_mkdir)(const char *path);
  void (*before_rmdir)(const char *path);
} cg_test_hooks;
void cg_set_test_hooks(const cg_test_hooks *hooks);
extern const cg_test_hooks *cg_hooks;

#endif
