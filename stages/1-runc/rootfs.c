/* rootfs.c: see rootfs.h.  Every mount(2), mknod(2), pivot_root(2) and
 * sysctl write is a `syscall` span, so the trace of a `run` lists the
 * container's filesystem being assembled, step by step. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fileutil.h"
#include "trace.h"

/* ---- helpers ------------------------------------------------------------ */

void
rc_mount_flags_text(unsigned long flags, char *buf, size_t len)
{
  static const struct {
    unsigned long flag;
    const char *name;
  } names[] = {
      {MS_RDONLY, "MS_RDONLY"},
      {MS_NOSUID, "MS_NOSUID"},
      {MS_NODEV, "MS_NODEV"},
      {MS_NOEXEC, "MS_NOEXEC"},
      {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
      {MS_REMOUNT, "MS_REMOUNT"},
      {MS_MANDLOCK, "MS_MANDLOCK"},
      {MS_DIRSYNC, "MS_DIRSYNC"},
      {MS_NOATIME, "MS_NOATIME"},
      {MS_NODIRATIME, "MS_NODIRATIME"},
      {MS_BIND, "MS_BIND"},
      {MS_MOVE, "MS_MOVE"},
      {MS_REC, "MS_REC"},
      {MS_SILENT, "MS_SILENT"},
      {MS_UNBINDABLE, "MS_UNBINDABLE"},
      {MS_PRIVATE, "MS_PRIVATE"},
      {MS_SLAVE, "MS_SLAVE"},
      {MS_SHARED, "MS_SHARED"},
      {MS_RELATIME, "MS_RELATIME"},
      {MS_STRICTATIME, "MS_STRICTATIME"},
      {MS_LAZYTIME, "MS_LAZYTIME"},
  };
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(flags & names[i].flag))
      continue;
    int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
    if (n < 0 || (size_t)n >= len - used)
      break;
    used += (size_t)n;
  }
  if (used == 0)
    snprintf(buf, len, "0");
}

/* mount(2) as a span.  `target` is what the kernel gets (often
 * /proc/self/fd/N), `shown` the container path a learner recognises. */
static int
do_mount(const char *src, const char *target, const char *shown, const char *type,
         unsigned long flags, const char *data, cut_err *err)
{
  trace_span sp;
  if (trace_enabled()) {
    char ftext[256];
    rc_mount_flags_text(flags, ftext, sizeof ftext);
    trace_begin(&sp, TRACE_SYSCALL, "mount", TA_STR("source", src ? src : ""),
                TA_STR("target", shown), TA_STR("type", type ? type : ""), TA_STR("flags", ftext),
                TA_STR("data", data ? data : ""));
  } else {
    trace_begin(&sp, TRACE_SYSCALL, "mount");
  }
  if (trace_end_sys(&sp, mount(src, target, type, flags, data)) < 0) {
    const char *what = type && type[0] ? type : src ? src : "";
    if (flags & MS_REMOUNT)
      return cut_error(err, errno, "remount %s", shown);
    if (flags & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE))
      return cut_error(err, errno, "set propagation of %s", shown);
    if (flags & MS_BIND)
      return cut_error(err, errno, "bind %s on %s", src ? src : "", shown);
    return cut_error(err, errno, "mount %s on %s", what, shown);
  }
  return 0;
}

/* The per-mount flags a bind remount must repeat: in a user namespace the
 * kernel refuses to clear nosuid/nodev/noexec locked by the mount's owner. */
static unsigned long
current_flags(const char *path)
{
  struct statvfs sv;
  if (statvfs(path, &sv) < 0)
    return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

static void
split_path(const char *path, char *dir, size_t dlen, const char **base)
{
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, dlen, "/");
    *base = path;
    return;
  }
  snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
  if (dir[0] == '\0')
    snprintf(dir, dlen, "/");
  *base = slash + 1;
}

