/* unpack.c: apply one image layer to a directory (see unpack.h).
 *
 * The data path, in two threads so that one core inflates while the other
 * makes files:
 *
 *   decoder thread:   fd --read 1 MiB--> [libarchive gzip/zstd filter,
 *                     "raw" format] --decoded blocks, hashed (diff_id) and
 *                     counted (bomb caps)--> a ring of 4 x 1 MiB buffers
 *   calling thread:   ring --> [libarchive tar reader] --entries-->
 *                     *at() syscalls under the target
 *
 * libarchive is used as a decoder only.  Where an entry goes is decided
 * here: the path is cleaned lexically (".." may not climb above the root),
 * its parent directory is reached from the target root one component at a
 * time with O_NOFOLLOW (the fast path, a cursor of open directory fds that
 * follows the tar's depth-first order), or, when a component is a symlink,
 * with cut_mkdir_in_root (RESOLVE_IN_ROOT: the symlink is resolved as if
 * the target were "/").  The entry itself is then created relative to that
 * directory fd with O_NOFOLLOW/O_EXCL semantics, so no symlink planted by an
 * earlier entry or layer is ever written through (CVE-2018-15664,
 * containerd's TestBreakouts).
 *
 * No per-file fsync: one syncfs(2) at the end makes the layer durable. */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "fileutil.h"
#include "fnv.h"
#include "trace.h"

#define READ_BUF (1u << 20)      /* input read size */
#define RING_SLOTS 4             /* decoded buffers between the two threads */
#define RING_SLOT (1u << 20)     /* bytes per buffer */
#define TRAILING_MAX (16u << 20) /* decoded bytes allowed after the tar end */
#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define DEV_MAJOR_MAX 0xfffu   /* Linux: 12-bit majors */
#define DEV_MINOR_MAX 0xfffffu /* and 20-bit minors */

/* ---- small helpers ----------------------------------------------------- */

enum unpack_compression
unpack_detect(const unsigned char *b, size_t n)
{
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return UNPACK_GZIP;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return UNPACK_ZSTD;
  if ((n >= 3 && memcmp(b, "BZh", 3) == 0) || (n >= 6 && memcmp(b,
                                                                "\xfd"
                                                                "7zXZ",
                                                                5) == 0))
    return UNPACK_UNSUPPORTED;
  return UNPACK_PLAIN;
}

enum unpack_compression
unpack_media_compression(const char *mt)
{
  static const struct {
    const char *type;
    enum unpack_compression c;
  } known[] = {
      {"application/vnd.oci.image.layer.v1.tar", UNPACK_PLAIN},
      {"application/vnd.oci.image.layer.v1.tar+gzip", UNPACK_GZIP},
      {"application/vnd.oci.image.layer.v1.tar+zstd", UNPACK_ZSTD},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", UNPACK_PLAIN},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", UNPACK_GZIP},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", UNPACK_ZSTD},
      {"application/vnd.docker.image.rootfs.diff.tar", UNPACK_PLAIN},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", UNPACK_GZIP},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", UNPACK_ZSTD},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", UNPACK_GZIP},
  };
  for (size_t i = 0; mt && i < sizeof known / sizeof known[0]; i++)
    if (strcmp(mt, known[i].type) == 0)
      return known[i].c;
  return UNPACK_UNSUPPORTED;
}

static const char *
compression_name(enum unpack_compression c)
{
  switch (c) {
  case UNPACK_PLAIN: return "plain tar";
  case UNPACK_GZIP: return "gzip";
  case UNPACK_ZSTD: return "zstd";
  default: return "unsupported";
  }
}

int
unpack_clean_path(const char *in, char *out, size_t size, cut_err *err)
{
  size_t n = 0, depth = 0;
  size_t starts[UNPACK_MAX_DEPTH + 1];
  const char *p = in;
  if (strlen(in) > UNPACK_MAX_PATH)
    return cut_error(err, 0, "path of %zu bytes is too long", strlen(in));
  out[0] = '\0';
  while (*p) {
    while (*p == '/')
      p++;
    if (!*p)
      break;
    const char *end = strchrnul(p, '/');
    size_t len = (size_t)(end - p);
    if (len == 1 && p[0] == '.') {
      /* skip */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      if (depth == 0)
        return cut_error(err, 0, "path %.200s climbs out of the layer root", in);
      n = starts[--depth];
      out[n] = '\0';
    } else {
      if (len > NAME_MAX)
        return cut_error(err, 0, "path %.200s: component too long", in);
      if (depth >= UNPACK_MAX_DEPTH)
        return cut_error(err, 0, "path %.200s: more than %d levels (max depth)", in,
                         UNPACK_MAX_DEPTH);
      starts[depth++] = n;
      size_t sep = n ? 1 : 0;
      if (n + sep + len + 1 > size)
        return cut_error(err, 0, "path %.200s is too long", in);
      if (sep)
        out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
      out[n] = '\0';
    }
    p = end;
  }
  return 0;
}

/* A set of relative paths: what this layer created (whiteouts only hide
 * what lower layers had, OCI image-spec layer.md). */
struct path_set {
  char **slot;
  size_t cap, n;
};

static uint64_t
hash_str(const char *s)
{
  return cut_fnv1a(CUT_FNV_START, s, strlen(s));
}

static void
set_insert(struct path_set *s, const char *path)
{
  if ((s->n + 1) * 2 > s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    char **nslot = calloc(ncap, sizeof *nslot);
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) {
        size_t j = hash_str(s->slot[i]) & (ncap - 1);
        while (nslot[j])
          j = (j + 1) & (ncap - 1);
        nslot[j] = s->slot[i];
      }
    free(s->slot);
    s->slot = nslot;
    s->cap = ncap;
  }
  size_t j = hash_str(path) & (s->cap - 1);
  while (s->slot[j]) {
    if (strcmp(s->slot[j], path) == 0)
      return;
    j = (j + 1) & (s->cap - 1);
  }
  s->slot[j] = strdup(path);
  s->n++;
}

