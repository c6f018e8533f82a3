/* push.c: OCI layout -> registry (see push.h).
 *
 * Mirrors docker push / containerd's pusher: blobs first (config and
 * layers, each skipped when a HEAD finds it, mounted from the source
 * repository when the registry allows, else uploaded), the manifest last,
 * so a registry never holds a manifest that points at missing blobs.  The
 * blobs of a manifest go up side by side (5 at a time, one curl multi
 * handle, as docker push's concurrent uploads).  An index is pushed with
 * the manifests of it that the layout holds. */
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
  char tp[TRACEPARENT_LEN]; /* image.push: the parent of every push.blob */
  bool have_tp;
};

static void
blob_path_url(const struct push_ctx *c, const char *kind, const char *what, char *out, size_t size)
{
  snprintf(out, size, "/v2/%s/%s/%s", reg_client_repo(c->cl), kind, what);
}

/* The URL with one more query parameter. */
static void
url_with(const char *url, const char *param, char *out, size_t size)
{
  if (snprintf(out, size, "%s%s%s", url, strchr(url, '?') ? "&" : "?", param) >= (int)size)
    out[0] = '\0'; /* an upload URL this long is not one we will follow */
}

/* ---- one blob's upload, a step at a time -------------------------------
 *
 * Every blob of a manifest is pushed at once on one curl multi handle (as
 * docker push runs 5 uploads side by side).  Each is a small state machine
 * whose every step is one request:
 *
 *   HEAD blob      200: exists, done           404: START
 *   POST uploads   201: mounted, done          202 + Location: PUT or PATCH
 *   PATCH chunk    202 + Location: next PATCH, or the closing PUT
 *   PUT ?digest=   201: uploaded, done
 */
enum bp_state { BP_HEAD, BP_START, BP_PATCH, BP_PUT, BP_DONE };

struct blob_push {
  struct push_ctx *c;
  layout_desc d;
  enum bp_state state;
  reg_xfer x;
  bool started; /* x initialised */
  int fd;       /* the blob, once an upload session is open */
  uint64_t off; /* chunked: the next chunk's first byte */
  uint64_t len; /* bytes sent by the request in flight */
  char url[4096];
  char final[4200];
  char range[64];
  size_t line;
  trace_span sp;
  char tp[TRACEPARENT_LEN];
  bool have_tp;
  const char *outcome;
};

#define PUSH_PARALLEL 5

/* Queue the next request of b on multi (the previous one is done). */
static void
bp_request(struct blob_push *b, const char *method, const char *url)
{
  if (b->started)
    reg_xfer_cleanup(&b->x);
  reg_xfer_init(&b->x, b->c->cl, method, url);
  b->started = true;
  b->x.sink_arg = b; /* no sink: the multi loop's way back to b */
  if (b->have_tp) {
    memcpy(b->x.parent_tp, b->tp, sizeof b->tp);
    b->x.have_parent = true;
  }
  if (strcmp(method, "HEAD") != 0 && strcmp(method, "POST") != 0)
    b->x.content_type = "application/octet-stream";
}

static int
bp_go(struct blob_push *b, CURLM *multi, cut_err *err)
{
  if (reg_xfer_setup(&b->x, err) < 0)
    return -1;
  curl_multi_add_handle(multi, b->x.easy);
  return 0;
}

/* Send [off, off+len) of the blob with method (len 0: no body). */
static int
bp_send(struct blob_push *b, CURLM *multi, const char *method, const char *url, uint64_t len,
        const char *content_range, cut_err *err)
{
  bp_request(b, method, url);
  b->x.body_fd = len ? b->fd : -1;
  b->x.body_off = (off_t)b->off;
  b->x.body_size = len;
  b->x.content_range = content_range;
  b->len = len;
  return bp_go(b, multi, err);
}

static int
bp_start(struct blob_push *b, CURLM *multi, cut_err *err)
{
  struct push_ctx *c = b->c;
  trace_begin_remote(&b->sp, TRACE_INTERNAL, "push.blob", c->have_tp ? c->tp : NULL,
                     TA_STR("digest", b->d.digest), TA_INT("size", b->d.size));
  b->have_tp = trace_traceparent(&b->sp, b->tp);
  b->outcome = "cancelled";
  char path[1024];
  snprintf(path, sizeof path, "/v2/%s/blobs/%s", reg_client_repo(c->cl), b->d.digest);
  b->state = BP_HEAD;
  bp_request(b, "HEAD", path);
  return bp_go(b, multi, err);
}

/* The upload session is open at b->url: PUT it whole, or PATCH it in
 * chunks (--chunk-size) and close it with an empty PUT. */
static int
bp_upload(struct blob_push *b, CURLM *multi, cut_err *err)
{
  char dparam[128];
  snprintf(dparam, sizeof dparam, "digest=%s", b->d.digest);
  uint64_t size = (uint64_t)b->d.size, chunk = b->c->o->chunk_size;
  if (chunk && b->off < size && (size > chunk || b->off > 0)) {
    uint64_t len = size - b->off < chunk ? size - b->off : chunk;
    snprintf(b->range, sizeof b->range, "%llu-%llu", (unsigned long long)b->off,
             (unsigned long long)(b->off + len - 1));
    b->state = BP_PATCH;
    return bp_send(b, multi, "PATCH", b->url, len, b->range, err);
  }
  url_with(b->url, dparam, b->final, sizeof b->final);
  b->state = BP_PUT;
  return bp_send(b, multi, "PUT", b->final, b->off < size ? size - b->off : 0, NULL, err);
}

static int
bp_open_blob(struct blob_push *b, cut_err *err)
{
  int64_t size;
  b->fd = layout_open_blob(b->c->l, b->d.digest, &size, err);
  if (b->fd < 0)
    return -1;
  if (size != b->d.size)
    return cut_error(err, 0, "local blob is %lld bytes, descriptor says %lld", (long long)size,
                     (long long)b->d.size);
  return 0;
}

