/* cmd_local.c: the commands of cutaway-image that need no registry:
 *
 *   import DIR|TARBALL REF   a rootfs becomes a one-layer image (docker import)
 *   unpack REF DIR           the flattened rootfs, whiteouts applied (umoci unpack)
 *   inspect REF              manifest, config, layers and sizes as JSON
 *   ls                       REF, short digest, size
 *   tag SRC DEST             another name for the same manifest
 *   rm REF                   untag, then collect unreferenced blobs
 *
 * Every command works on the OCI layout named by --layout (layout.h); the
 * references are normalised as Docker does (ref.h), so "busybox" is stored
 * as docker.io/library/busybox:latest.  Nothing is half-committed: import
 * tags only after every blob is verified in the store, unpack builds the
 * rootfs in a sibling temp directory and renames it into place. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "image_cli.h"
#include "json.h"
#include "layout.h"
#include "ref.h"
#include "trace.h"
#include "unpack.h"

#define PROG "cutaway-image"
#define REF_STR_MAX 600

static int
fail(cut_err *err)
{
  cut_err_print(PROG, err);
  return CUT_EXIT_FAILURE;
}

static int
usage_error(const char *usage)
{
  fprintf(stderr, PROG ": usage: " PROG " %s\n", usage);
  return 2;
}

/* "busybox" -> "docker.io/library/busybox:latest". */
static int
normalise(const char *in, char out[REF_STR_MAX], cut_err *err)
{
  image_ref r;
  if (ref_parse(in, &r, err) < 0)
    return -1;
  ref_string(&r, out, REF_STR_MAX);
  return 0;
}

/* A tag as stored, or (for layouts written by other tools) the argument as
 * typed, or a name@digest matching a stored manifest. */
static int
resolve_ref(layout *l, const char *arg, char ref[REF_STR_MAX], layout_desc *d, cut_err *err)
{
  image_ref r;
  cut_err perr;
  if (ref_parse(arg, &r, &perr) == 0) {
    ref_string(&r, ref, REF_STR_MAX);
    if (layout_resolve(l, ref, d, err) == 0)
      return 0;
    if (err->errnum != ENOENT)
      return -1;
  }
  snprintf(ref, REF_STR_MAX, "%s", arg);
  if (layout_resolve(l, arg, d, err) == 0)
    return 0;
  if (err->errnum != ENOENT)
    return -1;
  const char *at = strchr(arg, '@');
  const char *dg = at ? at + 1 : arg;
  if (cut_digest_valid(dg)) {
    layout_entry *list;
    size_t n;
    if (layout_list(l, &list, &n, err) < 0)
      return -1;
    for (size_t i = 0; i < n; i++)
      if (strcmp(list[i].desc.digest, dg) == 0) {
        *d = list[i].desc;
        layout_list_free(list, n);
        return 0;
      }
    layout_list_free(list, n);
  }
  return cut_error(err, ENOENT, "image %s not found in %s", arg, l->root);
}

static int
open_layout(layout *l, bool create, cut_err *err)
{
  return layout_open(l, image_cli_layout(), create, err);
}

/* ---- import: a rootfs directory or tarball becomes a one-layer image --- */

/* Bytes flow: tar writer -> diff_id hash -> gzip writer -> layout ingest. */
struct import_sink {
  cut_sha256 diff;
  struct archive *gz;
  layout_writer w;
  cut_err *err;
  bool failed;
};

static la_ssize_t
gz_out(struct archive *a, void *cd, const void *buf, size_t n)
{
  struct import_sink *s = cd;
  if (layout_ingest_write(&s->w, buf, n, s->err) < 0) {
    s->failed = true;
    archive_set_error(a, EIO, "%s", s->err->msg);
    return -1;
  }
  return (la_ssize_t)n;
}

static int
sink_feed(struct import_sink *s, const void *buf, size_t n)
{
  cut_sha256_update(&s->diff, buf, n);
  if (archive_write_data(s->gz, buf, n) != (la_ssize_t)n) {
    if (!s->failed)
      cut_error(s->err, 0, "compress layer: %s", archive_error_string(s->gz));
    s->failed = true;
    return -1;
  }
  return 0;
}