static bool
set_contains(const struct path_set *s, const char *path)
{
  if (s->cap == 0)
    return false;
  size_t j = hash_str(path) & (s->cap - 1);
  while (s->slot[j]) {
    if (strcmp(s->slot[j], path) == 0)
      return true;
    j = (j + 1) & (s->cap - 1);
  }
  return false;
}

static void
set_free(struct path_set *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->slot[i]);
  free(s->slot);
  memset(s, 0, sizeof *s);
}

/* ---- the extraction context -------------------------------------------- */

struct dir_times {
  char *path;
  struct timespec ts[2];
};

/* The decoder thread's state.  Until it starts (and after it is joined)
 * the extracting thread may use every field; while it runs, only the ring
 * fields under mu are shared. */
struct decoder {
  int in_fd;
  bool in_pollable; /* a pipe or socket: wait in poll(2) with cancel_fd */
  int cancel_fd;    /* eventfd: wakes a decoder blocked on its input */
  enum unpack_compression comp;
  unsigned char *buf;
  size_t pending; /* bytes of buf not yet handed out (the detection read) */
  bool in_eof;
  struct archive *outer; /* decompressor, NULL for plain tar */
  cut_sha256 *hash;      /* the diff_id, over every decoded byte */
  uint64_t max_bytes, max_ratio;
  uint64_t bytes, compressed; /* decoded and input bytes */
  cut_err err;                /* the decoder's failure */
  bool failed;

  pthread_t thread;
  bool running;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  unsigned char *slot[RING_SLOTS];
  size_t slot_len[RING_SLOTS];
  uint64_t filled, consumed; /* slots published / given back */
  unsigned char *cur;        /* the slot being filled (decoder side), or NULL */
  size_t fill;               /* bytes in it */
  bool holding;              /* the tar reader holds slot consumed % RING_SLOTS */
  bool done;                 /* the decoder has finished (end of input, error or cancel) */
  bool cancel;
};

/* Pre-made files: inode allocation is the costly part of creating a file
 * (ext4 scans its bitmaps for a free inode, and on a filesystem without a
 * journal it skips every inode freed in the last minute), so worker
 * threads allocate anonymous O_TMPFILE inodes on the target filesystem
 * ahead of time, and the extracting thread only gives each one its name
 * with linkat(2), in tar order, relative to the confined parent fd.  Where
 * O_TMPFILE or linkat is not available, files are created with openat. */
#define POOL_WORKERS 2
#define POOL_CAP 32

struct file_pool {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int dirfd; /* where the inodes are allocated (the target root) */
  int fds[POOL_CAP];
  size_t count;
  bool stop, broken; /* broken: O_TMPFILE failed, use openat */
  pthread_t threads[POOL_WORKERS];
  int n_threads;
};

struct unpacker {
  const unpack_opts *opts;
  unpack_stats *stats;
  cut_err *err;
  bool failed; /* err already filled by a callback */
  bool root;   /* euid 0: chown and device nodes allowed */
  int root_fd;

  /* input: decoded blocks from the decoder thread */
  struct decoder dec;
  uint64_t tar_bytes; /* decoded bytes handed to the tar reader */

  /* the cursor: open directory fds along the current parent path */
  int cur_fd[UNPACK_MAX_DEPTH + 1]; /* cur_fd[0] = root_fd (not owned) */
  size_t cur_end[UNPACK_MAX_DEPTH + 1];
  int cur_depth;
  char cur_path[PATH_MAX];

  struct path_set created;
  struct file_pool *pool; /* started at the first regular file */
  bool pool_off;          /* linkat of a pool file failed: openat from now on */
  struct dir_times *dirs;
  size_t n_dirs, cap_dirs;
};

static void
cursor_reset(struct unpacker *u, int depth)
{
  while (u->cur_depth > depth)
    close(u->cur_fd[u->cur_depth--]);
  u->cur_path[depth ? u->cur_end[depth] : 0] = '\0';
}

/* Something under dirfd is about to be removed: cursor entries below it
 * may name directories that no longer exist.  dirfd itself stays open (the
 * caller is using it); if it is not on the cursor, drop the whole cursor. */
static void
cursor_invalidate_below(struct unpacker *u, int dirfd)
{
  for (int k = u->cur_depth; k >= 0; k--)
    if (u->cur_fd[k] == dirfd) {
      cursor_reset(u, k);
      return;
    }
  cursor_reset(u, 0);
}

static void
note_created(struct unpacker *u, const char *path)
{
  set_insert(&u->created, path);
}

/* Resolve the directory `dir` (clean, relative) for creating entries in
 * it.  Returns a directory fd; *owned says whether the caller must close
 * it (the slow path) or it belongs to the cursor.  With create, missing
 * directories are made (0755, as tar implementations do). */
static int
resolve_dir(struct unpacker *u, const char *dir, bool create, bool *owned)
{
  *owned = false;
  /* Keep the common leading components of the cursor. */
  int keep = 0;
  const char *p = dir;
  while (keep < u->cur_depth) {
    size_t start = keep ? u->cur_end[keep] + 1 : 0;
    size_t len = u->cur_end[keep + 1] - start;
    const char *comp = u->cur_path + start;
    if (strncmp(p, comp, len) != 0 || (p[len] != '/' && p[len] != '\0'))
      break;
    p += len;
    if (*p == '/')
      p++;
    keep++;
  }
  cursor_reset(u, keep);
  while (*p) {
    const char *end = strchrnul(p, '/');
    size_t len = (size_t)(end - p);
    char name[NAME_MAX + 1];
    memcpy(name, p, len);
    name[len] = '\0';
    int parent = u->cur_fd[u->cur_depth];
    int fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
        return cut_error(u->err, errno, "mkdir %s", dir);
      size_t plen = (size_t)(end - dir);
      char sub[PATH_MAX];
      memcpy(sub, dir, plen);
      sub[plen] = '\0';
      note_created(u, sub);
      fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      /* A symlink (or a non-directory) on the way: resolve the whole path
       * confined to the root.  cut_mkdir_in_root treats the target as "/",
       * so "lib -> /usr/lib" lands in target/usr/lib and "x -> /" in target. */
      int sfd;
      if (create) {
        sfd = cut_mkdir_in_root(u->root_fd, dir, 0755, u->err);
      } else {
        sfd = cut_open_in_root(u->root_fd, dir, O_PATH | O_DIRECTORY, 0, u->err);
      }
      if (sfd < 0)
        return -1;
      *owned = true;
      return sfd;
    }
    if (fd < 0)
      return cut_error(u->err, errno, "open directory %s", dir);
    u->cur_fd[++u->cur_depth] = fd;
    u->cur_end[u->cur_depth] = (size_t)(end - dir);
    memcpy(u->cur_path, dir, (size_t)(end - dir));
    u->cur_path[end - dir] = '\0';
    p = *end ? end + 1 : end;
  }
  return u->cur_fd[u->cur_depth];
}

