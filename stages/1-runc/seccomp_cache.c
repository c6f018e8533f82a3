/* seccomp_cache.c: see seccomp_cache.h.  Mirrors crun's seccomp cache
 * (src/libcrun/seccomp.c keeps "<state>/.cache/seccomp/<checksum>"); runc
 * compiles the profile on every start. */
#include "seccomp_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnv.h"
#include "log.h"
#include "trace.h"

#define CACHE_MAGIC "CUTSCMP2"

/* The file: this header, then ident_len bytes of identity, then `len`
 * struct sock_filter, nothing else. */
struct cache_header {
  char magic[8];
  uint64_t checksum;       /* FNV-1a 64 of identity and program: torn or rotten files */
  uint32_t flags;          /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  int32_t rules, skipped;  /* for the seccomp.load span */
  uint32_t len;            /* instructions */
  uint32_t ident_len;      /* bytes of identity */
  char default_action[40]; /* NUL-terminated */
};

/* Docker's profile is ~15 KB of JSON; a profile 64 times that is refused. */
#define CACHE_IDENT_MAX (1u << 20)
#define CACHE_FILE_MAX                                                                             \
  (sizeof(struct cache_header) + CACHE_IDENT_MAX + BPF_MAXINSNS * sizeof(struct sock_filter))

int
rc_seccomp_key_make(const cJSON *profile, rc_seccomp_key *k, cut_err *err)
{
  memset(k, 0, sizeof *k);
  const struct scmp_version *v = seccomp_version();
  char *json = cJSON_PrintUnformatted(profile);
  if (json == NULL)
    return cut_error(err, ENOMEM, "seccomp cache key");
  /* Everything besides the profile that shapes the program libseccomp
   * emits: its version, the native architecture, the kernel's API level. */
  int n =
      asprintf(&k->ident, "libseccomp %u.%u.%u\narch %u\napi %u\n%s", v ? v->major : 0,
               v ? v->minor : 0, v ? v->micro : 0, seccomp_arch_native(), seccomp_api_get(), json);
  free(json);
  if (n < 0 || (size_t)n > CACHE_IDENT_MAX) {
    if (n >= 0)
      free(k->ident);
    k->ident = NULL;
    return cut_error(err, n < 0 ? ENOMEM : EFBIG, "seccomp cache key");
  }
  k->ident_len = (size_t)n;
  /* A name, not a proof: the identity itself is compared on lookup. */
  snprintf(k->name, sizeof k->name, "%016llx",
           (unsigned long long)cut_fnv1a(CUT_FNV_START, k->ident, k->ident_len));
  return 0;
}

void
rc_seccomp_key_free(rc_seccomp_key *k)
{
  free(k->ident);
  memset(k, 0, sizeof *k);
}

int
rc_seccomp_cache_encode(const rc_seccomp_key *k, const rc_seccomp *sc, void **out, size_t *len,
                        cut_err *err)
{
  if (sc->prog == NULL || sc->len == 0 || k->ident == NULL)
    return cut_error(err, EINVAL, "seccomp cache: nothing to store");
  size_t prog_bytes = (size_t)sc->len * sizeof(struct sock_filter);
  struct cache_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
  h.flags = sc->flags;
  h.rules = sc->rules;
  h.skipped = sc->skipped;
  h.len = sc->len;
  h.ident_len = (uint32_t)k->ident_len;
  snprintf(h.default_action, sizeof h.default_action, "%s", sc->default_action);
  h.checksum = cut_fnv1a(cut_fnv1a(CUT_FNV_START, k->ident, k->ident_len), sc->prog, prog_bytes);
  char *buf = malloc(sizeof h + k->ident_len + prog_bytes);
  if (buf == NULL)
    return cut_error(err, ENOMEM, "seccomp cache");
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, k->ident, k->ident_len);
  memcpy(buf + sizeof h + k->ident_len, sc->prog, prog_bytes);
  *out = buf;
  *len = sizeof h + k->ident_len + prog_bytes;
  return 0;
}

