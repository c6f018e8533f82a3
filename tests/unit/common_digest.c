/* common_digest.c: streaming sha256 and digest validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "tap.h"

int
main(void)
{
  char one[CUT_DIGEST_LEN + 1], streamed[CUT_DIGEST_LEN + 1];
  cut_err e;
  cut_sha256_buf("abc", 3, one, &e);
  tap_is_str(one, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
             "sha256(abc) (FIPS 180-2 vector)");
  size_t len = 1 << 20;
  char *buf = malloc(len);
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)(i * 7 + 3);
  cut_sha256_buf(buf, len, one, &e);
  cut_sha256 h;
  cut_sha256_init(&h, &e);
  for (size_t off = 0; off < len;) {
    size_t n = 1 + (off * 31) % 9000;
    if (n > len - off)
      n = len - off;
    cut_sha256_update(&h, buf + off, n);
    off += n;
  }
  tap_is_int(h.bytes, len, "byte count");
  cut_sha256_final(&h, streamed);
  tap_is_str(streamed, one, "streaming in odd chunks equals one-shot");
  char path[] = "/tmp/cutaway-digest.XXXXXX";
  int fd = mkstemp(path);
  tap_ok(fd >= 0 && write(fd, buf, len) == (ssize_t)len, "temp file");
  close(fd);
  uint64_t size = 0;
  tap_ok(cut_sha256_file(path, streamed, &size, &e) == 0 && strcmp(streamed, one) == 0 &&
             size == len,
         "file digest equals buffer digest");
  unlink(path);
  tap_is_int(cut_sha256_file(path, streamed, &size, &e), -1, "missing file is an error");
  free(buf);
  tap_ok(cut_digest_valid(one), "valid digest");
  tap_is_str(cut_digest_hex(one), one + 7, "hex part");
  char up[CUT_DIGEST_LEN + 1];
  strcpy(up, one);
  up[10] = 'A';
  static const char *const bad[] = {
      "sha256:../../etc/passwd",
      "sha256:abc",
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:",
      "",
      "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
      NULL};
  tap_ok(!cut_digest_valid(up), "uppercase hex refused");
  for (int i = 0; bad[i]; i++)
    tap_ok(!cut_digest_valid(bad[i]), "refused: '%s'", bad[i]);
  tap_ok(!cut_digest_valid(NULL), "NULL refused");
  return tap_done();
}
