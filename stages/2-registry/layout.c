/* layout.c: the OCI image layout as a content store (see layout.h).
 *
 * The model is containerd's local content store (plugins/content/local):
 * writers stream into ingest/, commit verifies then renames, and readers only
 * ever see blobs/ - so a blob is either complete and verified or absent. */
#include "layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fileutil.h"
#include "json.h"
#include "trace.h"

#define INDEX_MAX (20u << 20) /* containerd's cap for an imported index */
#define INGEST_DIR "ingest"
#define BLOB_DIR "blobs/sha256"

/* ---- open / close ------------------------------------------------------ */

static int
write_if_missing(int dirfd, const char *root, const char *name, const char *content, cut_err *err)
{
  if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, name);
  return cut_write_file_atomic(path, content, strlen(content), 0644, err);
}

/* Remove ingest temp files whose writer is gone.  A live writer holds an
 * exclusive flock on its file, so LOCK_NB failing means "still in use". */
static void
clean_ingest(layout *l)
{
  int fd = openat(l->dirfd, INGEST_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    int f = openat(fd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (f < 0)
      continue;
    if (flock(f, LOCK_EX | LOCK_NB) == 0)
      unlinkat(fd, de->d_name, 0);
    close(f);
  }
  closedir(d);
}

int
layout_open(layout *l, const char *dir, bool create, cut_err *err)
{
  l->root = NULL;
  l->dirfd = -1;
  l->lock_mode = 0;
  if (create) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/" BLOB_DIR, dir) >= (int)sizeof p)
      return cut_error(err, ENAMETOOLONG, "layout %s", dir);
    if (cut_mkdir_p(p, 0755, err) < 0)
      return cut_wrap(err, "layout %s", dir);
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "layout %s", dir);
  if (create) {
    if (mkdirat(fd, INGEST_DIR, 0700) < 0 && errno != EEXIST) {
      int e = errno;
      close(fd);
      return cut_error(err, e, "layout %s: mkdir ingest", dir);
    }
    if (write_if_missing(fd, dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}\n", err) < 0 ||
        write_if_missing(fd, dir, "index.json",
                         "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
                         "\",\"manifests\":[]}\n",
                         err) < 0) {
      close(fd);
      return cut_wrap(err, "layout %s", dir);
    }
  } else if (faccessat(fd, "oci-layout", F_OK, 0) < 0 || faccessat(fd, "index.json", F_OK, 0) < 0) {
    close(fd);
    return cut_error(err, ENOENT, "%s is not an OCI image layout (no oci-layout or index.json)",
                     dir);
  }
  l->root = strdup(dir);
  l->dirfd = fd;
  clean_ingest(l);
  return 0;
}

void
layout_close(layout *l)
{
  if (l->dirfd >= 0)
    close(l->dirfd);
  free(l->root);
  l->root = NULL;
  l->dirfd = -1;
}

/* ---- locking ----------------------------------------------------------- */

