/* pull.c: registry -> OCI layout (-> rootfs), streaming (see pull.h).
 *
 * Threads: the calling thread runs the curl multi loop (every download of
 * the image at once) and commits blobs as they complete.  With unpacking on,
 * an unpack thread takes the layers in order (flattened rootfs) or one
 * thread per layer (layers_dir); for a layer still downloading, a feeder
 * thread tails the temp file the download writes (pread at its own offset,
 * waiting on a condition variable when it catches up) and pushes the bytes
 * into a pipe whose read end is unpack_layer_fd()'s input.  Downloading
 * never waits for extraction: the temp file absorbs the difference.  A
 * finished download is verified, fsync'ed and renamed by a committer thread
 * of its own, so the disk flush of one blob overlaps the others' transfer.
 * A transfer cut or stalled halfway is resumed with a Range request from
 * its first missing byte (bounded retries, the sha256 continuing).
 *
 * Nothing is trusted before it is verified: the unpacked tree is built in a
 * temp directory and renamed into place only after every layer's digest,
 * size and diff_id matched. */
#include "pull.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fileutil.h"
#include "json.h"
#include "layout.h"
#include "progress.h"
#include "ref.h"
#include "trace.h"
#include "unpack.h"

#define FEED_CHUNK (256 * 1024)
#define WRITE_BEHIND (1u << 20) /* curl's 16 KiB pieces gathered into 1 MiB writes */

struct pull_ctx;

struct layer_job {
  struct pull_ctx *ctx;
  size_t index;
  layout_desc desc;
  const char *diff_id;
  size_t prog;
  /* download (under ctx->mu once started) */
  bool exists;    /* already in the layout: nothing to fetch */
  bool started;   /* writer open, read_fd valid */
  bool ended;     /* transfer over (ok or not): no more bytes will come */
  bool committed; /* verified and visible */
  bool failed;
  layout_writer w;
  reg_xfer x;
  bool x_live;
  int read_fd;
  uint64_t avail; /* bytes in the temp file (the feeder reads up to here) */
  char *wbuf;     /* received, not yet written */
  size_t wlen;
  pthread_t committer; /* fsync + rename off the curl loop */
  bool committing;
  cut_err commit_err;
  char first_url[4096]; /* the registry's blob URL (retries start here) */
  int attempt;          /* 1, 2, ... REG_MAX_ATTEMPTS */
  uint64_t retry_at;    /* CLOCK_MONOTONIC ns; 0: not waiting to retry */
  /* unpack */
  char dir[PATH_MAX]; /* layers_dir mode: the final directory */
  bool dir_exists;
  unpack_stats st;
};

struct pull_ctx {
  const image_pull_opts *o;
  layout *l;
  reg_client *cl;
  progress prog;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  struct layer_job *jobs;
  size_t n;
  bool abort;
  cut_err unpack_err; /* first unpack failure */
  bool unpack_failed;
  int target_fd; /* flattened rootfs temp dir */
  char parent_tp[TRACEPARENT_LEN];
  bool have_parent;
  /* pull.fetch: the parent of every transfer running side by side (the
   * thread's "current span" is whichever transfer began last). */
  char fetch_tp[TRACEPARENT_LEN];
  bool have_fetch;
};