/* Make room for a new entry `name` in dirfd: an existing non-directory is
 * unlinked, an existing directory removed with its contents (unless the new
 * entry is a directory too, which merges).  Returns 1 if a directory
 * remains to merge into, 0 when the name is free. */
static int
clear_name(struct unpacker *u, int dirfd, const char *name, bool want_dir)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : cut_error(u->err, errno, "stat %s", name);
  if (S_ISDIR(st.st_mode)) {
    if (want_dir)
      return 1;
    cursor_invalidate_below(u, dirfd); /* the directory may be on the cursor */
    return cut_rm_rf_at(dirfd, name, u->err);
  }
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    return cut_error(u->err, errno, "unlink %s", name);
  return 0;
}

/* ---- metadata ---------------------------------------------------------- */

static bool
xattr_allowed(const char *name)
{
  /* user.* is the image's own data; security.capability carries file
   * capabilities (ping, ...).  trusted.* (overlayfs's own whiteouts and
   * redirects!) and security.selinux are never taken from a layer. */
  return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

static int
apply_xattrs(struct unpacker *u, int fd, struct archive_entry *e, const char *path)
{
  const char *name;
  const void *value;
  size_t size;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (!xattr_allowed(name)) {
      u->stats->xattrs_dropped++;
      continue;
    }
    if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP && errno != EPERM)
      return cut_error(u->err, errno, "%s: set xattr %s", path, name);
  }
  return 0;
}

/* Owner, mode, xattrs, in that order: chown(2) clears setuid/setgid and
 * security.capability, so they must come after it. */
static int
apply_fd_meta(struct unpacker *u, int fd, struct archive_entry *e, const char *path)
{
  if (u->root && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
    return cut_error(u->err, errno, "%s: chown", path);
  if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
    return cut_error(u->err, errno, "%s: chmod", path);
  return apply_xattrs(u, fd, e, path);
}

static void
entry_times(struct archive_entry *e, struct timespec ts[2])
{
  ts[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
  ts[0].tv_nsec =
      archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e);
  ts[1].tv_sec = archive_entry_mtime(e);
  ts[1].tv_nsec = archive_entry_mtime_nsec(e);
}

/* ---- entries ----------------------------------------------------------- */

static int
write_data(struct unpacker *u, struct archive *a, int fd, const char *path, int64_t size)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int64_t pos = 0;
  int r;
  while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
    if (off != pos) { /* a sparse file's hole */
      if (lseek(fd, off, SEEK_SET) < 0)
        return cut_error(u->err, errno, "%s: seek", path);
      pos = off;
    }
    const char *p = buf;
    while (len > 0) {
      ssize_t w = write(fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return cut_error(u->err, errno, "%s: write", path);
      p += w;
      len -= (size_t)w;
      pos += w;
    }
  }
  if (r != ARCHIVE_EOF) {
    if (!u->failed)
      cut_error(u->err, archive_errno(a) > 0 ? archive_errno(a) : 0, "%s: %s", path,
                archive_error_string(a));
    return -1;
  }
  if (pos < size && ftruncate(fd, size) < 0)
    return cut_error(u->err, errno, "%s: truncate", path);
  return 0;
}

static void *
pool_main(void *arg)
{
  struct file_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && !p->broken && p->count == POOL_CAP)
      pthread_cond_wait(&p->cond, &p->mu);
    if (p->stop || p->broken)
      break;
    pthread_mutex_unlock(&p->mu);
    int fd = openat(p->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    pthread_mutex_lock(&p->mu);
    if (fd < 0) {
      p->broken = true;
    } else if (p->stop || p->count == POOL_CAP) {
      close(fd);
    } else {
      p->fds[p->count++] = fd;
    }
    pthread_cond_broadcast(&p->cond);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void
pool_start(struct unpacker *u)
{
  struct file_pool *p = calloc(1, sizeof *p);
  if (p == NULL) {
    u->pool_off = true;
    return;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cond, NULL);
  p->dirfd = u->root_fd;
  for (int i = 0; i < POOL_WORKERS; i++)
    if (pthread_create(&p->threads[p->n_threads], NULL, pool_main, p) == 0)
      p->n_threads++;
  if (p->n_threads == 0)
    p->broken = true;
  u->pool = p;
}

static void
pool_stop(struct unpacker *u)
{
  struct file_pool *p = u->pool;
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = true;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n_threads; i++)
    pthread_join(p->threads[i], NULL);
  for (size_t i = 0; i < p->count; i++)
    close(p->fds[i]); /* never linked: the inodes go with the last close */
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->mu);
  free(p);
  u->pool = NULL;
}

/* A pre-made anonymous file, or -1 (no pool: the caller uses openat). */
static int
pool_take(struct unpacker *u)
{
  if (u->pool_off)
    return -1;
  if (u->pool == NULL)
    pool_start(u);
  struct file_pool *p = u->pool;
  if (p == NULL)
    return -1;
  pthread_mutex_lock(&p->mu);
  while (p->count == 0 && !p->broken)
    pthread_cond_wait(&p->cond, &p->mu);
  int fd = p->count ? p->fds[--p->count] : -1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mu);
  if (fd < 0)
    u->pool_off = true;
  return fd;
}