bool
rc_path_escapes(int root_fd, const char *path)
{
  char resolved[PATH_MAX] = "";
  char rest[PATH_MAX * 2];
  int links = 0;
  snprintf(rest, sizeof rest, "%s", path);
  char *p = rest;
  for (;;) {
    while (*p == '/')
      p++;
    if (*p == '\0')
      return false;
    char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    char name[NAME_MAX + 1];
    if (clen > NAME_MAX)
      return true;
    memcpy(name, p, clen);
    name[clen] = '\0';
    p += clen;
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) {
      char *last = strrchr(resolved, '/');
      if (resolved[0] == '\0')
        return true; /* climbs above the root */
      if (last)
        *last = '\0';
      else
        resolved[0] = '\0';
      continue;
    }
    char candidate[PATH_MAX];
    if (snprintf(candidate, sizeof candidate, "%s%s%s", resolved, resolved[0] ? "/" : "", name) >=
        (int)sizeof candidate)
      return true;
    struct stat st;
    if (fstatat(root_fd, candidate, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(root_fd, candidate, target, sizeof target - 1);
      if (n < 0 || ++links > 40)
        return true;
      target[n] = '\0';
      char tail[PATH_MAX * 2];
      if (snprintf(tail, sizeof tail, "%s/%s", target, p) >= (int)sizeof tail)
        return true;
      snprintf(rest, sizeof rest, "%s", tail);
      p = rest;
      if (target[0] == '/')
        resolved[0] = '\0';
      continue;
    }
    snprintf(resolved, sizeof resolved, "%s", candidate);
  }
}

/* An O_PATH fd of a mount target inside the rootfs, created when missing:
 * a directory, or an empty file when the source is not a directory. */
static int
open_target(int root_fd, const char *dest, bool is_dir, cut_err *err)
{
  if (rc_path_escapes(root_fd, dest))
    return cut_error(err, 0, "mount destination %s escapes the rootfs through \"..\"", dest);
  int fd = cut_open_in_root(root_fd, dest, O_PATH, 0, NULL);
  if (fd >= 0)
    return fd;
  if (is_dir)
    return cut_mkdir_in_root(root_fd, dest, 0755, err);
  char dir[PATH_MAX];
  const char *base;
  split_path(dest, dir, sizeof dir, &base);
  int pfd = cut_mkdir_in_root(root_fd, dir, 0755, err);
  if (pfd < 0)
    return -1;
  int f = openat(pfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  close(pfd);
  if (f < 0)
    return cut_error(err, e, "create mount target %s", dest);
  close(f);
  return cut_open_in_root(root_fd, dest, O_PATH, 0, err);
}

/* ---- one mount ---------------------------------------------------------- */

static int
mount_bind(rc_rootfs_ctx *ctx, int root_fd, const rc_mount *m, cut_err *err)
{
  char src[PATH_MAX];
  int n = m->source[0] == '/' ? snprintf(src, sizeof src, "%s", m->source)
                              : snprintf(src, sizeof src, "%s/%s", ctx->spec->bundle, m->source);
  if (n >= (int)sizeof src)
    return cut_error(err, ENAMETOOLONG, "bind source %s", m->source);
  int sfd = open(src, O_PATH | O_CLOEXEC);
  if (sfd < 0)
    return cut_error(err, errno, "bind source %s", src);
  struct stat st;
  fstat(sfd, &st);
  int tfd = open_target(root_fd, m->destination, S_ISDIR(st.st_mode), err);
  if (tfd < 0) {
    close(sfd);
    return -1;
  }
  char sp[32], tp[32];
  cut_fd_path(sfd, sp);
  cut_fd_path(tfd, tp);
  unsigned long flags = MS_BIND | (m->recursive ? MS_REC : 0);
  int r = do_mount(sp, tp, m->destination, "bind", flags, NULL, err);
  close(sfd);
  close(tfd);
  if (r < 0)
    return cut_wrap(err, "source %s", src);
  unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (extra == 0 && m->propagation == 0)
    return 0;
  /* The fd above names the directory under the new mount; the remount and
   * the propagation change are for the mount itself: open it again. */
  tfd = cut_open_in_root(root_fd, m->destination, O_PATH, 0, err);
  if (tfd < 0)
    return -1;
  cut_fd_path(tfd, tp);
  if (extra) {
    unsigned long locked = ctx->userns ? current_flags(tp) : 0;
    r = do_mount(NULL, tp, m->destination, NULL, MS_REMOUNT | MS_BIND | extra | locked, NULL, err);
  }
  if (r == 0 && m->propagation)
    r = do_mount(NULL, tp, m->destination, NULL, m->propagation, NULL, err);
  close(tfd);
  return r;
}

/* /proc and /sys must be real directories: a symlink there (CVE-2023-27561
 * and friends) could point the kernel's own files somewhere else. */
static int
check_plain_dir(int root_fd, const char *dest, cut_err *err)
{
  int fd = cut_open_in_root(root_fd, dest, O_PATH | O_NOFOLLOW, 0, NULL);
  if (fd < 0)
    return 0;
  struct stat st;
  int r = fstat(fd, &st);
  close(fd);
  if (r == 0 && !S_ISDIR(st.st_mode))
    return cut_error(err, 0, "%s must be mounted on an ordinary directory", dest);
  return 0;
}

static int
mount_fs(rc_rootfs_ctx *ctx, int root_fd, const rc_mount *m, cut_err *err)
{
  bool kernel_fs = strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0;
  if (kernel_fs && check_plain_dir(root_fd, m->destination, err) < 0)
    return -1;
  int tfd = open_target(root_fd, m->destination, true, err);
  if (tfd < 0)
    return -1;
  char tp[32];
  cut_fd_path(tfd, tp);
  int r = do_mount(m->source, tp, m->destination, m->type, m->flags & ~MS_REMOUNT, m->data, err);
  /* In a user namespace without its own network (or ipc) namespace the
   * kernel refuses a new sysfs (mqueue); bind the host's, as runc does. */
  if (r < 0 && ctx->userns && err->errnum == EPERM &&
      (strcmp(m->type, "sysfs") == 0 || strcmp(m->type, "mqueue") == 0)) {
    const char *host = m->type[0] == 's' ? "/sys" : "/dev/mqueue";
    r = do_mount(host, tp, m->destination, "bind", MS_BIND | MS_REC, NULL, err);
    close(tfd);
    if (r < 0)
      return -1;
    tfd = cut_open_in_root(root_fd, m->destination, O_PATH, 0, err);
    if (tfd < 0)
      return -1;
    cut_fd_path(tfd, tp);
    r = do_mount(NULL, tp, m->destination, NULL,
                 MS_REMOUNT | MS_BIND | MS_REC | (m->flags & ~MS_REMOUNT) | current_flags(tp), NULL,
                 err);
  }
  close(tfd);
  if (r == 0 && m->propagation) {
    tfd = cut_open_in_root(root_fd, m->destination, O_PATH, 0, err);
    if (tfd < 0)
      return -1;
    cut_fd_path(tfd, tp);
    r = do_mount(NULL, tp, m->destination, NULL, m->propagation, NULL, err);
    close(tfd);
  }
  return r;
}

/* ---- cgroup mounts ------------------------------------------------------ */

/* The cgroup path of this process in the hierarchy whose superblock options
 * are `super` (v1: "rw,cpu,cpuacct"), or in the unified one (v2: "0::"). */
static const char *
cgroup_of(const char *self, const char *super, bool v2, char *out, size_t len)
{
  const char *line = self;
  while (line && *line) {
    const char *nl = strchr(line, '\n');
    size_t ll = nl ? (size_t)(nl - line) : strlen(line);
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)ll, line);
    line = nl ? nl + 1 : NULL;
    char *c1 = strchr(buf, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1, *path = c2 + 1;
    if (v2) {
      if (ctrls[0] == '\0') {
        snprintf(out, len, "%s", path);
        return out;
      }
      continue;
    }
    if (ctrls[0] == '\0')
      continue;
    /* Every controller of the line must be an option of the superblock. */
    bool all = true;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", ctrls);
    for (char *save, *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      char needle[300];
      snprintf(needle, sizeof needle, ",%s,", tok);
      char hay[1100];
      snprintf(hay, sizeof hay, ",%s,", super);
      if (strstr(hay, needle) == NULL)
        all = false;
    }
    if (all) {
      snprintf(out, len, "%s", path);
      return out;
    }
  }
  return NULL;
}