/* A request of b finished: the next one, or the end (returns 1). */
static int
bp_step(struct blob_push *b, CURLM *multi, CURLcode code, cut_err *err)
{
  struct push_ctx *c = b->c;
  curl_multi_remove_handle(multi, b->x.easy);
  int r = reg_xfer_finish(&b->x, code, err);
  if (r == REG_RETRY)
    return bp_go(b, multi, err);
  if (r < 0)
    return -1;
  long st = b->x.status;
  switch (b->state) {
  case BP_HEAD:
    if (st == 200) {
      b->outcome = "exists";
      c->res->skipped++;
      progress_state(&c->prog, b->line, "Layer already exists");
      return 1;
    }
    if (st != 404)
      return reg_status_error(&b->x, "blob check", err);
    char path[1400];
    int n = snprintf(path, sizeof path, "/v2/%s/blobs/uploads/", reg_client_repo(c->cl));
    if (c->mount_from)
      snprintf(path + n, sizeof path - n, "?mount=%s&from=%s", b->d.digest, c->mount_from);
    b->state = BP_START;
    bp_request(b, "POST", path);
    return bp_go(b, multi, err);
  case BP_START:
    if (st == 201 && c->mount_from) {
      b->outcome = "mounted";
      c->res->mounted++;
      char msg[300];
      snprintf(msg, sizeof msg, "Mounted from %s", c->mount_from);
      progress_state(&c->prog, b->line, msg);
      return 1;
    }
    if (st != 202 || !b->x.location[0])
      return reg_status_error(&b->x, "start upload", err);
    snprintf(b->url, sizeof b->url, "%s", b->x.location);
    if (bp_open_blob(b, err) < 0)
      return -1;
    progress_state(&c->prog, b->line, "Pushing");
    return bp_upload(b, multi, err);
  case BP_PATCH:
    if (st != 202)
      return reg_status_error(&b->x, "upload", err);
    if (b->x.location[0])
      snprintf(b->url, sizeof b->url, "%s", b->x.location);
    b->off += b->len;
    progress_bytes(&c->prog, b->line, b->off);
    return bp_upload(b, multi, err);
  case BP_PUT:
    if (st != 201)
      return reg_status_error(&b->x, "upload", err);
    b->outcome = "uploaded";
    c->res->uploaded++;
    progress_state(&c->prog, b->line, "Pushed");
    return 1;
  case BP_DONE: break;
  }
  return 1;
}

static void
bp_finish(struct blob_push *b, const cut_err *err)
{
  if (b->started)
    reg_xfer_cleanup(&b->x);
  b->started = false;
  if (b->fd >= 0)
    close(b->fd);
  b->fd = -1;
  if (b->sp.active)
    trace_end(&b->sp, err, TA_STR("outcome", err ? "error" : b->outcome));
  b->state = BP_DONE;
}

/* Push every blob of descs (duplicates once), PUSH_PARALLEL at a time. */
static int
push_blobs(struct push_ctx *c, const layout_desc *descs, size_t n, cut_err *err)
{
  struct blob_push *bps = calloc(n ? n : 1, sizeof *bps);
  if (!bps)
    return cut_error(err, ENOMEM, "push");
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t k = 0; k < m && !dup; k++)
      dup = strcmp(bps[k].d.digest, descs[i].digest) == 0;
    if (dup)
      continue;
    bps[m].c = c;
    bps[m].d = descs[i];
    bps[m].fd = -1;
    bps[m].line = progress_add(&c->prog, descs[i].digest, "Preparing", (uint64_t)descs[i].size);
    m++;
  }
  progress_draw(&c->prog, true);
  CURLM *multi = curl_multi_init();
  size_t next = 0, active = 0;
  int r = 0;
  struct blob_push *failed = NULL;
  while (r == 0) {
    while (r == 0 && active < PUSH_PARALLEL && next < m) {
      struct blob_push *b = &bps[next++];
      if (bp_start(b, multi, err) < 0) {
        r = -1;
        failed = b;
      }
      active++;
    }
    if (r < 0 || active == 0)
      break;
    int running;
    curl_multi_perform(multi, &running);
    CURLMsg *msg;
    int left;
    while (r == 0 && (msg = curl_multi_info_read(multi, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      reg_xfer *x;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      struct blob_push *b = x->sink_arg;
      int d = bp_step(b, multi, msg->data.result, err);
      if (d < 0) {
        r = -1;
        failed = b;
      } else if (d == 1) {
        bp_finish(b, NULL);
        active--;
      }
    }
    progress_draw(&c->prog, false);
    if (r == 0 && active > 0)
      curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  if (failed) {
    cut_wrap(err, "blob %s", failed->d.digest);
    progress_state(&c->prog, failed->line, "Failed");
  }
  for (size_t i = 0; i < m; i++) {
    struct blob_push *b = &bps[i];
    if (b->started && b->x.easy)
      curl_multi_remove_handle(multi, b->x.easy);
    if (b->state != BP_DONE)
      bp_finish(b, b == failed ? err : NULL);
  }
  curl_multi_cleanup(multi);
  free(bps);
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
    layout_desc *all = r == 0 ? calloc(m.n_layers + 1, sizeof *all) : NULL;
    if (r == 0 && !all)
      r = cut_error(err, ENOMEM, "push");
    if (r == 0) {
      for (size_t i = 0; i < m.n_layers; i++)
        all[i] = m.layers[i];
      all[m.n_layers] = m.config;
      r = push_blobs(c, all, m.n_layers + 1, err);
    }
    free(all);
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
  c.have_tp = trace_traceparent(&sp, c.tp);
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
