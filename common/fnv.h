/* fnv.h: FNV-1a, 64 bits: a fast, non-cryptographic hash, for names (a
 * cache file, a network id, a hash table slot) and for checksums against
 * accidents such as a torn write.  Never against an adversary: content that
 * must be trusted is identified by sha256 (digest.h).  Header-only, so that
 * cutaway-runc can use it without linking OpenSSL. */
#ifndef CUTAWAY_FNV_H
#define CUTAWAY_FNV_H

#include <stddef.h>
#include <stdint.h>

#define CUT_FNV_START 14695981039346656037ULL /* the offset basis */

/* Continue hash h (CUT_FNV_START to begin) over len bytes of data. */
static inline uint64_t
cut_fnv1a(uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ULL; /* the 64-bit FNV prime */
  return h;
}

#endif
