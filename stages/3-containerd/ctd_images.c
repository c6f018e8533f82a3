/* ctd_images.c: images and content of cutaway-containerd (containerd's
 * images, content and unpack services), built on stage 2's library:
 *
 *   content  ROOT/content is an OCI image layout (layout.h): every blob is
 *            hashed while it is written and renamed into blobs/ only when
 *            digest and size match; ingest temp files of a killed daemon
 *            are removed when the layout is next opened;
 *   images   the layout's index.json: a normalised reference
 *            (docker.io/library/busybox:latest, ref.h) -> a manifest or index;
 *   pull     image_pull() (pull.h) fetches into the layout and unpacks every
 *            layer into its own directory while it downloads; each becomes a
 *            committed snapshot keyed by its chain ID (ctd_snap.c);
 *   import   copies the blobs of an OCI layout directory (what `skopeo copy
 *            oci:` or `cutaway-image` write) through the same verified
 *            ingest, then unpacks the layers that are not snapshots yet.
 *
 * A layer is unpacked only once: images sharing base layers share their
 * snapshots (the chain ID covers the layer and everything beneath it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctd.h"
#include "fileutil.h"
#include "json.h"
#include "stages/2-registry/layout.h"
#include "stages/2-registry/pull.h"
#include "stages/2-registry/ref.h"
#include "stages/2-registry/unpack.h"
#include "trace.h"

#define REF_MAX 600

int
ctd_images_open(ctd *c, cut_err *err)
{
  layout l;
  if (layout_open(&l, c->content_dir, true, err) < 0)
    return cut_wrap(err, "content store");
  layout_close(&l);
  return 0;
}

static int
open_store(ctd *c, layout *l, cut_err *err)
{
  return layout_open(l, c->content_dir, false, err);
}

/* "busybox" -> "docker.io/library/busybox:latest"; a name that does not
 * parse is kept as typed (layouts written by other tools). */
static void
normalise(const char *in, char out[REF_MAX])
{
  image_ref r;
  cut_err e;
  if (ref_parse(in, &r, &e) == 0)
    ref_string(&r, out, REF_MAX);
  else
    ctd_fmt(out, REF_MAX, "%s", in);
}

static int
resolve(layout *l, const char *name, char ref[REF_MAX], layout_desc *d, cut_err *err)
{
  normalise(name, ref);
  if (layout_resolve(l, ref, d, err) == 0)
    return 0;
  if (strcmp(ref, name) != 0 && layout_resolve(l, name, d, err) == 0) {
    ctd_fmt(ref, REF_MAX, "%s", name);
    return 0;
  }
  return ctd_err(err, ENOENT, "image %s: not found", name);
}

/* ---- unpacking into snapshots ---- */

struct unpack_arg {
  const char *blob;
  const layout_desc *desc;
  const char *diff_id;
  const char *move_from; /* a directory stage 2 already unpacked */
  size_t index;
};

static int
fill_layer(int dir_fd, void *arg, cut_err *err)
{
  struct unpack_arg *a = arg;
  unpack_opts o = {.mode = UNPACK_OVERLAY,
                   .media_type = a->desc->media_type,
                   .diff_id = a->diff_id,
                   .digest = a->desc->digest};
  unpack_stats st;
  int r = unpack_layer_file(a->blob, dir_fd, &o, &st, err);
  /* The second layer is half on disk here: its snapshot has no info.json. */
  if (r == 0 && a->index == 1)
    ctd_failpoint("images.unpack.mid_layer");
  return r;
}