int
layout_lock(layout *l, bool exclusive, cut_err *err)
{
  int want = exclusive ? 2 : 1;
  if (l->lock_mode >= want)
    return 0;
  while (flock(l->dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
    if (errno != EINTR)
      return cut_error(err, errno, "lock layout %s", l->root);
  }
  l->lock_mode = want;
  return 0;
}

void
layout_unlock(layout *l)
{
  flock(l->dirfd, LOCK_UN);
  l->lock_mode = 0;
}

/* Take the exclusive lock for one update and give back what was held. */
static int
lock_update(layout *l, int *prev, cut_err *err)
{
  *prev = l->lock_mode;
  return layout_lock(l, true, err);
}

static void
unlock_update(layout *l, int prev)
{
  if (prev == 2)
    return;
  if (prev == 1) {
    flock(l->dirfd, LOCK_SH); /* convert back down */
    l->lock_mode = 1;
  } else {
    layout_unlock(l);
  }
}

/* ---- blobs ------------------------------------------------------------- */

int
layout_blob_path(layout *l, const char *digest, char *out, size_t size, cut_err *err)
{
  if (!cut_digest_valid(digest))
    return cut_error(err, EINVAL, "invalid digest \"%.80s\"", digest ? digest : "");
  if (snprintf(out, size, "%s/" BLOB_DIR "/%s", l->root, cut_digest_hex(digest)) >= (int)size)
    return cut_error(err, ENAMETOOLONG, "blob %s", digest);
  return 0;
}

static void
blob_rel(const char *digest, char out[96])
{
  snprintf(out, 96, BLOB_DIR "/%s", cut_digest_hex(digest));
}

bool
layout_has_blob(layout *l, const char *digest)
{
  if (!cut_digest_valid(digest))
    return false;
  char rel[96];
  blob_rel(digest, rel);
  struct stat st;
  return fstatat(l->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int
layout_open_blob(layout *l, const char *digest, int64_t *size, cut_err *err)
{
  if (!cut_digest_valid(digest))
    return cut_error(err, EINVAL, "invalid digest \"%.80s\"", digest ? digest : "");
  char rel[96];
  blob_rel(digest, rel);
  int fd = openat(l->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "blob %s", digest);
  if (size) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
      int e = errno;
      close(fd);
      return cut_error(err, e, "blob %s", digest);
    }
    *size = st.st_size;
  }
  return fd;
}

int
layout_read_blob(layout *l, const char *digest, size_t max, char **out, size_t *len, cut_err *err)
{
  char path[PATH_MAX];
  if (layout_blob_path(l, digest, path, sizeof path, err) < 0)
    return -1;
  char *buf;
  size_t n;
  if (cut_read_file(path, max, &buf, &n, err) < 0)
    return cut_wrap(err, "blob %s", digest);
  char got[CUT_DIGEST_LEN + 1];
  if (cut_sha256_buf(buf, n, got, err) < 0) {
    free(buf);
    return -1;
  }
  if (strcmp(got, digest) != 0) {
    free(buf);
    return cut_error(err, EBADMSG, "blob %s: content does not match its digest (got %s)", digest,
                     got);
  }
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int
layout_ingest_begin(layout *l, layout_writer *w, int64_t expected_size, cut_err *err)
{
  static unsigned counter;
  memset(w, 0, sizeof *w);
  w->l = l;
  w->fd = -1;
  w->limit = expected_size;
  if (mkdirat(l->dirfd, INGEST_DIR, 0700) < 0 && errno != EEXIST)
    return cut_error(err, errno, "layout %s: mkdir ingest", l->root);
  for (int attempt = 0; attempt < 100; attempt++) {
    unsigned rnd = 0;
    int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (ufd >= 0) {
      if (read(ufd, &rnd, sizeof rnd) < 0)
        rnd = 0;
      close(ufd);
    }
    snprintf(w->tmp_name, sizeof w->tmp_name, "%d-%u-%08x.tmp", (int)getpid(), counter++, rnd);
    char rel[96];
    snprintf(rel, sizeof rel, INGEST_DIR "/%s", w->tmp_name);
    int fd = openat(l->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0)
      return cut_error(err, errno, "layout %s: create ingest file", l->root);
    /* A cleaner (layout_open in another process) may have locked and
     * unlinked the new name before this flock: then start over. */
    struct stat st;
    if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
      close(fd);
      continue;
    }
    w->fd = fd;
    if (cut_sha256_init(&w->hash, err) < 0) {
      layout_ingest_abort(w);
      return -1;
    }
    return 0;
  }
  return cut_error(err, EEXIST, "layout %s: no free ingest name", l->root);
}

int
layout_ingest_write(layout_writer *w, const void *data, size_t len, cut_err *err)
{
  if (w->fd < 0)
    return cut_error(err, EBADF, "ingest: writer is closed");
  if (w->limit >= 0 && w->bytes + len > (uint64_t)w->limit)
    return cut_error(err, EFBIG, "blob larger than the expected %lld bytes", (long long)w->limit);
  cut_sha256_update(&w->hash, data, len);
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(w->fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cut_error(err, errno, "ingest: write");
    p += n;
    len -= (size_t)n;
    w->bytes += (uint64_t)n;
  }
  return 0;
}

void
layout_ingest_abort(layout_writer *w)
{
  if (w->fd < 0)
    return;
  char rel[96];
  snprintf(rel, sizeof rel, INGEST_DIR "/%s", w->tmp_name);
  unlinkat(w->l->dirfd, rel, 0);
  close(w->fd);
  w->fd = -1;
  if (w->hash.ctx)
    cut_sha256_abort(&w->hash);
}

static int
commit_verified(layout_writer *w, const char *digest, int64_t size, cut_err *err)
{
  if (!cut_digest_valid(digest))
    return cut_error(err, EINVAL, "commit: invalid digest \"%.80s\"", digest ? digest : "");
  char got[CUT_DIGEST_LEN + 1];
  cut_sha256_final(&w->hash, got);
  if (size >= 0 && w->bytes != (uint64_t)size)
    return cut_error(err, EBADMSG, "blob %s: size mismatch: got %llu bytes, expected %lld", digest,
                     (unsigned long long)w->bytes, (long long)size);
  if (strcmp(got, digest) != 0)
    return cut_error(err, EBADMSG, "blob %s: digest mismatch: content hashes to %s", digest, got);
  if (fsync(w->fd) < 0)
    return cut_error(err, errno, "blob %s: fsync", digest);
  char from[96], to[96];
  snprintf(from, sizeof from, INGEST_DIR "/%s", w->tmp_name);
  blob_rel(digest, to);
  if (mkdirat(w->l->dirfd, "blobs", 0755) < 0 && errno != EEXIST)
    return cut_error(err, errno, "blob %s: mkdir blobs", digest);
  if (mkdirat(w->l->dirfd, BLOB_DIR, 0755) < 0 && errno != EEXIST)
    return cut_error(err, errno, "blob %s: mkdir blobs/sha256", digest);
  /* rename(2) replaces atomically: if another writer committed the same
   * blob first, its (identical, verified) bytes are swapped for ours. */
  if (renameat(w->l->dirfd, from, w->l->dirfd, to) < 0)
    return cut_error(err, errno, "blob %s: rename into blobs", digest);
  int dfd = openat(w->l->dirfd, BLOB_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

int
layout_ingest_commit(layout_writer *w, const char *digest, int64_t size, cut_err *err)
{
  if (w->fd < 0)
    return cut_error(err, EBADF, "commit: writer is closed");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "content.commit", TA_STR("digest", digest ? digest : ""),
              TA_INT("size", w->bytes), TA_INT("expected_size", size));
  int r = commit_verified(w, digest, size, err);
  if (r < 0) {
    layout_ingest_abort(w); /* removes the temp: nothing becomes visible */
  } else {
    close(w->fd);
    w->fd = -1;
  }
  trace_end(&sp, r < 0 ? err : NULL, TA_BOOL("verified", r == 0));
  return r;
}

int
layout_ingest_commit_local(layout_writer *w, char out_digest[CUT_DIGEST_LEN + 1], int64_t *size,
                           cut_err *err)
{
  if (w->fd < 0)
    return cut_error(err, EBADF, "commit: writer is closed");
  /* Hash a copy of the running context: commit_verified finalises the
   * original, and both must agree. */
  EVP_MD_CTX *copy = EVP_MD_CTX_new();
  if (copy == NULL || EVP_MD_CTX_copy_ex(copy, w->hash.ctx) != 1) {
    EVP_MD_CTX_free(copy);
    layout_ingest_abort(w);
    return cut_error(err, ENOMEM, "commit: hash");
  }
  cut_sha256 h = {.ctx = copy, .bytes = w->bytes};
  cut_sha256_final(&h, out_digest);
  *size = (int64_t)w->bytes;
  return layout_ingest_commit(w, out_digest, *size, err);
}

int
layout_put_blob(layout *l, const void *data, size_t len, char out_digest[CUT_DIGEST_LEN + 1],
                cut_err *err)
{
  if (cut_sha256_buf(data, len, out_digest, err) < 0)
    return -1;
  if (layout_has_blob(l, out_digest))
    return 0;
  layout_writer w;
  if (layout_ingest_begin(l, &w, (int64_t)len, err) < 0)
    return -1;
  if (layout_ingest_write(&w, data, len, err) < 0) {
    layout_ingest_abort(&w);
    return -1;
  }
  return layout_ingest_commit(&w, out_digest, (int64_t)len, err);
}

/* ---- descriptors ------------------------------------------------------- */

static void
copy_str(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

int
layout_desc_from_json(const cJSON *obj, const char *path, layout_desc *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  if (!cJSON_IsObject(obj))
    return cut_error(err, EINVAL, "%s: expected a descriptor object", path);
  const char *mt = NULL, *dg = NULL;
  int64_t size = -1;
  if (json_get_string(obj, "mediaType", path, false, &mt, err) < 0 ||
      json_get_string(obj, "digest", path, true, &dg, err) < 0 ||
      json_get_int64(obj, "size", path, true, &size, err) < 0)
    return -1;
  if (!cut_digest_valid(dg))
    return cut_error(err, EINVAL, "%s.digest: invalid digest \"%.80s\"", path, dg);
  if (size < 0)
    return cut_error(err, EINVAL, "%s.size: negative size %lld", path, (long long)size);
  if (mt && strlen(mt) >= sizeof out->media_type)
    return cut_error(err, EINVAL, "%s.mediaType: too long", path);
  copy_str(out->media_type, sizeof out->media_type, mt);
  copy_str(out->digest, sizeof out->digest, dg);
  out->size = size;
  const cJSON *plat = NULL;
  if (json_get_object(obj, "platform", path, false, &plat, err) < 0)
    return -1;
  if (plat) {
    const char *os = NULL, *arch = NULL, *var = NULL;
    if (json_get_string(plat, "os", "platform", false, &os, err) < 0 ||
        json_get_string(plat, "architecture", "platform", false, &arch, err) < 0 ||
        json_get_string(plat, "variant", "platform", false, &var, err) < 0)
      return cut_wrap(err, "%s", path);
    copy_str(out->os, sizeof out->os, os);
    copy_str(out->arch, sizeof out->arch, arch);
    copy_str(out->variant, sizeof out->variant, var);
  }
  return 0;
}

cJSON *
layout_desc_to_json(const layout_desc *d)
{
  cJSON *o = cJSON_CreateObject();
  if (d->media_type[0])
    cJSON_AddStringToObject(o, "mediaType", d->media_type);
  cJSON_AddStringToObject(o, "digest", d->digest);
  cJSON_AddNumberToObject(o, "size", (double)d->size);
  if (d->os[0] || d->arch[0]) {
    cJSON *p = cJSON_AddObjectToObject(o, "platform");
    cJSON_AddStringToObject(p, "architecture", d->arch);
    cJSON_AddStringToObject(p, "os", d->os);
    if (d->variant[0])
      cJSON_AddStringToObject(p, "variant", d->variant);
  }
  return o;
}

/* ---- index.json -------------------------------------------------------- */

static int
index_read(layout *l, cJSON **out, cut_err *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/index.json", l->root);
  if (json_read_file(path, INDEX_MAX, out, err) < 0)
    return -1;
  const cJSON *arr = NULL;
  if (!cJSON_IsObject(*out) ||
      json_get_array(*out, "manifests", "index.json", false, &arr, err) < 0) {
    cJSON_Delete(*out);
    return cut_error(err, EINVAL, "%s: not an image index", path);
  }
  if (arr == NULL)
    cJSON_AddItemToObject(*out, "manifests", cJSON_CreateArray());
  return 0;
}

static int
index_write(layout *l, const cJSON *doc, cut_err *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/index.json", l->root);
  return json_write_file(path, doc, false, err);
}

static const char *
entry_ref(const cJSON *entry)
{
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(entry, "annotations");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(ann, LAYOUT_REF_ANNOTATION);
  return cJSON_IsString(name) ? name->valuestring : NULL;
}

/* Remove every entry named ref; returns how many were removed. */
static int
index_drop_ref(cJSON *manifests, const char *ref)
{
  int removed = 0;
  cJSON *e = manifests->child;
  while (e) {
    cJSON *next = e->next;
    const char *name = entry_ref(e);
    if (name && strcmp(name, ref) == 0) {
      cJSON_Delete(cJSON_DetachItemViaPointer(manifests, e));
      removed++;
    }
    e = next;
  }
  return removed;
}

int
layout_tag(layout *l, const char *ref, const layout_desc *d, cut_err *err)
{
  if (ref == NULL || ref[0] == '\0' || strlen(ref) > 1024)
    return cut_error(err, EINVAL, "tag: invalid reference");
  if (!cut_digest_valid(d->digest))
    return cut_error(err, EINVAL, "tag %s: invalid digest", ref);
  int prev;
  if (lock_update(l, &prev, err) < 0)
    return -1;
  cJSON *doc = NULL;
  int r = index_read(l, &doc, err);
  if (r == 0) {
    cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
    index_drop_ref(manifests, ref);
    cJSON *e = layout_desc_to_json(d);
    cJSON *ann = cJSON_AddObjectToObject(e, "annotations");
    cJSON_AddStringToObject(ann, LAYOUT_REF_ANNOTATION, ref);
    cJSON_AddItemToArray(manifests, e);
    r = index_write(l, doc, err);
  }
  cJSON_Delete(doc);
  unlock_update(l, prev);
  return r < 0 ? cut_wrap(err, "tag %s", ref) : 0;
}

int
layout_untag(layout *l, const char *ref, cut_err *err)
{
  int prev;
  if (lock_update(l, &prev, err) < 0)
    return -1;
  cJSON *doc = NULL;
  int r = index_read(l, &doc, err);
  if (r == 0) {
    cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
    if (index_drop_ref(manifests, ref) == 0)
      r = cut_error(err, ENOENT, "image %s not found", ref);
    else
      r = index_write(l, doc, err);
  }
  cJSON_Delete(doc);
  unlock_update(l, prev);
  return r;
}

int
layout_resolve(layout *l, const char *ref, layout_desc *out, cut_err *err)
{
  cJSON *doc = NULL;
  if (index_read(l, &doc, err) < 0)
    return -1;
  const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
  const cJSON *e;
  int r = cut_error(err, ENOENT, "image %s not found", ref);
  cJSON_ArrayForEach(e, manifests)
  {
    const char *name = entry_ref(e);
    if (name && strcmp(name, ref) == 0) {
      r = layout_desc_from_json(e, "index.json", out, err);
      break;
    }
  }
  cJSON_Delete(doc);
  return r;
}

int
layout_list(layout *l, layout_entry **out, size_t *count, cut_err *err)
{
  cJSON *doc = NULL;
  if (index_read(l, &doc, err) < 0)
    return -1;
  const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
  size_t n = (size_t)cJSON_GetArraySize(manifests), k = 0;
  layout_entry *list = calloc(n ? n : 1, sizeof *list);
  const cJSON *e;
  cJSON_ArrayForEach(e, manifests)
  {
    const char *name = entry_ref(e);
    if (layout_desc_from_json(e, "index.json", &list[k].desc, err) < 0) {
      layout_list_free(list, k);
      cJSON_Delete(doc);
      return -1;
    }
    list[k++].ref = strdup(name ? name : "");
  }
  cJSON_Delete(doc);
  *out = list;
  *count = k;
  return 0;
}

void
layout_list_free(layout_entry *list, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free(list[i].ref);
  free(list);
}

/* ---- GC ---------------------------------------------------------------- */

struct digest_set {
  char (*d)[CUT_DIGEST_LEN + 1];
  size_t n, cap;
};

static bool
set_has(const struct digest_set *s, const char *dg)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->d[i], dg) == 0)
      return true;
  return false;
}

