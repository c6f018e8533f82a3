/* ctd_snap.c: the overlayfs snapshotter (containerd's snapshots/overlay,
 * Docker's overlay2 driver).
 *
 * A snapshot is a directory ROOT/snapshots/<n>/ holding fs/ (the layer's
 * files), work/ (overlayfs' scratch space, for writable ones) and info.json.
 * Image layers are *committed* snapshots keyed by their chain ID
 *     chain(0) = diff_id(0),  chain(n) = sha256(chain(n-1) + " " + diff_id(n))
 * (the OCI image spec's ChainID), so a layer is unpacked once and shared by
 * every image that has the same layers beneath it.  A container gets an
 * *active* snapshot whose fs/ is the overlay upperdir over its image's
 * chain as lowerdirs.
 *
 * Directories are short numbers, as containerd's are, because overlayfs
 * takes every lowerdir in one mount option string limited to a page
 * (4096 bytes): "lowerdir=12/fs:11/fs:..." mounted from inside
 * ROOT/snapshots fits ~500 layers, where absolute paths of 60 bytes would
 * stop at ~60.
 *
 * Crash safety: info.json is written last (atomically); a numbered
 * directory without it is a half-made snapshot (a daemon killed mid-unpack)
 * and is removed at startup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctd.h"
#include "digest.h"
#include "fileutil.h"
#include "json.h"
#include "trace.h"

static pthread_mutex_t unpack_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
kind_name(enum ctd_snap_kind k)
{
  return k == SNAP_COMMITTED ? "committed" : k == SNAP_ACTIVE ? "active" : "view";
}

static void
snap_path(ctd *c, long num, const char *sub, char *out, size_t len)
{
  if (sub)
    ctd_fmt(out, len, "%s/%ld/%s", c->snap_dir, num, sub);
  else
    ctd_fmt(out, len, "%s/%ld", c->snap_dir, num);
}

void
ctd_chain_id(const char *parent_chain, const char *diff_id, char out[72])
{
  if (parent_chain == NULL || *parent_chain == '\0') {
    ctd_fmt(out, 72, "%s", diff_id);
    return;
  }
  char buf[160];
  int n = snprintf(buf, sizeof buf, "%s %s", parent_chain, diff_id);
  cut_err err;
  if (cut_sha256_buf(buf, (size_t)n, out, &err) < 0)
    out[0] = '\0';
}

ctd_snap *
ctd_snap_find(ctd *c, const char *key)
{
  for (ctd_snap *s = c->snaps; s; s = s->next)
    if (strcmp(s->key, key) == 0)
      return s;
  return NULL;
}

static int
write_info(ctd *c, const ctd_snap *s, cut_err *err)
{
  char path[PATH_MAX];
  snap_path(c, s->num, "info.json", path, sizeof path);
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "key", s->key);
  cJSON_AddStringToObject(doc, "parent", s->parent);
  cJSON_AddStringToObject(doc, "kind", kind_name(s->kind));
  cJSON_AddStringToObject(doc, "created", s->created);
  int r = json_write_file(path, doc, false, err);
  cJSON_Delete(doc);
  return r;
}

int
ctd_snap_load(ctd *c, cut_err *err)
{
  if (cut_mkdir_p(c->snap_dir, 0700, err) < 0)
    return -1;
  DIR *d = opendir(c->snap_dir);
  if (d == NULL)
    return cut_error(err, errno, "open %s", c->snap_dir);
  struct dirent *de;
  c->next_snap = 1;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long num = strtol(de->d_name, &end, 10);
    if (*end != '\0' || num <= 0)
      continue;
    if (num >= c->next_snap)
      c->next_snap = num + 1;
    char info[PATH_MAX];
    snap_path(c, num, "info.json", info, sizeof info);
    cJSON *doc = NULL;
    cut_err e2;
    const char *key = NULL, *parent = "", *kind = NULL, *created = "";
    if (json_read_file(info, 1 << 16, &doc, &e2) < 0 ||
        json_get_string(doc, "key", "key", true, &key, &e2) < 0 ||
        json_get_string(doc, "parent", "parent", false, &parent, &e2) < 0 ||
        json_get_string(doc, "kind", "kind", true, &kind, &e2) < 0 ||
        json_get_string(doc, "created", "created", false, &created, &e2) < 0) {
      /* Half-made (killed mid-unpack): nothing refers to it yet. */
      char dir[PATH_MAX];
      snap_path(c, num, NULL, dir, sizeof dir);
      trace_event("snapshot.cleanup", TA_STR("dir", dir), TA_STR("reason", "no info.json"));
      cut_rm_rf(dir, &e2);
      cJSON_Delete(doc);
      continue;
    }
    ctd_snap *s = calloc(1, sizeof *s);
    ctd_fmt(s->key, sizeof s->key, "%s", key);
    ctd_fmt(s->parent, sizeof s->parent, "%s", parent);
    ctd_fmt(s->created, sizeof s->created, "%s", created);
    s->kind = strcmp(kind, "committed") == 0 ? SNAP_COMMITTED
              : strcmp(kind, "view") == 0    ? SNAP_VIEW
                                             : SNAP_ACTIVE;
    s->num = num;
    s->next = c->snaps;
    c->snaps = s;
    cJSON_Delete(doc);
  }
  closedir(d);
  return 0;
}

