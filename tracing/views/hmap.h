/* hmap.h: a small chained hash map from byte strings to a pointer-sized
 * value, for the trace views (trace ids, span ids, component names).  Keys
 * are copied into the node, so callers may pass slices of a line buffer. */
#ifndef CUTAWAY_TRACE_HMAP_H
#define CUTAWAY_TRACE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmap_node {
  struct hmap_node *next;
  uint64_t hash;
  intptr_t val;
  size_t klen;
  char key[]; /* NUL-terminated copy */
} hmap_node;

typedef struct hmap {
  hmap_node **b;
  size_t nb, n;
} hmap;

/* The node for key, or NULL. */
hmap_node *hmap_get(const hmap *m, const char *key, size_t klen);
/* The node for key, created with val 0 when absent (*created says which);
 * NULL only when out of memory. */
hmap_node *hmap_put(hmap *m, const char *key, size_t klen, bool *created);
bool hmap_del(hmap *m, const char *key, size_t klen);
void hmap_free(hmap *m);

#endif
