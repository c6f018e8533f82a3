/* push.h: upload an image from the OCI layout to a registry.
 *
 * The distribution API's upload protocol, as `docker push` drives it:
 *   HEAD  /v2/<name>/blobs/<digest>            skip what the registry has
 *   POST  /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>
 *                                              cross-repository mount (201)
 *   POST  /v2/<name>/blobs/uploads/            start an upload (202 + Location)
 *   PUT   <location>&digest=<digest>           monolithic: the whole blob
 *   PATCH <location> (Content-Range)           chunked: one chunk per PATCH,
 *   PUT   <location>&digest=<digest>           then close the upload
 *   PUT   /v2/<name>/manifests/<tag>           last, once every blob is there
 * The blobs of one manifest are pushed in parallel (curl multi, 5 at once).
 */
#ifndef CUTAWAY_REG_PUSH_H
#define CUTAWAY_REG_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

typedef struct image_push_opts {
  const char *layout_dir;
  const char *const *insecure;
  const char *certs_dir;
  bool quiet;
  bool progress;
  uint64_t chunk_size; /* > 0: blobs larger than this go up in PATCH chunks */
} image_push_opts;

typedef struct image_push_result {
  char ref[600];
  char digest[CUT_DIGEST_LEN + 1]; /* of the manifest pushed */
  unsigned uploaded, skipped, mounted;
} image_push_result;

/* Push the image tagged src in the layout to dest (NULL: the same name). */
int image_push(const image_push_opts *opts, const char *src, const char *dest,
               image_push_result *res, cut_err *err);

#endif