int
rc_seccomp_cache_decode(const void *data, size_t len, const rc_seccomp_key *k, rc_seccomp *sc,
                        cut_err *err)
{
  struct cache_header h;
  const char *bytes = data;
  if (len < sizeof h)
    return cut_error(err, EINVAL, "seccomp cache: %zu bytes, shorter than a header", len);
  memcpy(&h, data, sizeof h);
  if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0)
    return cut_error(err, EINVAL, "seccomp cache: not a cutaway seccomp program");
  if (h.len == 0 || h.len > BPF_MAXINSNS || h.ident_len > CACHE_IDENT_MAX ||
      len != sizeof h + h.ident_len + (size_t)h.len * sizeof(struct sock_filter))
    return cut_error(err, EINVAL, "seccomp cache: %zu bytes do not match the header", len);
  if (memchr(h.default_action, '\0', sizeof h.default_action) == NULL)
    return cut_error(err, EINVAL, "seccomp cache: bad header");
  /* The whole identity, byte for byte: the name is only a hash. */
  if (h.ident_len != k->ident_len || memcmp(bytes + sizeof h, k->ident, k->ident_len) != 0)
    return cut_error(err, EINVAL, "seccomp cache: the program is for another profile");
  size_t prog_bytes = (size_t)h.len * sizeof(struct sock_filter);
  if (cut_fnv1a(cut_fnv1a(CUT_FNV_START, bytes + sizeof h, h.ident_len),
                bytes + sizeof h + h.ident_len, prog_bytes) != h.checksum)
    return cut_error(err, EINVAL, "seccomp cache: checksum mismatch (a damaged file)");
  struct sock_filter *prog = malloc(prog_bytes);
  if (prog == NULL)
    return cut_error(err, ENOMEM, "seccomp cache");
  memcpy(prog, bytes + sizeof h + h.ident_len, prog_bytes);
  memset(sc, 0, sizeof *sc);
  sc->prog = prog;
  sc->len = (unsigned short)h.len;
  sc->flags = h.flags;
  sc->rules = h.rules;
  sc->skipped = h.skipped;
  snprintf(sc->default_action, sizeof sc->default_action, "%s", h.default_action);
  return 0;
}

/* Ours alone: owned by our euid, writable by nobody else.  This is what
 * makes the cache as trustworthy as the state root it lives in. */
static int
check_private(int fd, bool want_dir, const char *what, cut_err *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return cut_error(err, errno, "%s", what);
  if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return cut_error(err, EINVAL, "%s: not a %s", what, want_dir ? "directory" : "regular file");
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return cut_error(err, EPERM, "%s: not owned by us alone", what);
  return 0;
}