static void
ctx_abort(struct pull_ctx *c)
{
  pthread_mutex_lock(&c->mu);
  c->abort = true;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* ---- manifests -------------------------------------------------------- */

static bool
is_schema1(const char *media_type)
{
  return strcmp(media_type, MT_DOCKER_SCHEMA1) == 0 ||
         strcmp(media_type, MT_DOCKER_SCHEMA1_SIGNED) == 0 ||
         strcmp(media_type, "application/json") == 0;
}

/* GET a manifest, hash the bytes (never trusting Docker-Content-Digest),
 * check a digest we asked for, and find what kind of document it is. */
static int
fetch_manifest(reg_client *cl, const char *reference, const char *want_digest, char **buf,
               size_t *len, char *ctype, size_t ctype_size, char digest[CUT_DIGEST_LEN + 1],
               cut_err *err)
{
  reg_xfer x;
  char path[1024];
  snprintf(path, sizeof path, "/v2/%s/manifests/%s", reg_client_repo(cl), reference);
  reg_xfer_init(&x, cl, "GET", path);
  x.accept = REG_MANIFEST_ACCEPT;
  x.max_body = REG_MANIFEST_MAX;
  int r = reg_xfer_run(&x, err);
  if (r < 0) {
    if (err->errnum == EFBIG)
      cut_error(err, EFBIG, "manifest %s is larger than 4 MiB: refused", reference);
    goto out;
  }
  if (x.status != 200) {
    r = reg_status_error(&x, "manifest", err);
    cut_wrap(err, "%s:%s", reg_client_repo(cl), reference);
    goto out;
  }
  if (cut_sha256_buf(x.buf ? x.buf : "", x.buf_len, digest, err) < 0) {
    r = -1;
    goto out;
  }
  if (want_digest && strcmp(digest, want_digest) != 0) {
    r = cut_error(err, 0, "manifest %s: content hashes to %s: refused", want_digest, digest);
    goto out;
  }
  if (x.docker_digest[0] && strcmp(x.docker_digest, digest) != 0)
    trace_event("registry.digest_mismatch", TA_STR("header", x.docker_digest),
                TA_STR("computed", digest));
  /* The media type: Content-Type, parameters dropped. */
  snprintf(ctype, ctype_size, "%.*s", (int)strcspn(x.content_type_resp, "; "), x.content_type_resp);
  if (is_schema1(ctype)) {
    r = cut_error(err, 0,
                  "%s: schema 1 manifest (%s) is not supported: re-push the image with a "
                  "current client",
                  reference, ctype);
    goto out;
  }
  *buf = x.buf;
  *len = x.buf_len;
  x.buf = NULL;
  r = 0;
out:
  reg_xfer_cleanup(&x);
  return r;
}

/* Store a verified small document (manifest, index, config) as a blob. */
static int
store_blob(layout *l, const void *buf, size_t len, const char *digest, cut_err *err)
{
  if (layout_has_blob(l, digest))
    return 0;
  layout_writer w;
  if (layout_ingest_begin(l, &w, (int64_t)len, err) < 0)
    return -1;
  if (layout_ingest_write(&w, buf, len, err) < 0) {
    layout_ingest_abort(&w);
    return -1;
  }
  return layout_ingest_commit(&w, digest, (int64_t)len, err);
}

/* Fetch a small blob (the config) into memory, verified. */
static int
fetch_small_blob(reg_client *cl, const layout_desc *d, char **buf, size_t *len, cut_err *err)
{
  reg_xfer x;
  char path[1024];
  snprintf(path, sizeof path, "/v2/%s/blobs/%s", reg_client_repo(cl), d->digest);
  reg_xfer_init(&x, cl, "GET", path);
  x.max_body = LAYOUT_JSON_MAX;
  int r = reg_xfer_run(&x, err);
  if (r == 0 && x.status != 200)
    r = reg_status_error(&x, "blob", err);
  char got[CUT_DIGEST_LEN + 1];
  if (r == 0 && cut_sha256_buf(x.buf ? x.buf : "", x.buf_len, got, err) < 0)
    r = -1;
  if (r == 0 && (strcmp(got, d->digest) != 0 || (int64_t)x.buf_len != d->size))
    r = cut_error(err, 0, "size %zu, digest %s: does not match the descriptor (size %lld)",
                  x.buf_len, got, (long long)d->size);
  if (r < 0) {
    cut_wrap(err, "blob %s", d->digest);
  } else {
    *buf = x.buf;
    *len = x.buf_len;
    x.buf = NULL;
  }
  reg_xfer_cleanup(&x);
  return r;
}

/* Resolve the reference to a platform manifest: fetch it, and when it is an
 * index, select the platform and fetch that manifest by digest (one level:
 * an index inside an index is refused). */
static int
resolve(struct pull_ctx *c, const image_ref *ref, const char *platform, image_manifest *m,
        layout_desc *mdesc, char **mbuf, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "pull.resolve", TA_STR("reference", ref_reference(ref)));
  char *buf = NULL;
  size_t len = 0;
  char ctype[256], digest[CUT_DIGEST_LEN + 1];
  image_index ix = {0};
  int r = fetch_manifest(c->cl, ref_reference(ref), ref->digest[0] ? ref->digest : NULL, &buf, &len,
                         ctype, sizeof ctype, digest, err);
  if (r < 0)
    goto out;
  enum layout_kind kind = layout_media_kind(ctype);
  if (kind == LAYOUT_KIND_UNKNOWN) {
    r = cut_error(err, 0, "%s: unknown manifest media type \"%s\"", ref_reference(ref), ctype);
    goto out;
  }
  if (kind == LAYOUT_KIND_INDEX) {
    char os[32], arch[32], variant[32];
    layout_desc pick;
    if ((r = layout_parse_index(buf, len, ctype, &ix, err)) < 0 ||
        (r = layout_platform_parse(platform, os, arch, variant, err)) < 0 ||
        (r = layout_index_select(&ix, os, arch, variant, &pick, err)) < 0)
      goto out;
    trace_event("pull.platform", TA_STR("index", digest), TA_STR("manifest", pick.digest),
                TA_STR("platform", platform ? platform : "default"));
    if (layout_media_kind(pick.media_type) != LAYOUT_KIND_MANIFEST) {
      r = cut_error(err, 0, "index %s: entry %s is not an image manifest (%s)", digest, pick.digest,
                    pick.media_type);
      goto out;
    }
    free(buf);
    buf = NULL;
    if ((r = fetch_manifest(c->cl, pick.digest, pick.digest, &buf, &len, ctype, sizeof ctype,
                            digest, err)) < 0)
      goto out;
    if (layout_media_kind(ctype) != LAYOUT_KIND_MANIFEST) {
      r = cut_error(err, 0, "manifest %s: media type \"%s\" is not an image manifest", pick.digest,
                    ctype);
      goto out;
    }
  }
  if ((r = layout_parse_manifest(buf, len, ctype, m, err)) < 0)
    goto out;
  memset(mdesc, 0, sizeof *mdesc);
  snprintf(mdesc->media_type, sizeof mdesc->media_type, "%s", ctype);
  snprintf(mdesc->digest, sizeof mdesc->digest, "%s", digest);
  mdesc->size = (int64_t)len;
  /* The manifest is stored last, once everything it names is there. */
  *mbuf = buf;
  buf = NULL;
out:
  layout_index_free(&ix);
  free(buf);
  trace_end_rc(&sp, r, err);
  return r;
}

