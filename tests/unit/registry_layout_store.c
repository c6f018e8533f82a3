/* registry_layout_store.c: the OCI layout content store: verified ingest
 * (digest and size), abort, crash leftovers, concurrent writers of one
 * blob, index.json tags, GC, and the manifest/index/config parsers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "digest.h"
#include "fileutil.h"
#include "stages/2-registry/layout.h"
#include "tap.h"

static char dir[256];

static int
count_dir(const char *sub)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, sub);
  DIR *d = opendir(p);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static int
ingest(layout *l, const char *data, const char *digest, int64_t size, cut_err *err)
{
  layout_writer w;
  if (layout_ingest_begin(l, &w, -1, err) < 0)
    return -1;
  size_t len = strlen(data);
  /* in two chunks, as a download would */
  if (layout_ingest_write(&w, data, len / 2, err) < 0 ||
      layout_ingest_write(&w, data + len / 2, len - len / 2, err) < 0) {
    layout_ingest_abort(&w);
    return -1;
  }
  return layout_ingest_commit(&w, digest, size, err);
}

static void
test_ingest(layout *l)
{
  cut_err err = {0};
  const char *data = "hello, layer\n";
  char dg[CUT_DIGEST_LEN + 1];
  cut_sha256_buf(data, strlen(data), dg, &err);
  tap_ok(ingest(l, data, dg, (int64_t)strlen(data), &err) == 0,
         "ingest with the right digest and size");
  tap_ok(layout_has_blob(l, dg), "the blob is visible after commit");
  char *back;
  size_t n;
  tap_ok(layout_read_blob(l, dg, 100, &back, &n, &err) == 0 && n == strlen(data) &&
             memcmp(back, data, n) == 0,
         "the blob reads back");
  free(back);

  const char *other = "tampered bytes\n";
  char odg[CUT_DIGEST_LEN + 1];
  cut_sha256_buf("something else", 14, odg, &err);
  int r = ingest(l, other, odg, (int64_t)strlen(other), &err);
  tap_ok(r < 0 && strstr(err.msg, odg) && strstr(err.msg, "digest mismatch"),
         "digest mismatch is an error naming the blob (%s)", err.msg);
  tap_ok(!layout_has_blob(l, odg), "nothing visible after a digest mismatch");
  char tdg[CUT_DIGEST_LEN + 1];
  cut_sha256_buf(other, strlen(other), tdg, &err);
  tap_ok(!layout_has_blob(l, tdg), "not even under the content's real digest");
  r = ingest(l, other, tdg, 3, &err);
  tap_ok(r < 0 && strstr(err.msg, "size mismatch"), "size mismatch is an error (%s)", err.msg);
  tap_ok(!layout_has_blob(l, tdg), "nothing visible after a size mismatch");
  tap_is_int(count_dir("ingest"), 0, "no temp files left after failed commits");

  layout_writer w;
  layout_ingest_begin(l, &w, 4, &err);
  r = layout_ingest_write(&w, "12345", 5, &err);
  tap_ok(r < 0 && strstr(err.msg, "larger than the expected"),
         "a write past the expected size fails at once (%s)", err.msg);
  layout_ingest_abort(&w);
  layout_ingest_begin(l, &w, -1, &err);
  layout_ingest_write(&w, "abc", 3, &err);
  tap_is_int(count_dir("ingest"), 1, "a writer in progress has one temp file");
  layout_ingest_abort(&w);
  tap_is_int(count_dir("ingest"), 0, "abort removes it");

  r = ingest(l, data, "sha256:../../../etc/passwd", 13, &err);
  tap_ok(r < 0 && strstr(err.msg, "invalid digest"), "a path-like digest is refused (%s)", err.msg);
  tap_ok(layout_open_blob(l, "sha256:ABCDEF", NULL, &err) < 0, "uppercase/short digest refused");
  tap_ok(layout_open_blob(l, "md5:d41d8cd98f00b204e9800998ecf8427e", NULL, &err) < 0,
         "md5 digest refused");
}

static void
test_crash_leftovers(void)
{
  cut_err err = {0};
  char p[512];
  /* A crashed writer: a temp file nobody holds.  A live one: held with flock. */
  snprintf(p, sizeof p, "%s/ingest/999999-0-dead.tmp", dir);
  cut_write_file_atomic(p, "partial", 7, 0644, &err);
  snprintf(p, sizeof p, "%s/ingest/1-0-live.tmp", dir);
  cut_write_file_atomic(p, "partial", 7, 0644, &err);
  int live = open(p, O_RDONLY);
  flock(live, LOCK_EX);
  /* The lock must be held by another process for LOCK_NB to fail there. */
  pid_t child = fork();
  if (child == 0) {
    layout l2;
    _exit(layout_open(&l2, dir, false, &err) < 0 ? 1 : 0);
  }
  int status;
  waitpid(child, &status, 0);
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "layout reopens after a crash");
  snprintf(p, sizeof p, "%s/ingest/999999-0-dead.tmp", dir);
  tap_ok(access(p, F_OK) < 0, "a dead writer's temp file is cleaned");
  snprintf(p, sizeof p, "%s/ingest/1-0-live.tmp", dir);
  tap_ok(access(p, F_OK) == 0, "a live writer's temp file is left alone");
  close(live);
  unlink(p);
}

