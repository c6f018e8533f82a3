/* push.c: OCI layout -> registry (see push.h).
 *
 * Mirrors docker push / containerd's pusher: blobs first (config and
 * layers, each skipped when a HEAD finds it, mounted from the source
 * repository when the registry allows, else uploaded), the manifest last,
 * so a registry never holds a manifest that points at missing blobs.  An
 * index is pushed with the manifests of it that the layout holds. */
#include "push.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "layout.h"
#include "progress.h"
#include "ref.h"
#include "trace.h"

#define PUSH_MAX_DEPTH 2 /* index -> manifest */

struct push_ctx {
  const image_push_opts *o;
  layout *l;
  reg_client *cl;
  const char *mount_from; /* source repository on the same registry, or NULL */
  progress prog;
  image_push_result *res;
};

static void
blob_path_url(const struct push_ctx *c, const char *kind, const char *what, char *out, size_t size)
{
  snprintf(out, size, "/v2/%s/%s/%s", reg_client_repo(c->cl), kind, what);
}

/* HEAD: 200 means the registry has the blob already. */
static int
blob_exists(struct push_ctx *c, const layout_desc *d, bool *exists, cut_err *err)
{
  char path[1024];
  blob_path_url(c, "blobs", d->digest, path, sizeof path);
  reg_xfer x;
  reg_xfer_init(&x, c->cl, "HEAD", path);
  int r = reg_xfer_run(&x, err);
  if (r == 0) {
    *exists = x.status == 200;
    if (x.status != 200 && x.status != 404)
      r = reg_status_error(&x, "blob check", err);
  }
  reg_xfer_cleanup(&x);
  return r;
}

/* POST .../blobs/uploads/ (with ?mount=&from= to try a mount first).
 * 201: mounted, nothing to upload; 202: upload at *location. */
static int
start_upload(struct push_ctx *c, const layout_desc *d, bool *mounted, char *location, size_t size,
             cut_err *err)
{
  char path[1400];
  int n = snprintf(path, sizeof path, "/v2/%s/blobs/uploads/", reg_client_repo(c->cl));
  if (c->mount_from)
    snprintf(path + n, sizeof path - n, "?mount=%s&from=%s", d->digest, c->mount_from);
  reg_xfer x;
  reg_xfer_init(&x, c->cl, "POST", path);
  int r = reg_xfer_run(&x, err);
  *mounted = false;
  if (r == 0) {
    if (x.status == 201 && c->mount_from) {
      *mounted = true;
    } else if (x.status == 202 && x.location[0]) {
      snprintf(location, size, "%s", x.location);
    } else {
      r = reg_status_error(&x, "start upload", err);
    }
  }
  reg_xfer_cleanup(&x);
  return r;
}

/* The URL with one more query parameter. */
static void
url_with(const char *url, const char *param, char *out, size_t size)
{
  if (snprintf(out, size, "%s%s%s", url, strchr(url, '?') ? "&" : "?", param) >= (int)size)
    out[0] = '\0'; /* an upload URL this long is not one we will follow */
}

/* Send [off, off+len) of fd with method; the registry's next upload URL
 * comes back in Location. */
static int
send_part(struct push_ctx *c, const char *method, const char *url, int fd, off_t off, uint64_t len,
          const char *content_range, long want, char *next, size_t next_size, cut_err *err)
{
  reg_xfer x;
  reg_xfer_init(&x, c->cl, method, url);
  x.body_fd = len ? fd : -1;
  x.body_off = off;
  x.body_size = len;
  x.content_type = "application/octet-stream";
  x.content_range = content_range;
  int r = reg_xfer_run(&x, err);
  if (r == 0 && x.status != want)
    r = reg_status_error(&x, "upload", err);
  if (r == 0 && next)
    snprintf(next, next_size, "%s", x.location[0] ? x.location : url);
  reg_xfer_cleanup(&x);
  return r;
}

