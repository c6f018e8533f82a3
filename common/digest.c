/* digest.c: see digest.h. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

int
cut_sha256_init(cut_sha256 *h, cut_err *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return cut_error(err, ENOMEM, "sha256 init");
  }
  h->ctx = ctx;
  h->bytes = 0;
  return 0;
}

void
cut_sha256_update(cut_sha256 *h, const void *data, size_t len)
{
  EVP_DigestUpdate(h->ctx, data, len);
  h->bytes += len;
}

void
cut_sha256_final(cut_sha256 *h, char out[CUT_DIGEST_LEN + 1])
{
  unsigned char md[32];
  unsigned int mdlen = 0;
  static const char hex[] = "0123456789abcdef";
  EVP_DigestFinal_ex(h->ctx, md, &mdlen);
  EVP_MD_CTX_free(h->ctx);
  h->ctx = NULL;
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[8 + 2 * i] = hex[md[i] & 15];
  }
  out[CUT_DIGEST_LEN] = '\0';
}

void
cut_sha256_abort(cut_sha256 *h)
{
  EVP_MD_CTX_free(h->ctx);
  h->ctx = NULL;
}

int
cut_sha256_buf(const void *data, size_t len, char out[CUT_DIGEST_LEN + 1], cut_err *err)
{
  cut_sha256 h;
  if (cut_sha256_init(&h, err) < 0)
    return -1;
  cut_sha256_update(&h, data, len);
  cut_sha256_final(&h, out);
  return 0;
}

int
cut_sha256_file(const char *path, char out[CUT_DIGEST_LEN + 1], uint64_t *size, cut_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open %s", path);
  cut_sha256 h;
  if (cut_sha256_init(&h, err) < 0) {
    close(fd);
    return -1;
  }
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      cut_sha256_abort(&h);
      close(fd);
      return cut_error(err, e, "read %s", path);
    }
    if (r == 0)
      break;
    cut_sha256_update(&h, buf, (size_t)r);
  }
  close(fd);
  if (size)
    *size = h.bytes;
  cut_sha256_final(&h, out);
  return 0;
}

bool
cut_digest_valid(const char *digest)
{
  if (digest == NULL || strncmp(digest, "sha256:", 7) != 0)
    return false;
  const char *hex = digest + 7;
  size_t n = 0;
  for (; hex[n]; n++)
    if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f')))
      return false;
  return n == 64;
}

const char *
cut_digest_hex(const char *digest)
{
  return digest + 7;
}
