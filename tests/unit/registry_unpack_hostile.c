/* registry_unpack_hostile.c: every hostile layer of security-catalogue.md
 * §3 L1-L11 against unpack_layer_fd, with a sentinel directory and a
 * "host" file beside the target that must come out untouched.
 *
 * Layout of each case's scratch space:
 *     BASE/target     the layer goes here
 *     BASE/sentinel   must stay empty
 *     BASE/outside/secret  a host file: content, mode and link count checked */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../fixtures/layers/tarbuild.h"
#include "digest.h"
#include "fileutil.h"
#include "stages/2-registry/unpack.h"
#include "tap.h"

static char base[256], target[300], sentinel[300], secret[300];

static void
fresh(void)
{
  cut_err err;
  char outside[300];
  cut_rm_rf(target, &err);
  cut_rm_rf(sentinel, &err);
  snprintf(outside, sizeof outside, "%s/outside", base);
  cut_rm_rf(outside, &err);
  mkdir(target, 0755);
  mkdir(sentinel, 0755);
  mkdir(outside, 0755);
  cut_write_file_atomic(secret, "host secret\n", 12, 0600, &err);
}

static bool
sentinel_empty(void)
{
  DIR *d = opendir(sentinel);
  if (!d)
    return false;
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      n++;
  closedir(d);
  return n == 0;
}

static bool
secret_intact(void)
{
  struct stat st;
  char *buf;
  cut_err err;
  if (stat(secret, &st) < 0 || cut_read_file(secret, 100, &buf, NULL, &err) < 0)
    return false;
  bool ok = st.st_nlink == 1 && (st.st_mode & 07777) == 0600 && strcmp(buf, "host secret\n") == 0;
  free(buf);
  return ok;
}

/* Apply a finished tar (optionally compressed) through a pipe-less fd. */
static int
apply(const tb *t, const unpack_opts *o, unpack_stats *st, cut_err *err)
{
  char path[320];
  snprintf(path, sizeof path, "%s/layer", base);
  cut_write_file_atomic(path, t->buf, t->len, 0644, err);
  int tfd = open(target, O_RDONLY | O_DIRECTORY);
  unpack_opts def = {.mode = UNPACK_FLATTEN, .no_sync = true};
  int r = unpack_layer_file(path, tfd, o ? o : &def, st, err);
  close(tfd);
  unlink(path);
  return r;
}

static bool
exists_in_target(const char *rel)
{
  char p[600];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", target, rel);
  return lstat(p, &st) == 0;
}

/* Expect failure, and nothing outside. */
static void
refused(const char *what, tb *t)
{
  fresh();
  tb_finish(t);
  cut_err err = {0};
  int r = apply(t, NULL, NULL, &err);
  tap_ok(r < 0, "%s: refused (%s)", what, err.msg);
  tap_ok(sentinel_empty() && secret_intact(), "%s: nothing outside the target", what);
  tb_free(t);
}

/* Expect success, and nothing outside. */
static void
contained(const char *what, tb *t, const char *must_exist)
{
  fresh();
  tb_finish(t);
  cut_err err = {0};
  int r = apply(t, NULL, NULL, &err);
  tap_ok(r == 0, "%s: applied%s%s", what, r ? ": " : "", r ? err.msg : "");
  tap_ok(sentinel_empty() && secret_intact(), "%s: nothing outside the target", what);
  if (must_exist)
    tap_ok(exists_in_target(must_exist), "%s: %s landed inside the target", what, must_exist);
  tb_free(t);
}