/* Bind one host hierarchy's container cgroup at <dest>/<name>, read-only. */
static int
bind_cgroup_dir(int root_fd, const char *dest, const char *mountpoint, const char *cgpath,
                unsigned long flags, cut_err *err)
{
  const char *name = strrchr(mountpoint, '/') + 1;
  char host[PATH_MAX], target[PATH_MAX];
  if (snprintf(host, sizeof host, "%s%s", mountpoint, strcmp(cgpath, "/") == 0 ? "" : cgpath) >=
          (int)sizeof host ||
      snprintf(target, sizeof target, "%s/%s", dest, name) >= (int)sizeof target)
    return cut_error(err, ENAMETOOLONG, "cgroup mount %s", mountpoint);
  int sfd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return cut_error(err, errno, "cgroup %s", host);
  int tfd = cut_mkdir_in_root(root_fd, target, 0755, err);
  if (tfd < 0) {
    close(sfd);
    return -1;
  }
  char sp[32], tp[32];
  cut_fd_path(sfd, sp);
  cut_fd_path(tfd, tp);
  int r = do_mount(sp, tp, target, "bind", MS_BIND | MS_REC, NULL, err);
  close(sfd);
  close(tfd);
  if (r < 0)
    return -1;
  tfd = cut_open_in_root(root_fd, target, O_PATH, 0, err);
  if (tfd < 0)
    return -1;
  cut_fd_path(tfd, tp);
  r = do_mount(NULL, tp, target, NULL,
               MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) |
                   current_flags(tp),
               NULL, err);
  close(tfd);
  /* Co-mounted controllers ("cpu,cpuacct") also answer to each name. */
  if (r == 0 && strchr(name, ',')) {
    char names[256];
    snprintf(names, sizeof names, "%s", name);
    int dfd = cut_open_in_root(root_fd, dest, O_PATH | O_DIRECTORY, 0, NULL);
    for (char *save, *tok = strtok_r(names, ",", &save); tok && dfd >= 0;
         tok = strtok_r(NULL, ",", &save))
      if (symlinkat(name, dfd, tok) < 0 && errno != EEXIST)
        r = cut_error(err, errno, "symlink %s/%s", dest, tok);
    if (dfd >= 0)
      close(dfd);
  }
  return r;
}

