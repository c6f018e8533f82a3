/* unpack.h: apply an image layer (a tar, gzip'ed, zstd'ed or plain) to a
 * directory, safely and fast.
 *
 * Mirrors what containerd's archive.Apply and moby's pkg/archive do when a
 * layer becomes part of a rootfs, with the lessons of their CVEs built in
 * (security-catalogue.md §3 L1-L11): every entry's parent is resolved inside
 * the target as if it were "/" (openat2 RESOLVE_IN_ROOT, or a walk that
 * never follows a symlink out), and the entry is created with *at()
 * syscalls relative to that parent fd, never by path.  libarchive only
 * decodes; it never writes to disk.
 *
 * Each call runs three short-lived helper threads (one inflating and
 * hashing, two allocating O_TMPFILE inodes ahead of the extraction) and
 * joins them before it returns; it is safe to call from several threads
 * at once on different targets.
 *
 * The compression is detected from the first bytes (gzip 1f 8b, zstd
 * 28 b5 2f fd, else plain tar); a media type that says otherwise is an
 * error.  The uncompressed stream is hashed as it is decoded and compared
 * with the config's diff_id.
 *
 * Two modes:
 *  - UNPACK_FLATTEN: layers applied one over the other in one directory; OCI
 *    whiteouts (.wh.NAME, .wh..wh..opq) delete from the layers below.
 *  - UNPACK_OVERLAY: each layer in its own directory for overlayfs (stage 3
 *    snapshots); whiteouts become overlay's own form: a 0/0 character device
 *    for .wh.NAME, the xattr trusted.overlay.opaque=y for .wh..wh..opq. */
#ifndef CUTAWAY_REG_UNPACK_H
#define CUTAWAY_REG_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum unpack_mode { UNPACK_FLATTEN, UNPACK_OVERLAY };

typedef struct unpack_opts {
  enum unpack_mode mode;
  const char *media_type;           /* descriptor's, may be NULL (detect only) */
  const char *diff_id;              /* expected uncompressed digest, may be NULL */
  const char *digest;               /* the layer's (compressed) digest, for spans and errors */
  uint64_t max_bytes;               /* uncompressed cap, 0: UNPACK_DEFAULT_MAX_BYTES */
  uint64_t max_ratio;               /* uncompressed/compressed cap, 0: default */
  bool no_sync;                     /* skip the final syncfs (tests, benchmarks) */
  const char *overlay_xattr_prefix; /* "trusted.overlay." (default) or "user.overlay." */
} unpack_opts;

#define UNPACK_DEFAULT_MAX_BYTES (64ull << 30) /* 64 GiB */
#define UNPACK_DEFAULT_MAX_RATIO 2000ull       /* gzip cannot exceed ~1032 */
#define UNPACK_RATIO_GRACE (64ull << 20)       /* ratio checked beyond 64 MiB */
#define UNPACK_MAX_PATH 4095                   /* bytes in an entry's path */
#define UNPACK_MAX_DEPTH 256                   /* components in an entry's path */

typedef struct unpack_stats {
  uint64_t files;            /* entries created (all types) */
  uint64_t bytes;            /* uncompressed tar bytes */
  uint64_t compressed_bytes; /* bytes read from the input */
  uint64_t whiteouts;        /* whiteouts and opaque markers applied */
  uint64_t skipped;          /* entries skipped (devices without privilege, aufs metadata) */
  uint64_t xattrs_dropped;   /* xattrs outside the allowlist */
  char diff_id[72];          /* the computed uncompressed digest */
} unpack_stats;

/* Apply the layer read from fd (a blob file or the read end of a pipe fed
 * by a download) into the directory target_fd.  Emits an "unpack.layer"
 * span.  On error the target may hold part of the layer: callers unpack
 * into a directory they discard on failure. */
int unpack_layer_fd(int fd, int target_fd, const unpack_opts *opts, unpack_stats *stats,
                    cut_err *err);

/* The same from a file path (a blob in a layout). */
int unpack_layer_file(const char *path, int target_fd, const unpack_opts *opts, unpack_stats *stats,
                      cut_err *err);

/* Compression by magic: the first bytes of a layer. */
enum unpack_compression { UNPACK_PLAIN, UNPACK_GZIP, UNPACK_ZSTD, UNPACK_UNSUPPORTED };
enum unpack_compression unpack_detect(const unsigned char *buf, size_t len);
/* What a layer media type claims (UNPACK_UNSUPPORTED when it is not a
 * layer type we know, e.g. foreign or encrypted). */
enum unpack_compression unpack_media_compression(const char *media_type);

/* Lexically clean a tar entry path into out: strip leading "/" and "./",
 * drop "." components, apply ".." ; a path climbing above the root is an
 * error.  "" means the root itself. */
int unpack_clean_path(const char *in, char *out, size_t size, cut_err *err);

#endif