static la_ssize_t
tar_out(struct archive *a, void *cd, const void *buf, size_t n)
{
  (void)a;
  return sink_feed(cd, buf, n) < 0 ? -1 : (la_ssize_t)n;
}

static int
sink_open(struct import_sink *s, layout *l, cut_err *err)
{
  memset(s, 0, sizeof *s);
  s->err = err;
  if (cut_sha256_init(&s->diff, err) < 0)
    return -1;
  if (layout_ingest_begin(l, &s->w, -1, err) < 0) {
    cut_sha256_abort(&s->diff);
    return -1;
  }
  /* libarchive's "raw" format with the gzip filter is a plain gzip
   * encoder: one unnamed stream, no tar framing of its own. */
  s->gz = archive_write_new();
  archive_write_set_format_raw(s->gz);
  archive_write_add_filter_gzip(s->gz);
  archive_write_set_bytes_per_block(s->gz, 0);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, "layer.tar");
  archive_entry_set_filetype(e, AE_IFREG);
  int r = archive_write_open(s->gz, s, NULL, gz_out, NULL);
  if (r == ARCHIVE_OK)
    r = archive_write_header(s->gz, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK) {
    cut_error(err, 0, "gzip: %s", archive_error_string(s->gz));
    archive_write_free(s->gz);
    layout_ingest_abort(&s->w);
    cut_sha256_abort(&s->diff);
    return -1;
  }
  return 0;
}

/* Finish: close gzip, commit the blob; digests and sizes out. */
static int
sink_close(struct import_sink *s, bool ok, char diff_id[CUT_DIGEST_LEN + 1],
           char digest[CUT_DIGEST_LEN + 1], int64_t *size)
{
  if (archive_write_close(s->gz) != ARCHIVE_OK && !s->failed) {
    cut_error(s->err, 0, "gzip: %s", archive_error_string(s->gz));
    s->failed = true;
  }
  archive_write_free(s->gz);
  cut_sha256_final(&s->diff, diff_id);
  if (!ok || s->failed) {
    layout_ingest_abort(&s->w);
    return -1;
  }
  return layout_ingest_commit_local(&s->w, digest, size, s->err);
}

static void
add_xattrs(struct archive_entry *e, const char *path)
{
  char names[4096];
  ssize_t n = llistxattr(path, names, sizeof names);
  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
    const char *name = names + off;
    if (strncmp(name, "user.", 5) != 0 && strcmp(name, "security.capability") != 0)
      continue;
    char value[4096];
    ssize_t vl = lgetxattr(path, name, value, sizeof value);
    if (vl >= 0)
      archive_entry_xattr_add_entry(e, name, value, (size_t)vl);
  }
}

static int
copy_file_data(struct archive *tar, const char *path, cut_err *err)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  static char buf[1 << 20];
  int r = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      r = cut_error(err, errno, "read %s", path);
      break;
    }
    if (n == 0)
      break;
    if (archive_write_data(tar, buf, (size_t)n) != n) {
      r = cut_error(err, 0, "archive %s: %s", path, archive_error_string(tar));
      break;
    }
  }
  close(fd);
  return r;
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

/* Depth-first, names sorted (reproducible layers), one filesystem object
 * per tar entry, hardlinks as tar hardlinks. */