static void
test_concurrent(layout *l)
{
  /* Two processes write the same 4 MiB blob at once: both commit, the blob
   * is intact. */
  size_t len = 4u << 20;
  char *data = malloc(len);
  for (size_t i = 0; i < len; i++)
    data[i] = (char)(i * 7 + i / 4096);
  char dg[CUT_DIGEST_LEN + 1];
  cut_err err;
  cut_sha256_buf(data, len, dg, &err);
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      layout_writer w;
      if (layout_ingest_begin(l, &w, (int64_t)len, &err) < 0)
        _exit(1);
      for (size_t off = 0; off < len; off += 65536)
        if (layout_ingest_write(&w, data + off, 65536, &err) < 0)
          _exit(1);
      _exit(layout_ingest_commit(&w, dg, (int64_t)len, &err) < 0 ? 1 : 0);
    }
  }
  int ok = 1;
  for (int k = 0; k < 2; k++) {
    int st;
    waitpid(kids[k], &st, 0);
    ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  tap_ok(ok, "two concurrent writers of one blob both commit");
  char path[512], got[CUT_DIGEST_LEN + 1];
  uint64_t size = 0;
  layout_blob_path(l, dg, path, sizeof path, &err);
  tap_ok(cut_sha256_file(path, got, &size, &err) == 0 && strcmp(got, dg) == 0 && size == len,
         "and the blob is intact");
  free(data);
}

static const char *config_json =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\"]}}";

/* A manifest for one (fake) layer blob with given content; returns its digest. */
static void
make_image(layout *l, const char *layer_content, char mdg[CUT_DIGEST_LEN + 1], int64_t *msize)
{
  cut_err err;
  char cdg[CUT_DIGEST_LEN + 1], ldg[CUT_DIGEST_LEN + 1];
  layout_put_blob(l, config_json, strlen(config_json), cdg, &err);
  layout_put_blob(l, layer_content, strlen(layer_content), ldg, &err);
  char m[1024];
  snprintf(m, sizeof m,
           "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
           "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"%s\",\"size\":%zu},"
           "\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"%s\",\"size\":%zu}]}",
           cdg, strlen(config_json), ldg, strlen(layer_content));
  layout_put_blob(l, m, strlen(m), mdg, &err);
  *msize = (int64_t)strlen(m);
}

static void
test_index_and_gc(layout *l)
{
  cut_err err = {0};
  char m1[CUT_DIGEST_LEN + 1], m2[CUT_DIGEST_LEN + 1];
  int64_t s1, s2;
  make_image(l, "layer one", m1, &s1);
  make_image(l, "layer two", m2, &s2);
  layout_desc d1 = {.size = s1}, d2 = {.size = s2}, got;
  snprintf(d1.media_type, sizeof d1.media_type, MT_OCI_MANIFEST);
  snprintf(d2.media_type, sizeof d2.media_type, MT_OCI_MANIFEST);
  snprintf(d1.digest, sizeof d1.digest, "%s", m1);
  snprintf(d2.digest, sizeof d2.digest, "%s", m2);
  tap_ok(layout_tag(l, "docker.io/library/one:latest", &d1, &err) == 0, "tag one");
  tap_ok(layout_tag(l, "docker.io/library/two:latest", &d2, &err) == 0, "tag two");
  tap_ok(layout_tag(l, "docker.io/library/both:latest", &d1, &err) == 0, "tag both -> one");
  tap_ok(layout_tag(l, "docker.io/library/both:latest", &d2, &err) == 0, "retag both -> two");
  tap_ok(layout_resolve(l, "docker.io/library/both:latest", &got, &err) == 0 &&
             strcmp(got.digest, m2) == 0,
         "resolve gives the latest tag");
  layout_entry *list;
  size_t n;
  tap_ok(layout_list(l, &list, &n, &err) == 0 && n == 3, "three tags listed (no duplicate)");
  layout_list_free(list, n);
  tap_ok(layout_resolve(l, "docker.io/library/none:latest", &got, &err) < 0 && err.errnum == ENOENT,
         "unknown ref: ENOENT (%s)", err.msg);

  image_manifest m;
  image_config c;
  layout_desc md;
  tap_ok(layout_load_image(l, &d1, NULL, &md, &m, &c, &err) == 0 && m.n_layers == 1 &&
             c.n_diff_ids == 1 && strcmp(c.os, "linux") == 0,
         "load_image: manifest and config");
  layout_manifest_free(&m);
  layout_config_free(&c);

  int before = count_dir("blobs/sha256");
  layout_gc_stats gs;
  tap_ok(layout_gc(l, &gs, &err) == 0, "gc runs");
  tap_is_int(count_dir("blobs/sha256"), 5,
             "gc keeps the 5 referenced blobs (2 manifests, config, 2 layers)");
  tap_ok(before > 5 && gs.removed == (size_t)(before - 5), "gc removed the unreferenced ones");
  tap_ok(layout_untag(l, "docker.io/library/one:latest", &err) == 0, "untag one");
  layout_gc(l, &gs, &err);
  tap_ok(!layout_has_blob(l, m1) && layout_has_blob(l, m2),
         "once untagged, one's manifest is collected; two's stays");
  tap_ok(layout_untag(l, "docker.io/library/two:latest", &err) == 0 &&
             layout_untag(l, "docker.io/library/both:latest", &err) == 0,
         "untag the rest");
  layout_gc(l, &gs, &err);
  tap_is_int(count_dir("blobs/sha256"), 0, "gc with no tags empties blobs/");
  tap_ok(layout_untag(l, "docker.io/library/two:latest", &err) < 0, "untag of a missing tag fails");
}

