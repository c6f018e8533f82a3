/* fileutil.c: see fileutil.h for the rules these functions keep. */
#include "fileutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

int
cut_read_file(const char *path, size_t max_bytes, char **out, size_t *len, cut_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (buf == NULL) {
    close(fd);
    return cut_error(err, ENOMEM, "read %s", path);
  }
  for (;;) {
    if (n == cap) {
      if (cap > max_bytes)
        break;
      cap *= 2;
      char *nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        free(buf);
        close(fd);
        return cut_error(err, ENOMEM, "read %s", path);
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return cut_error(err, e, "read %s", path);
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > max_bytes)
      break;
  }
  close(fd);
  if (n > max_bytes) {
    free(buf);
    return cut_error(err, EFBIG, "read %s: larger than %zu bytes", path, max_bytes);
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static int
fsync_parent_dir(const char *path)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  int r = fsync(dfd);
  close(dfd);
  return r;
}

int
cut_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, cut_err *err)
{
  char tmp[PATH_MAX];
  /* The pid in the name keeps two writers from sharing a temp file; a
   * leftover from a crash is an ignorable ".tmp" file, never the target. */
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
    return cut_error(err, ENAMETOOLONG, "write %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return cut_error(err, errno, "write %s: create temp file", path);
  if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return cut_error(err, e, "write %s", path);
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return cut_error(err, e, "rename into %s", path);
  }
  if (fsync_parent_dir(path) < 0)
    return cut_error(err, errno, "fsync directory of %s", path);
  return 0;
}

int
cut_write_file_replace(const char *path, const void *data, size_t len, mode_t mode, cut_err *err)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
    return cut_error(err, ENAMETOOLONG, "write %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return cut_error(err, errno, "write %s: create temp file", path);
  if (write_all(fd, data, len) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return cut_error(err, e, "write %s", path);
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return cut_error(err, e, "rename into %s", path);
  }
  return 0;
}

int
cut_write_string(const char *path, const char *value, cut_err *err)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  size_t len = strlen(value);
  ssize_t w = write(fd, value, len);
  int e = errno;
  close(fd);
  if (w < 0)
    return cut_error(err, e, "write %s to %s", value, path);
  if ((size_t)w != len)
    return cut_error(err, EIO, "short write of %s to %s", value, path);
  return 0;
}

int
cut_mkdir_p(const char *path, mode_t mode, cut_err *err)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return cut_error(err, ENAMETOOLONG, "mkdir %s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return cut_error(err, errno, "mkdir %s", buf);
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST)
    return cut_error(err, errno, "mkdir %s", buf);
  return 0;
}

/* Deeper than this is a hostile tree (a layer of 100k nested dirs), not one
 * worth a stack overflow. */
#define RM_RF_MAX_DEPTH 4096

static int
rm_rf_at(int dirfd, const char *name, dev_t dev, int depth, cut_err *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : cut_error(err, errno, "stat %s", name);
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
      return cut_error(err, errno, "unlink %s", name);
    return 0;
  }
  if (st.st_dev != dev)
    return cut_error(err, EBUSY, "remove %s: a mount point (other filesystem)", name);
  if (depth > RM_RF_MAX_DEPTH)
    return cut_error(err, ELOOP, "remove %s: too deep", name);
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", name);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return cut_error(err, errno, "opendir %s", name);
  }
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    r = rm_rf_at(fd, de->d_name, dev, depth + 1, err);
  }
  closedir(d);
  if (r < 0)
    return cut_wrap(err, "%s", name);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cut_error(err, errno, "rmdir %s", name);
  return 0;
}

int
cut_rm_rf_at(int dirfd, const char *name, cut_err *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : cut_error(err, errno, "stat %s", name);
  return rm_rf_at(dirfd, name, st.st_dev, 0, err);
}

int
cut_rm_rf(const char *path, cut_err *err)
{
  return cut_rm_rf_at(AT_FDCWD, path, err);
}