static int
archive_tree(struct archive *tar, struct archive_entry_linkresolver *lr, const char *root,
             const char *rel, uint64_t *files, cut_err *err)
{
  char dirpath[PATH_MAX];
  snprintf(dirpath, sizeof dirpath, "%s%s%s", root, rel[0] ? "/" : "", rel);
  struct dirent **names;
  int n = scandir(dirpath, &names, NULL, name_cmp);
  if (n < 0)
    return cut_error(err, errno, "read directory %s", dirpath);
  int r = 0;
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (r < 0 || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
      continue;
    char path[PATH_MAX], erel[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dirpath, nm) >= (int)sizeof path ||
        snprintf(erel, sizeof erel, "%s%s%s", rel, rel[0] ? "/" : "", nm) >= (int)sizeof erel) {
      r = cut_error(err, ENAMETOOLONG, "%s/%s", dirpath, nm);
      continue;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
      r = cut_error(err, errno, "stat %s", path);
      continue;
    }
    if (S_ISSOCK(st.st_mode))
      continue; /* sockets are not image content */
    struct archive_entry *e = archive_entry_new();
    if (S_ISDIR(st.st_mode)) {
      char dname[PATH_MAX + 1];
      snprintf(dname, sizeof dname, "%s/", erel);
      archive_entry_copy_pathname(e, dname);
    } else {
      archive_entry_copy_pathname(e, erel);
    }
    archive_entry_copy_stat(e, &st);
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t tl = readlink(path, target, sizeof target - 1);
      if (tl < 0) {
        r = cut_error(err, errno, "readlink %s", path);
        archive_entry_free(e);
        continue;
      }
      target[tl] = '\0';
      archive_entry_copy_symlink(e, target);
    }
    add_xattrs(e, path);
    struct archive_entry *spare = NULL;
    archive_entry_linkify(lr, &e, &spare);
    if (e) {
      bool data = archive_entry_size(e) > 0 && S_ISREG(st.st_mode);
      if (archive_write_header(tar, e) < ARCHIVE_WARN)
        r = cut_error(err, 0, "archive %s: %s", path, archive_error_string(tar));
      else if (data)
        r = copy_file_data(tar, path, err);
      (*files)++;
      archive_entry_free(e);
    }
    if (spare)
      archive_entry_free(spare);
    if (r == 0 && S_ISDIR(st.st_mode))
      r = archive_tree(tar, lr, root, erel, files, err);
  }
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return r;
}

static int
import_dir(struct import_sink *s, const char *dir, uint64_t *files, cut_err *err)
{
  struct archive *tar = archive_write_new();
  archive_write_set_format_pax_restricted(tar);
  archive_write_set_bytes_in_last_block(tar, 1);
  struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
  archive_entry_linkresolver_set_strategy(lr, archive_format(tar));
  int r = archive_write_open(tar, s, NULL, tar_out, NULL) == ARCHIVE_OK
              ? archive_tree(tar, lr, dir, "", files, err)
              : cut_error(err, 0, "tar: %s", archive_error_string(tar));
  if (archive_write_close(tar) != ARCHIVE_OK && r == 0)
    r = cut_error(err, 0, "tar: %s", archive_error_string(tar));
  archive_write_free(tar);
  archive_entry_linkresolver_free(lr);
  return s->failed ? -1 : r;
}

/* A tarball (plain, gzip, zstd, xz, bzip2) goes in byte for byte as the
 * layer's tar, recompressed with gzip; the first header is checked so a
 * random file is not taken for a rootfs. */