static int
unpack_chain(ctd *c, layout *l, const image_manifest *m, const image_config *cfg, char top[72],
             cut_err *err)
{
  if (m->n_layers != cfg->n_diff_ids)
    return ctd_err(err, EINVAL, "image: %zu layers but %zu diff_ids", m->n_layers, cfg->n_diff_ids);
  char parent[72] = "";
  for (size_t i = 0; i < m->n_layers; i++) {
    char chain[72];
    ctd_chain_id(parent, cfg->diff_ids[i], chain);
    char blob[PATH_MAX];
    if (layout_blob_path(l, m->layers[i].digest, blob, sizeof blob, err) < 0)
      return -1;
    struct unpack_arg a = {
        .blob = blob, .desc = &m->layers[i], .diff_id = cfg->diff_ids[i], .index = i};
    if (ctd_snap_commit_new(c, chain, parent, fill_layer, &a, err) < 0)
      return cut_wrap(err, "unpack layer %zu (%.19s)", i, m->layers[i].digest);
    ctd_fmt(parent, sizeof parent, "%s", chain);
  }
  ctd_fmt(top, 72, "%s", parent);
  return 0;
}

int
ctd_image_unpack(ctd *c, const char *name, char *top_chain, size_t len, cJSON **config,
                 char *resolved_ref, size_t rlen, cut_err *err)
{
  layout l;
  if (open_store(c, &l, err) < 0)
    return -1;
  char ref[REF_MAX];
  layout_desc top, md;
  image_manifest m = {0};
  image_config cfg = {0};
  int r = resolve(&l, name, ref, &top, err);
  if (r == 0)
    r = layout_load_image(&l, &top, NULL, &md, &m, &cfg, err);
  char chain[72] = "";
  if (r == 0) {
    trace_span sp;
    trace_begin(&sp, TRACE_INTERNAL, "image.unpack", TA_STR("ref", ref),
                TA_INT("layers", m.n_layers));
    r = unpack_chain(c, &l, &m, &cfg, chain, err);
    trace_end(&sp, r < 0 ? err : NULL, TA_STR("chain_id", chain));
  }
  if (r == 0) {
    ctd_fmt(top_chain, len, "%s", chain);
    if (config)
      *config = cJSON_Duplicate(cfg.doc, true);
    if (resolved_ref)
      ctd_fmt(resolved_ref, rlen, "%s", ref);
  }
  layout_manifest_free(&m);
  layout_config_free(&cfg);
  layout_close(&l);
  return r;
}

int
ctd_images_chains(ctd *c, char ***out, size_t *n, cut_err *err)
{
  layout l;
  if (open_store(c, &l, err) < 0)
    return -1;
  layout_entry *list = NULL;
  size_t count = 0;
  if (layout_list(&l, &list, &count, err) < 0) {
    layout_close(&l);
    return -1;
  }
  char **keys = calloc(count + 1, sizeof *keys);
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    layout_desc md;
    image_manifest m = {0};
    image_config cfg = {0};
    cut_err e;
    if (layout_load_image(&l, &list[i].desc, NULL, &md, &m, &cfg, &e) == 0) {
      char parent[72] = "", chain[72];
      for (size_t j = 0; j < cfg.n_diff_ids; j++) {
        ctd_chain_id(parent, cfg.diff_ids[j], chain);
        ctd_fmt(parent, sizeof parent, "%s", chain);
      }
      if (*parent)
        keys[k++] = strdup(parent);
    }
    layout_manifest_free(&m);
    layout_config_free(&cfg);
  }
  layout_list_free(list, count);
  layout_close(&l);
  *out = keys;
  *n = k;
  return 0;
}

/* ---- copying blobs between layouts (import, export) ---- */

static int
copy_blob(layout *src, layout *dst, const layout_desc *d, cut_err *err)
{
  if (layout_has_blob(dst, d->digest))
    return 0;
  int64_t size;
  int fd = layout_open_blob(src, d->digest, &size, err);
  if (fd < 0)
    return -1;
  layout_writer w;
  if (layout_ingest_begin(dst, &w, d->size, err) < 0) {
    close(fd);
    return -1;
  }
  char buf[128 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      layout_ingest_abort(&w);
      return cut_error(err, e, "read blob %s", d->digest);
    }
    if (n == 0)
      break;
    if (layout_ingest_write(&w, buf, (size_t)n, err) < 0) {
      close(fd);
      layout_ingest_abort(&w);
      return -1;
    }
    if (w.bytes > 0 && (int64_t)w.bytes < d->size)
      ctd_failpoint("content.ingest.mid_blob");
  }
  close(fd);
  return layout_ingest_commit(&w, d->digest, d->size, err);
}

