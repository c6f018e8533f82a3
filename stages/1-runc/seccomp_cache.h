/* seccomp_cache.h: compiled seccomp programs kept between containers.
 *
 * Turning Docker's default profile into BPF (about 350 rules added to a
 * libseccomp filter, then seccomp_export_bpf) costs about 6 ms, and it is
 * the same profile, giving the same program, for every container Docker
 * starts.  crun keeps generated programs under <state root>/.cache/seccomp;
 * cutaway-runc does the same under <root>/@seccomp-cache/ ("@" cannot occur
 * in a container id, so the directory can never be taken for a container's).
 *
 * What decides the program is its identity: libseccomp's version, the
 * native architecture, the kernel's seccomp API level as libseccomp sees
 * it, and the profile's JSON.  A file is named by a 64-bit FNV-1a hash of
 * that identity but carries the identity itself, compared byte for byte on
 * every lookup: two profiles can never share a program, whatever the hash
 * does (a collision is only a miss), and no cryptographic hash library
 * needs to be loaded into the runtime.  An unused program is a few KB.
 *
 * The cache is trusted exactly as much as the state root around it (0700,
 * the runtime's own): a file is used only when it is a regular file owned by
 * us, writable by nobody else, in a directory that is the same, of exactly
 * the size its header announces, and when its header repeats the key.
 * Anything else is a miss, and the program is compiled and stored again.
 *
 * On a miss the init compiles the program while the runtime sets up its
 * cgroup (init.c) and writes it to a memfd the runtime made before the
 * clone; once the init is READY, the runtime stores it from there.  The
 * init itself never writes the cache: in a user namespace it could not,
 * and it needs no access to the host's files. */
#ifndef CUTAWAY_RUNC_SECCOMP_CACHE_H
#define CUTAWAY_RUNC_SECCOMP_CACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "seccomp.h"

#define RC_SECCOMP_CACHE_DIR "@seccomp-cache"
/* At most this many programs are kept; a store past it starts afresh. */
#define RC_SECCOMP_CACHE_MAX 64

typedef struct rc_seccomp_key {
  char *ident;      /* versions, architecture, API level, the profile's JSON */
  size_t ident_len; /* bytes in ident */
  char name[17];    /* the file's name: FNV-1a 64 of ident, in hex */
} rc_seccomp_key;

/* The identity of `profile` on this host. */
int rc_seccomp_key_make(const cJSON *profile, rc_seccomp_key *k, cut_err *err);
void rc_seccomp_key_free(rc_seccomp_key *k);

/* Look k up under `root`.  On a hit sc holds the program (as
 * rc_seccomp_build would leave it) and the result is 1; on a miss, 0.  A
 * cache that cannot be read is a miss, never an error.  Traced as
 * "seccomp.cache" (result hit or miss, and why a file was refused). */
int rc_seccomp_cache_lookup(const char *root, const rc_seccomp_key *k, rc_seccomp *sc);

/* Store sc's program for k, atomically (temp file + rename).  Best
 * effort: a cache that cannot be written only costs the next compile. */
void rc_seccomp_cache_store(const char *root, const rc_seccomp_key *k, const rc_seccomp *sc);

/* The cache file's bytes for sc (header, identity, program), malloc'ed. */
int rc_seccomp_cache_encode(const rc_seccomp_key *k, const rc_seccomp *sc, void **out, size_t *len,
                            cut_err *err);

/* Parse cache file bytes; -1 unless they are well formed and for k. */
int rc_seccomp_cache_decode(const void *data, size_t len, const rc_seccomp_key *k, rc_seccomp *sc,
                            cut_err *err);

/* The init's half of a miss: write the encoded program to fd (a memfd the
 * runtime created before the clone), then close it. */
void rc_seccomp_cache_hand_back(int fd, const rc_seccomp_key *k, const rc_seccomp *sc);

/* The runtime's half: read what the init wrote to fd, store it, close fd. */
void rc_seccomp_cache_collect(const char *root, int fd, const rc_seccomp_key *k);

#endif