/* Name an anonymous file: linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH,
 * the /proc/self/fd form works without it. */
static int
link_anon(int fd, int dirfd, const char *name)
{
  if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
    return 0;
  if (errno != ENOENT && errno != EPERM)
    return -1;
  char proc[32];
  cut_fd_path(fd, proc);
  return linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW);
}

/* Create name in dirfd for writing, replacing what is there (but never
 * writing through it): O_EXCL semantics either way. */
static int
create_file(struct unpacker *u, int dirfd, const char *name, const char *path)
{
  int fd = pool_take(u);
  if (fd >= 0) {
    for (int tries = 0;; tries++) {
      if (link_anon(fd, dirfd, name) == 0)
        return fd;
      if (errno != EEXIST || tries > 0)
        break;
      if (clear_name(u, dirfd, name, false) < 0) {
        close(fd);
        return -1;
      }
    }
    int e = errno;
    close(fd);
    if (e == EEXIST)
      return cut_error(u->err, e, "create %s", path);
    u->pool_off = true; /* EXDEV, no /proc...: plain openat from now on */
  }
  for (int tries = 0;; tries++) {
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST || tries > 0)
      break;
    if (clear_name(u, dirfd, name, false) < 0)
      return -1;
  }
  if (fd < 0)
    return cut_error(u->err, errno, "create %s", path);
  return fd;
}

static int
make_file(struct unpacker *u, struct archive *a, struct archive_entry *e, int dirfd,
          const char *name, const char *path)
{
  int fd = create_file(u, dirfd, name, path);
  if (fd < 0)
    return -1;
  int r = write_data(u, a, fd, path, archive_entry_size(e));
  if (r == 0)
    r = apply_fd_meta(u, fd, e, path);
  struct timespec ts[2];
  entry_times(e, ts);
  if (r == 0 && futimens(fd, ts) < 0)
    r = cut_error(u->err, errno, "%s: set times", path);
  close(fd);
  return r;
}

static int
defer_dir_times(struct unpacker *u, const char *path, struct archive_entry *e)
{
  if (u->n_dirs == u->cap_dirs) {
    u->cap_dirs = u->cap_dirs ? u->cap_dirs * 2 : 256;
    u->dirs = realloc(u->dirs, u->cap_dirs * sizeof *u->dirs);
  }
  struct dir_times *d = &u->dirs[u->n_dirs++];
  d->path = strdup(path);
  entry_times(e, d->ts);
  return 0;
}

static int
make_dir(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name, const char *path)
{
  int fd;
  if (name[0] == '\0') { /* "./": the target root itself */
    fd = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    if (mkdirat(dirfd, name, 0700) < 0) {
      if (errno != EEXIST)
        return cut_error(u->err, errno, "mkdir %s", path);
      int c = clear_name(u, dirfd, name, true);
      if (c < 0)
        return -1;
      if (c == 0 && mkdirat(dirfd, name, 0700) < 0)
        return cut_error(u->err, errno, "mkdir %s", path);
    }
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
    return cut_error(u->err, errno, "open directory %s", path);
  int r = apply_fd_meta(u, fd, e, path[0] ? path : "/");
  close(fd);
  if (r == 0)
    r = defer_dir_times(u, path, e);
  return r;
}

/* Symlinks, device nodes and FIFOs: no fd to hold, so the *at() calls name
 * the entry with AT_SYMLINK_NOFOLLOW relative to its (confined) parent. */
static int
finish_node(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name,
            const char *path, bool is_link)
{
  if (u->root && fchownat(dirfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                          AT_SYMLINK_NOFOLLOW) < 0)
    return cut_error(u->err, errno, "%s: chown", path);
  if (!is_link && fchmodat(dirfd, name, archive_entry_perm(e) & 07777, 0) < 0)
    return cut_error(u->err, errno, "%s: chmod", path);
  struct timespec ts[2];
  entry_times(e, ts);
  if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return cut_error(u->err, errno, "%s: set times", path);
  return 0;
}

static int
make_symlink(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name,
             const char *path)
{
  const char *target = archive_entry_symlink(e);
  if (target == NULL)
    target = archive_entry_symlink_utf8(e);
  if (target == NULL || target[0] == '\0')
    return cut_error(u->err, 0, "symlink %s: empty target", path);
  /* The target is stored as text and never followed here: where it points
   * is resolved (confined) only when a later entry goes through it. */
  for (int tries = 0;; tries++) {
    if (symlinkat(target, dirfd, name) == 0)
      break;
    if (errno != EEXIST || tries > 0)
      return cut_error(u->err, errno, "symlink %s", path);
    if (clear_name(u, dirfd, name, false) < 0)
      return -1;
  }
  return finish_node(u, e, dirfd, name, path, true);
}

static int
make_hardlink(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name,
              const char *path)
{
  const char *raw = archive_entry_hardlink(e);
  if (raw == NULL)
    raw = archive_entry_hardlink_utf8(e);
  char target[PATH_MAX];
  if (raw == NULL || unpack_clean_path(raw, target, sizeof target, u->err) < 0)
    return cut_wrap(u->err, "hardlink %s", path);
  if (target[0] == '\0')
    return cut_error(u->err, 0, "hardlink %s: target is the root", path);
  /* The target is opened inside the root (a planted "../../etc/passwd" or a
   * symlinked parent resolves to the layer's own file, or fails) and linked
   * by fd, so the new name can only share an inode of the target tree. */
  int tfd = cut_open_in_root(u->root_fd, target, O_PATH | O_NOFOLLOW, 0, u->err);
  if (tfd < 0)
    return cut_wrap(u->err, "hardlink %s", path);
  struct stat tst, nst;
  if (fstat(tfd, &tst) == 0 && S_ISDIR(tst.st_mode)) {
    close(tfd);
    return cut_error(u->err, 0, "hardlink %s: target %s is a directory", path, target);
  }
  if (fstatat(dirfd, name, &nst, AT_SYMLINK_NOFOLLOW) == 0 && nst.st_ino == tst.st_ino &&
      nst.st_dev == tst.st_dev) {
    close(tfd);
    return 0; /* already the same file */
  }
  int r = -1;
  for (int tries = 0; tries < 2; tries++) {
    r = linkat(tfd, "", dirfd, name, AT_EMPTY_PATH);
    if (r < 0 && (errno == ENOENT || errno == EPERM)) {
      char proc[32];
      cut_fd_path(tfd, proc);
      r = linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW);
    }
    if (r == 0 || errno != EEXIST)
      break;
    if (clear_name(u, dirfd, name, false) < 0) {
      close(tfd);
      return -1;
    }
  }
  int e2 = errno;
  close(tfd);
  return r < 0 ? cut_error(u->err, e2, "hardlink %s to %s", path, target) : 0;
}