static int
upload_blob(struct push_ctx *c, const layout_desc *d, const char *location, cut_err *err)
{
  int64_t size;
  int fd = layout_open_blob(c->l, d->digest, &size, err);
  if (fd < 0)
    return -1;
  if (size != d->size) {
    close(fd);
    return cut_error(err, 0, "local blob is %lld bytes, descriptor says %lld", (long long)size,
                     (long long)d->size);
  }
  char url[4096], final[4200], dparam[128];
  snprintf(url, sizeof url, "%s", location);
  snprintf(dparam, sizeof dparam, "digest=%s", d->digest);
  int r = 0;
  uint64_t chunk = c->o->chunk_size;
  if (chunk && (uint64_t)size > chunk) {
    /* Chunked: PATCH each piece with its Content-Range, then close the
     * upload with an empty PUT carrying the digest. */
    for (uint64_t off = 0; r == 0 && off < (uint64_t)size; off += chunk) {
      uint64_t len = (uint64_t)size - off < chunk ? (uint64_t)size - off : chunk;
      char range[64];
      snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)off,
               (unsigned long long)(off + len - 1));
      r = send_part(c, "PATCH", url, fd, (off_t)off, len, range, 202, url, sizeof url, err);
    }
    url_with(url, dparam, final, sizeof final);
    if (r == 0)
      r = send_part(c, "PUT", final, -1, 0, 0, NULL, 201, NULL, 0, err);
  } else {
    /* Monolithic: the whole blob in the PUT that closes the upload. */
    url_with(url, dparam, final, sizeof final);
    r = send_part(c, "PUT", final, fd, 0, (uint64_t)size, NULL, 201, NULL, 0, err);
  }
  close(fd);
  return r;
}

static int
push_blob(struct push_ctx *c, const layout_desc *d, cut_err *err)
{
  size_t line = progress_add(&c->prog, d->digest, "Preparing", (uint64_t)d->size);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "push.blob", TA_STR("digest", d->digest),
              TA_INT("size", d->size));
  bool exists = false, mounted = false;
  char location[4096];
  const char *outcome = "uploaded";
  int r = blob_exists(c, d, &exists, err);
  if (r == 0 && exists) {
    outcome = "exists";
    c->res->skipped++;
    progress_state(&c->prog, line, "Layer already exists");
  } else if (r == 0) {
    r = start_upload(c, d, &mounted, location, sizeof location, err);
    if (r == 0 && mounted) {
      outcome = "mounted";
      c->res->mounted++;
      char msg[300];
      snprintf(msg, sizeof msg, "Mounted from %s", c->mount_from);
      progress_state(&c->prog, line, msg);
    } else if (r == 0) {
      progress_state(&c->prog, line, "Pushing");
      r = upload_blob(c, d, location, err);
      if (r == 0) {
        c->res->uploaded++;
        progress_state(&c->prog, line, "Pushed");
      }
    }
  }
  if (r < 0)
    cut_wrap(err, "blob %s", d->digest);
  trace_end(&sp, r < 0 ? err : NULL, TA_STR("outcome", r < 0 ? "error" : outcome));
  return r;
}

static int
put_manifest(struct push_ctx *c, const layout_desc *d, const char *buf, size_t len,
             const char *reference, cut_err *err)
{
  char path[1024];
  blob_path_url(c, "manifests", reference, path, sizeof path);
  reg_xfer x;
  reg_xfer_init(&x, c->cl, "PUT", path);
  x.body = buf;
  x.body_len = len;
  x.content_type = d->media_type;
  int r = reg_xfer_run(&x, err);
  if (r == 0 && x.status != 201)
    r = reg_status_error(&x, "manifest", err);
  /* The registry's word is not proof: the digest is what we hashed. */
  if (r == 0 && x.docker_digest[0] && strcmp(x.docker_digest, d->digest) != 0)
    r = cut_error(err, 0, "registry stored the manifest as %s, expected %s", x.docker_digest,
                  d->digest);
  reg_xfer_cleanup(&x);
  return r < 0 ? cut_wrap(err, "manifest %s", d->digest) : 0;
}