/* The manifest, its config and layers. */
static int
copy_manifest(layout *src, layout *dst, const layout_desc *md, cut_err *err)
{
  char *buf;
  size_t len;
  if (layout_read_blob(src, md->digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0)
    return -1;
  image_manifest m = {0};
  int r = layout_parse_manifest(buf, len, md->media_type, &m, err);
  free(buf);
  if (r < 0)
    return -1;
  r = copy_blob(src, dst, &m.config, err);
  for (size_t i = 0; r == 0 && i < m.n_layers; i++)
    r = copy_blob(src, dst, &m.layers[i], err);
  if (r == 0)
    r = copy_blob(src, dst, md, err);
  layout_manifest_free(&m);
  return r;
}

/* An image (index or manifest) with everything it references that the
 * source has; an index keeps only the manifests present (a single-platform
 * copy, as `ctr import` of a one-platform archive). */
static int
copy_image(layout *src, layout *dst, const layout_desc *top, cut_err *err)
{
  if (layout_media_kind(top->media_type) != LAYOUT_KIND_INDEX)
    return copy_manifest(src, dst, top, err);
  char *buf;
  size_t len;
  if (layout_read_blob(src, top->digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0)
    return -1;
  image_index ix = {0};
  int r = layout_parse_index(buf, len, top->media_type, &ix, err);
  free(buf);
  if (r < 0)
    return -1;
  int copied = 0;
  for (size_t i = 0; r == 0 && i < ix.n_manifests; i++) {
    if (!layout_has_blob(src, ix.manifests[i].digest))
      continue;
    r = copy_manifest(src, dst, &ix.manifests[i], err);
    copied++;
  }
  if (r == 0 && copied == 0)
    r = ctd_err(err, ENOENT, "index %.19s: none of its manifests is in the layout", top->digest);
  if (r == 0)
    r = copy_blob(src, dst, top, err);
  layout_index_free(&ix);
  return r;
}

static cJSON *
image_json(const char *ref, const layout_desc *d)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", ref);
  cJSON_AddItemToObject(o, "target", layout_desc_to_json(d));
  return o;
}

/* ---- handlers ---- */

void
ctd_h_images_list(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cut_err err;
  layout l;
  if (open_store(c, &l, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  layout_entry *list = NULL;
  size_t n = 0;
  if (layout_list(&l, &list, &n, &err) < 0) {
    layout_close(&l);
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(a, image_json(list[i].ref, &list[i].desc));
  layout_list_free(list, n);
  layout_close(&l);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "images", a);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_images_get(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cut_err err;
  const char *name = httpd_param(req, "name");
  layout l;
  if (open_store(c, &l, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  char ref[REF_MAX];
  layout_desc top, md;
  image_manifest m = {0};
  image_config cfg = {0};
  if (resolve(&l, name, ref, &top, &err) < 0) {
    layout_close(&l);
    httpd_reply_err(req, 404, &err);
    return;
  }
  if (layout_load_image(&l, &top, NULL, &md, &m, &cfg, &err) < 0) {
    layout_close(&l);
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *o = image_json(ref, &top);
  cJSON_AddItemToObject(o, "manifest", layout_desc_to_json(&md));
  cJSON_AddItemToObject(o, "config_descriptor", layout_desc_to_json(&m.config));
  cJSON *layers = cJSON_AddArrayToObject(o, "layers");
  int64_t size = m.config.size;
  char parent[72] = "";
  for (size_t i = 0; i < m.n_layers; i++) {
    cJSON *ly = layout_desc_to_json(&m.layers[i]);
    if (i < cfg.n_diff_ids) {
      char chain[72];
      ctd_chain_id(parent, cfg.diff_ids[i], chain);
      cJSON_AddStringToObject(ly, "diff_id", cfg.diff_ids[i]);
      cJSON_AddStringToObject(ly, "chain_id", chain);
      pthread_mutex_lock(&c->lock);
      cJSON_AddBoolToObject(ly, "unpacked", ctd_snap_find(c, chain) != NULL);
      pthread_mutex_unlock(&c->lock);
      ctd_fmt(parent, sizeof parent, "%s", chain);
    }
    size += m.layers[i].size;
    cJSON_AddItemToArray(layers, ly);
  }
  cJSON_AddStringToObject(o, "chain_id", parent);
  cJSON_AddNumberToObject(o, "size", (double)size);
  cJSON_AddItemToObject(o, "config", cJSON_Duplicate(cfg.doc, true));
  layout_manifest_free(&m);
  layout_config_free(&cfg);
  layout_close(&l);
  httpd_reply_json(req, 200, o);
}

/* After a pull with layers_dir: every layer directory becomes a committed
 * snapshot by rename(2) into a fresh numbered dir (no copy). */
static int
fill_by_rename(int dir_fd, void *arg, cut_err *err)
{
  struct unpack_arg *a = arg;
  char self[32], fs[PATH_MAX];
  cut_fd_path(dir_fd, self);
  ssize_t n = readlink(self, fs, sizeof fs - 1);
  if (n < 0)
    return cut_error(err, errno, "readlink %s", self);
  fs[n] = '\0';
  if (rmdir(fs) < 0 || rename(a->move_from, fs) < 0)
    return cut_error(err, errno, "move layer %s into %s", a->move_from, fs);
  return 0;
}

void
ctd_h_images_pull(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *name = NULL, *platform = NULL;
  const cJSON *insecure = NULL;
  cut_err err;
  if (json_get_string(body, "ref", "ref", true, &name, &err) < 0 ||
      json_get_string(body, "platform", "platform", false, &platform, &err) < 0 ||
      json_get_array(body, "insecure_registries", "insecure_registries", false, &insecure, &err) <
          0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  image_ref parsed;
  if (ref_parse(name, &parsed, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  char **ins = NULL;
  size_t nins = 0;
  if (insecure && json_string_array(insecure, "insecure_registries", &ins, &nins, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  /* Layers are unpacked next to the snapshots (same filesystem: a rename
   * makes them snapshots), in a temp dir removed at the end (and at the next
   * start if we are killed). */
  char tmp[PATH_MAX];
  ctd_fmt(tmp, sizeof tmp, "%s/pull-XXXXXX", c->snap_dir);
  if (mkdtemp(tmp) == NULL) {
    free(ins);
    httpd_reply_error(req, 500, "pull: temp dir: %s", strerror(errno));
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "images.Pull", TA_STR("ref", name));
  image_pull_opts po = {.layout_dir = c->content_dir,
                        .platform = platform,
                        .insecure = (const char *const *)ins,
                        .quiet = true,
                        .layers_dir = tmp};
  image_pull_result res = {0};
  int r = image_pull(&po, name, &res, &err);
  /* Layers downloaded and unpacked in pull-XXXXXX, none a snapshot yet. */
  if (r == 0)
    ctd_failpoint("images.pull.before_snapshots");
  char parent[72] = "";
  for (size_t i = 0; r == 0 && i < res.n_layers; i++) {
    char chain[72];
    ctd_chain_id(parent, res.diff_ids[i], chain);
    layout_desc d = {0};
    struct unpack_arg a = {.desc = &d, .move_from = res.layer_dirs ? res.layer_dirs[i] : NULL};
    if (a.move_from == NULL) {
      r = ctd_err(&err, EINVAL, "pull: layer %zu was not unpacked", i);
      break;
    }
    r = ctd_snap_commit_new(c, chain, parent, fill_by_rename, &a, &err);
    ctd_fmt(parent, sizeof parent, "%s", chain);
  }
  trace_end(&sp, r < 0 ? &err : NULL, TA_STR("chain_id", parent));
  cut_err e2;
  cut_rm_rf(tmp, &e2);
  free(ins);
  if (r < 0) {
    image_pull_result_free(&res);
    httpd_reply_err(req, err.errnum == ENOENT ? 404 : 502, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", res.ref);
  cJSON_AddStringToObject(o, "manifest", res.manifest_digest);
  cJSON_AddStringToObject(o, "config", res.config_digest);
  cJSON_AddStringToObject(o, "chain_id", parent);
  cJSON_AddNumberToObject(o, "layers", (double)res.n_layers);
  cJSON_AddNumberToObject(o, "bytes_downloaded", (double)res.bytes_downloaded);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "name", res.ref);
  ctd_publish(c, "/images/create", ev);
  image_pull_result_free(&res);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_images_import(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *path = NULL, *as = NULL;
  cut_err err;
  if (json_get_string(body, "path", "path", true, &path, &err) < 0 ||
      json_get_string(body, "name", "name", false, &as, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "images.Import", TA_STR("path", path));
  layout src, dst;
  if (layout_open(&src, path, false, &err) < 0) {
    trace_end(&sp, &err);
    httpd_reply_error(req, 400, "import %s: %s", path, err.msg);
    return;
  }
  if (open_store(c, &dst, &err) < 0) {
    layout_close(&src);
    trace_end(&sp, &err);
    httpd_reply_err(req, 500, &err);
    return;
  }
  layout_entry *list = NULL;
  size_t n = 0;
  int r = layout_list(&src, &list, &n, &err);
  if (r == 0 && n == 0)
    r = ctd_err(&err, ENOENT, "import %s: index.json names no image", path);
  cJSON *imported = cJSON_CreateArray();
  for (size_t i = 0; r == 0 && i < n; i++) {
    char ref[REF_MAX];
    /* A bare tag in ref.name ("latest", as skopeo writes oci:DIR:latest)
     * is named by the request's "name". */
    if (as && (n == 1 || strchr(list[i].ref, '/') == NULL))
      normalise(as, ref);
    else
      normalise(list[i].ref, ref);
    r = copy_image(&src, &dst, &list[i].desc, &err);
    if (r == 0)
      r = layout_tag(&dst, ref, &list[i].desc, &err);
    char chain[72];
    layout_close(&dst);
    if (r == 0)
      r = ctd_image_unpack(c, ref, chain, sizeof chain, NULL, NULL, 0, &err);
    open_store(c, &dst, &err);
    if (r == 0) {
      cJSON *o = image_json(ref, &list[i].desc);
      cJSON_AddStringToObject(o, "chain_id", chain);
      cJSON_AddItemToArray(imported, o);
      cJSON *ev = cJSON_CreateObject();
      cJSON_AddStringToObject(ev, "name", ref);
      ctd_publish(c, "/images/create", ev);
    }
  }
  layout_list_free(list, n);
  layout_close(&src);
  layout_close(&dst);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    cJSON_Delete(imported);
    httpd_reply_error(req, err.errnum == ENOENT || err.errnum == EINVAL ? 400 : 500, "%s", err.msg);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "images", imported);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_images_export(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *path = NULL;
  const cJSON *names = NULL;
  cut_err err;
  if (json_get_string(body, "path", "path", true, &path, &err) < 0 ||
      json_get_array(body, "names", "names", true, &names, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  layout src, dst;
  if (open_store(c, &src, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  if (layout_open(&dst, path, true, &err) < 0) {
    layout_close(&src);
    httpd_reply_error(req, 400, "export %s: %s", path, err.msg);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "images.Export", TA_STR("path", path));
  int r = 0;
  unsigned status = 500;
  const cJSON *it;
  cJSON_ArrayForEach(it, names)
  {
    if (!cJSON_IsString(it)) {
      r = ctd_err(&err, EINVAL, "names: expected strings");
      status = 400;
      break;
    }
    char ref[REF_MAX];
    layout_desc d;
    if (resolve(&src, it->valuestring, ref, &d, &err) < 0) {
      r = -1;
      status = 404;
      break;
    }
    if ((r = copy_image(&src, &dst, &d, &err)) < 0 || (r = layout_tag(&dst, ref, &d, &err)) < 0)
      break;
  }
  trace_end(&sp, r < 0 ? &err : NULL);
  layout_close(&src);
  layout_close(&dst);
  if (r < 0) {
    httpd_reply_err(req, status, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "path", path);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_images_tag(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *source = NULL, *target = NULL;
  cut_err err;
  if (json_get_string(body, "source", "source", true, &source, &err) < 0 ||
      json_get_string(body, "target", "target", true, &target, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  image_ref tr;
  if (ref_parse(target, &tr, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  layout l;
  if (open_store(c, &l, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  char ref[REF_MAX], tref[REF_MAX];
  layout_desc d;
  if (resolve(&l, source, ref, &d, &err) < 0) {
    layout_close(&l);
    httpd_reply_err(req, 404, &err);
    return;
  }
  ref_string(&tr, tref, sizeof tref);
  int r = layout_tag(&l, tref, &d, &err);
  layout_close(&l);
  if (r < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "name", tref);
  ctd_publish(c, "/images/create", ev);
  httpd_reply_json(req, 201, image_json(tref, &d));
}

void
ctd_h_images_delete(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cut_err err;
  const char *name = httpd_param(req, "name");
  layout l;
  if (open_store(c, &l, &err) < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  char ref[REF_MAX];
  layout_desc d;
  if (resolve(&l, name, ref, &d, &err) < 0) {
    layout_close(&l);
    httpd_reply_err(req, 404, &err);
    return;
  }
  int r = layout_untag(&l, ref, &err);
  layout_close(&l);
  if (r < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "name", ref);
  ctd_publish(c, "/images/delete", ev);
  httpd_reply_json(req, 200, NULL);
}

/* ---- content ---- */

void
ctd_h_content_list(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  char dir[PATH_MAX];
  ctd_fmt(dir, sizeof dir, "%s/blobs/sha256", c->content_dir);
  DIR *d = opendir(dir);
  cJSON *a = cJSON_CreateArray();
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char digest[80], path[PATH_MAX];
    ctd_fmt(digest, sizeof digest, "sha256:%.64s", de->d_name);
    if (!cut_digest_valid(digest))
      continue;
    ctd_fmt(path, sizeof path, "%s/%s", dir, de->d_name);
    struct stat st;
    if (stat(path, &st) < 0)
      continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "digest", digest);
    cJSON_AddNumberToObject(o, "size", (double)st.st_size);
    cJSON_AddItemToArray(a, o);
  }
  if (d)
    closedir(d);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "blobs", a);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_content_info(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  const char *digest = httpd_param(req, "digest");
  if (!cut_digest_valid(digest)) {
    httpd_reply_error(req, 400, "digest %s: expected sha256:<64 hex>", digest);
    return;
  }
  char path[PATH_MAX];
  ctd_fmt(path, sizeof path, "%s/blobs/sha256/%s", c->content_dir, cut_digest_hex(digest));
  struct stat st;
  if (stat(path, &st) < 0) {
    httpd_reply_error(req, 404, "content %s: not found", digest);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "digest", digest);
  cJSON_AddNumberToObject(o, "size", (double)st.st_size);
  cJSON_AddStringToObject(o, "path", path);
  httpd_reply_json(req, 200, o);
}