/* cgroup v1 (and hybrid): a tmpfs at the destination holding, for each
 * host hierarchy, a read-only bind of this container's own cgroup there,
 * which is what runc gives a container.  cgroup v2: a cgroup2 mount (its
 * root is the container's cgroup when the container has a cgroupns). */
static int
mount_cgroup(rc_rootfs_ctx *ctx, int root_fd, const rc_mount *m, cut_err *err)
{
  char *info;
  if (cut_read_file("/proc/self/mountinfo", 1 << 20, &info, NULL, err) < 0)
    return -1;
  bool v2_host = false;
  for (char *line = info; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    char mp[PATH_MAX];
    char *sep = strstr(line, " - ");
    if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
        strcmp(mp, "/sys/fs/cgroup") == 0 && strncmp(sep + 3, "cgroup2 ", 8) == 0)
      v2_host = true;
    if (nl)
      *nl = '\n';
    line = nl ? nl + 1 : NULL;
  }
  int r;
  if (v2_host) {
    rc_mount cg = *m;
    cg.type = "cgroup2";
    cg.source = "cgroup";
    cg.data = NULL;
    r = mount_fs(ctx, root_fd, &cg, err);
    free(info);
    return r;
  }
  rc_mount tmp = {.destination = m->destination,
                  .type = "tmpfs",
                  .source = "tmpfs",
                  .flags = (m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)),
                  .data = "mode=755"};
  r = mount_fs(ctx, root_fd, &tmp, err);
  for (char *line = info; r == 0 && line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    char mp[PATH_MAX], fstype[32], source[64], super[1024];
    char *sep = strstr(line, " - ");
    if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
        sscanf(sep + 3, "%31s %63s %1023s", fstype, source, super) == 3 &&
        strncmp(mp, "/sys/fs/cgroup/", 15) == 0 && strchr(mp + 15, '/') == NULL) {
      char path[PATH_MAX];
      bool v2 = strcmp(fstype, "cgroup2") == 0;
      if ((v2 || strcmp(fstype, "cgroup") == 0) &&
          cgroup_of(ctx->cgroup_self ? ctx->cgroup_self : "", super, v2, path, sizeof path))
        r = bind_cgroup_dir(root_fd, m->destination, mp, path, m->flags, err);
    }
    line = nl ? nl + 1 : NULL;
  }
  free(info);
  if (r == 0 && (m->flags & MS_RDONLY)) {
    int tfd = cut_open_in_root(root_fd, m->destination, O_PATH, 0, err);
    if (tfd < 0)
      return -1;
    char tp[32];
    cut_fd_path(tfd, tp);
    r = do_mount(NULL, tp, m->destination, NULL, MS_REMOUNT | MS_RDONLY | tmp.flags, "mode=755",
                 err);
    close(tfd);
  }
  return r;
}

int
rc_rootfs_read_cgroups(rc_rootfs_ctx *ctx, cut_err *err)
{
  free(ctx->cgroup_self);
  ctx->cgroup_self = NULL;
  return cut_read_file("/proc/self/cgroup", 1 << 16, &ctx->cgroup_self, NULL, err);
}

static int
ensure_in_cgroup(rc_rootfs_ctx *ctx, cut_err *err)
{
  if (ctx->in_cgroup_done || ctx->in_cgroup == NULL)
    return 0;
  ctx->in_cgroup_done = true;
  return ctx->in_cgroup(ctx->in_cgroup_arg, err);
}

static int
mount_one(rc_rootfs_ctx *ctx, int root_fd, const rc_mount *m, cut_err *err)
{
  if (m->bind)
    return mount_bind(ctx, root_fd, m, err);
  if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
    if (ensure_in_cgroup(ctx, err) < 0)
      return -1;
    return mount_cgroup(ctx, root_fd, m, err);
  }
  return mount_fs(ctx, root_fd, m, err);
}