static int
import_tarball(struct import_sink *s, const char *path, cut_err *err)
{
  struct archive *in = archive_read_new();
  archive_read_support_filter_all(in);
  archive_read_support_format_raw(in);
  struct archive_entry *e;
  int r = 0;
  if (archive_read_open_filename(in, path, 1 << 20) != ARCHIVE_OK ||
      archive_read_next_header(in, &e) != ARCHIVE_OK) {
    r = cut_error(err, 0, "read %s: %s", path, archive_error_string(in));
  }
  bool checked = false;
  const void *buf;
  size_t n;
  la_int64_t off;
  while (r == 0) {
    int rr = archive_read_data_block(in, &buf, &n, &off);
    if (rr == ARCHIVE_EOF)
      break;
    if (rr < ARCHIVE_WARN) {
      r = cut_error(err, 0, "read %s: %s", path, archive_error_string(in));
      break;
    }
    if (!checked) {
      const unsigned char *h = buf;
      unsigned sum = 0, want = (unsigned)strtoul(n >= 512 ? (const char *)h + 148 : "x", NULL, 8);
      for (size_t i = 0; n >= 512 && i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
      if (n < 512 || sum != want) {
        r = cut_error(err, 0, "%s is not a tar archive", path);
        break;
      }
      checked = true;
    }
    r = sink_feed(s, buf, n);
  }
  if (r == 0 && !checked)
    r = cut_error(err, 0, "%s is empty", path);
  archive_read_free(in);
  return r;
}

static const char *
go_arch(void)
{
  char os[32], arch[32], variant[32];
  static char out[32];
  cut_err err;
  layout_platform_parse(NULL, os, arch, variant, &err);
  snprintf(out, sizeof out, "%s", arch);
  return out;
}

static void
rfc3339_now(char out[40])
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The config and manifest of a one-layer image, stored; the manifest's
 * descriptor out. */
static int
write_image(layout *l, const char *diff_id, const char *layer_digest, int64_t layer_size,
            char **cmd, size_t ncmd, layout_desc *out, cut_err *err)
{
  char now[40];
  rfc3339_now(now);
  cJSON *cfg = cJSON_CreateObject();
  cJSON_AddStringToObject(cfg, "created", now);
  cJSON_AddStringToObject(cfg, "architecture", go_arch());
  cJSON_AddStringToObject(cfg, "os", "linux");
  cJSON *c = cJSON_AddObjectToObject(cfg, "config");
  cJSON *env = cJSON_AddArrayToObject(c, "Env");
  cJSON_AddItemToArray(
      env, cJSON_CreateString("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  if (ncmd) {
    cJSON *a = cJSON_AddArrayToObject(c, "Cmd");
    for (size_t i = 0; i < ncmd; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(cmd[i]));
  }
  cJSON *rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
  cJSON_AddStringToObject(rootfs, "type", "layers");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(rootfs, "diff_ids"), cJSON_CreateString(diff_id));
  cJSON *h = cJSON_CreateObject();
  cJSON_AddStringToObject(h, "created", now);
  cJSON_AddStringToObject(h, "created_by", "cutaway-image import");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(cfg, "history"), h);
  char *cfg_text = cJSON_PrintUnformatted(cfg);
  cJSON_Delete(cfg);
  char cfg_digest[CUT_DIGEST_LEN + 1];
  int r = layout_put_blob(l, cfg_text, strlen(cfg_text), cfg_digest, err);
  size_t cfg_size = strlen(cfg_text);
  free(cfg_text);
  if (r < 0)
    return -1;

  cJSON *m = cJSON_CreateObject();
  cJSON_AddNumberToObject(m, "schemaVersion", 2);
  cJSON_AddStringToObject(m, "mediaType", MT_OCI_MANIFEST);
  layout_desc cd = {.size = (int64_t)cfg_size}, ld = {.size = layer_size};
  snprintf(cd.media_type, sizeof cd.media_type, MT_OCI_CONFIG);
  snprintf(cd.digest, sizeof cd.digest, "%s", cfg_digest);
  snprintf(ld.media_type, sizeof ld.media_type, MT_OCI_LAYER_GZIP);
  snprintf(ld.digest, sizeof ld.digest, "%s", layer_digest);
  cJSON_AddItemToObject(m, "config", layout_desc_to_json(&cd));
  cJSON_AddItemToArray(cJSON_AddArrayToObject(m, "layers"), layout_desc_to_json(&ld));
  char *m_text = cJSON_PrintUnformatted(m);
  cJSON_Delete(m);
  memset(out, 0, sizeof *out);
  snprintf(out->media_type, sizeof out->media_type, MT_OCI_MANIFEST);
  out->size = (int64_t)strlen(m_text);
  r = layout_put_blob(l, m_text, strlen(m_text), out->digest, err);
  free(m_text);
  return r;
}

static int
do_import(layout *l, const char *src, const char *ref, char **cmd, size_t ncmd, cut_err *err)
{
  struct stat st;
  if (stat(src, &st) < 0)
    return cut_error(err, errno, "import %s", src);
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return cut_error(err, 0, "import %s: not a directory or a tarball", src);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "image.import", TA_STR("ref", ref), TA_STR("source", src));
  uint64_t files = 0;
  struct import_sink s;
  char diff_id[CUT_DIGEST_LEN + 1] = "", digest[CUT_DIGEST_LEN + 1] = "";
  int64_t size = 0;
  layout_desc md;
  /* Shared lock: a concurrent `rm` (GC) must not collect our blobs
   * between their commit and the tag. */
  int r = layout_lock(l, false, err);
  if (r == 0)
    r = sink_open(&s, l, err);
  if (r == 0) {
    r = S_ISDIR(st.st_mode) ? import_dir(&s, src, &files, err) : import_tarball(&s, src, err);
    r = sink_close(&s, r == 0, diff_id, digest, &size) < 0 ? -1 : r;
  }
  if (r == 0)
    r = write_image(l, diff_id, digest, size, cmd, ncmd, &md, err);
  if (r == 0)
    r = layout_tag(l, ref, &md, err);
  layout_unlock(l);
  if (r < 0)
    cut_wrap(err, "import %s", src);
  trace_end(&sp, r < 0 ? err : NULL, TA_STR("manifest", md.digest), TA_STR("layer", digest),
            TA_STR("diff_id", diff_id), TA_INT("size", size), TA_INT("files", files));
  if (r == 0)
    printf("%s\n", md.digest);
  return r;
}