static void
set_add(struct digest_set *s, const char *dg)
{
  if (set_has(s, dg))
    return;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->d = realloc(s->d, s->cap * sizeof *s->d);
  }
  snprintf(s->d[s->n++], CUT_DIGEST_LEN + 1, "%s", dg);
}

/* Mark a descriptor and, for manifests and indexes, everything below it.
 * A blob that is missing or does not parse is kept but not descended. */
static void
mark(layout *l, const layout_desc *d, struct digest_set *s, int depth)
{
  if (set_has(s, d->digest))
    return;
  set_add(s, d->digest);
  if (depth > 4 || !layout_has_blob(l, d->digest))
    return;
  char *buf;
  size_t len;
  cut_err e;
  if (layout_read_blob(l, d->digest, LAYOUT_JSON_MAX, &buf, &len, &e) < 0)
    return;
  image_index ix;
  image_manifest m;
  enum layout_kind kind = layout_media_kind(d->media_type);
  if (kind == LAYOUT_KIND_UNKNOWN) {
    cJSON *doc = cJSON_ParseWithLength(buf, len);
    if (cJSON_GetObjectItemCaseSensitive(doc, "manifests"))
      kind = LAYOUT_KIND_INDEX;
    else if (cJSON_GetObjectItemCaseSensitive(doc, "layers"))
      kind = LAYOUT_KIND_MANIFEST;
    cJSON_Delete(doc);
  }
  if (kind == LAYOUT_KIND_INDEX && layout_parse_index(buf, len, NULL, &ix, &e) == 0) {
    for (size_t i = 0; i < ix.n_manifests; i++)
      mark(l, &ix.manifests[i], s, depth + 1);
    layout_index_free(&ix);
  } else if (kind == LAYOUT_KIND_MANIFEST && layout_parse_manifest(buf, len, NULL, &m, &e) == 0) {
    set_add(s, m.config.digest);
    for (size_t i = 0; i < m.n_layers; i++)
      set_add(s, m.layers[i].digest);
    layout_manifest_free(&m);
  }
  free(buf);
}