/* ---- /dev --------------------------------------------------------------- */

static int
make_device(rc_rootfs_ctx *ctx, int root_fd, const char *path, char type, unsigned maj,
            unsigned min, mode_t mode, uid_t uid, gid_t gid, cut_err *err)
{
  if (rc_path_escapes(root_fd, path))
    return cut_error(err, 0, "device %s escapes the rootfs through \"..\"", path);
  if (ctx->userns) {
    /* No mknod in a user namespace: bind the host's node instead. */
    rc_mount b = {.destination = path, .source = path, .bind = true};
    return mount_bind(ctx, root_fd, &b, err);
  }
  char dir[PATH_MAX];
  const char *base;
  split_path(path, dir, sizeof dir, &base);
  int pfd = cut_mkdir_in_root(root_fd, dir, 0755, err);
  if (pfd < 0)
    return -1;
  mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "mknod", TA_STR("path", path),
              TA_STR("type", type == 'b'   ? "b"
                             : type == 'p' ? "p"
                                           : "c"),
              TA_INT("major", maj), TA_INT("minor", min));
  int r = mknodat(pfd, base, kind | mode, makedev(maj, min));
  if (r < 0 && errno == EEXIST) {
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
        unlinkat(pfd, base, 0) == 0)
      r = mknodat(pfd, base, kind | mode, makedev(maj, min));
  }
  if (trace_end_sys(&sp, r) < 0) {
    int e = errno;
    close(pfd);
    return cut_error(err, e, "mknod %s", path);
  }
  /* mknod honours the umask; the mode asked for is the mode wanted. */
  fchmodat(pfd, base, mode, 0);
  if ((uid || gid) && fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
    int e = errno;
    close(pfd);
    return cut_error(err, e, "chown %s", path);
  }
  close(pfd);
  return 0;
}

static bool
spec_has_device(const rc_spec *s, const char *path)
{
  for (size_t i = 0; i < s->n_devices; i++)
    if (strcmp(s->devices[i].path, path) == 0)
      return true;
  return false;
}

static int
setup_dev(rc_rootfs_ctx *ctx, int root_fd, cut_err *err)
{
  const rc_spec *s = ctx->spec;
  for (size_t i = 0; i < s->n_mounts; i++)
    if (s->mounts[i].bind && strcmp(s->mounts[i].destination, "/dev") == 0)
      return 0; /* the host's /dev (privileged): nothing to add */
  static const struct {
    const char *path;
    unsigned maj, min;
  } defaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                  {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    if (!spec_has_device(s, defaults[i].path) &&
        make_device(ctx, root_fd, defaults[i].path, 'c', defaults[i].maj, defaults[i].min, 0666, 0,
                    0, err) < 0)
      return -1;
  for (size_t i = 0; i < s->n_devices; i++) {
    const rc_device *d = &s->devices[i];
    if (make_device(ctx, root_fd, d->path, d->type, (unsigned)d->major, (unsigned)d->minor,
                    d->have_mode ? d->mode : 0666, d->have_uid ? d->uid : 0,
                    d->have_gid ? d->gid : 0, err) < 0)
      return -1;
  }
  int dfd = cut_mkdir_in_root(root_fd, "/dev", 0755, err);
  if (dfd < 0)
    return -1;
  static const char *const links[][2] = {{"fd", "/proc/self/fd"},
                                         {"stdin", "/proc/self/fd/0"},
                                         {"stdout", "/proc/self/fd/1"},
                                         {"stderr", "/proc/self/fd/2"},
                                         {"ptmx", "pts/ptmx"}};
  int r = 0;
  for (size_t i = 0; i < sizeof links / sizeof links[0] && r == 0; i++)
    if (symlinkat(links[i][1], dfd, links[i][0]) < 0 && errno != EEXIST)
      r = cut_error(err, errno, "symlink /dev/%s", links[i][0]);
  if (r == 0 && access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dfd, "core") < 0 &&
      errno != EEXIST)
    r = cut_error(err, errno, "symlink /dev/core");
  close(dfd);
  return r;
}

/* ---- pivot_root --------------------------------------------------------- */

/* pivot_root(".", ".") stacks the old root on top of the new one at "/";
 * the lazy unmount then removes it, host filesystem and all.  Making it a
 * slave first keeps that unmount from propagating to the host. */
