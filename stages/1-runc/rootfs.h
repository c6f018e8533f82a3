/* rootfs.h: the container's filesystem view, built inside its new mount
 * namespace by the container init (runc's rootfs_linux.go).
 *
 * Before pivot_root (rc_rootfs_setup):
 *   1. make every mount a slave of the host's ("/" MS_REC|MS_SLAVE), so
 *      nothing the container mounts propagates back to the host;
 *   2. bind the rootfs onto itself: pivot_root(2) needs a mount point;
 *   3. each config.json mount, in order, on a target resolved INSIDE the
 *      rootfs (cut_mkdir_in_root / cut_open_in_root, never following a
 *      symlink out of it) and mounted through its fd, /proc/self/fd/N, so
 *      a path swapped after the check cannot redirect it (CVE-2021-30465);
 *   4. /dev: the default devices (null zero full random urandom tty) and
 *      linux.devices, then the fd/stdin/stdout/stderr/ptmx symlinks;
 *   5. pivot_root(".", ".") and a lazy unmount of the old root: the host's
 *      filesystem is gone from the container's mount table.
 * After it (rc_rootfs_finish): sysctls, readonlyPaths, maskedPaths, the
 * read-only root, rootfsPropagation.
 *
 * A config without a mount namespace runs in the runtime's, as the spec
 * requires (config-linux.md#namespaces) and runc does: step 1 and the
 * rootfsPropagation remount are skipped (they would change host mounts),
 * and step 5 is a chroot(2).  Every mount then lives in the host's
 * namespace: create records which mounts were already under the rootfs
 * (rc_rootfs_mounts_before), and delete unmounts the others
 * (rc_rootfs_unmount_new), where runc and crun leave them behind. */
#ifndef CUTAWAY_RUNC_ROOTFS_H
#define CUTAWAY_RUNC_ROOTFS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

typedef struct rc_rootfs_ctx {
  const rc_spec *spec;
  bool userns;       /* in a new user namespace: no mknod, binds instead */
  char *cgroup_self; /* /proc/self/cgroup read before a cgroupns unshare */
  /* Called right before pivot_root, mounts done (hooks.c: prestart,
   * createRuntime, createContainer); NULL: none. */
  int (*before_pivot)(void *arg, cut_err *err);
  void *before_pivot_arg;
  /* Called once, before the first cgroup mount and at the latest before
   * pivot_root: the init waits there until the parent has moved it into
   * its cgroup (init.c).  Mounts before that point overlap the parent's
   * cgroup work, whose first cgroup.procs write waits for an RCU grace
   * period: milliseconds of a `run`.  NULL: nothing to wait for. */
  int (*in_cgroup)(void *arg, cut_err *err);
  void *in_cgroup_arg;
  bool in_cgroup_done;
} rc_rootfs_ctx;

/* Read /proc/self/cgroup into ctx (call before unshare(CLONE_NEWCGROUP)). */
int rc_rootfs_read_cgroups(rc_rootfs_ctx *ctx, cut_err *err);

int rc_rootfs_setup(rc_rootfs_ctx *ctx, cut_err *err);
int rc_rootfs_finish(rc_rootfs_ctx *ctx, cut_err *err);

/* The ids of the mounts at or under the rootfs (its real path) now, at
 * most `max`: more is an error.  The parent calls it before the clone. */
int rc_rootfs_mounts_before(const char *rootfs, int *ids, size_t max, size_t *n, cut_err *err);

/* Unmount (lazily, deepest first, each a traced umount2) every mount at or
 * under the rootfs whose id is not in keep[]: what a container without a
 * mount namespace mounted in the host's. */
int rc_rootfs_unmount_new(const char *rootfs, const int *keep, size_t n_keep, cut_err *err);

/* sethostname / setdomainname, traced. */
int rc_set_hostname(const rc_spec *spec, cut_err *err);

/* True when resolving `path` under the directory root_fd would climb above
 * it through ".." (literally or inside a symlink's target): such a mount
 * destination is rejected as an escape attempt.  Absolute symlinks are
 * resolved from the container's root, as runc does, and are fine. */
bool rc_path_escapes(int root_fd, const char *path);

/* "MS_BIND|MS_REC|..." for the trace. */
void rc_mount_flags_text(unsigned long flags, char *buf, size_t len);

#endif
