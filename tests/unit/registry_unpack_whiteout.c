/* registry_unpack_whiteout.c: layers applied one over another (flattened
 * whiteouts and opaque directories), the same layer in overlay form (0/0
 * char devices, trusted.overlay.opaque), and the metadata a rootfs needs:
 * modes, owners, times, symlinks, hardlinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../fixtures/layers/tarbuild.h"
#include "fileutil.h"
#include "stages/2-registry/unpack.h"
#include "tap.h"

static char base[256];

static int
apply_to(const char *dir, tb *t, enum unpack_mode mode, unpack_stats *st, cut_err *err)
{
  tb_finish(t);
  char path[320];
  snprintf(path, sizeof path, "%s/layer", base);
  cut_write_file_atomic(path, t->buf, t->len, 0644, err);
  tb_free(t);
  int tfd = open(dir, O_RDONLY | O_DIRECTORY);
  unpack_opts o = {.mode = mode, .no_sync = true};
  int r = unpack_layer_file(path, tfd, &o, st, err);
  close(tfd);
  return r;
}

static bool
there(const char *dir, const char *rel, struct stat *st)
{
  char p[600];
  struct stat tmp;
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  return lstat(p, st ? st : &tmp) == 0;
}

static void
layer1(tb *t)
{
  TB(t, .path = "a/", .type = '5');
  TB(t, .path = "a/x", .data = "x", .size = 1);
  TB(t, .path = "a/y", .data = "y", .size = 1);
  TB(t, .path = "b/", .type = '5');
  TB(t, .path = "b/z", .data = "z", .size = 1);
  TB(t, .path = "c/", .type = '5');
  TB(t, .path = "c/old", .data = "o", .size = 1);
  TB(t, .path = "c/sub/", .type = '5');
  TB(t, .path = "c/sub/deep", .data = "d", .size = 1);
}

static void
layer2(tb *t)
{
  TB(t, .path = "a/.wh.x");
  TB(t, .path = "a/w", .data = "w", .size = 1); /* same directory, after a removal */
  TB(t, .path = ".wh.b");
  TB(t, .path = "c/", .type = '5', .mode = 0750);
  TB(t, .path = "c/new", .data = "n", .size = 1);
  TB(t, .path = "c/.wh..wh..opq"); /* after c/new: must not remove it */
  TB(t, .path = "k", .data = "k", .size = 1);
  TB(t, .path = ".wh.k"); /* same-layer file: a whiteout never hides it */
}

static void
test_flatten(void)
{
  char dir[300];
  snprintf(dir, sizeof dir, "%s/flat", base);
  mkdir(dir, 0755);
  tb t = {0};
  cut_err err = {0};
  unpack_stats st;
  layer1(&t);
  tap_ok(apply_to(dir, &t, UNPACK_FLATTEN, &st, &err) == 0, "layer 1 applied (%s)", err.msg);
  layer2(&t);
  tap_ok(apply_to(dir, &t, UNPACK_FLATTEN, &st, &err) == 0, "layer 2 applied (%s)", err.msg);
  tap_is_int(st.whiteouts, 4, "4 whiteouts counted");
  tap_ok(!there(dir, "a/x", NULL) && there(dir, "a/y", NULL), ".wh.x removed a/x only");
  tap_ok(there(dir, "a/w", NULL), "an entry after the whiteout in the same directory");
  tap_ok(!there(dir, "b", NULL), ".wh.b removed directory b");
  tap_ok(!there(dir, "c/old", NULL) && !there(dir, "c/sub", NULL), "opaque c hid layer 1's c/*");
  tap_ok(there(dir, "c/new", NULL), "opaque c kept this layer's c/new");
  struct stat s;
  tap_ok(there(dir, "c", &s) && (s.st_mode & 07777) == 0750, "c got layer 2's mode");
  tap_ok(there(dir, "k", NULL), "a same-layer whiteout does not hide k");
  tap_ok(!there(dir, ".wh.k", NULL) && !there(dir, "c/.wh..wh..opq", NULL),
         "no whiteout files left in a flattened rootfs");
}

