/* layout.h: an OCI image layout used as a content store.
 *
 * Mirrors the on-disk format of the OCI image-spec "image layout" (what
 * `skopeo copy oci:DIR` writes and `umoci` reads) and the rules of
 * containerd's local content store:
 *
 *     DIR/oci-layout              {"imageLayoutVersion":"1.0.0"}
 *     DIR/index.json              the tags: descriptors annotated with
 *                                 org.opencontainers.image.ref.name
 *     DIR/blobs/sha256/<hex>      every manifest, config and layer, by digest
 *     DIR/ingest/                 blobs being written (ours, not OCI's)
 *
 * A blob becomes visible only after its bytes were hashed as they arrived and
 * both the digest and the size matched what the caller expected: it is
 * written to a unique temp file in ingest/, fsync'ed, then rename(2)d into
 * blobs/ (atomic within one filesystem).  A crash leaves only temp files,
 * which the next layout_open() removes once no live writer holds them
 * (each writer keeps an flock on its temp file).  index.json is rewritten
 * atomically under an exclusive flock on the layout directory, so two
 * processes tagging at once do not lose each other's update; GC takes the
 * same lock.
 *
 * Every digest from the outside goes through cut_digest_valid() before it is
 * used to build a path (CVE-2024-3727), and manifests, indexes and configs
 * are read with a 4 MiB cap (CVE-2021-21285 style memory bombs). */
#ifndef CUTAWAY_REG_LAYOUT_H
#define CUTAWAY_REG_LAYOUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"

#define LAYOUT_JSON_MAX (4u << 20) /* manifests, indexes, configs */
#define LAYOUT_REF_ANNOTATION "org.opencontainers.image.ref.name"

/* Media types (OCI and the Docker equivalents a registry may serve). */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

typedef struct layout {
  char *root;    /* the layout directory */
  int dirfd;     /* O_RDONLY|O_DIRECTORY fd of root (also the flock target) */
  int lock_mode; /* 0 none, 1 shared, 2 exclusive (layout_lock) */
} layout;

/* A content descriptor (the subset cutaway uses). */
typedef struct layout_desc {
  char media_type[256];
  char digest[CUT_DIGEST_LEN + 1];
  int64_t size;
  char os[32], arch[32], variant[32]; /* platform, "" when absent */
} layout_desc;

/* Open a layout; with create, make the directories, oci-layout and an empty
 * index.json when missing.  Removes temp files left by crashed writers. */
int layout_open(layout *l, const char *dir, bool create, cut_err *err);
void layout_close(layout *l);

/* ---- blobs ------------------------------------------------------------ */

typedef struct layout_writer {
  layout *l;
  int fd;            /* temp file in ingest/, -1 when closed */
  char tmp_name[64]; /* its name inside ingest/ */
  cut_sha256 hash;   /* of every byte written so far */
  int64_t limit;     /* expected size, or -1: a write past it fails */
  uint64_t bytes;
} layout_writer;

/* Start writing a blob.  expected_size >= 0 makes a write beyond it fail at
 * once (a registry sending too much is stopped at size+1, not at EOF). */
int layout_ingest_begin(layout *l, layout_writer *w, int64_t expected_size, cut_err *err);
int layout_ingest_write(layout_writer *w, const void *data, size_t len, cut_err *err);
/* Verify digest AND size, fsync, rename into blobs/sha256/<hex>.  On any
 * mismatch the temp file is removed, nothing becomes visible, and the error
 * names the blob.  Emits a "content.commit" span.  The writer is closed
 * whatever the outcome. */
int layout_ingest_commit(layout_writer *w, const char *digest, int64_t size, cut_err *err);
/* Commit content produced locally (import, build): under the digest its
 * own bytes hash to, returned in out_digest, with *size its length. */
int layout_ingest_commit_local(layout_writer *w, char out_digest[CUT_DIGEST_LEN + 1], int64_t *size,
                               cut_err *err);
/* Drop a writer (error paths); safe on a closed writer. */
void layout_ingest_abort(layout_writer *w);

/* Store a whole buffer as a blob (manifests, configs); the digest is
 * computed, written to out_digest. */
int layout_put_blob(layout *l, const void *data, size_t len, char out_digest[CUT_DIGEST_LEN + 1],
                    cut_err *err);