static int
make_node(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name,
          const char *path, mode_t type)
{
  dev_t dev = 0;
  if (type == S_IFCHR || type == S_IFBLK) {
    unsigned long maj = (unsigned long)archive_entry_rdevmajor(e);
    unsigned long min = (unsigned long)archive_entry_rdevminor(e);
    if (maj > DEV_MAJOR_MAX || min > DEV_MINOR_MAX)
      return cut_error(u->err, 0, "device %s: major/minor %lu:%lu out of range", path, maj, min);
    if (!u->root) { /* mknod of devices needs CAP_MKNOD: skip, as rootless engines do */
      u->stats->skipped++;
      return 0;
    }
    dev = makedev(maj, min);
  }
  for (int tries = 0;; tries++) {
    if (mknodat(dirfd, name, type | 0600, dev) == 0)
      break;
    if (errno == EPERM && type != S_IFIFO) {
      u->stats->skipped++; /* in a user namespace: no device nodes */
      return 0;
    }
    if (errno != EEXIST || tries > 0)
      return cut_error(u->err, errno, "mknod %s", path);
    if (clear_name(u, dirfd, name, false) < 0)
      return -1;
  }
  return finish_node(u, e, dirfd, name, path, false);
}

/* ---- whiteouts --------------------------------------------------------- */

static void
join(char *out, size_t size, const char *dir, const char *name)
{
  snprintf(out, size, "%s%s%s", dir, dir[0] ? "/" : "", name);
}

/* Flattened: ".wh.NAME" deletes NAME as the layers below had it. */
static int
whiteout_flatten(struct unpacker *u, const char *dir, const char *name)
{
  char path[PATH_MAX];
  join(path, sizeof path, dir, name);
  if (set_contains(&u->created, path))
    return 0; /* a whiteout never hides its own layer's files */
  bool owned;
  int dfd = resolve_dir(u, dir, false, &owned);
  if (dfd < 0) {
    if (u->err->errnum == ENOENT || u->err->errnum == ENOTDIR) {
      cut_err_clear(u->err);
      return 0; /* nothing below to hide */
    }
    return -1;
  }
  cursor_invalidate_below(u, dfd); /* the removed tree may be on the cursor */
  int r = cut_rm_rf_at(dfd, name, u->err);
  if (owned)
    close(dfd);
  return r;
}

static int
opaque_flatten(struct unpacker *u, const char *dir)
{
  bool owned;
  int pfd = resolve_dir(u, dir, true, &owned);
  if (pfd < 0)
    return -1;
  int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (owned)
    close(pfd);
  if (fd < 0)
    return cut_error(u->err, errno, "opaque %s", dir[0] ? dir : "/");
  cursor_reset(u, 0);
  DIR *d = fdopendir(fd);
  int r = 0;
  struct dirent *de;
  while (r == 0 && d && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char path[PATH_MAX];
    join(path, sizeof path, dir, de->d_name);
    if (!set_contains(&u->created, path))
      r = cut_rm_rf_at(fd, de->d_name, u->err);
  }
  if (d)
    closedir(d);
  else
    close(fd);
  return r;
}

/* Overlay: a 0/0 character device is overlayfs's whiteout. */
static int
whiteout_overlay(struct unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                 const char *path)
{
  if (mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0)) < 0) {
    if (errno == EEXIST)
      return 0; /* this layer has the name itself: it wins */
    return cut_error(u->err, errno, "whiteout %s", path);
  }
  if (u->root && fchownat(dirfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                          AT_SYMLINK_NOFOLLOW) < 0)
    return cut_error(u->err, errno, "whiteout %s: chown", path);
  return 0;
}

static int
opaque_overlay(struct unpacker *u, int dirfd, const char *dir)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(u->err, errno, "opaque %s", dir[0] ? dir : "/");
  char xname[64];
  snprintf(xname, sizeof xname, "%sopaque",
           u->opts->overlay_xattr_prefix ? u->opts->overlay_xattr_prefix : "trusted.overlay.");
  int r = fsetxattr(fd, xname, "y", 1, 0);
  int e = errno;
  close(fd);
  return r < 0 ? cut_error(u->err, e, "opaque %s: set %s", dir[0] ? dir : "/", xname) : 0;
}

/* ---- one entry --------------------------------------------------------- */

