/* fileutil.h: files written so that nothing is ever half-visible, and paths
 * resolved so that nothing ever escapes a root directory.
 *
 * Atomic write: the data goes to a temporary file in the same directory, is
 * fsync'ed, then rename(2)d over the target, and the directory is fsync'ed;
 * rename within one filesystem is atomic, so a reader (or a daemon restarted
 * after a crash) sees the old content or the new, never a torn mix.
 *
 * Confined resolution mirrors what runc does with filepath-securejoin and
 * openat2: a path inside a container's rootfs is resolved as if the rootfs
 * were "/", so neither ".." nor an absolute symlink planted in an image can
 * lead outside it (CVE-2021-30465 and friends).  On kernels with openat2(2)
 * (5.6+) RESOLVE_IN_ROOT does it in the kernel; elsewhere cut_open_in_root
 * walks the path one component at a time with O_NOFOLLOW and resolves each
 * symlink itself, clamping ".." at the root. */
#ifndef CUTAWAY_FILEUTIL_H
#define CUTAWAY_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file (at most max_bytes, else an error) into a NUL-terminated
 * malloc'ed buffer. */
int cut_read_file(const char *path, size_t max_bytes, char **out, size_t *len, cut_err *err);

/* Write data to path atomically (temp + fsync + rename + fsync dir). */
int cut_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          cut_err *err);

/* Like cut_write_file_atomic (temp + rename: readers never see a torn
 * file) but without the fsyncs: for runtime state under /run that
 * describes live processes and is worthless after a reboot anyway. */
int cut_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                           cut_err *err);

/* Write a short string to an existing file (cgroup and /proc knobs):
 * one write(2), no O_CREAT, no truncation semantics beyond O_TRUNC. */
int cut_write_string(const char *path, const char *value, cut_err *err);

/* mkdir -p; existing directories are fine. */
int cut_mkdir_p(const char *path, mode_t mode, cut_err *err);

/* Remove a tree without crossing into other filesystems (mount points are
 * left alone and reported as an error), like `rm -rf --one-file-system`. */
int cut_rm_rf(const char *path, cut_err *err);

/* The same for `name` relative to the directory fd `dirfd` (never following
 * a symlink, refusing trees deeper than 4096 levels). */
int cut_rm_rf_at(int dirfd, const char *name, cut_err *err);

/* Open `path` relative to the directory fd `root_fd`, resolving every
 * component (symlinks, "..") as though root_fd were "/".  Returns an fd. */
int cut_open_in_root(int root_fd, const char *path, int flags, mode_t mode, cut_err *err);

/* Like cut_open_in_root but always uses the userspace walk: exposed so the
 * tests exercise the fallback on kernels that have openat2. */
int cut_open_in_root_fallback(int root_fd, const char *path, int flags, mode_t mode, cut_err *err);

/* Create every missing directory of `path` inside root_fd (confined as
 * above) and return an O_PATH|O_DIRECTORY fd of the last one. */
int cut_mkdir_in_root(int root_fd, const char *path, mode_t mode, cut_err *err);

/* "/proc/self/fd/N": the path form of an fd, for syscalls that take paths
 * (mount(2) onto an fd that was opened safely). */
void cut_fd_path(int fd, char buf[32]);

#endif