/* The cache directory, opened and checked (created first when `create`). */
static int
open_cache_dir(const char *root, bool create, cut_err *err)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", root, RC_SECCOMP_CACHE_DIR) >= (int)sizeof path)
    return cut_error(err, ENAMETOOLONG, "seccomp cache directory");
  if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
    return cut_error(err, errno, "mkdir %s", path);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  if (check_private(fd, true, path, err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Read the file `name` in dirfd whole, after checking it is ours. */
static int
read_entry(int dirfd, const char *name, char **data, size_t *len, cut_err *err)
{
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", name);
  struct stat st;
  int r = check_private(fd, false, name, err);
  if (r == 0 && fstat(fd, &st) < 0)
    r = cut_error(err, errno, "fstat %s", name);
  if (r == 0 && (st.st_size <= 0 || (size_t)st.st_size > CACHE_FILE_MAX))
    r = cut_error(err, EINVAL, "%s: %lld bytes", name, (long long)st.st_size);
  char *buf = r == 0 ? malloc((size_t)st.st_size) : NULL;
  if (r == 0 && buf == NULL)
    r = cut_error(err, ENOMEM, "%s", name);
  if (r == 0 && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
    r = cut_error(err, EIO, "read %s", name);
  close(fd);
  if (r < 0) {
    free(buf);
    return -1;
  }
  *data = buf;
  *len = (size_t)st.st_size;
  return 0;
}

static int
lookup(const char *root, const rc_seccomp_key *k, rc_seccomp *sc, cut_err *err)
{
  int dirfd = open_cache_dir(root, false, err);
  if (dirfd < 0)
    return -1;
  char *data;
  size_t len;
  int r = read_entry(dirfd, k->name, &data, &len, err);
  close(dirfd);
  if (r < 0)
    return -1;
  r = rc_seccomp_cache_decode(data, len, k, sc, err);
  free(data);
  return r;
}

int
rc_seccomp_cache_lookup(const char *root, const rc_seccomp_key *k, rc_seccomp *sc)
{
  if (k->ident == NULL)
    return 0;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "seccomp.cache", TA_STR("key", k->name));
  cut_err err;
  if (lookup(root, k, sc, &err) < 0) {
    /* Absent is the normal miss; anything else says why it was refused. */
    bool absent = err.errnum == ENOENT;
    if (!absent)
      rc_log_debug("seccomp cache: %s", err.msg);
    trace_end(&sp, NULL, TA_STR("result", "miss"), TA_STR("reason", absent ? "absent" : err.msg));
    return 0;
  }
  trace_end(&sp, NULL, TA_STR("result", "hit"), TA_INT("instructions", sc->len));
  return 1;
}

/* A full cache starts afresh: profiles are few (Docker has one), so this
 * only happens to hosts that generate profiles, and bounds their cost. */
static void
evict_if_full(int dirfd)
{
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return;
  }
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    n += de->d_name[0] != '.';
  if (n >= RC_SECCOMP_CACHE_MAX) {
    rewinddir(d);
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        unlinkat(dirfd, de->d_name, 0);
  }
  closedir(d);
}

/* Temp file + rename: a reader sees the old file, the new one, or none. */
static int
store_bytes(const char *root, const char *name, const void *data, size_t len, cut_err *err)
{
  int dirfd = open_cache_dir(root, true, err);
  if (dirfd < 0)
    return -1;
  evict_if_full(dirfd);
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".%s.%d", name, (int)getpid());
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int r = fd < 0 ? cut_error(err, errno, "create %s", tmp) : 0;
  if (r == 0 && write(fd, data, len) != (ssize_t)len)
    r = cut_error(err, errno ? errno : EIO, "write %s", tmp);
  if (fd >= 0 && close(fd) < 0 && r == 0)
    r = cut_error(err, errno, "close %s", tmp);
  if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
    r = cut_error(err, errno, "rename %s", tmp);
  if (r < 0 && fd >= 0)
    unlinkat(dirfd, tmp, 0);
  close(dirfd);
  return r;
}

static void
store_traced(const char *root, const char *name, const void *data, size_t len, unsigned insns)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "seccomp.cache.store", TA_STR("key", name),
              TA_INT("instructions", insns));
  cut_err err;
  int r = store_bytes(root, name, data, len, &err);
  if (r < 0)
    rc_log_debug("seccomp cache: %s", err.msg);
  /* A failed store is not the command's failure: the span says so as ok. */
  trace_end(&sp, NULL, TA_BOOL("stored", r == 0));
}

void
rc_seccomp_cache_store(const char *root, const rc_seccomp_key *k, const rc_seccomp *sc)
{
  void *data;
  size_t len;
  cut_err err;
  if (rc_seccomp_cache_encode(k, sc, &data, &len, &err) < 0)
    return;
  store_traced(root, k->name, data, len, sc->len);
  free(data);
}

void
rc_seccomp_cache_hand_back(int fd, const rc_seccomp_key *k, const rc_seccomp *sc)
{
  void *data;
  size_t len;
  cut_err err;
  if (rc_seccomp_cache_encode(k, sc, &data, &len, &err) == 0) {
    /* A short write leaves a file the runtime's decode rejects. */
    if (pwrite(fd, data, len, 0) != (ssize_t)len)
      rc_log_debug("seccomp cache: hand back: %s", strerror(errno));
    free(data);
  }
  close(fd);
}

void
rc_seccomp_cache_collect(const char *root, int fd, const rc_seccomp_key *k)
{
  struct stat st;
  char *buf = NULL;
  rc_seccomp sc;
  cut_err err;
  memset(&sc, 0, sizeof sc);
  /* Empty: the init had nothing to hand back (it failed first). */
  if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= CACHE_FILE_MAX &&
      (buf = malloc((size_t)st.st_size)) != NULL &&
      pread(fd, buf, (size_t)st.st_size, 0) == st.st_size &&
      rc_seccomp_cache_decode(buf, (size_t)st.st_size, k, &sc, &err) == 0)
    store_traced(root, k->name, buf, (size_t)st.st_size, sc.len);
  rc_seccomp_free(&sc);
  free(buf);
  close(fd);
}