static void
test_parsers(void)
{
  cut_err err = {0};
  image_manifest m;
  image_index ix;
  const char *Z = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[],"
           "\"config\":{\"mediaType\":\"x\",\"digest\":\"%s\",\"size\":1},\"layers\":[]}",
           Z);
  tap_ok(layout_parse_manifest(buf, strlen(buf), NULL, &m, &err) < 0 &&
             strstr(err.msg, "ambiguous"),
         "manifests + layers refused (%s)", err.msg);
  const char *s1 = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";
  tap_ok(layout_parse_manifest(s1, strlen(s1), NULL, &m, &err) < 0 && strstr(err.msg, "schema 1"),
         "schema 1 refused (%s)", err.msg);
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":-5},\"layers\":[]}", Z);
  tap_ok(layout_parse_manifest(buf, strlen(buf), NULL, &m, &err) < 0 && strstr(err.msg, "negative"),
         "negative size refused (%s)", err.msg);
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":1},\"layers\":null}", Z);
  tap_ok(layout_parse_manifest(buf, strlen(buf), NULL, &m, &err) < 0, "layers:null refused (%s)",
         err.msg);
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:../../etc\",\"size\":1},"
           "\"layers\":[]}");
  tap_ok(layout_parse_manifest(buf, strlen(buf), NULL, &m, &err) < 0 &&
             strstr(err.msg, "invalid digest"),
         "bad digest refused (%s)", err.msg);
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
           "\"config\":{\"digest\":\"%s\",\"size\":1},\"layers\":[]}",
           Z);
  tap_ok(layout_parse_manifest(buf, strlen(buf), MT_OCI_MANIFEST, &m, &err) < 0 &&
             strstr(err.msg, "does not match"),
         "mediaType != Content-Type refused (%s)", err.msg);
  tap_ok(layout_parse_manifest(buf, strlen(buf), MT_DOCKER_MANIFEST, &m, &err) == 0 &&
             m.n_layers == 0,
         "docker schema 2 manifest accepted");
  layout_manifest_free(&m);
  char *huge = malloc(LAYOUT_JSON_MAX + 10);
  memset(huge, ' ', LAYOUT_JSON_MAX + 10);
  tap_ok(layout_parse_manifest(huge, LAYOUT_JSON_MAX + 10, NULL, &m, &err) < 0 &&
             strstr(err.msg, "larger"),
         "5 MiB manifest refused (%s)", err.msg);
  free(huge);
  snprintf(buf, sizeof buf,
           "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
           "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":1,"
           "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
           "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":2,"
           "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
           Z, "sha256:3333333333333333333333333333333333333333333333333333333333333333");
  layout_desc sel;
  tap_ok(layout_parse_index(buf, strlen(buf), NULL, &ix, &err) == 0 && ix.n_manifests == 2,
         "index parsed");
  tap_ok(layout_index_select(&ix, "linux", "amd64", "", &sel, &err) == 0 && sel.size == 2,
         "linux/amd64 selected");
  tap_ok(layout_index_select(&ix, "linux", "arm64", "v8", &sel, &err) == 0 && sel.size == 1,
         "linux/arm64/v8 selected");
  tap_ok(layout_index_select(&ix, "linux", "s390x", "", &sel, &err) < 0 &&
             strstr(err.msg, "no manifest for linux/s390x"),
         "missing platform: clear error (%s)", err.msg);
  layout_index_free(&ix);
  char os[32], arch[32], var[32];
  tap_ok(layout_platform_parse("linux/arm/v7", os, arch, var, &err) == 0 && strcmp(var, "v7") == 0,
         "platform parse os/arch/variant");
  tap_ok(layout_platform_parse("linux", os, arch, var, &err) < 0, "platform without arch refused");
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  snprintf(dir, sizeof dir, "/tmp/cutaway-unit.XXXXXX");
  if (!mkdtemp(dir))
    return 1;
  strcat(dir, "/layout");
  layout l;
  cut_err err = {0};
  tap_ok(layout_open(&l, dir, false, &err) < 0, "a missing layout is an error without create");
  tap_ok(layout_open(&l, dir, true, &err) == 0, "layout created");
  test_ingest(&l);
  test_crash_leftovers();
  test_concurrent(&l);
  test_index_and_gc(&l);
  test_parsers();
  layout_close(&l);
  *strrchr(dir, '/') = '\0';
  cut_rm_rf(dir, &err);
  return tap_done();
}