static int
gc_locked(layout *l, layout_gc_stats *stats, cut_err *err)
{
  layout_entry *list;
  size_t n;
  if (layout_list(l, &list, &n, err) < 0)
    return -1;
  struct digest_set keep = {0};
  for (size_t i = 0; i < n; i++)
    mark(l, &list[i].desc, &keep, 0);
  layout_list_free(list, n);
  int dfd = openat(l->dirfd, BLOB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    free(keep.d);
    return errno == ENOENT ? 0 : cut_error(err, errno, "gc: open blobs");
  }
  DIR *d = fdopendir(dfd);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    char dg[CUT_DIGEST_LEN + 8];
    if (strlen(de->d_name) != 64)
      continue;
    memcpy(dg, "sha256:", 7);
    memcpy(dg + 7, de->d_name, 65);
    if (!cut_digest_valid(dg) || set_has(&keep, dg))
      continue;
    struct stat st;
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        unlinkat(dfd, de->d_name, 0) == 0) {
      stats->removed++;
      stats->bytes += (uint64_t)st.st_size;
    }
  }
  if (d)
    closedir(d);
  else
    close(dfd);
  free(keep.d);
  return 0;
}

int
layout_gc(layout *l, layout_gc_stats *stats, cut_err *err)
{
  memset(stats, 0, sizeof *stats);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "content.gc", TA_STR("layout", l->root));
  int prev;
  int r = lock_update(l, &prev, err);
  if (r == 0) {
    r = gc_locked(l, stats, err);
    unlock_update(l, prev);
  }
  trace_end(&sp, r < 0 ? err : NULL, TA_INT("removed", stats->removed),
            TA_INT("bytes", stats->bytes));
  return r;
}