static void
test_paths(void)
{
  char p[600];
  tb t = {0};
  /* L1 */
  snprintf(p, sizeof p, "../sentinel/x");
  TB(&t, .path = p, .data = "x", .size = 1);
  refused("L1 ../sentinel/x", &t);
  TB(&t, .path = "a/../../sentinel/x", .data = "x", .size = 1);
  refused("L1 a/../../sentinel/x", &t);
  snprintf(p, sizeof p, "%s/x", sentinel);
  TB(&t, .path = p, .data = "x", .size = 1);
  char inside[600];
  snprintf(inside, sizeof inside, "%s/x", sentinel + 1);
  contained("L1 absolute path is stripped", &t, inside);
  TB(&t, .path = "/etc/passwd", .data = "root::0:0::/:/bin/sh\n", .size = 21);
  contained("L1 /etc/passwd stays inside", &t, "etc/passwd");

  /* L2: symlinks pointing outside, then a file through them */
  TB(&t, .path = "localetc", .type = '2', .link = sentinel);
  snprintf(p, sizeof p, "localetc/f");
  TB(&t, .path = p, .data = "x", .size = 1);
  snprintf(inside, sizeof inside, "%s/f", sentinel + 1);
  contained("L2 absolute symlink to outside + file through it", &t, inside);
  TB(&t, .path = "rel", .type = '2', .link = "../../../../../../../../../../sentinel");
  TB(&t, .path = "rel/f", .data = "x", .size = 1);
  contained("L2 relative symlink climbing out + file through it", &t, "sentinel/f");
  TB(&t, .path = "c1", .type = '2', .link = "c2");
  TB(&t, .path = "c2", .type = '2', .link = "/dummy/../../..");
  snprintf(p, sizeof p, "c1%s/f", sentinel);
  TB(&t, .path = p, .data = "x", .size = 1);
  contained("L2 chained symlinks with /dummy/../", &t, NULL);
  TB(&t, .path = "..", .type = '2', .link = "/");
  refused("L2 symlink named ..", &t);

  /* L3 */
  TB(&t, .path = "foo/", .type = '5');
  TB(&t, .path = "foo/tmp/", .type = '5');
  TB(&t, .path = "foo/tmp/f", .data = "1", .size = 1);
  TB(&t, .path = "foo", .type = '2', .link = sentinel);
  TB(&t, .path = "foo/tmp/f", .data = "2", .size = 1);
  TB(&t, .path = "foo/", .type = '5');
  contained("L3 dir replaced by symlink to outside, then written through", &t, NULL);

  /* L4: hardlinks to outside */
  TB(&t, .path = "h", .type = '1', .link = secret);
  refused("L4 hardlink to an absolute host path", &t);
  TB(&t, .path = "h", .type = '1', .link = "../../../../../../outside/secret");
  refused("L4 hardlink climbing out", &t);
  snprintf(p, sizeof p, "%s/outside", base);
  TB(&t, .path = "d", .type = '2', .link = p);
  TB(&t, .path = "h", .type = '1', .link = "d/secret");
  refused("L4 hardlink via a symlinked dir", &t);
  TB(&t, .path = "etc/passwd", .data = "inside", .size = 6);
  TB(&t, .path = "h", .type = '1', .link = "/etc/passwd");
  contained("L4 hardlink to /etc/passwd means the layer's own", &t, "h");
  {
    char a[600], b[600];
    struct stat sa, sb;
    snprintf(a, sizeof a, "%s/h", target);
    snprintf(b, sizeof b, "%s/etc/passwd", target);
    tap_ok(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino,
           "L4 the hardlink shares the rootfs inode");
  }

  /* L5: symlink to a host file, then a hardlink to it with mode 0777,
   * then a regular file of the same name: the host file keeps its mode. */
  TB(&t, .path = "s", .type = '2', .link = secret);
  TB(&t, .path = "hs", .type = '1', .link = "s", .mode = 0777);
  TB(&t, .path = "s", .data = "overwrite", .size = 9, .mode = 0777);
  contained("L5 symlink + hardlink + same-name file", &t, "hs");
  TB(&t, .path = "dd/", .type = '5');
  TB(&t, .path = "dd", .type = '2', .link = secret);
  TB(&t, .path = "dd", .type = '2', .link = secret, .mode = 0777);
  contained("L5 dir then same-name symlink", &t, "dd");
}

static void
test_whiteouts(void)
{
  tb t = {0};
  TB(&t, .path = ".wh..", .data = NULL);
  refused("L6 whiteout .wh..", &t);
  TB(&t, .path = ".wh...");
  refused("L6 whiteout .wh...", &t);
  TB(&t, .path = "etc/.wh..");
  refused("L6 whiteout etc/.wh..", &t);
  char p[600];
  snprintf(p, sizeof p, "%s/outside", base);
  TB(&t, .path = "p", .type = '2', .link = p);
  TB(&t, .path = "p/.wh.secret");
  contained("L6 whiteout under a symlinked parent", &t, NULL);
  TB(&t, .path = "sym", .type = '2', .link = "../../sentinel");
  TB(&t, .path = "sym/.wh..wh..opq");
  contained("L6 opaque marker under a symlinked parent", &t, NULL);
  TB(&t, .path = ".wh..wh..opq", .data = "junk", .size = 4);
  TB(&t, .path = ".wh.nothing", .data = "non-empty whiteout", .size = 18);
  contained("L6 opaque root and non-empty whiteout", &t, NULL);
}

