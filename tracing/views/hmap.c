/* hmap.c: see hmap.h.  FNV-1a hashing, chains, doubling at load 1. */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_bytes(const char *k, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)k[i];
    h *= 1099511628211ULL;
  }
  return h;
}

hmap_node *
hmap_get(const hmap *m, const char *key, size_t klen)
{
  if (m->nb == 0)
    return NULL;
  uint64_t h = hash_bytes(key, klen);
  for (hmap_node *n = m->b[h & (m->nb - 1)]; n; n = n->next)
    if (n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0)
      return n;
  return NULL;
}

static bool
rehash(hmap *m)
{
  size_t nb = m->nb ? m->nb * 2 : 64;
  hmap_node **b = calloc(nb, sizeof *b);
  if (b == NULL)
    return false;
  for (size_t i = 0; i < m->nb; i++) {
    hmap_node *n = m->b[i];
    while (n) {
      hmap_node *next = n->next;
      n->next = b[n->hash & (nb - 1)];
      b[n->hash & (nb - 1)] = n;
      n = next;
    }
  }
  free(m->b);
  m->b = b;
  m->nb = nb;
  return true;
}

hmap_node *
hmap_put(hmap *m, const char *key, size_t klen, bool *created)
{
  hmap_node *n = hmap_get(m, key, klen);
  if (created)
    *created = n == NULL;
  if (n)
    return n;
  if (m->n >= m->nb && !rehash(m))
    return NULL;
  n = malloc(sizeof *n + klen + 1);
  if (n == NULL)
    return NULL;
  n->hash = hash_bytes(key, klen);
  n->val = 0;
  n->klen = klen;
  memcpy(n->key, key, klen);
  n->key[klen] = '\0';
  n->next = m->b[n->hash & (m->nb - 1)];
  m->b[n->hash & (m->nb - 1)] = n;
  m->n++;
  return n;
}

bool
hmap_del(hmap *m, const char *key, size_t klen)
{
  if (m->nb == 0)
    return false;
  uint64_t h = hash_bytes(key, klen);
  for (hmap_node **pp = &m->b[h & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
    hmap_node *n = *pp;
    if (n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0) {
      *pp = n->next;
      free(n);
      m->n--;
      return true;
    }
  }
  return false;
}

void
hmap_free(hmap *m)
{
  for (size_t i = 0; i < m->nb; i++) {
    hmap_node *n = m->b[i];
    while (n) {
      hmap_node *next = n->next;
      free(n);
      n = next;
    }
  }
  free(m->b);
  *m = (hmap){0};
}