/* ---- manifests, indexes, configs --------------------------------------- */

enum layout_kind
layout_media_kind(const char *mt)
{
  if (mt == NULL)
    return LAYOUT_KIND_UNKNOWN;
  if (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)
    return LAYOUT_KIND_INDEX;
  if (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0)
    return LAYOUT_KIND_MANIFEST;
  return LAYOUT_KIND_UNKNOWN;
}

/* Shared checks of a manifest or index document; *doc owns the tree. */
static int
parse_doc(const char *buf, size_t len, const char *media_type, enum layout_kind want,
          const char *what, cJSON **doc, cut_err *err)
{
  if (len > LAYOUT_JSON_MAX)
    return cut_error(err, EFBIG, "%s larger than %u bytes", what, LAYOUT_JSON_MAX);
  if (json_parse(buf, len, what, doc, err) < 0)
    return -1;
  int64_t schema = 0;
  const char *mt = NULL;
  if (!cJSON_IsObject(*doc)) {
    cut_error(err, EINVAL, "%s: not a JSON object", what);
    goto fail;
  }
  if (json_get_int64(*doc, "schemaVersion", what, false, &schema, err) < 0 ||
      json_get_string(*doc, "mediaType", what, false, &mt, err) < 0)
    goto fail;
  if (schema == 1 ||
      (media_type && strncmp(media_type, MT_DOCKER_SCHEMA1, strlen(MT_DOCKER_SCHEMA1)) == 0)) {
    cut_error(err, ENOTSUP, "%s: Docker schema 1 manifests are not supported", what);
    goto fail;
  }
  if (schema != 2) {
    cut_error(err, EINVAL, "%s: schemaVersion %lld, expected 2", what, (long long)schema);
    goto fail;
  }
  if (mt && media_type && media_type[0] && strcmp(mt, media_type) != 0) {
    cut_error(err, EINVAL, "%s: mediaType %s does not match %s", what, mt, media_type);
    goto fail;
  }
  if (cJSON_GetObjectItemCaseSensitive(*doc, "manifests") &&
      (cJSON_GetObjectItemCaseSensitive(*doc, "layers") ||
       cJSON_GetObjectItemCaseSensitive(*doc, "config"))) {
    cut_error(err, EINVAL, "%s: ambiguous document with both manifests and layers", what);
    goto fail;
  }
  const char *kind_mt = mt ? mt : media_type;
  enum layout_kind kind = layout_media_kind(kind_mt);
  if (kind_mt && kind_mt[0] && kind == LAYOUT_KIND_UNKNOWN) {
    cut_error(err, ENOTSUP, "%s: unsupported media type %s", what, kind_mt);
    goto fail;
  }
  if (kind != LAYOUT_KIND_UNKNOWN && kind != want) {
    cut_error(err, EINVAL, "%s: media type %s is not %s", what, kind_mt,
              want == LAYOUT_KIND_INDEX ? "an index" : "a manifest");
    goto fail;
  }
  return 0;
fail:
  cJSON_Delete(*doc);
  *doc = NULL;
  return -1;
}