void
cut_fd_path(int fd, char buf[32])
{
  snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* ---- confined resolution ---------------------------------------------- */

#define WALK_MAX_DEPTH 256 /* directory fds held while walking */
#define WALK_MAX_LINKS 40  /* the kernel's own MAXSYMLINKS */

struct walk {
  int stack[WALK_MAX_DEPTH]; /* stack[0] is the root (not owned) */
  int depth;
};

static void
walk_release(struct walk *w)
{
  for (int i = 1; i <= w->depth; i++)
    close(w->stack[i]);
  w->depth = 0;
}

/* Replace `rest` with "target/rest" (a symlink's content in front). */
static int
splice_link(char *rest, size_t cap, const char *target)
{
  char tmp[PATH_MAX * 2];
  int n = snprintf(tmp, sizeof tmp, "%s/%s", target, rest);
  if (n < 0 || (size_t)n >= cap)
    return -1;
  memcpy(rest, tmp, (size_t)n + 1);
  return 0;
}

/* Walk `path` under w->stack[0].  Directories are entered one component at a
 * time with O_NOFOLLOW; a symlink's target is spliced into the rest of the
 * path and, when absolute, resolution restarts at the root.  With mkdirs,
 * missing components are created.  On return w->stack[w->depth] is the
 * directory holding the final component, copied to `last` (empty for "/"). */
static int
walk_parent(struct walk *w, const char *path, bool mkdirs, mode_t mode, bool follow_last,
            char *last, size_t last_cap, cut_err *err)
{
  char rest[PATH_MAX * 2];
  int links = 0;
  if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest)
    return cut_error(err, ENAMETOOLONG, "resolve %s", path);
  last[0] = '\0';
  char *p = rest;
  for (;;) {
    while (*p == '/')
      p++;
    if (*p == '\0')
      return 0;
    char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    char name[NAME_MAX + 1];
    if (clen > NAME_MAX)
      return cut_error(err, ENAMETOOLONG, "resolve %s", path);
    memcpy(name, p, clen);
    name[clen] = '\0';
    char *after = p + clen;
    while (*after == '/')
      after++;
    bool is_last = *after == '\0';
    if (strcmp(name, ".") == 0) {
      p = after;
      continue;
    }
    if (strcmp(name, "..") == 0) {
      /* ".." at the root stays at the root, as the kernel does for "/..". */
      if (w->depth > 0)
        close(w->stack[w->depth--]);
      p = after;
      continue;
    }
    int cur = w->stack[w->depth];
    struct stat st;
    int sr = fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW);
    if (sr == 0 && S_ISLNK(st.st_mode) && (!is_last || follow_last)) {
      if (++links > WALK_MAX_LINKS)
        return cut_error(err, ELOOP, "resolve %s", path);
      char target[PATH_MAX];
      ssize_t tl = readlinkat(cur, name, target, sizeof target - 1);
      if (tl < 0)
        return cut_error(err, errno, "readlink %s in %s", name, path);
      target[tl] = '\0';
      char tail[PATH_MAX * 2];
      snprintf(tail, sizeof tail, "%s", after);
      if (splice_link(tail, sizeof tail, target) < 0)
        return cut_error(err, ENAMETOOLONG, "resolve %s", path);
      memcpy(rest, tail, strlen(tail) + 1);
      p = rest;
      if (target[0] == '/') {
        while (w->depth > 0)
          close(w->stack[w->depth--]);
      }
      continue;
    }
    if (is_last) {
      if (snprintf(last, last_cap, "%s", name) >= (int)last_cap)
        return cut_error(err, ENAMETOOLONG, "resolve %s", path);
      return 0;
    }
    if (sr < 0 && errno == ENOENT && mkdirs) {
      if (mkdirat(cur, name, mode) < 0 && errno != EEXIST)
        return cut_error(err, errno, "mkdir %s in %s", name, path);
    } else if (sr < 0) {
      return cut_error(err, errno, "resolve %s: %s", path, name);
    }
    if (w->depth + 1 >= WALK_MAX_DEPTH)
      return cut_error(err, ENAMETOOLONG, "resolve %s: too deep", path);
    int next = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0)
      return cut_error(err, errno, "resolve %s: %s", path, name);
    w->stack[++w->depth] = next;
    p = after;
  }
}

int
cut_open_in_root_fallback(int root_fd, const char *path, int flags, mode_t mode, cut_err *err)
{
  struct walk w = {.stack = {root_fd}, .depth = 0};
  char last[NAME_MAX + 1];
  bool follow = !(flags & O_NOFOLLOW);
  if (walk_parent(&w, path, false, 0, follow, last, sizeof last, err) < 0) {
    walk_release(&w);
    return -1;
  }
  int fd;
  if (last[0] == '\0')
    fd = openat(w.stack[w.depth], ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
  else
    /* O_NOFOLLOW on the final open: if a racer swapped the name for a
     * symlink after the walk, this fails with ELOOP instead of following. */
    fd = openat(w.stack[w.depth], last, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  int e = errno;
  walk_release(&w);
  if (fd < 0)
    return cut_error(err, e, "open %s in root", path);
  return fd;
}

int
cut_open_in_root(int root_fd, const char *path, int flags, mode_t mode, cut_err *err)
{
  static int have_openat2 = 1;
  if (have_openat2) {
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    if (fd >= 0)
      return (int)fd;
    if (errno != ENOSYS)
      return cut_error(err, errno, "open %s in root", path);
    have_openat2 = 0;
  }
  return cut_open_in_root_fallback(root_fd, path, flags, mode, err);
}

int
cut_mkdir_in_root(int root_fd, const char *path, mode_t mode, cut_err *err)
{
  struct walk w = {.stack = {root_fd}, .depth = 0};
  char last[NAME_MAX + 1];
  if (walk_parent(&w, path, true, mode, true, last, sizeof last, err) < 0) {
    walk_release(&w);
    return -1;
  }
  int cur = w.stack[w.depth];
  int fd;
  if (last[0] == '\0') {
    fd = openat(cur, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  } else {
    if (mkdirat(cur, last, mode) < 0 && errno != EEXIST) {
      int e = errno;
      walk_release(&w);
      return cut_error(err, e, "mkdir %s in root", path);
    }
    fd = openat(cur, last, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  int e = errno;
  walk_release(&w);
  if (fd < 0)
    return cut_error(err, e, "mkdir %s in root", path);
  return fd;
}