static int
do_pivot(const char *rootfs, cut_err *err)
{
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return cut_error(err, errno, "open /");
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) {
    int e = errno;
    close(oldroot);
    return cut_error(err, e, "open %s", rootfs);
  }
  int r = fchdir(newroot);
  close(newroot);
  if (r < 0) {
    close(oldroot);
    return cut_error(err, errno, "chdir %s", rootfs);
  }
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "pivot_root", TA_STR("new_root", rootfs),
              TA_STR("put_old", rootfs));
  if (trace_end_sys(&sp, syscall(SYS_pivot_root, ".", ".")) < 0) {
    int e = errno;
    close(oldroot);
    return cut_error(err, e, "pivot_root %s", rootfs);
  }
  r = fchdir(oldroot);
  close(oldroot);
  if (r < 0)
    return cut_error(err, errno, "chdir to the old root");
  if (do_mount(NULL, ".", "(old root)", NULL, MS_SLAVE | MS_REC, NULL, err) < 0)
    return -1;
  trace_begin(&sp, TRACE_SYSCALL, "umount2", TA_STR("target", "(old root)"),
              TA_STR("flags", "MNT_DETACH"));
  if (trace_end_sys(&sp, umount2(".", MNT_DETACH)) < 0)
    return cut_error(err, errno, "unmount the old root");
  if (chdir("/") < 0)
    return cut_error(err, errno, "chdir /");
  return 0;
}

/* No mount namespace: chroot(2) into the rootfs.  pivot_root would swap
 * the root of the runtime's, that is the host's, mount namespace. */
static int
do_chroot(const char *rootfs, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "chroot", TA_STR("path", rootfs));
  int r = chdir(rootfs);
  if (r == 0)
    r = chroot(".");
  if (r == 0)
    r = chdir("/");
  if (trace_end_sys(&sp, r) < 0)
    return cut_error(err, errno, "chroot %s", rootfs);
  return 0;
}

int
rc_rootfs_setup(rc_rootfs_ctx *ctx, cut_err *err)
{
  const rc_spec *s = ctx->spec;
  /* Without a mount namespace of its own the container uses the runtime's
   * (config-linux.md#namespaces): its mounts are the host's, so "/" keeps
   * its propagation and the root is entered with chroot(2), not pivot_root.
   * delete unmounts what was mounted (rc_rootfs_unmount_new). */
  bool own_mntns = rc_spec_ns(s, RC_NS_MNT) != NULL;
  /* rootfsPropagation shared/unbindable is applied after pivot_root, which
   * refuses shared mounts; until then everything is a slave. */
  unsigned long prop = s->rootfs_propagation;
  if (prop == 0 || (prop & (MS_SHARED | MS_UNBINDABLE)))
    prop = MS_SLAVE | MS_REC;
  if (own_mntns && do_mount(NULL, "/", "/", NULL, prop, NULL, err) < 0)
    return -1;
  /* Also without a mount namespace: the rootfs becomes a mount of its own,
   * so a root.readonly remount of "/" in the chroot hits it, never the
   * host's root mount. */
  if (do_mount(s->rootfs, s->rootfs, s->rootfs, "bind", MS_BIND | MS_REC, NULL, err) < 0)
    return -1;
  int root_fd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return cut_error(err, errno, "open rootfs %s", s->rootfs);
  int r = 0;
  for (size_t i = 0; i < s->n_mounts && r == 0; i++)
    r = mount_one(ctx, root_fd, &s->mounts[i], err);
  if (r == 0) {
    mode_t old = umask(0);
    r = setup_dev(ctx, root_fd, err);
    umask(old);
  }
  if (r == 0 && s->have_process && strcmp(s->process.cwd, "/") != 0) {
    int cfd = cut_mkdir_in_root(root_fd, s->process.cwd, 0755, err);
    if (cfd < 0)
      r = cut_wrap(err, "process.cwd");
    else
      close(cfd);
  }
  close(root_fd);
  if (r < 0 || ensure_in_cgroup(ctx, err) < 0)
    return -1;
  if (ctx->before_pivot && ctx->before_pivot(ctx->before_pivot_arg, err) < 0)
    return -1;
  return own_mntns ? do_pivot(s->rootfs, err) : do_chroot(s->rootfs, err);
}

/* ---- after pivot_root --------------------------------------------------- */