/* ---- downloads -------------------------------------------------------- */

/* Write what the buffer holds to the temp file (hashing it on the way)
 * and tell the feeder there is more to read. */
static int
flush_job(struct layer_job *j, cut_err *err)
{
  if (j->wlen == 0)
    return 0;
  if (layout_ingest_write(&j->w, j->wbuf, j->wlen, err) < 0)
    return -1; /* too many bytes: the writer refuses past the expected size */
  pthread_mutex_lock(&j->ctx->mu);
  j->avail += j->wlen;
  pthread_cond_broadcast(&j->ctx->cond);
  pthread_mutex_unlock(&j->ctx->mu);
  j->wlen = 0;
  return 0;
}

static size_t
layer_sink(const void *data, size_t len, void *arg)
{
  struct layer_job *j = arg;
  cut_err e;
  if (j->desc.size >= 0 && j->w.bytes + j->wlen + len > (uint64_t)j->desc.size) {
    j->x.too_big = true; /* past the descriptor's size: stop at the first byte too many */
    return 0;
  }
  if (j->wlen + len > WRITE_BEHIND && flush_job(j, &e) < 0)
    return 0;
  if (len >= WRITE_BEHIND) {
    if (layout_ingest_write(&j->w, data, len, &e) < 0)
      return 0;
    pthread_mutex_lock(&j->ctx->mu);
    j->avail += len;
    pthread_cond_broadcast(&j->ctx->cond);
    pthread_mutex_unlock(&j->ctx->mu);
  } else {
    memcpy(j->wbuf + j->wlen, data, len);
    j->wlen += len;
  }
  progress_bytes(&j->ctx->prog, j->prog, j->w.bytes + j->wlen);
  return len;
}

static int
start_download(struct pull_ctx *c, struct layer_job *j, CURLM *multi, cut_err *err)
{
  if (!j->wbuf && !(j->wbuf = malloc(WRITE_BEHIND)))
    return cut_error(err, ENOMEM, "blob %s", j->desc.digest);
  if (layout_ingest_begin(c->l, &j->w, j->desc.size, err) < 0)
    return cut_wrap(err, "blob %s", j->desc.digest);
  char path[1024];
  snprintf(path, sizeof path, "/v2/%s/blobs/%s", reg_client_repo(c->cl), j->desc.digest);
  reg_xfer_init(&j->x, c->cl, "GET", path);
  snprintf(j->first_url, sizeof j->first_url, "%s", j->x.url);
  j->attempt = 1;
  j->x.sink = layer_sink;
  j->x.sink_arg = j;
  j->x.max_body = (size_t)j->desc.size;
  j->x_live = true;
  if (c->have_fetch) {
    memcpy(j->x.parent_tp, c->fetch_tp, sizeof c->fetch_tp);
    j->x.have_parent = true;
  }
  /* The writer's fd is write-only: reopen the same inode for reading, so
   * the feeder keeps it even after the commit renames the file. */
  char fdp[32];
  cut_fd_path(j->w.fd, fdp);
  int rfd = open(fdp, O_RDONLY | O_CLOEXEC);
  if (rfd < 0)
    return cut_error(err, errno, "reopen ingest file");
  pthread_mutex_lock(&c->mu);
  j->read_fd = rfd;
  j->started = true;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
  progress_state(&c->prog, j->prog, "Downloading");
  if (reg_xfer_setup(&j->x, err) < 0)
    return -1;
  curl_multi_add_handle(multi, j->x.easy);
  return 0;
}