static int
parse_desc_array(const cJSON *arr, const char *what, layout_desc **out, size_t *n, cut_err *err)
{
  size_t count = (size_t)cJSON_GetArraySize(arr);
  layout_desc *v = calloc(count ? count : 1, sizeof *v);
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, arr)
  {
    char path[64];
    snprintf(path, sizeof path, "%s[%zu]", what, i);
    if (layout_desc_from_json(e, path, &v[i], err) < 0) {
      free(v);
      return -1;
    }
    i++;
  }
  *out = v;
  *n = i;
  return 0;
}

int
layout_parse_manifest(const char *buf, size_t len, const char *media_type, image_manifest *out,
                      cut_err *err)
{
  memset(out, 0, sizeof *out);
  cJSON *doc;
  if (parse_doc(buf, len, media_type, LAYOUT_KIND_MANIFEST, "manifest", &doc, err) < 0)
    return -1;
  const cJSON *cfg = NULL, *layers = NULL;
  const char *mt = NULL;
  int r = -1;
  if (json_get_object(doc, "config", "manifest", true, &cfg, err) < 0 ||
      json_get_array(doc, "layers", "manifest", true, &layers, err) < 0 ||
      json_get_string(doc, "mediaType", "manifest", false, &mt, err) < 0)
    goto out;
  if (layout_desc_from_json(cfg, "manifest.config", &out->config, err) < 0 ||
      parse_desc_array(layers, "manifest.layers", &out->layers, &out->n_layers, err) < 0)
    goto out;
  copy_str(out->media_type, sizeof out->media_type,
           mt ? mt : (media_type && media_type[0] ? media_type : MT_OCI_MANIFEST));
  r = 0;
out:
  cJSON_Delete(doc);
  return r;
}