static int
apply_entry(struct unpacker *u, struct archive *a, struct archive_entry *e)
{
  const char *raw = archive_entry_pathname(e);
  if (raw == NULL)
    raw = archive_entry_pathname_utf8(e);
  if (raw == NULL)
    return cut_error(u->err, 0, "entry without a path");
  char path[PATH_MAX];
  if (unpack_clean_path(raw, path, sizeof path, u->err) < 0)
    return -1;
  char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  char dir[PATH_MAX];
  if (slash) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  } else {
    dir[0] = '\0';
  }
  mode_t type = archive_entry_filetype(e);
  bool is_hardlink = archive_entry_hardlink(e) != NULL || archive_entry_hardlink_utf8(e) != NULL;

  if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
    const char *hidden = name + strlen(WH_PREFIX);
    if (strcmp(name, WH_OPAQUE) == 0) {
      u->stats->whiteouts++;
      if (u->opts->mode == UNPACK_FLATTEN)
        return opaque_flatten(u, dir);
      bool owned;
      int dfd = resolve_dir(u, dir, true, &owned);
      if (dfd < 0)
        return -1;
      int r = opaque_overlay(u, dfd, dir);
      if (owned)
        close(dfd);
      return r;
    }
    if (strncmp(name, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0) {
      u->stats->skipped++; /* aufs metadata (.wh..wh.plnk ...): not an image's content */
      return 0;
    }
    /* path was filled by unpack_clean_path, which the analyzer cannot see through. */
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
    if (hidden[0] == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
      return cut_error(u->err, 0, "invalid whiteout %.200s", raw);
    u->stats->whiteouts++;
    if (u->opts->mode == UNPACK_FLATTEN)
      return whiteout_flatten(u, dir, hidden);
    bool owned;
    int dfd = resolve_dir(u, dir, true, &owned);
    if (dfd < 0)
      return -1;
    char wpath[PATH_MAX];
    join(wpath, sizeof wpath, dir, hidden);
    int r = whiteout_overlay(u, e, dfd, hidden, wpath);
    if (owned)
      close(dfd);
    return r;
  }

  if (path[0] == '\0' && type != AE_IFDIR)
    return cut_error(u->err, 0, "entry %.200s: only a directory can be the root", raw);
  bool owned = false;
  int dfd = path[0] ? resolve_dir(u, dir, true, &owned) : u->root_fd;
  if (dfd < 0)
    return -1;
  int r;
  if (is_hardlink)
    r = make_hardlink(u, e, dfd, name, path);
  else if (type == AE_IFREG)
    r = make_file(u, a, e, dfd, name, path);
  else if (type == AE_IFDIR)
    r = make_dir(u, e, dfd, path[0] ? name : "", path);
  else if (type == AE_IFLNK)
    r = make_symlink(u, e, dfd, name, path);
  else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
    r = make_node(u, e, dfd, name, path, type);
  else {
    u->stats->skipped++; /* sockets and unknown types are not layer content */
    r = 0;
  }
  if (owned)
    close(dfd);
  if (r == 0) {
    note_created(u, path);
    u->stats->files++;
  }
  return r;
}

/* Directory times last, deepest first: creating children changed them. */
static int
apply_dir_times(struct unpacker *u)
{
  cursor_reset(u, 0);
  for (size_t i = u->n_dirs; i-- > 0;) {
    struct dir_times *d = &u->dirs[i];
    int fd = d->path[0] ? cut_open_in_root(u->root_fd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                                           0, u->err)
                        : openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      cut_err_clear(u->err); /* removed by a later entry: nothing to set */
      continue;
    }
    int r = futimens(fd, d->ts);
    int e = errno;
    close(fd);
    if (r < 0)
      return cut_error(u->err, e, "%s: set times", d->path);
  }
  return 0;
}

/* ---- input: the decoder thread ----------------------------------------- */

/* Decoding (gzip/zstd inflate, the diff_id hash, the bomb caps) runs in a
 * thread of its own and hands decoded blocks to the extracting thread
 * through a small ring of buffers, so one core inflates while the other
 * makes files: the split containerd gets from running `unpigz` in a pipe.
 * Every byte the tar reader sees has been counted and hashed before. */

static bool
decoder_cancelled(struct decoder *d)
{
  return __atomic_load_n(&d->cancel, __ATOMIC_ACQUIRE);
}

static void ring_publish(struct decoder *d, size_t len);

/* A pipe or socket may block for as long as its writer likes: wait in
 * poll(2) with the cancel eventfd, so an extraction that gave up can stop
 * the decoder instead of hanging on a stalled download.  Before waiting,
 * the part-filled slot goes to the extractor: it must not sit on bytes
 * that arrived while the next ones take their time. */
static int
wait_readable(struct decoder *d)
{
  if (!d->in_pollable || d->cancel_fd < 0)
    return 0;
  struct pollfd p[2] = {{.fd = d->in_fd, .events = POLLIN}, {.fd = d->cancel_fd, .events = POLLIN}};
  if (d->cur && d->fill && poll(p, 1, 0) == 0) {
    ring_publish(d, d->fill);
    d->cur = NULL;
    d->fill = 0;
  }
  for (;;) {
    int n = poll(p, 2, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cut_error(&d->err, errno, "poll layer input");
    if (p[1].revents)
      return cut_error(&d->err, ECANCELED, "cancelled");
    return 0;
  }
}

static ssize_t
read_input(struct decoder *d, const void **out)
{
  if (d->pending) {
    size_t n = d->pending;
    d->pending = 0;
    *out = d->buf;
    return (ssize_t)n;
  }
  if (d->in_eof)
    return 0;
  for (;;) {
    if (decoder_cancelled(d) || wait_readable(d) < 0) {
      if (!d->failed)
        cut_error(&d->err, ECANCELED, "cancelled");
      d->failed = true;
      return -1;
    }
    ssize_t n = read(d->in_fd, d->buf, READ_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      d->failed = true;
      cut_error(&d->err, errno, "read layer");
      return -1;
    }
    if (n == 0)
      d->in_eof = true;
    d->compressed += (uint64_t)n;
    *out = d->buf;
    return n;
  }
}

static la_ssize_t
outer_read(struct archive *a, void *cd, const void **out)
{
  (void)a;
  return read_input(cd, out);
}

/* The next block of decoded tar bytes: the one place every uncompressed
 * byte passes, so it is hashed and counted here. */
static ssize_t
decode_block(struct decoder *d, const void **out)
{
  ssize_t n;
  if (d->outer == NULL) {
    n = read_input(d, out);
  } else {
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(d->outer, out, &len, &off);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN) {
      if (!d->failed) {
        d->failed = true;
        cut_error(&d->err, 0, "decompress (%s): %s", compression_name(d->comp),
                  archive_error_string(d->outer));
      }
      return -1;
    }
    n = (ssize_t)len;
  }
  if (n <= 0)
    return n;
  d->bytes += (uint64_t)n;
  if (d->bytes > d->max_bytes) {
    d->failed = true;
    cut_error(&d->err, 0, "layer larger than %llu bytes uncompressed (decompression bomb?)",
              (unsigned long long)d->max_bytes);
    return -1;
  }
  if (d->outer && d->bytes > UNPACK_RATIO_GRACE && d->bytes / (d->compressed + 1) > d->max_ratio) {
    d->failed = true;
    cut_error(&d->err, 0, "layer expands more than %llu:1 (decompression bomb?)",
              (unsigned long long)d->max_ratio);
    return -1;
  }
  cut_sha256_update(d->hash, *out, (size_t)n);
  return n;
}