int
image_cmd_import(int argc, char **argv)
{
  static const struct option opts[] = {{"cmd", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
  char *cmd[64];
  size_t ncmd = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    if (c == 'c' && ncmd < 64)
      cmd[ncmd++] = optarg;
    else
      return usage_error("import [--cmd ARG]... DIR|TARBALL REF");
  }
  if (argc - optind != 2)
    return usage_error("import [--cmd ARG]... DIR|TARBALL REF");
  cut_err err = {0};
  char ref[REF_STR_MAX];
  layout l;
  if (normalise(argv[optind + 1], ref, &err) < 0 || open_layout(&l, true, &err) < 0)
    return fail(&err);
  int r = do_import(&l, argv[optind], ref, cmd, ncmd, &err);
  layout_close(&l);
  return r < 0 ? fail(&err) : 0;
}

/* ---- unpack ------------------------------------------------------------ */

/* Apply every layer into tmp (a fresh directory), in order. */
static int
unpack_layers(layout *l, const image_manifest *m, const image_config *cfg, const char *tmp,
              bool no_sync, unpack_stats *total, cut_err *err)
{
  int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd < 0)
    return cut_error(err, errno, "open %s", tmp);
  int r = 0;
  for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
    char path[PATH_MAX];
    unpack_opts o = {
        .mode = UNPACK_FLATTEN,
        .media_type = m->layers[i].media_type[0] ? m->layers[i].media_type : NULL,
        .diff_id = cfg->diff_ids[i],
        .digest = m->layers[i].digest,
        .no_sync = true, /* one syncfs for the whole rootfs, below */
    };
    unpack_stats st;
    r = layout_blob_path(l, m->layers[i].digest, path, sizeof path, err);
    if (r == 0)
      r = unpack_layer_file(path, tfd, &o, &st, err);
    if (r == 0) {
      total->files += st.files;
      total->bytes += st.bytes;
      total->compressed_bytes += st.compressed_bytes;
      total->whiteouts += st.whiteouts;
    }
  }
  if (r == 0 && !no_sync && syncfs(tfd) < 0)
    r = cut_error(err, errno, "syncfs %s", tmp);
  close(tfd);
  return r;
}

/* DIR must be absent or an empty directory: the rootfs replaces it whole. */
static int
check_dest(const char *dir, bool *exists, cut_err *err)
{
  struct stat st;
  *exists = false;
  if (lstat(dir, &st) < 0)
    return errno == ENOENT ? 0 : cut_error(err, errno, "unpack into %s", dir);
  if (!S_ISDIR(st.st_mode))
    return cut_error(err, EEXIST, "unpack into %s: exists and is not a directory", dir);
  DIR *d = opendir(dir);
  if (!d)
    return cut_error(err, errno, "unpack into %s", dir);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      n++;
  closedir(d);
  if (n)
    return cut_error(err, ENOTEMPTY, "unpack into %s: directory is not empty", dir);
  *exists = true;
  return 0;
}