/* Reserve a number and make its directories. */
static int
snap_new_dir(ctd *c, bool work, long *num, cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  long n = c->next_snap++;
  pthread_mutex_unlock(&c->lock);
  char dir[PATH_MAX];
  snap_path(c, n, NULL, dir, sizeof dir);
  if (mkdir(dir, 0700) < 0)
    return cut_error(err, errno, "snapshot dir %s", dir);
  snap_path(c, n, "fs", dir, sizeof dir);
  /* fs/ becomes the container's "/": 0755 as an image root is. */
  if (mkdir(dir, 0755) < 0)
    return cut_error(err, errno, "snapshot dir %s", dir);
  if (work) {
    snap_path(c, n, "work", dir, sizeof dir);
    if (mkdir(dir, 0700) < 0)
      return cut_error(err, errno, "snapshot dir %s", dir);
  }
  *num = n;
  return 0;
}

static void
snap_discard_dir(ctd *c, long num)
{
  char dir[PATH_MAX];
  cut_err e;
  snap_path(c, num, NULL, dir, sizeof dir);
  cut_rm_rf(dir, &e);
}

int
ctd_snap_commit_new(ctd *c, const char *key, const char *parent,
                    int (*fill)(int dir_fd, void *arg, cut_err *err), void *arg, cut_err *err)
{
  /* One unpack at a time: two pulls sharing a base layer must not both
   * unpack it (the second finds it committed). */
  pthread_mutex_lock(&unpack_mu);
  pthread_mutex_lock(&c->lock);
  bool exists = ctd_snap_find(c, key) != NULL;
  pthread_mutex_unlock(&c->lock);
  if (exists) {
    pthread_mutex_unlock(&unpack_mu);
    return 0;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "snapshot.commit", TA_STR("key", key),
              TA_STR("parent", parent ? parent : ""));
  long num = -1;
  int r = snap_new_dir(c, false, &num, err);
  if (r == 0) {
    char fs[PATH_MAX];
    snap_path(c, num, "fs", fs, sizeof fs);
    int fd = open(fs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      r = cut_error(err, errno, "open %s", fs);
    else {
      r = fill(fd, arg, err);
      close(fd);
    }
  }
  ctd_snap *s = NULL;
  if (r == 0) {
    s = calloc(1, sizeof *s);
    if (s == NULL)
      r = cut_error(err, ENOMEM, "snapshot %s", key);
  }
  if (r == 0) {
    ctd_fmt(s->key, sizeof s->key, "%s", key);
    ctd_fmt(s->parent, sizeof s->parent, "%s", parent ? parent : "");
    s->kind = SNAP_COMMITTED;
    s->num = num;
    ctd_now_rfc3339(s->created);
    r = write_info(c, s, err);
  }
  if (r != 0 || s == NULL) {
    free(s);
    if (num >= 0)
      snap_discard_dir(c, num);
  } else {
    pthread_mutex_lock(&c->lock);
    s->next = c->snaps;
    c->snaps = s;
    pthread_mutex_unlock(&c->lock);
  }
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("num", r == 0 ? num : 0));
  pthread_mutex_unlock(&unpack_mu);
  return r;
}

