/* common_fileutil.c: atomic writes and path resolution confined to a root.
 *
 * The confinement cases are the ones runc's securejoin exists for: an
 * absolute symlink, a relative symlink climbing with "..", ".." at the
 * root, and symlink loops.  Both the openat2 path and the userspace
 * fallback must keep every one of them inside the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "tap.h"

static char base[64];

static void
put(const char *rel, const char *content)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", base, rel);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(content, f);
    fclose(f);
  }
}

static void
link_at(const char *target, const char *rel)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", base, rel);
  if (symlink(target, p) < 0)
    perror("symlink");
}

/* Read what fd holds (a regular file's first line). */
static const char *
content(int fd)
{
  static char buf[64];
  memset(buf, 0, sizeof buf);
  if (fd < 0)
    return "(error)";
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  if (n < 0)
    return "(unreadable)";
  return buf;
}

typedef int (*open_fn)(int, const char *, int, mode_t, cut_err *);

static void
confinement(const char *which, open_fn fn, int root)
{
  cut_err e;
  tap_is_str(content(fn(root, "etc/passwd", O_RDONLY, 0, &e)), "inside", "%s: plain path", which);
  tap_is_str(content(fn(root, "/etc/passwd", O_RDONLY, 0, &e)), "inside",
             "%s: absolute path is relative to the root", which);
  tap_is_str(content(fn(root, "../../../../etc/passwd", O_RDONLY, 0, &e)), "inside",
             "%s: '..' is clamped at the root", which);
  tap_is_str(content(fn(root, "abs/passwd", O_RDONLY, 0, &e)), "inside",
             "%s: absolute symlink resolves inside", which);
  tap_is_str(content(fn(root, "rel/passwd", O_RDONLY, 0, &e)), "inside",
             "%s: relative symlink climbing out resolves inside", which);
  tap_is_str(content(fn(root, "lastlink", O_RDONLY, 0, &e)), "inside",
             "%s: final symlink to an absolute path resolves inside", which);
  int fd = fn(root, "loop/x", O_RDONLY, 0, &e);
  tap_ok(fd < 0 && e.errnum == ELOOP, "%s: symlink loop is ELOOP (%s)", which, e.msg);
  if (fd >= 0)
    close(fd);
  fd = fn(root, "lastlink", O_RDONLY | O_NOFOLLOW, 0, &e);
  tap_ok(fd < 0 && e.errnum == ELOOP, "%s: O_NOFOLLOW on a final symlink is ELOOP", which);
  if (fd >= 0)
    close(fd);
  fd = fn(root, "new/file", O_WRONLY | O_CREAT, 0600, &e);
  tap_ok(fd < 0 && e.errnum == ENOENT, "%s: missing directory is ENOENT", which);
  if (fd >= 0)
    close(fd);
}

int
main(void)
{
  snprintf(base, sizeof base, "/tmp/cutaway-fileutil.XXXXXX");
  if (mkdtemp(base) == NULL)
    return 1;
  cut_err e;
  char p[256];

  /* Atomic write. */
  snprintf(p, sizeof p, "%s/state.json", base);
  tap_is_int(cut_write_file_atomic(p, "{\"a\":1}", 7, 0640, &e), 0, "atomic write");
  tap_is_int(cut_write_file_atomic(p, "{\"a\":2}", 7, 0640, &e), 0, "atomic replace");
  char *buf = NULL;
  size_t len = 0;
  tap_ok(cut_read_file(p, 1024, &buf, &len, &e) == 0 && len == 7 && strcmp(buf, "{\"a\":2}") == 0,
         "content is the new one");
  free(buf);
  struct stat st;
  stat(p, &st);
  tap_is_int(st.st_mode & 0777, 0640, "mode");
  DIR *d = opendir(base);
  int leftovers = 0;
  struct dirent *de;
  while (d && (de = readdir(d)))
    leftovers += strstr(de->d_name, ".tmp") != NULL;
  if (d)
    closedir(d);
  tap_is_int(leftovers, 0, "no temp file left behind");
  snprintf(p, sizeof p, "%s/nodir/state.json", base);
  tap_is_int(cut_write_file_atomic(p, "x", 1, 0644, &e), -1, "write into a missing dir fails");
  tap_is_int(cut_read_file(p, 10, &buf, &len, &e), -1, "read of a missing file fails");
  snprintf(p, sizeof p, "%s/state.json", base);
  tap_is_int(cut_read_file(p, 3, &buf, &len, &e), -1, "read beyond max_bytes fails");
  tap_is_int(e.errnum, EFBIG, "with EFBIG");

  /* A root with an "outside" next to it. */
  snprintf(p, sizeof p, "%s/root", base);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/root/etc", base);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/etc", base);
  mkdir(p, 0755);
  put("etc/passwd", "outside");
  put("root/etc/passwd", "inside");
  link_at("/etc", "root/abs");
  link_at("../../../../../etc", "root/rel");
  link_at("/etc/passwd", "root/lastlink");
  link_at("loop2", "root/loop");
  link_at("loop", "root/loop2");
  snprintf(p, sizeof p, "%s/root", base);
  int root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  confinement("openat2", cut_open_in_root, root);
  confinement("fallback", cut_open_in_root_fallback, root);

  /* mkdir inside the root, through a symlink that points outside. */
  int fd = cut_mkdir_in_root(root, "abs/sub/dir", 0755, &e);
  tap_ok(fd >= 0, "mkdir_in_root through an absolute symlink");
  if (fd >= 0)
    close(fd);
  snprintf(p, sizeof p, "%s/root/etc/sub/dir", base);
  tap_ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "created inside the root");
  snprintf(p, sizeof p, "%s/etc/sub", base);
  tap_ok(stat(p, &st) < 0, "nothing created outside");
  fd = cut_mkdir_in_root(root, "../../x/y", 0755, &e);
  snprintf(p, sizeof p, "%s/root/x/y", base);
  tap_ok(fd >= 0 && stat(p, &st) == 0, "'..' clamped for mkdir too");
  if (fd >= 0)
    close(fd);
  fd = cut_mkdir_in_root(root, "etc/passwd/z", 0755, &e);
  tap_ok(fd < 0 && e.errnum == ENOTDIR, "mkdir under a file is ENOTDIR (%s)", e.msg);
  close(root);
  tap_is_int(cut_rm_rf(base, &e), 0, "rm_rf cleans up");
  return tap_done();
}
