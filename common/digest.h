/* digest.h: streaming sha256 (OpenSSL EVP) and OCI digest strings.
 *
 * Content-addressed storage (the registry, the image layout, containerd's
 * content store) names every blob "sha256:<64 lowercase hex>".  A digest
 * string from the outside is validated before it is ever used to build a
 * path (CVE-2024-3727: "sha256:../../etc"). */
#ifndef CUTAWAY_DIGEST_H
#define CUTAWAY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CUT_DIGEST_LEN 71 /* "sha256:" + 64 hex */

typedef struct cut_sha256 {
  void *ctx; /* EVP_MD_CTX */
  uint64_t bytes;
} cut_sha256;

int cut_sha256_init(cut_sha256 *h, cut_err *err);
void cut_sha256_update(cut_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" (72 bytes with NUL) and frees the context. */
void cut_sha256_final(cut_sha256 *h, char out[CUT_DIGEST_LEN + 1]);
/* Frees the context without a result (error paths). */
void cut_sha256_abort(cut_sha256 *h);

/* One-shot helpers. */
int cut_sha256_buf(const void *data, size_t len, char out[CUT_DIGEST_LEN + 1], cut_err *err);
int cut_sha256_file(const char *path, char out[CUT_DIGEST_LEN + 1], uint64_t *size, cut_err *err);

/* True for exactly "sha256:" followed by 64 lowercase hex digits. */
bool cut_digest_valid(const char *digest);

/* The hex part of a valid digest (the part after "sha256:"). */
const char *cut_digest_hex(const char *digest);

#endif