int
ctd_snap_prepare(ctd *c, const char *key, const char *parent, bool readonly, cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  ctd_snap *p = parent && *parent ? ctd_snap_find(c, parent) : NULL;
  bool dup = ctd_snap_find(c, key) != NULL;
  pthread_mutex_unlock(&c->lock);
  if (dup)
    return ctd_err(err, EEXIST, "snapshot %s: already exists", key);
  if (parent && *parent && p == NULL)
    return ctd_err(err, ENOENT, "snapshot %s: parent %s not found", key, parent);
  if (p && p->kind != SNAP_COMMITTED)
    return ctd_err(err, EINVAL, "snapshot %s: parent %s is not committed", key, parent);
  long num;
  if (snap_new_dir(c, !readonly, &num, err) < 0)
    return -1;
  ctd_snap *s = calloc(1, sizeof *s);
  ctd_fmt(s->key, sizeof s->key, "%s", key);
  ctd_fmt(s->parent, sizeof s->parent, "%s", parent ? parent : "");
  s->kind = readonly ? SNAP_VIEW : SNAP_ACTIVE;
  s->num = num;
  ctd_now_rfc3339(s->created);
  if (write_info(c, s, err) < 0) {
    free(s);
    snap_discard_dir(c, num);
    return -1;
  }
  pthread_mutex_lock(&c->lock);
  s->next = c->snaps;
  c->snaps = s;
  pthread_mutex_unlock(&c->lock);
  return 0;
}

int
ctd_snap_mount_options(ctd *c, const char *key, bool relative, char *out, size_t len, int *nlower,
                       cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  ctd_snap *s = ctd_snap_find(c, key);
  if (s == NULL) {
    pthread_mutex_unlock(&c->lock);
    return ctd_err(err, ENOENT, "snapshot %s: not found", key);
  }
  char prefix[PATH_MAX + 1] = "";
  if (!relative)
    ctd_fmt(prefix, sizeof prefix, "%s/", c->snap_dir);
  size_t off = 0;
  int n = 0;
  out[0] = '\0';
  if (s->kind == SNAP_COMMITTED) {
    off += (size_t)snprintf(out, len, "lowerdir=%s%ld/fs", prefix, s->num);
    n = 1;
  } else {
    /* The lowerdirs: the parent first (topmost), down to the base layer. */
    off += (size_t)snprintf(out, len, "lowerdir=");
    for (ctd_snap *p = *s->parent ? ctd_snap_find(c, s->parent) : NULL; p;
         p = *p->parent ? ctd_snap_find(c, p->parent) : NULL) {
      off += (size_t)snprintf(out + off, off < len ? len - off : 0, "%s%s%ld/fs", n ? ":" : "",
                              prefix, p->num);
      n++;
    }
    if (s->kind == SNAP_ACTIVE)
      off +=
          (size_t)snprintf(out + off, off < len ? len - off : 0,
                           ",upperdir=%s%ld/fs,workdir=%s%ld/work", prefix, s->num, prefix, s->num);
  }
  pthread_mutex_unlock(&c->lock);
  if (off >= len)
    return ctd_err(err, E2BIG, "snapshot %s: mount options longer than %zu bytes", key, len);
  *nlower = n;
  return 0;
}

/* mount(2) from a thread with its own cwd (unshare(CLONE_FS)) inside the
 * snapshots dir, so the relative lowerdirs resolve without changing the
 * daemon's cwd under its other threads. */