/* A free slot to fill (NULL when cancelled). */
static unsigned char *
ring_acquire(struct decoder *d)
{
  pthread_mutex_lock(&d->mu);
  while (d->filled - d->consumed >= RING_SLOTS && !d->cancel)
    pthread_cond_wait(&d->cond, &d->mu);
  unsigned char *s = d->cancel ? NULL : d->slot[d->filled % RING_SLOTS];
  pthread_mutex_unlock(&d->mu);
  return s;
}

static void
ring_publish(struct decoder *d, size_t len)
{
  pthread_mutex_lock(&d->mu);
  d->slot_len[d->filled % RING_SLOTS] = len;
  d->filled++;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
}

static void *
decoder_main(void *arg)
{
  struct decoder *d = arg;
  for (;;) {
    const void *blk;
    ssize_t n = decode_block(d, &blk);
    if (n <= 0)
      break;
    const unsigned char *p = blk;
    while (n > 0) {
      if (d->cur == NULL) {
        if ((d->cur = ring_acquire(d)) == NULL)
          goto out; /* cancelled */
        d->fill = 0;
      }
      size_t k = (size_t)n < RING_SLOT - d->fill ? (size_t)n : RING_SLOT - d->fill;
      memcpy(d->cur + d->fill, p, k);
      d->fill += k;
      p += k;
      n -= (ssize_t)k;
      if (d->fill == RING_SLOT) {
        ring_publish(d, d->fill);
        d->cur = NULL;
      }
    }
  }
  if (d->cur && d->fill)
    ring_publish(d, d->fill);
  d->cur = NULL;
  /* Read the input to its end, so a writer on a pipe sees its data
   * consumed (and the compressed byte count is whole). */
  const void *b;
  while (!d->failed && !d->in_eof && read_input(d, &b) > 0)
    ;
out:
  pthread_mutex_lock(&d->mu);
  d->done = true;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

/* Hands the tar reader the next decoded block; the previous one goes back
 * to the decoder (libarchive keeps a block only until the next call). */
static la_ssize_t
tar_read(struct archive *a, void *cd, const void **out)
{
  (void)a;
  struct unpacker *u = cd;
  struct decoder *d = &u->dec;
  pthread_mutex_lock(&d->mu);
  if (d->holding) {
    d->consumed++;
    d->holding = false;
    pthread_cond_broadcast(&d->cond);
  }
  while (d->consumed == d->filled && !d->done)
    pthread_cond_wait(&d->cond, &d->mu);
  la_ssize_t n = 0;
  if (d->consumed < d->filled) {
    size_t i = d->consumed % RING_SLOTS;
    *out = d->slot[i];
    n = (la_ssize_t)d->slot_len[i];
    d->holding = true;
    u->tar_bytes += (uint64_t)n;
  } else if (d->failed) {
    if (!u->failed) {
      u->failed = true;
      *u->err = d->err;
    }
    n = -1;
  }
  pthread_mutex_unlock(&d->mu);
  return n;
}

/* The diff_id covers every byte of the tar stream, including the padding
 * after its end-of-archive blocks, which the tar reader never asks for. */
static int
drain_trailing(struct unpacker *u)
{
  uint64_t start = u->tar_bytes;
  const void *b;
  la_ssize_t n;
  while ((n = tar_read(NULL, u, &b)) > 0)
    if (u->tar_bytes - start > TRAILING_MAX)
      return cut_error(u->err, 0, "more than %u bytes of data after the end of the archive",
                       TRAILING_MAX);
  if (n < 0)
    return -1;
  return u->failed ? -1 : 0;
}

static int
detect_input(struct unpacker *u)
{
  const unpack_opts *o = u->opts;
  struct decoder *d = &u->dec;
  ssize_t n;
  size_t have = 0;
  while (have < 6) {
    n = read(d->in_fd, d->buf + have, READ_BUF - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cut_error(u->err, errno, "read layer");
    if (n == 0) {
      d->in_eof = true;
      break;
    }
    have += (size_t)n;
  }
  d->pending = have;
  d->compressed = have;
  if (have == 0)
    return cut_error(u->err, 0, "empty layer");
  d->comp = unpack_detect(d->buf, have);
  if (d->comp == UNPACK_UNSUPPORTED)
    return cut_error(u->err, 0, "unsupported layer compression (neither gzip nor zstd)");
  if (o->media_type && o->media_type[0]) {
    enum unpack_compression said = unpack_media_compression(o->media_type);
    if (said == UNPACK_UNSUPPORTED)
      return cut_error(u->err, 0, "unsupported layer media type %s", o->media_type);
    if (said != d->comp)
      return cut_error(u->err, 0, "media type %s says %s but the content is %s", o->media_type,
                       compression_name(said), compression_name(d->comp));
  }
  return 0;
}

static int
decoder_start(struct unpacker *u)
{
  struct decoder *d = &u->dec;
  for (int i = 0; i < RING_SLOTS; i++)
    if ((d->slot[i] = malloc(RING_SLOT)) == NULL)
      return cut_error(u->err, ENOMEM, "unpack ring");
  if ((errno = pthread_create(&d->thread, NULL, decoder_main, d)) != 0)
    return cut_error(u->err, errno, "start decoder thread");
  d->running = true;
  return 0;
}

/* Stop the decoder (if it still runs) and wait for it. */
static void
decoder_stop(struct decoder *d)
{
  if (!d->running)
    return;
  pthread_mutex_lock(&d->mu);
  __atomic_store_n(&d->cancel, true, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->mu);
  if (d->cancel_fd >= 0) {
    uint64_t one = 1;
    ssize_t w = write(d->cancel_fd, &one, sizeof one);
    (void)w;
  }
  pthread_join(d->thread, NULL);
  d->running = false;
}

static int
open_readers(struct unpacker *u, struct archive **tar)
{
  struct decoder *d = &u->dec;
  if (d->comp != UNPACK_PLAIN) {
    d->outer = archive_read_new();
    int r = d->comp == UNPACK_GZIP ? archive_read_support_filter_gzip(d->outer)
                                   : archive_read_support_filter_zstd(d->outer);
    if (r != ARCHIVE_OK || archive_read_support_format_raw(d->outer) != ARCHIVE_OK ||
        archive_read_open(d->outer, d, NULL, outer_read, NULL) != ARCHIVE_OK)
      return cut_error(u->err, 0, "open %s decoder: %s", compression_name(d->comp),
                       archive_error_string(d->outer));
    struct archive_entry *raw;
    if (archive_read_next_header(d->outer, &raw) != ARCHIVE_OK)
      return cut_error(u->err, 0, "%s: %s", compression_name(d->comp),
                       d->failed ? d->err.msg : archive_error_string(d->outer));
  }
  if (decoder_start(u) < 0)
    return -1;
  *tar = archive_read_new();
  if (archive_read_support_format_tar(*tar) != ARCHIVE_OK ||
      archive_read_open(*tar, u, NULL, tar_read, NULL) != ARCHIVE_OK) {
    if (!u->failed)
      cut_error(u->err, 0, "open tar reader: %s", archive_error_string(*tar));
    return -1;
  }
  return 0;
}

static int
extract(struct unpacker *u)
{
  if (detect_input(u) < 0)
    return -1;
  struct archive *tar = NULL;
  int r = open_readers(u, &tar);
  while (r == 0) {
    struct archive_entry *e;
    int hr = archive_read_next_header(tar, &e);
    if (hr == ARCHIVE_EOF)
      break;
    if (hr < ARCHIVE_WARN) {
      if (!u->failed)
        cut_error(u->err, 0, "read tar: %s", archive_error_string(tar));
      r = -1;
      break;
    }
    r = apply_entry(u, tar, e);
  }
  if (r == 0)
    r = drain_trailing(u);
  decoder_stop(&u->dec); /* before the tar reader goes: it may hold a slot */
  if (r == 0)
    r = apply_dir_times(u);
  if (tar)
    archive_read_free(tar);
  if (u->dec.outer)
    archive_read_free(u->dec.outer);
  u->dec.outer = NULL;
  return r;
}

int
unpack_layer_fd(int fd, int target_fd, const unpack_opts *opts, unpack_stats *stats, cut_err *err)
{
  unpack_stats local;
  if (stats == NULL)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "unpack.layer",
              TA_STR("digest", opts->digest ? opts->digest : ""),
              TA_STR("mode", opts->mode == UNPACK_OVERLAY ? "overlay" : "flatten"),
              TA_STR("media_type", opts->media_type ? opts->media_type : ""));
  cut_sha256 hash = {0};
  struct unpacker u = {
      .opts = opts,
      .stats = stats,
      .err = err,
      .root = geteuid() == 0,
      .root_fd = target_fd,
  };
  struct decoder *d = &u.dec;
  d->in_fd = fd;
  d->hash = &hash;
  d->cancel_fd = eventfd(0, EFD_CLOEXEC);
  d->max_bytes = opts->max_bytes ? opts->max_bytes : UNPACK_DEFAULT_MAX_BYTES;
  d->max_ratio = opts->max_ratio ? opts->max_ratio : UNPACK_DEFAULT_MAX_RATIO;
  struct stat in_st;
  d->in_pollable = fstat(fd, &in_st) == 0 && !S_ISREG(in_st.st_mode) && !S_ISBLK(in_st.st_mode);
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cond, NULL);
  u.cur_fd[0] = target_fd;
  d->buf = malloc(READ_BUF);
  int r = d->buf ? cut_sha256_init(&hash, err) : cut_error(err, ENOMEM, "unpack");
  if (r == 0) {
    r = extract(&u);
    decoder_stop(d);
    cut_sha256_final(&hash, stats->diff_id);
  }
  stats->bytes = d->bytes;
  stats->compressed_bytes = d->compressed;
  if (r == 0 && opts->diff_id && strcmp(opts->diff_id, stats->diff_id) != 0)
    r = cut_error(err, 0, "uncompressed digest %s does not match the config's diff_id %s",
                  stats->diff_id, opts->diff_id);
  if (r == 0 && !opts->no_sync && syncfs(target_fd) < 0)
    r = cut_error(err, errno, "syncfs");
  pool_stop(&u);
  cursor_reset(&u, 0);
  set_free(&u.created);
  for (size_t i = 0; i < u.n_dirs; i++)
    free(u.dirs[i].path);
  free(u.dirs);
  free(d->buf);
  for (int i = 0; i < RING_SLOTS; i++)
    free(d->slot[i]);
  if (d->cancel_fd >= 0)
    close(d->cancel_fd);
  pthread_cond_destroy(&d->cond);
  pthread_mutex_destroy(&d->mu);
  if (r < 0 && opts->digest)
    cut_wrap(err, "layer %s", opts->digest);
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("files", stats->files), TA_INT("bytes", stats->bytes),
            TA_INT("compressed_bytes", stats->compressed_bytes),
            TA_INT("whiteouts", stats->whiteouts), TA_STR("diff_id", stats->diff_id));
  return r;
}

int
unpack_layer_file(const char *path, int target_fd, const unpack_opts *opts, unpack_stats *stats,
                  cut_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open layer %s", path);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  int r = unpack_layer_fd(fd, target_fd, opts, stats, err);
  close(fd);
  return r;
}