static void
test_xattrs_devices(void)
{
  tb t = {0};
  /* L7 */
  TB(&t, .path = "cap", .data = "x", .size = 1,
     .xattr = {{"trusted.overlay.opaque", "y"}, {"user.note", "kept"}});
  contained("L7 xattrs", &t, "cap");
  char p[600], v[16];
  snprintf(p, sizeof p, "%s/cap", target);
  ssize_t n = lgetxattr(p, "trusted.overlay.opaque", v, sizeof v);
  tap_ok(n < 0, "L7 trusted.overlay.opaque dropped");
  n = lgetxattr(p, "user.note", v, sizeof v);
  tap_ok((n == 4 && memcmp(v, "kept", 4) == 0) || (n < 0 && errno == ENOTSUP),
         "L7 user.* kept (or fs has no user xattrs)");

  /* L8 */
  TB(&t, .path = "null", .type = '3', .mode = 0666, .devmajor = 1, .devminor = 3);
  TB(&t, .path = "fifo", .type = '6', .mode = 0600);
  TB(&t, .path = "suid", .data = "#!", .size = 2, .mode = 04755, .uid = 1234, .gid = 5678);
  contained("L8 device, fifo, setuid", &t, "null");
  struct stat st;
  snprintf(p, sizeof p, "%s/null", target);
  if (geteuid() == 0)
    tap_ok(stat(p, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
               minor(st.st_rdev) == 3,
           "L8 char device 1:3 created as root");
  else
    tap_skip("device nodes need root");
  snprintf(p, sizeof p, "%s/suid", target);
  tap_ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 04755 &&
             (geteuid() != 0 || (st.st_uid == 1234 && st.st_gid == 5678)),
         "L8 setuid bit kept after chown, owner 1234:5678");
  TB(&t, .path = "big", .type = '3', .devmajor = 1ull << 40, .devminor = 1);
  refused("L8 64-bit major rejected", &t);
  TB(&t, .path = "big", .type = '4', .devmajor = 8, .devminor = 1ull << 33);
  refused("L8 oversized minor rejected", &t);
}

static void
test_bombs_and_limits(void)
{
  tb t = {0};
  /* L9: caps on the decoded size and on the ratio. */
  fresh();
  size_t big = 2u << 20;
  char *zeros = calloc(1, big);
  TB(&t, .path = "zeros", .data = zeros, .size = big);
  tb_finish(&t);
  tb gz = tb_compress(&t, 'g');
  unpack_opts o = {.mode = UNPACK_FLATTEN, .no_sync = true, .max_bytes = 1u << 20};
  cut_err err = {0};
  tap_ok(apply(&gz, &o, NULL, &err) < 0 && strstr(err.msg, "bomb"), "L9 size cap aborts (%s)",
         err.msg);
  tap_ok(sentinel_empty(), "L9 nothing outside");
  tb_free(&gz);
  tb_free(&t);
  free(zeros);

  fresh();
  big = 80u << 20;
  zeros = calloc(1, big);
  TB(&t, .path = "zeros", .data = zeros, .size = big);
  tb_finish(&t);
  free(zeros);
  gz = tb_compress(&t, 'z');
  tb_free(&t);
  o = (unpack_opts){.mode = UNPACK_FLATTEN, .no_sync = true, .max_ratio = 100};
  tap_ok(apply(&gz, &o, NULL, &err) < 0 && strstr(err.msg, "expands"),
         "L9 ratio cap aborts a %zu-byte zstd expanding to 80 MiB (%s)", gz.len, err.msg);
  tb_free(&gz);

  /* GBs of padding after EOF: here 20 MiB of zeros after the end blocks. */
  fresh();
  TB(&t, .path = "f", .data = "x", .size = 1);
  tb_finish(&t);
  tb_put(&t, NULL, 20u << 20);
  gz = tb_compress(&t, 'g');
  tap_ok(apply(&gz, NULL, NULL, &err) < 0 && strstr(err.msg, "after the end"),
         "L9 trailing data after the archive end refused (%s)", err.msg);
  tb_free(&gz);
  tb_free(&t);

  /* L11: long paths and deep trees. */
  char *longp = malloc(5000);
  memset(longp, 'a', 4200);
  for (int i = 200; i < 4200; i += 201)
    longp[i] = '/';
  longp[4200] = '\0';
  TB(&t, .path = longp, .data = "x", .size = 1);
  refused("L11 4200-byte path", &t);
  for (int i = 0; i < 4000; i += 2) {
    longp[i] = 'd';
    longp[i + 1] = '/';
  }
  longp[3999] = '\0';
  TB(&t, .path = longp, .data = "x", .size = 1);
  refused("L11 2000-deep path: max depth", &t);
  free(longp);

  /* Oversized headers: a pax header claiming 1 GiB, a truncated one. */
  fresh();
  tb_header(&t, "PaxHeaders/x", 'x', 0644, 0, 0, 1ull << 30, NULL, 0, 0, 0);
  tb_put(&t, "99 path=x\n", 10);
  tb_pad(&t);
  refused("oversized pax header", &t);
  tb_header(&t, "././@LongLink", 'L', 0644, 0, 0, 1ull << 33, NULL, 0, 0, 0);
  refused("oversized GNU long name", &t);
}