struct mount_job {
  const char *dir, *source, *target, *fstype, *data;
  unsigned long flags;
  int ret, err;
};

static void *
mount_thread(void *arg)
{
  struct mount_job *j = arg;
  if (unshare(CLONE_FS) < 0 || chdir(j->dir) < 0) {
    j->ret = -1;
    j->err = errno;
    return NULL;
  }
  j->ret = mount(j->source, j->target, j->fstype, j->flags, j->data);
  j->err = errno;
  return NULL;
}

int
ctd_snap_mount(ctd *c, const char *key, const char *target, bool volatile_upper, cut_err *err)
{
  char opts[4096];
  int nlower = 0;
  if (ctd_snap_mount_options(c, key, true, opts, sizeof opts - 16, &nlower, err) < 0)
    return -1;
  if (volatile_upper && strstr(opts, "upperdir="))
    strcat(opts, ",volatile");
  pthread_mutex_lock(&c->lock);
  ctd_snap *s = ctd_snap_find(c, key);
  bool bind = s && s->kind != SNAP_ACTIVE && nlower == 1;
  long num = s ? s->num : 0;
  pthread_mutex_unlock(&c->lock);
  struct mount_job j = {.dir = c->snap_dir, .target = target};
  char src[PATH_MAX];
  if (bind) {
    /* overlayfs needs two lowerdirs without an upper: a read-only view of
     * one layer is a bind mount, as containerd does it. */
    snap_path(c, num, "fs", src, sizeof src);
    j.source = src;
    j.fstype = "none";
    j.flags = MS_BIND | MS_RDONLY;
  } else {
    j.source = "overlay";
    j.fstype = "overlay";
    j.data = opts;
  }
  const char *lower = strstr(opts, "lowerdir=");
  char lowerdirs[4096];
  ctd_fmt(lowerdirs, sizeof lowerdirs, "%.*s", (int)strcspn(lower ? lower + 9 : "", ","),
          lower ? lower + 9 : "");
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "mount", TA_STR("source", j.source), TA_STR("target", target),
              TA_STR("type", j.fstype), TA_STR("lowerdir", lowerdirs), TA_INT("layers", nlower),
              TA_STR("data", bind ? "bind,ro" : opts), TA_STR("cwd", c->snap_dir));
  pthread_t th;
  if (pthread_create(&th, NULL, mount_thread, &j) != 0) {
    j.ret = -1;
    j.err = EAGAIN;
  } else {
    pthread_join(th, NULL);
  }
  errno = j.err;
  trace_end_sys(&sp, j.ret);
  if (j.ret < 0 && j.err == EINVAL && volatile_upper) {
    /* A kernel before 5.10 has no "volatile": mount without it. */
    return ctd_snap_mount(c, key, target, false, err);
  }
  if (j.ret < 0)
    return cut_error(err, j.err, "mount snapshot %s on %s", key, target);
  if (bind && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return cut_error(err, errno, "remount %s read-only", target);
  return 0;
}

int
ctd_snap_remove(ctd *c, const char *key, cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  ctd_snap **pp = &c->snaps, *s = NULL;
  for (; *pp; pp = &(*pp)->next)
    if (strcmp((*pp)->key, key) == 0) {
      s = *pp;
      break;
    }
  if (s == NULL) {
    pthread_mutex_unlock(&c->lock);
    return ctd_err(err, ENOENT, "snapshot %s: not found", key);
  }
  for (ctd_snap *o = c->snaps; o; o = o->next)
    if (strcmp(o->parent, key) == 0) {
      pthread_mutex_unlock(&c->lock);
      return ctd_err(err, EBUSY, "snapshot %s: has children (%s)", key, o->key);
    }
  *pp = s->next;
  pthread_mutex_unlock(&c->lock);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "snapshot.remove", TA_STR("key", key), TA_INT("num", s->num));
  /* info.json goes first: a crash in the middle leaves a dir without it,
   * which the next start removes. */
  char path[PATH_MAX];
  snap_path(c, s->num, "info.json", path, sizeof path);
  unlink(path);
  snap_path(c, s->num, NULL, path, sizeof path);
  int r = cut_rm_rf(path, err);
  trace_end(&sp, r < 0 ? err : NULL);
  free(s);
  return r;
}