static void
test_overlay(void)
{
  char dir[300];
  snprintf(dir, sizeof dir, "%s/ovl", base);
  mkdir(dir, 0755);
  tb t = {0};
  cut_err err = {0};
  unpack_stats st;
  layer2(&t);
  int r = apply_to(dir, &t, UNPACK_OVERLAY, &st, &err);
  tap_ok(r == 0, "layer 2 applied in overlay mode (%s)", r ? err.msg : "");
  struct stat s;
  tap_ok(there(dir, "a/x", &s) && S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0),
         "a/x is a 0/0 char device (overlay whiteout)");
  tap_ok(there(dir, "b", &s) && S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0),
         "b is a 0/0 char device");
  char p[600], v[8];
  snprintf(p, sizeof p, "%s/c", dir);
  ssize_t n = lgetxattr(p, "trusted.overlay.opaque", v, sizeof v);
  tap_ok(n == 1 && v[0] == 'y', "c has trusted.overlay.opaque=y");
  tap_ok(there(dir, "c/new", NULL) && there(dir, "k", &s) && S_ISREG(s.st_mode),
         "regular entries as usual; k (same layer) stays a file");

  /* And overlayfs agrees: mount lower(layer 1) + this as upper-less lower. */
  char low[300], mnt[300];
  snprintf(low, sizeof low, "%s/low", base);
  snprintf(mnt, sizeof mnt, "%s/mnt", base);
  mkdir(low, 0755);
  mkdir(mnt, 0755);
  layer1(&t);
  apply_to(low, &t, UNPACK_OVERLAY, &st, &err);
  char opts[1024];
  snprintf(opts, sizeof opts, "lowerdir=%s:%s", dir, low);
  char cmd[2600];
  snprintf(cmd, sizeof cmd, "mount -t overlay overlay -o %s %s 2>/dev/null", opts, mnt);
  if (geteuid() != 0 || system(cmd) != 0) {
    tap_skip("overlay mount not available");
    return;
  }
  tap_ok(!there(mnt, "a/x", NULL) && there(mnt, "a/y", NULL) && !there(mnt, "b", NULL) &&
             !there(mnt, "c/old", NULL) && there(mnt, "c/new", NULL),
         "overlayfs shows the same tree as the flattened unpack");
  snprintf(cmd, sizeof cmd, "umount %s", mnt);
  if (system(cmd) != 0)
    tap_diag("umount %s failed", mnt);
}

static void
test_metadata(void)
{
  char dir[300];
  snprintf(dir, sizeof dir, "%s/meta", base);
  mkdir(dir, 0755);
  tb t = {0};
  cut_err err = {0};
  unpack_stats st;
  TB(&t, .path = "./", .type = '5', .mode = 0711);
  TB(&t, .path = "usr/", .type = '5', .mtime = 1000000000);
  TB(&t, .path = "usr/bin/", .type = '5', .mtime = 1100000000, .uid = 7, .gid = 8);
  TB(&t, .path = "usr/bin/tool", .data = "#!/bin/sh\n", .size = 10, .mode = 0755,
     .mtime = 1200000000, .uid = 1000, .gid = 1001);
  TB(&t, .path = "usr/bin/alias", .type = '2', .link = "tool", .mtime = 1300000000);
  TB(&t, .path = "usr/bin/hard", .type = '1', .link = "usr/bin/tool");
  TB(&t, .path = "lib", .type = '2', .link = "usr/lib");
  TB(&t, .path = "usr/lib/", .type = '5');
  TB(&t, .path = "lib/libc.so", .data = "elf", .size = 3); /* through a symlinked dir, inside */
  TB(&t, .path = "/abs/file", .data = "a", .size = 1);
  TB(&t, .path = "implicit/parent/file", .data = "p", .size = 1);
  TB(&t, .path = "rep/d/f", .data = "f", .size = 1);
  TB(&t, .path = "rep/d", .data = "now a file", .size = 10); /* replaces the directory */
  TB(&t, .path = "rep/e", .data = "e", .size = 1);
  int r = apply_to(dir, &t, UNPACK_FLATTEN, &st, &err);
  tap_ok(r == 0, "metadata layer applied (%s)", r ? err.msg : "");
  struct stat s, s2;
  tap_ok(stat(dir, &s) == 0 && (s.st_mode & 07777) == 0711, "./ sets the root's mode");
  tap_ok(there(dir, "usr/bin/tool", &s) && (s.st_mode & 07777) == 0755 &&
             s.st_mtim.tv_sec == 1200000000,
         "file mode and mtime");
  if (geteuid() == 0)
    tap_ok(s.st_uid == 1000 && s.st_gid == 1001, "file owner 1000:1001");
  else
    tap_skip("owners need root");
  tap_ok(there(dir, "usr/bin", &s) && s.st_mtim.tv_sec == 1100000000,
         "directory mtime set after its children were written");
  tap_ok(there(dir, "usr", &s) && s.st_mtim.tv_sec == 1000000000, "parent directory mtime too");
  tap_ok(there(dir, "usr/bin/alias", &s) && S_ISLNK(s.st_mode) && s.st_mtim.tv_sec == 1300000000,
         "symlink with its own mtime");
  tap_ok(there(dir, "usr/bin/hard", &s) && there(dir, "usr/bin/tool", &s2) &&
             s.st_ino == s2.st_ino && s.st_nlink == 2,
         "hardlink shares the inode");
  tap_ok(there(dir, "usr/lib/libc.so", NULL),
         "a file through an in-tree symlinked dir lands there");
  tap_ok(there(dir, "abs/file", NULL), "absolute path stripped");
  tap_ok(there(dir, "implicit/parent/file", NULL), "missing parents created");
  tap_ok(there(dir, "rep/d", &s) && S_ISREG(s.st_mode) && there(dir, "rep/e", NULL),
         "a directory replaced by a file, then a sibling written");
  tap_is_int(st.files, 14, "14 entries created");
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  snprintf(base, sizeof base, "/tmp/cutaway-unit.XXXXXX");
  if (!mkdtemp(base))
    return 1;
  test_flatten();
  test_overlay();
  test_metadata();
  cut_err err;
  cut_rm_rf(base, &err);
  return tap_done();
}