static void
test_formats(void)
{
  tb t = {0};
  TB(&t, .path = "bin/", .type = '5');
  TB(&t, .path = "bin/hello", .data = "hello\n", .size = 6, .mode = 0755);
  tb_finish(&t);
  char plain_id[72];
  cut_err err = {0};
  cut_sha256_buf(t.buf, t.len, plain_id, &err);
  tb gz = tb_compress(&t, 'g'), zs = tb_compress(&t, 'z');
  struct {
    const char *name;
    tb *data;
    const char *mt;
  } cases[] = {
      {"plain", &t, "application/vnd.oci.image.layer.v1.tar"},
      {"gzip", &gz, "application/vnd.oci.image.layer.v1.tar+gzip"},
      {"zstd", &zs, "application/vnd.oci.image.layer.v1.tar+zstd"},
      {"docker gzip", &gz, "application/vnd.docker.image.rootfs.diff.tar.gzip"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fresh();
    unpack_stats st;
    unpack_opts o = {
        .mode = UNPACK_FLATTEN, .no_sync = true, .media_type = cases[i].mt, .diff_id = plain_id};
    int r = apply(cases[i].data, &o, &st, &err);
    tap_ok(r == 0 && exists_in_target("bin/hello"), "%s layer applied%s%s", cases[i].name,
           r ? ": " : "", r ? err.msg : "");
    tap_is_str(st.diff_id, plain_id, "%s: diff_id is the sha256 of the plain tar", cases[i].name);
  }
  unpack_opts o = {.mode = UNPACK_FLATTEN,
                   .no_sync = true,
                   .media_type = "application/vnd.oci.image.layer.v1.tar+gzip"};
  fresh();
  tap_ok(apply(&zs, &o, NULL, &err) < 0 && strstr(err.msg, "zstd"),
         "L10 zstd labelled gzip refused (%s)", err.msg);
  o.media_type = NULL;
  o.diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  fresh();
  tap_ok(apply(&gz, &o, NULL, &err) < 0 && strstr(err.msg, "diff_id"),
         "L10 diff_id mismatch refused (%s)", err.msg);
  o.diff_id = NULL;
  gz.len -= 10;
  fresh();
  tap_ok(apply(&gz, &o, NULL, &err) < 0, "L10 truncated gzip refused (%s)", err.msg);
  tb junk = {0};
  tb_put(&junk, "this is not a tar archive at all, just text\n", 44);
  fresh();
  tap_ok(apply(&junk, &o, NULL, &err) < 0, "garbage refused (%s)", err.msg);
  tb_free(&junk);
  tb_free(&t);
  tb_free(&gz);
  tb_free(&zs);
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  snprintf(base, sizeof base, "/tmp/cutaway-unit.XXXXXX");
  if (!mkdtemp(base)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(target, sizeof target, "%s/target", base);
  snprintf(sentinel, sizeof sentinel, "%s/sentinel", base);
  snprintf(secret, sizeof secret, "%s/outside/secret", base);
  test_paths();
  test_whiteouts();
  test_xattrs_devices();
  test_bombs_and_limits();
  test_formats();
  cut_err err;
  cut_rm_rf(base, &err);
  return tap_done();
}