int
ctd_snap_commit(ctd *c, const char *name, const char *key, cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  ctd_snap *s = ctd_snap_find(c, key);
  bool dup = ctd_snap_find(c, name) != NULL;
  if (s == NULL || dup || s->kind != SNAP_ACTIVE) {
    pthread_mutex_unlock(&c->lock);
    return ctd_err(err, s == NULL ? ENOENT : EINVAL, "commit %s as %s: %s", key, name,
                   s == NULL ? "not found"
                   : dup     ? "name exists"
                             : "not an active snapshot");
  }
  ctd_snap copy = *s;
  ctd_fmt(copy.key, sizeof copy.key, "%s", name);
  copy.kind = SNAP_COMMITTED;
  pthread_mutex_unlock(&c->lock);
  if (write_info(c, &copy, err) < 0)
    return -1;
  pthread_mutex_lock(&c->lock);
  ctd_fmt(s->key, sizeof s->key, "%s", name);
  s->kind = SNAP_COMMITTED;
  pthread_mutex_unlock(&c->lock);
  return 0;
}

static __thread uint64_t du_bytes, du_inodes;

static int
du_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  du_bytes += (uint64_t)st->st_blocks * 512;
  du_inodes++;
  return 0;
}

int
ctd_snap_usage(ctd *c, const char *key, uint64_t *bytes, uint64_t *inodes, cut_err *err)
{
  pthread_mutex_lock(&c->lock);
  ctd_snap *s = ctd_snap_find(c, key);
  long num = s ? s->num : 0;
  pthread_mutex_unlock(&c->lock);
  if (s == NULL)
    return ctd_err(err, ENOENT, "snapshot %s: not found", key);
  char fs[PATH_MAX];
  snap_path(c, num, "fs", fs, sizeof fs);
  du_bytes = du_inodes = 0;
  if (nftw(fs, du_visit, 32, FTW_PHYS | FTW_MOUNT) < 0)
    return cut_error(err, errno, "usage of %s", fs);
  *bytes = du_bytes;
  *inodes = du_inodes;
  return 0;
}

cJSON *
ctd_snap_json(ctd *c, const ctd_snap *s)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "key", s->key);
  cJSON_AddStringToObject(o, "parent", s->parent);
  cJSON_AddStringToObject(o, "kind", kind_name(s->kind));
  cJSON_AddStringToObject(o, "created", s->created);
  char dir[PATH_MAX];
  snap_path(c, s->num, NULL, dir, sizeof dir);
  cJSON_AddStringToObject(o, "dir", dir);
  return o;
}

int
ctd_snap_gc(ctd *c, char **keep, size_t *removed, cut_err *err)
{
  *removed = 0;
  for (;;) {
    /* Mark: everything reachable from a kept key or from a non-committed
     * snapshot (a container's); sweep one unmarked leaf per round. */
    char victim[200] = "";
    pthread_mutex_lock(&c->lock);
    for (ctd_snap *s = c->snaps; s && !*victim; s = s->next) {
      if (s->kind != SNAP_COMMITTED)
        continue;
      bool used = false;
      for (ctd_snap *o = c->snaps; o && !used; o = o->next)
        if (strcmp(o->parent, s->key) == 0)
          used = true;
      for (size_t i = 0; keep && keep[i] && !used; i++)
        if (strcmp(keep[i], s->key) == 0)
          used = true;
      if (!used)
        ctd_fmt(victim, sizeof victim, "%s", s->key);
    }
    pthread_mutex_unlock(&c->lock);
    if (!*victim)
      return 0;
    if (ctd_snap_remove(c, victim, err) < 0)
      return -1;
    (*removed)++;
  }
}