static void
mark_ended(struct pull_ctx *c, struct layer_job *j, bool ok)
{
  pthread_mutex_lock(&c->mu);
  j->ended = true;
  if (ok)
    j->committed = true;
  else
    j->failed = true;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* Verify and commit one blob: digest and size checked, fsync, rename into
 * blobs/ (layout_ingest_commit).  Runs in a thread of its own so that the
 * fsync of one blob overlaps the download of the others instead of
 * stalling the curl loop; the blob is still verified AND durable before
 * it becomes visible. */
static void *
commit_main(void *arg)
{
  struct layer_job *j = arg;
  struct pull_ctx *c = j->ctx;
  progress_state(&c->prog, j->prog, "Verifying Checksum");
  trace_span sp;
  trace_begin_remote(&sp, TRACE_INTERNAL, "content.verify", c->have_fetch ? c->fetch_tp : NULL,
                     TA_STR("digest", j->desc.digest), TA_INT("size", j->desc.size),
                     TA_INT("received", j->w.bytes));
  int r = layout_ingest_commit(&j->w, j->desc.digest, j->desc.size, &j->commit_err);
  trace_end_rc(&sp, r, &j->commit_err);
  if (r < 0) {
    cut_wrap(&j->commit_err, "blob %s", j->desc.digest);
    mark_ended(c, j, false);
    progress_state(&c->prog, j->prog, "Failed");
    ctx_abort(c);
  } else {
    mark_ended(c, j, true);
    progress_state(&c->prog, j->prog, "Download complete");
  }
  return NULL;
}

static uint64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The connection was cut or stalled: ask again from the first byte we do
 * not have ("Range: bytes=N-").  What arrived so far is already in the
 * temp file and in the running sha256, so the hash continues where it
 * stopped; the digest check at the end covers every byte either way. */
static int
schedule_resume(struct pull_ctx *c, struct layer_job *j, CURLcode code, cut_err *err)
{
  const char *why = j->x.stalled       ? "stalled"
                    : code == CURLE_OK ? "server error"
                                       : curl_easy_strerror(code);
  if (flush_job(j, err) < 0)
    return -1;
  uint64_t have = j->w.bytes;
  trace_event("pull.retry", TA_STR("digest", j->desc.digest), TA_INT("attempt", j->attempt + 1),
              TA_INT("offset", have), TA_STR("reason", why), TA_INT("status", j->x.status));
  progress_state(&c->prog, j->prog, "Retrying");
  j->retry_at = now_ns() + (uint64_t)reg_backoff_ms(j->attempt) * 1000000ull;
  j->attempt++;
  snprintf(j->x.url, sizeof j->x.url, "%s", j->first_url);
  j->x.redirects = 0;
  j->x.cross_host = false;
  j->x.range_from = have;
  cut_err_clear(err);
  return 0;
}

/* Start the transfers whose retry time has come. */
static int
start_due_retries(struct pull_ctx *c, CURLM *multi, cut_err *err)
{
  uint64_t now = now_ns();
  for (size_t i = 0; i < c->n; i++) {
    struct layer_job *j = &c->jobs[i];
    if (!j->retry_at || j->retry_at > now)
      continue;
    j->retry_at = 0;
    if (reg_xfer_setup(&j->x, err) < 0)
      return cut_wrap(err, "blob %s", j->desc.digest);
    progress_state(&c->prog, j->prog, "Downloading");
    curl_multi_add_handle(multi, j->x.easy);
  }
  return 0;
}

/* A transfer finished: hand it to a committer thread, retry it (redirect,
 * auth, a cut connection), or fail naming the blob. */
static int
complete_download(struct pull_ctx *c, struct layer_job *j, CURLM *multi, CURLcode code,
                  cut_err *err)
{
  curl_multi_remove_handle(multi, j->x.easy);
  bool again = j->attempt < REG_MAX_ATTEMPTS && reg_xfer_retryable(&j->x, code);
  int r = reg_xfer_finish(&j->x, code, err);
  if ((r < 0 || (r == 0 && j->x.status >= 500) || (r == 0 && j->x.status == 429)) && again) {
    if (schedule_resume(c, j, code, err) < 0)
      return -1;
    return 1;
  }
  if (r < 0 && j->attempt > 1)
    cut_wrap(err, "after %d attempts", j->attempt);
  if (r == REG_RETRY) {
    if (reg_xfer_setup(&j->x, err) < 0)
      return -1;
    curl_multi_add_handle(multi, j->x.easy);
    return 1;
  }
  if (r == 0 && j->x.status != 200 && j->x.status != 206)
    r = reg_status_error(&j->x, "blob", err);
  if (r == 0)
    r = flush_job(j, err);
  if (r == 0) {
    pthread_mutex_lock(&c->mu);
    j->ended = true; /* the feeder may drain the temp file now */
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    if ((errno = pthread_create(&j->committer, NULL, commit_main, j)) == 0) {
      j->committing = true;
      return 0;
    }
    cut_error(err, errno, "start commit thread");
  } else if (j->x.too_big) {
    cut_error(err, EFBIG, "registry sent more than the %lld bytes (size) the descriptor says",
              (long long)j->desc.size);
  }
  layout_ingest_abort(&j->w);
  cut_wrap(err, "blob %s", j->desc.digest);
  mark_ended(c, j, false);
  progress_state(&c->prog, j->prog, "Failed");
  return -1;
}

/* Wait for every committer; the first failure (in layer order) is the
 * pull's error unless one is already set. */
static int
join_committers(struct pull_ctx *c, int r, cut_err *err)
{
  for (size_t i = 0; i < c->n; i++) {
    struct layer_job *j = &c->jobs[i];
    if (!j->committing)
      continue;
    pthread_join(j->committer, NULL);
    j->committing = false;
    if (j->failed && j->commit_err.msg[0] && (r == 0 || err->errnum == ECANCELED)) {
      *err = j->commit_err;
      r = -1;
    }
  }
  return r;
}

static int
download_all(struct pull_ctx *c, cut_err *err)
{
  trace_span sp;
  uint64_t total = 0;
  size_t todo = 0;
  for (size_t i = 0; i < c->n; i++)
    if (!c->jobs[i].exists) {
      total += (uint64_t)c->jobs[i].desc.size;
      todo++;
    }
  trace_begin(&sp, TRACE_INTERNAL, "pull.fetch", TA_INT("layers", c->n), TA_INT("to_fetch", todo),
              TA_INT("bytes", total));
  c->have_fetch = trace_traceparent(&sp, c->fetch_tp);
  CURLM *multi = curl_multi_init();
  int maxp = c->o->max_parallel > 0 ? c->o->max_parallel : 6;
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)maxp);
  size_t next = 0, active = 0;
  int r = 0;
  for (;;) {
    while (r == 0 && active < (size_t)maxp && next < c->n) {
      struct layer_job *j = &c->jobs[next++];
      if (j->exists)
        continue;
      if (start_download(c, j, multi, err) < 0) {
        r = -1;
        mark_ended(c, j, false);
        break;
      }
      active++;
    }
    if (r < 0 || (active == 0 && next >= c->n))
      break;
    if (start_due_retries(c, multi, err) < 0) {
      r = -1;
      break;
    }
    int running;
    curl_multi_perform(multi, &running);
    CURLMsg *msg;
    int left;
    while (r == 0 && (msg = curl_multi_info_read(multi, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      reg_xfer *x;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      struct layer_job *j = x->sink_arg;
      int d = complete_download(c, j, multi, msg->data.result, err);
      if (d < 0)
        r = -1;
      else if (d == 0)
        active--;
    }
    pthread_mutex_lock(&c->mu);
    bool aborted = c->abort;
    pthread_mutex_unlock(&c->mu);
    if (r < 0 || aborted) {
      if (r == 0)
        r = cut_error(err, ECANCELED, "pull cancelled");
      break;
    }
    progress_draw(&c->prog, false);
    /* Nothing left to start or wait for: no last poll timeout. */
    if (active == 0 && next >= c->n)
      break;
    curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  /* On failure: stop every transfer still running; their temp files go. */
  for (size_t i = 0; i < c->n; i++) {
    struct layer_job *j = &c->jobs[i];
    if (j->x_live) {
      if (j->x.easy)
        curl_multi_remove_handle(multi, j->x.easy);
      if (!j->ended) {
        layout_ingest_abort(&j->w);
        mark_ended(c, j, false);
      }
      reg_xfer_cleanup(&j->x);
      j->x_live = false;
    }
  }
  curl_multi_cleanup(multi);
  r = join_committers(c, r, err);
  trace_end_rc(&sp, r, err);
  if (r < 0)
    ctx_abort(c);
  return r;
}

/* ---- streaming unpack ------------------------------------------------- */

struct feeder {
  struct layer_job *j;
  int pipe_w;
};

static int
write_all(int fd, const char *buf, size_t n)
{
  while (n) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Tail the blob being downloaded into the pipe. */
static void *
feeder_main(void *arg)
{
  struct feeder *f = arg;
  struct layer_job *j = f->j;
  struct pull_ctx *c = j->ctx;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE); /* a reader that stopped early gives EPIPE, not death */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  char *buf = malloc(FEED_CHUNK);
  uint64_t off = 0;
  for (; buf;) {
    pthread_mutex_lock(&c->mu);
    while (off == j->avail && !j->ended && !c->abort)
      pthread_cond_wait(&c->cond, &c->mu);
    uint64_t avail = j->avail;
    bool stop = c->abort || j->failed;
    bool ended = j->ended;
    pthread_mutex_unlock(&c->mu);
    if (stop)
      break;
    bool broken = false;
    while (off < avail) {
      size_t want = avail - off > FEED_CHUNK ? FEED_CHUNK : (size_t)(avail - off);
      ssize_t n = pread(j->read_fd, buf, want, (off_t)off);
      if (n <= 0 || write_all(f->pipe_w, buf, (size_t)n) < 0) {
        broken = true;
        break;
      }
      off += (uint64_t)n;
    }
    if (broken || (ended && off == avail))
      break;
  }
  free(buf);
  close(f->pipe_w);
  return NULL;
}

static void
unpack_fail(struct pull_ctx *c, const cut_err *e)
{
  pthread_mutex_lock(&c->mu);
  if (!c->unpack_failed) {
    c->unpack_failed = true;
    c->unpack_err = *e;
  }
  c->abort = true;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->mu);
}

/* Extract one layer into target_fd, from the layout or from the download. */
static int
unpack_job(struct layer_job *j, int target_fd, const unpack_opts *uo, cut_err *err)
{
  struct pull_ctx *c = j->ctx;
  pthread_mutex_lock(&c->mu);
  while (!j->exists && !j->started && !c->abort)
    pthread_cond_wait(&c->cond, &c->mu);
  bool from_store = j->exists || j->committed;
  bool aborted = c->abort;
  pthread_mutex_unlock(&c->mu);
  if (aborted)
    return cut_error(err, ECANCELED, "cancelled");
  progress_state(&c->prog, j->prog, "Extracting");
  int r;
  if (from_store) {
    char path[PATH_MAX];
    if (layout_blob_path(c->l, j->desc.digest, path, sizeof path, err) < 0)
      return -1;
    return unpack_layer_file(path, target_fd, uo, &j->st, err);
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return cut_error(err, errno, "pipe");
  fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer wakeups; best effort */
  struct feeder f = {.j = j, .pipe_w = p[1]};
  pthread_t t;
  if ((errno = pthread_create(&t, NULL, feeder_main, &f)) != 0) {
    close(p[0]);
    close(p[1]);
    return cut_error(err, errno, "pthread_create");
  }
  r = unpack_layer_fd(p[0], target_fd, uo, &j->st, err);
  close(p[0]); /* a feeder still writing gets EPIPE and stops */
  pthread_join(t, NULL);
  /* The layer counts only once its compressed digest verified too; and
   * when extraction failed, a failed verification is the truer cause (a
   * tampered blob first shows up as a corrupt gzip stream), so wait for
   * the download's verdict either way. */
  pthread_mutex_lock(&c->mu);
  while (!j->committed && !j->failed && !(c->abort && j->ended))
    pthread_cond_wait(&c->cond, &c->mu);
  bool ok = j->committed;
  pthread_mutex_unlock(&c->mu);
  if (r == 0 && !ok)
    r = cut_error(err, 0, "download failed");
  return r;
}

static void
unpack_opts_for(const struct layer_job *j, enum unpack_mode mode, unpack_opts *uo)
{
  memset(uo, 0, sizeof *uo);
  uo->mode = mode;
  uo->media_type = j->desc.media_type;
  uo->diff_id = j->diff_id;
  uo->digest = j->desc.digest;
  uo->no_sync = j->ctx->o->no_sync;
  uo->overlay_xattr_prefix = j->ctx->o->overlay_xattr_prefix;
}

static void
begin_thread_span(struct pull_ctx *c, trace_span *sp, const char *name)
{
  if (c->have_parent)
    trace_begin_remote(sp, TRACE_INTERNAL, name, c->parent_tp);
  else
    trace_begin(sp, TRACE_INTERNAL, name);
}

/* Flattened rootfs: layers strictly in order, one over the other. */
static void *
unpack_flat_main(void *arg)
{
  struct pull_ctx *c = arg;
  trace_span sp;
  begin_thread_span(c, &sp, "image.unpack");
  cut_err e;
  int r = 0;
  for (size_t i = 0; i < c->n && r == 0; i++) {
    struct layer_job *j = &c->jobs[i];
    unpack_opts uo;
    unpack_opts_for(j, UNPACK_FLATTEN, &uo);
    r = unpack_job(j, c->target_fd, &uo, &e);
    if (r < 0) {
      cut_wrap(&e, "layer %zu (%s)", i + 1, j->desc.digest);
      unpack_fail(c, &e);
    } else {
      progress_state(&c->prog, j->prog, "Pull complete");
    }
  }
  trace_end_rc(&sp, r, &e);
  return NULL;
}

/* One directory per layer: independent, so every layer runs at once. */
static void *
unpack_layer_main(void *arg)
{
  struct layer_job *j = arg;
  struct pull_ctx *c = j->ctx;
  trace_span sp;
  begin_thread_span(c, &sp, "image.unpack");
  cut_err e;
  int r = 0;
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/.partial-%.12s-XXXXXX", c->o->layers_dir,
           cut_digest_hex(j->diff_id));
  int fd = -1;
  if (!mkdtemp(tmp)) {
    r = cut_error(&e, errno, "mkdtemp %s", tmp);
    tmp[0] = '\0';
  } else if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    r = cut_error(&e, errno, "open %s", tmp);
  }
  unpack_opts uo;
  unpack_opts_for(j, UNPACK_OVERLAY, &uo);
  if (r == 0)
    r = unpack_job(j, fd, &uo, &e);
  if (fd >= 0)
    close(fd);
  if (r == 0 && rename(tmp, j->dir) < 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) { /* another pull made it first */
      cut_err ignore;
      cut_rm_rf(tmp, &ignore);
    } else {
      r = cut_error(&e, errno, "rename %s", j->dir);
    }
  }
  if (r < 0) {
    cut_err ignore;
    if (tmp[0])
      cut_rm_rf(tmp, &ignore);
    cut_wrap(&e, "layer %zu (%s)", j->index + 1, j->desc.digest);
    unpack_fail(c, &e);
  } else {
    progress_state(&c->prog, j->prog, "Pull complete");
  }
  trace_end_rc(&sp, r, &e);
  return NULL;
}

