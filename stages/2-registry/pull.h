/* pull.h: pull an image from a registry into an OCI layout, and (optionally)
 * unpack it while it downloads.
 *
 * What `docker pull` / containerd's Pull do, step by step, each a span:
 *   resolve   GET /v2/<name>/manifests/<tag>  (index -> platform manifest)
 *   config    GET /v2/<name>/blobs/<config>
 *   layers    GET /v2/<name>/blobs/<layer>...  all at once (curl multi)
 *   verify    every blob hashed while it streams; digest and size checked
 *             and the file fsync'ed before it is renamed into the layout
 *             (layout_ingest_commit, in a thread per blob); a transfer cut
 *             or stalled halfway resumes with Range from its first missing
 *             byte, at most REG_MAX_ATTEMPTS tries
 *   unpack    a layer is extracted while it is still downloading: a feeder
 *             thread tails the blob being written and pushes it through a
 *             pipe into unpack_layer_fd()
 *   tag       index.json gets the normalised reference, last: a pull that
 *             fails leaves no tag and no partial blob visible.
 *
 * Two unpack shapes:
 *   unpack_dir  one flattened rootfs (layers applied in order, whiteouts
 *               delete), built in a temp sibling and renamed into place;
 *   layers_dir  one directory per layer named by its diff_id hex (overlay
 *               whiteouts), for stage 3's overlayfs snapshots: every layer
 *               is extracted independently, so all run in parallel; an
 *               existing directory is reused. */
#ifndef CUTAWAY_REG_PULL_H
#define CUTAWAY_REG_PULL_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "error.h"

typedef struct image_pull_opts {
  const char *layout_dir;           /* required */
  const char *platform;             /* "os/arch[/variant]", NULL: linux/<this machine> */
  const char *const *insecure;      /* --insecure-registry hosts, NULL-terminated */
  const char *certs_dir;            /* NULL: $CUTAWAY_CERTS_D or /etc/docker/certs.d */
  bool quiet;                       /* no progress on stderr */
  bool progress;                    /* progress lines on stderr */
  const char *unpack_dir;           /* flattened rootfs, or NULL */
  const char *layers_dir;           /* per-layer directories (overlay form), or NULL */
  const char *overlay_xattr_prefix; /* for layers_dir, NULL: "trusted.overlay." */
  int max_parallel;                 /* downloads at once, 0: 6 */
  bool no_sync;                     /* skip syncfs after unpacking (tests, bench) */
  int stall_timeout;                /* seconds below 1 byte/s before a transfer is retried,
                                       0: REG_STALL_TIMEOUT (30) */
} image_pull_opts;

typedef struct image_pull_result {
  char ref[600];                            /* normalised reference, as tagged */
  char manifest_digest[CUT_DIGEST_LEN + 1]; /* the platform manifest */
  char config_digest[CUT_DIGEST_LEN + 1];
  size_t n_layers;
  char (*diff_ids)[CUT_DIGEST_LEN + 1]; /* n_layers, bottom first */
  char **layer_dirs;                    /* with layers_dir: n_layers paths */
  uint64_t bytes_downloaded;
} image_pull_result;

int image_pull(const image_pull_opts *opts, const char *ref, image_pull_result *res, cut_err *err);
void image_pull_result_free(image_pull_result *res);

#endif