static int
write_sysctls(const rc_spec *s, cut_err *err)
{
  if (s->sysctl == NULL || s->sysctl->child == NULL)
    return 0;
  struct statfs sfs;
  /* Write only into a real procfs (CVE-2019-16884, CVE-2025-52881): the
   * image could have put something else at /proc. */
  if (statfs("/proc/sys", &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
    return cut_error(err, 0, "linux.sysctl: /proc/sys is not a procfs");
  const cJSON *it;
  cJSON_ArrayForEach(it, s->sysctl)
  {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "/proc/sys/%s", it->string);
    if (n >= (int)sizeof path)
      return cut_error(err, ENAMETOOLONG, "sysctl %s", it->string);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    trace_span sp;
    trace_begin(&sp, TRACE_SYSCALL, "sysctl", TA_STR("key", it->string),
                TA_STR("value", it->valuestring));
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t w = -1;
    if (fd >= 0) {
      w = write(fd, it->valuestring, strlen(it->valuestring));
      int e = errno;
      close(fd);
      errno = e;
    }
    if (trace_end_sys(&sp, w < 0 ? -1 : 0) < 0)
      return cut_error(err, errno, "sysctl %s=%s", it->string, it->valuestring);
  }
  return 0;
}

static int
readonly_path(const char *path, cut_err *err)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : cut_error(err, errno, "readonly path %s", path);
  if (do_mount(path, path, path, "bind", MS_BIND | MS_REC, NULL, err) < 0)
    return -1;
  return do_mount(NULL, path, path, NULL,
                  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | current_flags(path), NULL, err);
}

static int
masked_path(const char *path, cut_err *err)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : cut_error(err, errno, "masked path %s", path);
  if (S_ISDIR(st.st_mode))
    return do_mount("tmpfs", path, path, "tmpfs", MS_RDONLY, NULL, err);
  /* The bind source must be the real /dev/null (char 1:3): a symlink or
   * another file there would be exposed instead (CVE-2025-31133). */
  struct stat dn;
  if (lstat("/dev/null", &dn) < 0 || !S_ISCHR(dn.st_mode) || dn.st_rdev != makedev(1, 3))
    return cut_error(err, 0, "masked path %s: /dev/null is not the null device", path);
  return do_mount("/dev/null", path, path, "bind", MS_BIND, NULL, err);
}

int
rc_set_hostname(const rc_spec *s, cut_err *err)
{
  trace_span sp;
  if (s->hostname && s->hostname[0]) {
    trace_begin(&sp, TRACE_SYSCALL, "sethostname", TA_STR("hostname", s->hostname));
    if (trace_end_sys(&sp, sethostname(s->hostname, strlen(s->hostname))) < 0)
      return cut_error(err, errno, "sethostname %s", s->hostname);
  }
  if (s->domainname && s->domainname[0]) {
    trace_begin(&sp, TRACE_SYSCALL, "setdomainname", TA_STR("domainname", s->domainname));
    if (trace_end_sys(&sp, setdomainname(s->domainname, strlen(s->domainname))) < 0)
      return cut_error(err, errno, "setdomainname %s", s->domainname);
  }
  return 0;
}

int
rc_rootfs_finish(rc_rootfs_ctx *ctx, cut_err *err)
{
  const rc_spec *s = ctx->spec;
  if (write_sysctls(s, err) < 0)
    return -1;
  for (size_t i = 0; i < s->n_readonly_paths; i++)
    if (readonly_path(s->readonly_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; i < s->n_masked_paths; i++)
    if (masked_path(s->masked_paths[i], err) < 0)
      return -1;
  if (s->root_readonly &&
      do_mount(NULL, "/", "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | current_flags("/"), NULL,
               err) < 0)
    return -1;
  /* Only in a mount namespace of our own: never change a host mount's. */
  if (rc_spec_ns(s, RC_NS_MNT) && (s->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE)))
    return do_mount(NULL, "/", "/", NULL, s->rootfs_propagation, NULL, err);
  return 0;
}

/* ---- mounts left in the host's namespace --------------------------------- */

/* Each mount at or under `dir`, from /proc/self/mountinfo, in its order
 * (a mount comes after the one it covers). */
typedef struct host_mount {
  int id;
  char *point;
} host_mount;

static void
unescape_mountinfo(char *s)
{
  /* The kernel writes space, tab, newline and backslash as \ooo. */
  char *o = s;
  for (const char *c = s; *c; c++) {
    if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' &&
        c[3] <= '7') {
      *o++ = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
      c += 3;
    } else {
      *o++ = *c;
    }
  }
  *o = '\0';
}