/* ---- the whole pull --------------------------------------------------- */

/* The flattened rootfs is built next to its final place, then renamed. */
static int
prepare_unpack_dir(const char *dir, char *tmp, size_t size, cut_err *err)
{
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return cut_error(err, ENOTDIR, "%s", dir);
    if (rmdir(dir) < 0 && errno != ENOENT)
      return cut_error(err, errno, "unpack target %s must be empty or absent", dir);
  }
  if (snprintf(tmp, size, "%s.partial-XXXXXX", dir) >= (int)size)
    return cut_error(err, ENAMETOOLONG, "%s", dir);
  if (!mkdtemp(tmp))
    return cut_error(err, errno, "mkdtemp %s", tmp);
  return 0;
}

static int
pull_locked(struct pull_ctx *c, const image_ref *ref, image_pull_result *res, cut_err *err)
{
  const image_pull_opts *o = c->o;
  image_manifest m = {0};
  image_config cfg = {0};
  layout_desc mdesc;
  char *mbuf = NULL;
  char *cbuf = NULL;
  size_t clen = 0;
  pthread_t *threads = NULL;
  size_t n_threads = 0;
  char tmp_root[PATH_MAX] = "";
  int r;

  reg_client_opts co = {
      .insecure = o->insecure, .certs_dir = o->certs_dir, .stall_timeout = o->stall_timeout};
  if (reg_client_open(ref, &co, &c->cl, err) < 0)
    return -1;
  char name[600];
  progress_msg(&c->prog, "%s: Pulling from %s", ref_reference(ref),
               ref_name(ref, name, sizeof name));
  if ((r = resolve(c, ref, o->platform, &m, &mdesc, &mbuf, err)) < 0)
    goto out;
  /* Every layer type must be one we can use, before a byte is fetched. */
  for (size_t i = 0; i < m.n_layers; i++)
    if (unpack_media_compression(m.layers[i].media_type) == UNPACK_UNSUPPORTED) {
      r = cut_error(err, 0, "layer %s: unsupported media type \"%s\"", m.layers[i].digest,
                    m.layers[i].media_type);
      goto out;
    }
  if (layout_has_blob(c->l, m.config.digest)) {
    r = layout_read_blob(c->l, m.config.digest, LAYOUT_JSON_MAX, &cbuf, &clen, err);
  } else {
    r = fetch_small_blob(c->cl, &m.config, &cbuf, &clen, err);
  }
  if (r < 0 || (r = layout_parse_config(cbuf, clen, &cfg, err)) < 0)
    goto out;
  if (cfg.n_diff_ids != m.n_layers) {
    r = cut_error(err, 0, "config %s has %zu diff_ids for %zu layers", m.config.digest,
                  cfg.n_diff_ids, m.n_layers);
    goto out;
  }

  c->n = m.n_layers;
  c->jobs = calloc(c->n ? c->n : 1, sizeof *c->jobs);
  for (size_t i = 0; i < c->n; i++) {
    struct layer_job *j = &c->jobs[i];
    j->ctx = c;
    j->index = i;
    j->desc = m.layers[i];
    j->diff_id = cfg.diff_ids[i];
    j->read_fd = -1;
    j->exists = layout_has_blob(c->l, j->desc.digest);
    if (o->layers_dir) {
      snprintf(j->dir, sizeof j->dir, "%s/%s", o->layers_dir, cut_digest_hex(j->diff_id));
      struct stat st;
      j->dir_exists = stat(j->dir, &st) == 0;
    }
    j->prog = progress_add(&c->prog, j->desc.digest, j->exists ? "Already exists" : "Waiting",
                           (uint64_t)j->desc.size);
  }
  progress_draw(&c->prog, true);

  /* Unpackers start now and wait for their layer's first bytes. */
  if (o->unpack_dir) {
    if ((r = prepare_unpack_dir(o->unpack_dir, tmp_root, sizeof tmp_root, err)) < 0)
      goto out;
    c->target_fd = open(tmp_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    threads = calloc(1, sizeof *threads);
    if (pthread_create(&threads[0], NULL, unpack_flat_main, c) == 0)
      n_threads = 1;
  } else if (o->layers_dir) {
    if ((r = cut_mkdir_p(o->layers_dir, 0755, err)) < 0)
      goto out;
    threads = calloc(c->n ? c->n : 1, sizeof *threads);
    for (size_t i = 0; i < c->n; i++)
      if (!c->jobs[i].dir_exists &&
          pthread_create(&threads[n_threads], NULL, unpack_layer_main, &c->jobs[i]) == 0)
        n_threads++;
  }

  r = download_all(c, err);
  for (size_t i = 0; i < n_threads; i++)
    pthread_join(threads[i], NULL);
  /* An unpack failure stops the downloads ("cancelled"): then it is the
   * cause to report; a download that failed on its own comes first. */
  if (c->unpack_failed && (r == 0 || err->errnum == ECANCELED)) {
    *err = c->unpack_err;
    r = -1;
  }
  if (r < 0)
    goto out;
  for (size_t i = 0; i < c->n; i++)
    res->bytes_downloaded += c->jobs[i].exists ? 0 : (uint64_t)c->jobs[i].desc.size;

  if (o->unpack_dir) {
    close(c->target_fd);
    c->target_fd = -1;
    if (rename(tmp_root, o->unpack_dir) < 0) {
      r = cut_error(err, errno, "rename %s to %s", tmp_root, o->unpack_dir);
      goto out;
    }
    tmp_root[0] = '\0';
  }

  /* Last: the manifest, then the name.  Until here a failed pull left
   * nothing that a tag or a manifest points at. */
  char full[600];
  ref_string(ref, full, sizeof full);
  if ((r = store_blob(c->l, cbuf, clen, m.config.digest, err)) < 0 ||
      (r = store_blob(c->l, mbuf, (size_t)mdesc.size, mdesc.digest, err)) < 0 ||
      (r = layout_tag(c->l, full, &mdesc, err)) < 0)
    goto out;
  snprintf(res->ref, sizeof res->ref, "%s", full);
  snprintf(res->manifest_digest, sizeof res->manifest_digest, "%s", mdesc.digest);
  snprintf(res->config_digest, sizeof res->config_digest, "%s", m.config.digest);
  res->n_layers = c->n;
  res->diff_ids = calloc(c->n ? c->n : 1, sizeof *res->diff_ids);
  for (size_t i = 0; i < c->n; i++)
    snprintf(res->diff_ids[i], sizeof res->diff_ids[i], "%s", cfg.diff_ids[i]);
  if (o->layers_dir) {
    res->layer_dirs = calloc(c->n ? c->n : 1, sizeof *res->layer_dirs);
    for (size_t i = 0; i < c->n; i++)
      res->layer_dirs[i] = strdup(c->jobs[i].dir);
  }
out:
  if (c->target_fd >= 0) {
    close(c->target_fd);
    c->target_fd = -1;
  }
  if (tmp_root[0]) {
    cut_err ignore;
    cut_rm_rf(tmp_root, &ignore);
  }
  for (size_t i = 0; c->jobs && i < c->n; i++) {
    if (c->jobs[i].read_fd >= 0)
      close(c->jobs[i].read_fd);
    free(c->jobs[i].wbuf);
  }
  free(threads);
  free(mbuf);
  free(cbuf);
  layout_config_free(&cfg);
  layout_manifest_free(&m);
  reg_client_free(c->cl);
  c->cl = NULL;
  return r;
}

int
image_pull(const image_pull_opts *o, const char *refstr, image_pull_result *res, cut_err *err)
{
  memset(res, 0, sizeof *res);
  image_ref ref;
  if (ref_parse(refstr, &ref, err) < 0)
    return -1;
  char full[600];
  ref_string(&ref, full, sizeof full);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "image.pull", TA_STR("ref", full),
              TA_STR("platform", o->platform ? o->platform : "default"),
              TA_BOOL("unpack", o->unpack_dir || o->layers_dir));
  struct pull_ctx c = {.o = o, .target_fd = -1};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cond, NULL);
  c.have_parent = trace_traceparent(&sp, c.parent_tp);
  progress_init(&c.prog, stderr, o->quiet || !o->progress);
  layout l;
  int r = layout_open(&l, o->layout_dir, true, err);
  if (r == 0) {
    c.l = &l;
    /* Shared lock for the whole pull: a concurrent `rm` cannot collect the
     * blobs committed here before the tag makes them reachable. */
    r = layout_lock(&l, false, err);
    if (r == 0)
      r = pull_locked(&c, &ref, res, err);
    layout_unlock(&l);
    layout_close(&l);
  }
  if (r == 0) {
    progress_msg(&c.prog, "Digest: %s", res->manifest_digest);
    progress_msg(&c.prog, "Status: Downloaded image for %s", res->ref);
  } else {
    cut_wrap(err, "pull %s", full);
  }
  progress_free(&c.prog);
  free(c.jobs);
  pthread_cond_destroy(&c.cond);
  pthread_mutex_destroy(&c.mu);
  trace_end_rc(&sp, r, err);
  return r;
}

void
image_pull_result_free(image_pull_result *res)
{
  free(res->diff_ids);
  for (size_t i = 0; res->layer_dirs && i < res->n_layers; i++)
    free(res->layer_dirs[i]);
  free(res->layer_dirs);
  memset(res, 0, sizeof *res);
}