static int
do_unpack(layout *l, const char *arg, const char *dir, const char *platform, bool no_sync,
          cut_err *err)
{
  char ref[REF_STR_MAX];
  layout_desc top, md;
  image_manifest m;
  image_config cfg;
  bool exists;
  if (check_dest(dir, &exists, err) < 0 || resolve_ref(l, arg, ref, &top, err) < 0 ||
      layout_load_image(l, &top, platform, &md, &m, &cfg, err) < 0)
    return -1;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "image.unpack", TA_STR("ref", ref), TA_STR("digest", md.digest),
              TA_STR("target", dir), TA_INT("layers", m.n_layers));
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.unpack-XXXXXX", dir);
  unpack_stats total = {0};
  int r = mkdtemp(tmp) ? 0 : cut_error(err, errno, "create a temp directory beside %s", dir);
  if (r == 0) {
    chmod(tmp, 0755); /* a rootfs's "/" unless the first layer says otherwise */
    r = unpack_layers(l, &m, &cfg, tmp, no_sync, &total, err);
    if (r == 0 && exists && rmdir(dir) < 0)
      r = cut_error(err, errno, "replace %s", dir);
    if (r == 0 && rename(tmp, dir) < 0)
      r = cut_error(err, errno, "rename into %s", dir);
    if (r < 0) {
      cut_err e2;
      cut_rm_rf(tmp, &e2);
    }
  }
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("files", total.files), TA_INT("bytes", total.bytes),
            TA_INT("whiteouts", total.whiteouts));
  if (r == 0 && image_cli_debug())
    fprintf(stderr, PROG ": unpacked %zu layers, %llu entries, %llu bytes into %s\n", m.n_layers,
            (unsigned long long)total.files, (unsigned long long)total.bytes, dir);
  layout_manifest_free(&m);
  layout_config_free(&cfg);
  return r;
}

int
image_cmd_unpack(int argc, char **argv)
{
  static const struct option opts[] = {{"platform", required_argument, NULL, 'p'},
                                       {"no-sync", no_argument, NULL, 'n'},
                                       {NULL, 0, NULL, 0}};
  const char *platform = NULL;
  bool no_sync = false;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    if (c == 'p')
      platform = optarg;
    else if (c == 'n')
      no_sync = true;
    else
      return usage_error("unpack [--platform OS/ARCH] [--no-sync] REF DIR");
  }
  if (argc - optind != 2)
    return usage_error("unpack [--platform OS/ARCH] [--no-sync] REF DIR");
  cut_err err = {0};
  layout l;
  if (open_layout(&l, false, &err) < 0)
    return fail(&err);
  int r = do_unpack(&l, argv[optind], argv[optind + 1], platform, no_sync, &err);
  layout_close(&l);
  return r < 0 ? fail(&err) : 0;
}

/* ---- inspect ----------------------------------------------------------- */

static cJSON *
read_json_blob(layout *l, const char *digest, cut_err *err)
{
  char *buf;
  size_t len;
  cJSON *doc = NULL;
  if (layout_read_blob(l, digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0)
    return NULL;
  json_parse(buf, len, digest, &doc, err);
  free(buf);
  return doc;
}

static int
do_inspect(layout *l, const char *arg, const char *platform, cut_err *err)
{
  char ref[REF_STR_MAX];
  layout_desc top, md;
  image_manifest m;
  image_config cfg;
  if (resolve_ref(l, arg, ref, &top, err) < 0 ||
      layout_load_image(l, &top, platform, &md, &m, &cfg, err) < 0)
    return -1;
  cJSON *mdoc = read_json_blob(l, md.digest, err);
  if (mdoc == NULL) {
    layout_manifest_free(&m);
    layout_config_free(&cfg);
    return -1;
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "ref", ref);
  cJSON_AddStringToObject(out, "digest", md.digest);
  cJSON_AddStringToObject(out, "mediaType", m.media_type);
  if (strcmp(top.digest, md.digest) != 0)
    cJSON_AddStringToObject(out, "index", top.digest);
  char plat[100];
  snprintf(plat, sizeof plat, "%s/%s%s%s", cfg.os, cfg.arch, cfg.variant[0] ? "/" : "",
           cfg.variant);
  cJSON_AddStringToObject(out, "platform", plat);
  int64_t total = md.size + m.config.size;
  cJSON *layers = cJSON_AddArrayToObject(out, "layers");
  for (size_t i = 0; i < m.n_layers; i++) {
    cJSON *ly = layout_desc_to_json(&m.layers[i]);
    cJSON_AddStringToObject(ly, "diffID", cfg.diff_ids[i]);
    cJSON_AddBoolToObject(ly, "present", layout_has_blob(l, m.layers[i].digest));
    cJSON_AddItemToArray(layers, ly);
    total += m.layers[i].size;
  }
  cJSON_AddNumberToObject(out, "size", (double)total);
  cJSON_AddItemToObject(out, "manifest", mdoc);
  cJSON_AddItemToObject(out, "config", cJSON_Duplicate(cfg.doc, true));
  char *text = cJSON_Print(out);
  printf("%s\n", text);
  free(text);
  cJSON_Delete(out);
  layout_manifest_free(&m);
  layout_config_free(&cfg);
  return 0;
}

int
image_cmd_inspect(int argc, char **argv)
{
  static const struct option opts[] = {{"platform", required_argument, NULL, 'p'},
                                       {NULL, 0, NULL, 0}};
  const char *platform = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    if (c == 'p')
      platform = optarg;
    else
      return usage_error("inspect [--platform OS/ARCH] REF");
  }
  if (argc - optind != 1)
    return usage_error("inspect [--platform OS/ARCH] REF");
  cut_err err = {0};
  layout l;
  if (open_layout(&l, false, &err) < 0)
    return fail(&err);
  int r = do_inspect(&l, argv[optind], platform, &err);
  layout_close(&l);
  return r < 0 ? fail(&err) : 0;
}

