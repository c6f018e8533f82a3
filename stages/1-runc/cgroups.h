/* cgroups.h: the cgroup manager of cutaway-runc (runc's libcontainer/cgroups,
 * crun's cgroup-*.c).
 *
 * The runtime puts every container in a cgroup and writes the limits of
 * config.json's linux.resources into it; the kernel then enforces them.
 * Two layouts exist and both are supported:
 *   - cgroup v1: one hierarchy per controller (/sys/fs/cgroup/memory/...,
 *     /sys/fs/cgroup/pids/...), each knob in its controller's tree;
 *   - cgroup v2: one unified hierarchy (/sys/fs/cgroup/...) where the
 *     parent's cgroup.subtree_control enables controllers for children.
 * A "hybrid" host (v1 controllers, plus a cgroup2 mount at
 * /sys/fs/cgroup/unified holding no controllers) is driven as v1.
 *
 * Every file written is a `syscall` trace span named "cgroup.write" with
 * attrs path and value, so a learner sees exactly which knob enforces what.
 * The cgroupfs root is a parameter so unit tests drive the v2 code against a
 * fake tree of plain files. */
#ifndef CUTAWAY_RUNC_CGROUPS_H
#define CUTAWAY_RUNC_CGROUPS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum cg_mode { CG_V1, CG_V2 };

typedef struct cg_layout {
  enum cg_mode mode;
  char root[256]; /* "/sys/fs/cgroup" (or a fake tree in tests) */
} cg_layout;

/* A container's cgroup: enough to find it again from the state file. */
typedef struct cg_handle {
  cg_layout layout;
  char path[512]; /* cgroupsPath as resolved: "/cutaway/<id>" or absolute */
} cg_handle;

/* Look at root (NULL: /sys/fs/cgroup) and decide v1 or v2. */
int cg_detect(const char *root, cg_layout *out, cut_err *err);

/* Resolve linux.cgroupsPath: absolute paths are taken as they are (below
 * each hierarchy's root), relative ones are placed under "/cutaway", and
 * none gives "/cutaway/<id>".  Rejects ".." components. */
int cg_resolve_path(const char *cgroups_path, const char *container_id, char *out, size_t out_len,
                    cut_err *err);

/* Create the cgroup (every needed controller on v1), apply `resources`
 * (linux.resources, may be NULL) and move `pid` into it.  On failure nothing
 * that this call created is left behind. */
int cg_create(const cg_layout *layout, const char *path, const cJSON *resources, pid_t pid,
              cg_handle *out, cut_err *err);

/* Add another process (exec) to an existing cgroup. */
int cg_enter(const cg_handle *h, pid_t pid, cut_err *err);

/* Apply new limits to a live cgroup (`update`). */
int cg_update(const cg_handle *h, const cJSON *resources, cut_err *err);

/* Freeze or thaw every process (pause / resume): freezer.state on v1,
 * cgroup.freeze on v2; waits until the kernel reports the new state. */
int cg_freeze(const cg_handle *h, bool frozen, cut_err *err);

/* The pids in the cgroup (for `ps` and `kill --all`); *pids is malloc'ed. */
int cg_pids(const cg_handle *h, pid_t **pids, size_t *n, cut_err *err);

/* Statistics as JSON in the shape of runc's `events --stats` "data" object
 * (cpu, memory, pids); the caller frees it. */
int cg_stats(const cg_handle *h, cJSON **out, cut_err *err);

/* Kill what is left (SIGKILL to every pid) and remove the cgroup directories
 * this container owns.  Missing directories are not an error. */
int cg_destroy(const cg_handle *h, cut_err *err);

/* The handle as JSON for the state file, and back. */
cJSON *cg_handle_to_json(const cg_handle *h);
int cg_handle_from_json(const cJSON *obj, cg_handle *out, cut_err *err);

#endif