bool layout_has_blob(layout *l, const char *digest);
/* "ROOT/blobs/sha256/<hex>" (digest validated first). */
int layout_blob_path(layout *l, const char *digest, char *out, size_t size, cut_err *err);
/* Open a blob read-only; *size gets its length when not NULL. */
int layout_open_blob(layout *l, const char *digest, int64_t *size, cut_err *err);
/* Read a small blob (at most max bytes) and check its digest again. */
int layout_read_blob(layout *l, const char *digest, size_t max, char **out, size_t *len,
                     cut_err *err);

/* ---- index.json: tags ------------------------------------------------- */

/* Point `ref` (a full normalised reference string) at a descriptor,
 * replacing any previous descriptor of that name. */
int layout_tag(layout *l, const char *ref, const layout_desc *d, cut_err *err);
/* Find a tag; -1 with "image not found" when absent (err->errnum ENOENT). */
int layout_resolve(layout *l, const char *ref, layout_desc *out, cut_err *err);
/* Remove a tag (ENOENT error when absent).  Blobs stay until layout_gc. */
int layout_untag(layout *l, const char *ref, cut_err *err);

typedef struct layout_entry {
  char *ref; /* malloc'ed */
  layout_desc desc;
} layout_entry;
int layout_list(layout *l, layout_entry **out, size_t *count, cut_err *err);
void layout_list_free(layout_entry *list, size_t count);

typedef struct layout_gc_stats {
  size_t removed;
  uint64_t bytes;
} layout_gc_stats;
/* Delete every blob not reachable from index.json (index -> manifests ->
 * config and layers).  Holds the layout lock, so it does not race a tag. */
int layout_gc(layout *l, layout_gc_stats *stats, cut_err *err);

/* Hold the layout lock (flock on the directory): shared while pulling (so a
 * concurrent GC cannot delete blobs that are committed but not yet tagged),
 * exclusive for index updates and GC.  layout_tag/untag/gc take it
 * themselves; do not call them while holding it exclusively. */
int layout_lock(layout *l, bool exclusive, cut_err *err);
void layout_unlock(layout *l);

/* ---- manifests, indexes, configs -------------------------------------- */

typedef struct image_manifest {
  layout_desc config;
  layout_desc *layers;
  size_t n_layers;
  char media_type[128];
} image_manifest;

typedef struct image_index {
  layout_desc *manifests;
  size_t n_manifests;
} image_index;

typedef struct image_config {
  char os[32], arch[32], variant[32];
  char **diff_ids; /* n_diff_ids validated digests */
  size_t n_diff_ids;
  cJSON *doc; /* the whole config */
} image_config;

/* What a manifest-ish media type is. */
enum layout_kind { LAYOUT_KIND_UNKNOWN, LAYOUT_KIND_INDEX, LAYOUT_KIND_MANIFEST };
enum layout_kind layout_media_kind(const char *media_type);

/* Parse buffers (from a registry or a blob).  media_type is what the
 * transport said (Content-Type or descriptor), may be NULL; a document whose
 * own mediaType disagrees, one holding both "manifests" and "layers"
 * (CVE-2021-41190), schema 1, negative sizes or bad digests are errors. */
int layout_parse_manifest(const char *buf, size_t len, const char *media_type, image_manifest *out,
                          cut_err *err);
int layout_parse_index(const char *buf, size_t len, const char *media_type, image_index *out,
                       cut_err *err);
int layout_parse_config(const char *buf, size_t len, image_config *out, cut_err *err);
void layout_manifest_free(image_manifest *m);
void layout_index_free(image_index *ix);
void layout_config_free(image_config *c);

/* Parse "os/arch[/variant]"; NULL or "" means linux/<this machine>. */
int layout_platform_parse(const char *s, char os[32], char arch[32], char variant[32],
                          cut_err *err);
/* The index entry for a platform, or -1 "no manifest for linux/amd64". */
int layout_index_select(const image_index *ix, const char *os, const char *arch,
                        const char *variant, layout_desc *out, cut_err *err);

/* From a tagged descriptor to the image manifest and config, walking an
 * index when there is one (platform as in layout_platform_parse).  Every
 * blob read is checked against its digest.  mdesc (optional) gets the
 * manifest's own descriptor. */
int layout_load_image(layout *l, const layout_desc *top, const char *platform, layout_desc *mdesc,
                      image_manifest *m, image_config *cfg, cut_err *err);

/* Descriptor <-> JSON (an object with mediaType, digest, size, platform). */
cJSON *layout_desc_to_json(const layout_desc *d);
int layout_desc_from_json(const cJSON *obj, const char *path, layout_desc *out, cut_err *err);

#endif
