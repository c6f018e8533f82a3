/* runc_seccomp_cache.c: the seccomp cache's file format
 * (stages/1-runc/seccomp_cache.c): a program survives encode and decode
 * whole, and every kind of damaged or foreign file is refused with its
 * reason.  tests/18-runc-seccomp-cache.t covers the files on disk. */
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>

#include "stages/1-runc/seccomp.h"
#include "stages/1-runc/seccomp_cache.h"
#include "tap.h"

static const char *profile_a = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                               "[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
static const char *profile_b = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                               "[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":43}]}";

/* Decode a copy of the first cut_to of data's len bytes, with the byte at
 * flip_at changed (none when flip_at >= len): the error message, or ""
 * when it was accepted. */
static const char *
decode_damaged(const char *data, size_t len, size_t cut_to, size_t flip_at, const rc_seccomp_key *k)
{
  static cut_err err;
  char *copy = malloc(len);
  memcpy(copy, data, len);
  if (flip_at < len)
    copy[flip_at] ^= 0x01;
  rc_seccomp sc;
  int r = rc_seccomp_cache_decode(copy, cut_to, k, &sc, &err);
  free(copy);
  if (r == 0) {
    rc_seccomp_free(&sc);
    return "";
  }
  return err.msg;
}

int
main(void)
{
  cut_err err;
  cJSON *a = cJSON_Parse(profile_a), *b = cJSON_Parse(profile_b);
  rc_seccomp sc, back;
  rc_seccomp_key ka, ka2, kb;
  tap_ok(rc_seccomp_build(a, &sc, &err) == 0 && rc_seccomp_active(&sc), "profile A compiles");
  tap_ok(rc_seccomp_key_make(a, &ka, &err) == 0 && rc_seccomp_key_make(a, &ka2, &err) == 0 &&
             rc_seccomp_key_make(b, &kb, &err) == 0,
         "keys are made");
  tap_is_str(ka.name, ka2.name, "the same profile has the same name");
  tap_ok(strcmp(ka.name, kb.name) != 0, "another profile has another name");
  tap_is_int(strlen(ka.name), 16, "a name is 16 hex digits");
  tap_ok(strstr(ka.ident, "libseccomp ") == ka.ident && strstr(ka.ident, "\"errnoRet\":42"),
         "the identity holds libseccomp's version and the profile");

  void *data;
  size_t len;
  tap_ok(rc_seccomp_cache_encode(&ka, &sc, &data, &len, &err) == 0, "encode");
  tap_ok(rc_seccomp_cache_decode(data, len, &ka, &back, &err) == 0, "decode what was encoded");
  tap_ok(back.len == sc.len && memcmp(back.prog, sc.prog, sc.len * sizeof *sc.prog) == 0,
         "the same program comes back (%u instructions)", back.len);
  tap_ok(back.flags == sc.flags && back.rules == sc.rules && back.skipped == sc.skipped &&
             strcmp(back.default_action, sc.default_action) == 0,
         "with its flags, counts and default action");
  rc_seccomp_free(&back);

  const char *d = data;
  size_t prog_at = len - sc.len * sizeof *sc.prog;
  tap_ok(strstr(decode_damaged(d, len, 10, len, &ka), "shorter than a header") != NULL,
         "a file shorter than a header is refused");
  tap_ok(strstr(decode_damaged(d, len, len, 0, &ka), "not a cutaway seccomp program") != NULL,
         "a wrong magic is refused");
  tap_ok(strstr(decode_damaged(d, len, len - 8, len, &ka), "do not match the header") != NULL,
         "a truncated file is refused");
  tap_ok(strstr(decode_damaged(d, len, len, prog_at + 3, &ka), "checksum mismatch") != NULL,
         "a damaged program is refused by the checksum");
  tap_ok(strstr(decode_damaged(d, len, len, len, &kb), "for another profile") != NULL,
         "a program for another profile is refused");
  tap_ok(strstr(decode_damaged(d, len, len, prog_at - 5, &ka), "for another profile") != NULL,
         "a changed byte in the identity is refused");
  rc_seccomp empty;
  memset(&empty, 0, sizeof empty);
  void *none = NULL;
  size_t none_len;
  tap_ok(rc_seccomp_cache_encode(&ka, &empty, &none, &none_len, &err) < 0 && none == NULL,
         "no program, nothing to encode");

  free(data);
  rc_seccomp_free(&sc);
  rc_seccomp_key_free(&ka);
  rc_seccomp_key_free(&ka2);
  rc_seccomp_key_free(&kb);
  cJSON_Delete(a);
  cJSON_Delete(b);
  return tap_done();
}