/* ---- ls, tag, rm ------------------------------------------------------- */

/* Docker's human sizes: decimal units, 3 significant digits. */
static void
human_size(int64_t n, char out[32])
{
  static const char *unit[] = {"B", "kB", "MB", "GB", "TB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    u++;
  }
  snprintf(out, 32, u ? "%.3g%s" : "%.0f%s", v, unit[u]);
}

int
image_cmd_ls(int argc, char **argv)
{
  if (argc != 1)
    return usage_error("ls");
  cut_err err = {0};
  layout l;
  layout_entry *list;
  size_t n;
  if (open_layout(&l, false, &err) < 0 || layout_list(&l, &list, &n, &err) < 0)
    return fail(&err);
  printf("%-50s %-12s %s\n", "REF", "DIGEST", "SIZE");
  for (size_t i = 0; i < n; i++) {
    image_manifest m;
    image_config cfg;
    layout_desc md;
    char size[32] = "?";
    cut_err e2;
    if (layout_load_image(&l, &list[i].desc, NULL, &md, &m, &cfg, &e2) == 0) {
      int64_t total = md.size + m.config.size;
      for (size_t k = 0; k < m.n_layers; k++)
        total += m.layers[k].size;
      human_size(total, size);
      layout_manifest_free(&m);
      layout_config_free(&cfg);
    }
    printf("%-50s %.12s %s\n", list[i].ref[0] ? list[i].ref : "<none>",
           cut_digest_hex(list[i].desc.digest), size);
  }
  layout_list_free(list, n);
  layout_close(&l);
  return 0;
}

int
image_cmd_tag(int argc, char **argv)
{
  if (argc != 3)
    return usage_error("tag SRC DEST");
  cut_err err = {0};
  layout l;
  char src[REF_STR_MAX], dest[REF_STR_MAX];
  layout_desc d;
  if (normalise(argv[2], dest, &err) < 0 || open_layout(&l, false, &err) < 0)
    return fail(&err);
  int r = resolve_ref(&l, argv[1], src, &d, &err);
  if (r == 0)
    r = layout_tag(&l, dest, &d, &err);
  layout_close(&l);
  return r < 0 ? fail(&err) : 0;
}

int
image_cmd_rm(int argc, char **argv)
{
  if (argc < 2)
    return usage_error("rm REF...");
  cut_err err = {0};
  layout l;
  if (open_layout(&l, false, &err) < 0)
    return fail(&err);
  int status = 0;
  for (int i = 1; i < argc; i++) {
    char ref[REF_STR_MAX];
    layout_desc d;
    if (resolve_ref(&l, argv[i], ref, &d, &err) < 0 || layout_untag(&l, ref, &err) < 0) {
      cut_err_print(PROG, &err);
      status = CUT_EXIT_FAILURE;
      continue;
    }
    printf("Untagged: %s\n", ref);
  }
  layout_gc_stats gs;
  if (layout_gc(&l, &gs, &err) < 0) {
    cut_err_print(PROG, &err);
    status = CUT_EXIT_FAILURE;
  } else if (gs.removed) {
    printf("Deleted: %zu blobs, %llu bytes\n", gs.removed, (unsigned long long)gs.bytes);
  }
  layout_close(&l);
  return status;
}