int
layout_parse_index(const char *buf, size_t len, const char *media_type, image_index *out,
                   cut_err *err)
{
  memset(out, 0, sizeof *out);
  cJSON *doc;
  if (parse_doc(buf, len, media_type, LAYOUT_KIND_INDEX, "index", &doc, err) < 0)
    return -1;
  const cJSON *arr = NULL;
  int r = -1;
  if (json_get_array(doc, "manifests", "index", true, &arr, err) == 0 &&
      parse_desc_array(arr, "index.manifests", &out->manifests, &out->n_manifests, err) == 0)
    r = 0;
  cJSON_Delete(doc);
  return r;
}

int
layout_parse_config(const char *buf, size_t len, image_config *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  if (len > LAYOUT_JSON_MAX)
    return cut_error(err, EFBIG, "config larger than %u bytes", LAYOUT_JSON_MAX);
  if (json_parse(buf, len, "config", &out->doc, err) < 0)
    return -1;
  const char *os = NULL, *arch = NULL, *var = NULL, *type = NULL;
  const cJSON *rootfs = NULL, *ids = NULL;
  if (!cJSON_IsObject(out->doc)) {
    cut_error(err, EINVAL, "config: not a JSON object");
    goto fail;
  }
  if (json_get_string(out->doc, "os", "config", false, &os, err) < 0 ||
      json_get_string(out->doc, "architecture", "config", false, &arch, err) < 0 ||
      json_get_string(out->doc, "variant", "config", false, &var, err) < 0 ||
      json_get_object(out->doc, "rootfs", "config", true, &rootfs, err) < 0 ||
      json_get_string(rootfs, "type", "config.rootfs", true, &type, err) < 0 ||
      json_get_array(rootfs, "diff_ids", "config.rootfs", true, &ids, err) < 0 ||
      json_string_array(ids, "config.rootfs.diff_ids", &out->diff_ids, &out->n_diff_ids, err) < 0)
    goto fail;
  if (strcmp(type, "layers") != 0) {
    cut_error(err, EINVAL, "config.rootfs.type: \"%s\", expected \"layers\"", type);
    goto fail;
  }
  for (size_t i = 0; i < out->n_diff_ids; i++)
    if (!cut_digest_valid(out->diff_ids[i])) {
      cut_error(err, EINVAL, "config.rootfs.diff_ids[%zu]: invalid digest \"%.80s\"", i,
                out->diff_ids[i]);
      goto fail;
    }
  copy_str(out->os, sizeof out->os, os);
  copy_str(out->arch, sizeof out->arch, arch);
  copy_str(out->variant, sizeof out->variant, var);
  return 0;
fail:
  layout_config_free(out);
  return -1;
}

void
layout_manifest_free(image_manifest *m)
{
  free(m->layers);
  m->layers = NULL;
  m->n_layers = 0;
}

void
layout_index_free(image_index *ix)
{
  free(ix->manifests);
  ix->manifests = NULL;
  ix->n_manifests = 0;
}

void
layout_config_free(image_config *c)
{
  free(c->diff_ids);
  c->diff_ids = NULL;
  c->n_diff_ids = 0;
  cJSON_Delete(c->doc);
  c->doc = NULL;
}

/* Go's GOARCH names, which image platforms use. */
static const char *
machine_arch(void)
{
  struct utsname u;
  if (uname(&u) < 0)
    return "amd64";
  static const struct {
    const char *uname, *goarch;
  } map[] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},  {"i686", "386"},
             {"i386", "386"},     {"armv7l", "arm"},     {"ppc64le", "ppc64le"},
             {"s390x", "s390x"},  {"riscv64", "riscv64"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(u.machine, map[i].uname) == 0)
      return map[i].goarch;
  return "amd64";
}