static int
push_tree(struct push_ctx *c, const layout_desc *d, const char *reference, int depth, cut_err *err)
{
  char *buf = NULL;
  size_t len = 0;
  int r = layout_read_blob(c->l, d->digest, LAYOUT_JSON_MAX, &buf, &len, err);
  if (r < 0)
    return -1;
  enum layout_kind kind = layout_media_kind(d->media_type);
  if (kind == LAYOUT_KIND_INDEX && depth < PUSH_MAX_DEPTH) {
    image_index ix = {0};
    r = layout_parse_index(buf, len, d->media_type, &ix, err);
    for (size_t i = 0; r == 0 && i < ix.n_manifests; i++) {
      if (!layout_has_blob(c->l, ix.manifests[i].digest))
        continue; /* a platform this layout never pulled: the registry may have it */
      r = push_tree(c, &ix.manifests[i], ix.manifests[i].digest, depth + 1, err);
    }
    layout_index_free(&ix);
  } else if (kind == LAYOUT_KIND_MANIFEST) {
    image_manifest m = {0};
    r = layout_parse_manifest(buf, len, d->media_type, &m, err);
    for (size_t i = 0; r == 0 && i < m.n_layers; i++)
      r = push_blob(c, &m.layers[i], err);
    if (r == 0)
      r = push_blob(c, &m.config, err);
    layout_manifest_free(&m);
  } else {
    r = cut_error(err, 0, "%s: cannot push media type \"%s\"", d->digest, d->media_type);
  }
  if (r == 0)
    r = put_manifest(c, d, buf, len, reference, err);
  free(buf);
  return r;
}

int
image_push(const image_push_opts *o, const char *src, const char *dest, image_push_result *res,
           cut_err *err)
{
  memset(res, 0, sizeof *res);
  image_ref sref, dref;
  if (ref_parse(src, &sref, err) < 0 || ref_parse(dest ? dest : src, &dref, err) < 0)
    return -1;
  if (dref.digest[0] && !dref.tag[0])
    return cut_error(err, 0, "push %s: the destination needs a tag, not only a digest", dest);
  char sfull[600], dfull[600];
  ref_string(&sref, sfull, sizeof sfull);
  ref_string(&dref, dfull, sizeof dfull);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "image.push", TA_STR("src", sfull), TA_STR("ref", dfull));
  struct push_ctx c = {.o = o, .res = res};
  progress_init(&c.prog, stderr, o->quiet || !o->progress);
  layout l;
  layout_desc top;
  int r = layout_open(&l, o->layout_dir, false, err);
  if (r == 0) {
    c.l = &l;
    r = layout_lock(&l, false, err); /* no GC under our feet */
    if (r == 0)
      r = layout_resolve(&l, sfull, &top, err);
    /* Another repository on the same registry: blobs can be mounted from
     * the source instead of uploaded again (docker push does the same). */
    if (r == 0 && strcmp(sref.domain, dref.domain) == 0 && strcmp(sref.path, dref.path) != 0)
      c.mount_from = sref.path;
    reg_client_opts co = {.insecure = o->insecure,
                          .certs_dir = o->certs_dir,
                          .push = true,
                          .mount_from = c.mount_from};
    if (r == 0)
      r = reg_client_open(&dref, &co, &c.cl, err);
    if (r == 0) {
      char name[600];
      progress_msg(&c.prog, "The push refers to repository [%s]",
                   ref_name(&dref, name, sizeof name));
      r = push_tree(&c, &top, dref.tag, 0, err);
    }
    reg_client_free(c.cl);
    layout_unlock(&l);
    layout_close(&l);
  }
  if (r == 0) {
    snprintf(res->ref, sizeof res->ref, "%s", dfull);
    snprintf(res->digest, sizeof res->digest, "%s", top.digest);
    progress_msg(&c.prog, "%s: digest: %s size: %lld", dref.tag, top.digest, (long long)top.size);
  } else {
    cut_wrap(err, "push %s", dfull);
  }
  progress_free(&c.prog);
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("uploaded", res->uploaded),
            TA_INT("skipped", res->skipped), TA_INT("mounted", res->mounted));
  return r;
}