static bool
at_or_under(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void
host_mounts_free(host_mount *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(m[i].point);
  free(m);
}

static int
host_mounts_under(const char *dir, host_mount **out, size_t *n, cut_err *err)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return cut_error(err, errno, "open /proc/self/mountinfo");
  host_mount *list = NULL;
  size_t cnt = 0, cap = 0;
  char *line = NULL, point[PATH_MAX];
  size_t len = 0;
  int id;
  while (getline(&line, &len, f) > 0) {
    if (sscanf(line, "%d %*d %*s %*s %4095s", &id, point) != 2)
      continue;
    unescape_mountinfo(point);
    if (!at_or_under(point, dir))
      continue;
    if (cnt == cap) {
      cap = cap ? cap * 2 : 16;
      host_mount *bigger = realloc(list, cap * sizeof *list);
      if (bigger == NULL)
        break;
      list = bigger;
    }
    list[cnt].id = id;
    list[cnt].point = strdup(point);
    if (list[cnt].point == NULL)
      break;
    cnt++;
  }
  bool failed = ferror(f) || !feof(f);
  free(line);
  fclose(f);
  if (failed) {
    host_mounts_free(list, cnt);
    return cut_error(err, ENOMEM, "read /proc/self/mountinfo");
  }
  *out = list;
  *n = cnt;
  return 0;
}

static void
rootfs_real(const char *rootfs, char dir[PATH_MAX])
{
  if (realpath(rootfs, dir) == NULL)
    snprintf(dir, PATH_MAX, "%s", rootfs);
}

int
rc_rootfs_mounts_before(const char *rootfs, int *ids, size_t max, size_t *n, cut_err *err)
{
  char dir[PATH_MAX];
  rootfs_real(rootfs, dir);
  host_mount *m;
  size_t cnt;
  if (host_mounts_under(dir, &m, &cnt, err) < 0)
    return -1;
  int r = 0;
  if (cnt > max)
    r = cut_error(err, E2BIG, "root.path %s: more than %zu mounts already under it", dir, max);
  for (size_t i = 0; i < cnt && i < max; i++)
    ids[i] = m[i].id;
  *n = cnt < max ? cnt : max;
  host_mounts_free(m, cnt);
  return r;
}

static bool
id_kept(int id, const int *keep, size_t n_keep)
{
  for (size_t i = 0; i < n_keep; i++)
    if (keep[i] == id)
      return true;
  return false;
}

/* The mount umount2(point) would hit is the last one listed at it. */
static bool
on_top(const host_mount *m, size_t n, size_t i)
{
  for (size_t j = i + 1; j < n; j++)
    if (strcmp(m[j].point, m[i].point) == 0)
      return false;
  return true;
}

static int
unmount_pass(const char *dir, const int *keep, size_t n_keep, size_t *left, cut_err *err)
{
  host_mount *m;
  size_t n;
  if (host_mounts_under(dir, &m, &n, err) < 0)
    return -1;
  *left = 0;
  /* Deepest first: the longest mount point, and the latest at one point. */
  size_t best_len;
  do {
    size_t pick = n;
    best_len = 0;
    for (size_t i = 0; i < n; i++) {
      size_t l = m[i].point[0] ? strlen(m[i].point) : 0;
      if (m[i].id >= 0 && !id_kept(m[i].id, keep, n_keep) && on_top(m, n, i) && l >= best_len) {
        pick = i;
        best_len = l;
      }
    }
    if (pick == n)
      break;
    (*left)++;
    trace_span sp;
    trace_begin(&sp, TRACE_SYSCALL, "umount2", TA_STR("target", m[pick].point),
                TA_STR("flags", "MNT_DETACH|UMOUNT_NOFOLLOW"));
    if (trace_end_sys(&sp, umount2(m[pick].point, MNT_DETACH | UMOUNT_NOFOLLOW)) < 0 &&
        errno != EINVAL && errno != ENOENT) {
      cut_error(err, errno, "unmount %s", m[pick].point);
      host_mounts_free(m, n);
      return -1;
    }
    m[pick].point[0] = '\0'; /* done: no longer on top of anything */
    m[pick].id = -1;
  } while (best_len > 0);
  host_mounts_free(m, n);
  return 0;
}

int
rc_rootfs_unmount_new(const char *rootfs, const int *keep, size_t n_keep, cut_err *err)
{
  char dir[PATH_MAX];
  rootfs_real(rootfs, dir);
  if (strcmp(dir, "/") == 0)
    return cut_error(err, EINVAL, "refusing to unmount everything under /");
  /* A lazy unmount takes the mounts below with it, and a mount of the
   * rootfs may have propagated a copy to a peer: read again until none is
   * left (a few passes at most). */
  for (int pass = 0; pass < 8; pass++) {
    size_t left;
    if (unmount_pass(dir, keep, n_keep, &left, err) < 0)
      return -1;
    if (left == 0)
      return 0;
  }
  return cut_error(err, EBUSY, "mounts under %s are still there after unmounting them", dir);
}