int
layout_platform_parse(const char *s, char os[32], char arch[32], char variant[32], cut_err *err)
{
  variant[0] = '\0';
  if (s == NULL || s[0] == '\0') {
    snprintf(os, 32, "linux");
    snprintf(arch, 32, "%s", machine_arch());
    return 0;
  }
  char buf[100];
  if (strlen(s) >= sizeof buf)
    return cut_error(err, EINVAL, "invalid platform \"%.40s...\"", s);
  snprintf(buf, sizeof buf, "%s", s);
  char *a = strchr(buf, '/');
  if (a == NULL || a == buf || a[1] == '\0')
    return cut_error(err, EINVAL, "invalid platform \"%s\": expected OS/ARCH[/VARIANT]", s);
  *a++ = '\0';
  char *v = strchr(a, '/');
  if (v)
    *v++ = '\0';
  if (strlen(buf) >= 32 || strlen(a) >= 32 || (v && (strlen(v) >= 32 || !*v || strchr(v, '/'))))
    return cut_error(err, EINVAL, "invalid platform \"%s\"", s);
  snprintf(os, 32, "%s", buf);
  snprintf(arch, 32, "%s", a);
  if (v)
    snprintf(variant, 32, "%s", v);
  return 0;
}

int
layout_index_select(const image_index *ix, const char *os, const char *arch, const char *variant,
                    layout_desc *out, cut_err *err)
{
  for (size_t i = 0; i < ix->n_manifests; i++) {
    const layout_desc *d = &ix->manifests[i];
    if (strcmp(d->os, os) != 0 || strcmp(d->arch, arch) != 0)
      continue;
    if (variant && variant[0] && strcmp(d->variant, variant) != 0)
      continue;
    if (layout_media_kind(d->media_type) != LAYOUT_KIND_MANIFEST)
      continue; /* an index inside an index is not followed (depth limit) */
    *out = *d;
    return 0;
  }
  return cut_error(err, ENOENT, "no manifest for %s/%s%s%s in the index", os, arch,
                   variant && variant[0] ? "/" : "", variant ? variant : "");
}

int
layout_load_image(layout *l, const layout_desc *top, const char *platform, layout_desc *mdesc,
                  image_manifest *m, image_config *cfg, cut_err *err)
{
  char os[32], arch[32], variant[32];
  if (layout_platform_parse(platform, os, arch, variant, err) < 0)
    return -1;
  layout_desc md = *top;
  char *buf = NULL;
  size_t len = 0;
  if (layout_read_blob(l, md.digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0)
    return -1;
  enum layout_kind kind = layout_media_kind(md.media_type);
  if (kind == LAYOUT_KIND_UNKNOWN) {
    /* A descriptor without mediaType: look inside. */
    cJSON *doc = cJSON_ParseWithLength(buf, len);
    kind = cJSON_GetObjectItemCaseSensitive(doc, "manifests") ? LAYOUT_KIND_INDEX
                                                              : LAYOUT_KIND_MANIFEST;
    cJSON_Delete(doc);
  }
  if (kind == LAYOUT_KIND_INDEX) {
    image_index ix;
    int r = layout_parse_index(buf, len, md.media_type[0] ? md.media_type : NULL, &ix, err);
    free(buf);
    buf = NULL;
    if (r == 0) {
      r = layout_index_select(&ix, os, arch, variant, &md, err);
      layout_index_free(&ix);
    }
    if (r < 0 || layout_read_blob(l, md.digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0)
      return -1;
  }
  int r = layout_parse_manifest(buf, len, md.media_type[0] ? md.media_type : NULL, m, err);
  free(buf);
  if (r < 0)
    return cut_wrap(err, "%s", md.digest);
  if (layout_read_blob(l, m->config.digest, LAYOUT_JSON_MAX, &buf, &len, err) < 0) {
    layout_manifest_free(m);
    return -1;
  }
  r = layout_parse_config(buf, len, cfg, err);
  free(buf);
  if (r == 0 && cfg->n_diff_ids != m->n_layers) {
    r = cut_error(err, EINVAL, "image %s: %zu layers but %zu diff_ids in the config", md.digest,
                  m->n_layers, cfg->n_diff_ids);
    layout_config_free(cfg);
  }
  if (r < 0) {
    layout_manifest_free(m);
    return cut_wrap(err, "config %s", m->config.digest);
  }
  if (mdesc)
    *mdesc = md;
  return 0;
}
