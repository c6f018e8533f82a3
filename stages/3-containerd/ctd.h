/* ctd.h: the insides of cutaway-containerd, shared by its files.
 *
 * cutaway-containerd mirrors containerd 1.6+ with its services collapsed
 * into one process and its gRPC API replaced by HTTP + JSON on a unix
 * socket (so `curl --unix-socket` can drive it):
 *
 *   content   stage 2's OCI image layout (layout.h) under ROOT/content
 *   images    the layout's index.json tags; pull and unpack through stage 2
 *   snapshots overlayfs: one directory per layer, keyed by chain ID
 *             (ctd_snap.c)
 *   containers  metadata records ROOT/containers/<id>/container.json with the
 *             OCI spec (ctd_spec.c builds it with Docker's defaults)
 *   tasks     a running container = one cutaway-shim process (ctd_task.c),
 *             state under EXEC_ROOT/tasks/<id>
 *   events    an in-memory bus streamed as JSON lines (ctd_events.c)
 *
 * Locking: `c->lock` guards the in-memory tables (short critical sections
 * only); each container has its own `busy` mutex serialising the slow
 * operations on it (create/start/delete), so twenty containers can start at
 * once. */
#ifndef CUTAWAY_CTD_H
#define CUTAWAY_CTD_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "httpd.h"

#define CTD_ID_MAX 64
/* Configured directories are kept well under PATH_MAX so that the paths
 * built under them always fit a PATH_MAX buffer. */
#define CTD_DIR_MAX 1024

/* ---- events (ctd_events.c) ---- */
typedef struct ctd_event {
  uint64_t seq;
  char *line; /* {"timestamp":..,"topic":..,"event":{..}}\n */
} ctd_event;

typedef struct ctd_bus {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ctd_event ring[512];
  uint64_t next_seq;
  bool closing;
} ctd_bus;

/* ---- snapshots (ctd_snap.c) ---- */
enum ctd_snap_kind { SNAP_COMMITTED, SNAP_ACTIVE, SNAP_VIEW };

typedef struct ctd_snap {
  char key[200];    /* chain ID for committed layers, the container id for active ones */
  char parent[200]; /* key of the parent, "" for a base layer */
  enum ctd_snap_kind kind;
  long num; /* ROOT/snapshots/<num> */
  char created[40];
  struct ctd_snap *next;
} ctd_snap;

/* ---- tasks (ctd_task.c) ---- */
enum ctd_task_status { TASK_CREATED, TASK_RUNNING, TASK_PAUSED, TASK_STOPPED, TASK_UNKNOWN };

typedef struct ctd_task {
  char id[CTD_ID_MAX + 1];
  char dir[CTD_DIR_MAX + 128]; /* EXEC_ROOT/tasks/<id>: the bundle */
  char socket[108];            /* the shim's API socket */
  pid_t shim_pid;
  pid_t pid; /* the container's init, as the host sees it */
  enum ctd_task_status status;
  int exit_status;
  char exited_at[40];
  bool monitoring;
  struct ctd_task *next;
} ctd_task;

/* ---- containers (ctd_containers.c) ---- */
typedef struct ctd_container {
  char id[CTD_ID_MAX + 1];
  cJSON *record; /* container.json: id, image, spec, runtime, labels, created */
  pthread_mutex_t busy;
  struct ctd_container *next;
} ctd_container;

typedef struct ctd {
  char root[CTD_DIR_MAX];
  char exec_root[CTD_DIR_MAX];
  char address[108];
  char runtime[CTD_DIR_MAX];
  char shim[CTD_DIR_MAX];
  char cgroup_parent[128];
  char content_dir[CTD_DIR_MAX];
  char snap_dir[CTD_DIR_MAX];
  pthread_mutex_t lock;
  pthread_cond_t task_cv; /* broadcast when any task changes state */
  ctd_bus bus;
  ctd_snap *snaps;
  long next_snap;
  ctd_container *containers;
  ctd_task *tasks;
  httpd *srv;
  volatile bool stopping;
} ctd;

/* ctd_util.c */
bool ctd_valid_id(const char *id);
void ctd_now_rfc3339(char out[40]);
int ctd_self_dir(char *out, size_t len);
void ctd_failpoint(const char *name);
int ctd_write_volatile(const char *path, const void *data, size_t len, cut_err *err);
int ctd_json_write_volatile(const char *path, const cJSON *doc, bool pretty, cut_err *err);
int ctd_err(cut_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ctd_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ctd_events.c */
void ctd_bus_init(ctd_bus *b);
/* Publish: `event` is consumed. Also a trace event under the current span. */
void ctd_publish(ctd *c, const char *topic, cJSON *event);
void ctd_bus_close(ctd_bus *b);
/* Serve GET /v1/events (streams until the client leaves or we stop). */
void ctd_events_serve(ctd *c, httpd_req *req);

/* ctd_snap.c */
int ctd_snap_load(ctd *c, cut_err *err);
ctd_snap *ctd_snap_find(ctd *c, const char *key);
/* The chain ID of layer n given the chain ID of n-1 and the diff_id. */
void ctd_chain_id(const char *parent_chain, const char *diff_id, char out[72]);
/* Committed snapshot `key` over `parent` filled by `fill(dir_fd, arg)`:
 * unpacked in a fresh numbered dir, made visible by writing its info last. */
int ctd_snap_commit_new(ctd *c, const char *key, const char *parent,
                        int (*fill)(int dir_fd, void *arg, cut_err *err), void *arg, cut_err *err);
/* An active (writable) snapshot over committed `parent`. */
int ctd_snap_prepare(ctd *c, const char *key, const char *parent, bool readonly, cut_err *err);
/* Overlay mount options for a snapshot; paths are relative to c->snap_dir
 * when `relative` (mount from inside that dir). */
int ctd_snap_mount_options(ctd *c, const char *key, bool relative, char *out, size_t len,
                           int *nlower, cut_err *err);
/* Mount snapshot `key` at target (a syscall span "mount" with lowerdirs).
 * `volatile_upper`: overlayfs "volatile" (no syncs of the upper layer, so
 * no journal commit at umount) for throw-away containers, as Podman does
 * for `run --rm`. */
int ctd_snap_mount(ctd *c, const char *key, const char *target, bool volatile_upper, cut_err *err);
int ctd_snap_remove(ctd *c, const char *key, cut_err *err);
/* Commit an active snapshot under a new name (it becomes a layer). */
int ctd_snap_commit(ctd *c, const char *name, const char *key, cut_err *err);
int ctd_snap_usage(ctd *c, const char *key, uint64_t *bytes, uint64_t *inodes, cut_err *err);
cJSON *ctd_snap_json(ctd *c, const ctd_snap *s);
/* Remove every snapshot not reachable from `keep` (NULL-terminated). */
int ctd_snap_gc(ctd *c, char **keep, size_t *removed, cut_err *err);

/* ctd_images.c */
int ctd_images_open(ctd *c, cut_err *err);
/* Resolve a reference to its manifest/config; fills the chain of snapshot
 * keys (unpacking any missing layer).  *config is the image config doc. */
int ctd_image_unpack(ctd *c, const char *ref, char *top_chain, size_t len, cJSON **config,
                     char *resolved_ref, size_t rlen, cut_err *err);
/* The chain IDs of every tagged image (for GC). */
int ctd_images_chains(ctd *c, char ***out, size_t *n, cut_err *err);

/* ctd_spec.c */
/* Build the OCI spec for a container from the image config and options. */
int ctd_spec_build(ctd *c, const char *id, const cJSON *image_config, const cJSON *opts,
                   cJSON **out, cut_err *err);
/* Docker's default seccomp profile for a set of capabilities. */
cJSON *ctd_seccomp_default(const char *const *caps, size_t ncaps);

/* ctd_containers.c */
int ctd_containers_load(ctd *c, cut_err *err);
ctd_container *ctd_container_find(ctd *c, const char *id);

/* ctd_task.c */
int ctd_tasks_recover(ctd *c, cut_err *err);
ctd_task *ctd_task_find(ctd *c, const char *id);
const char *ctd_task_status_name(enum ctd_task_status s);

/* ctd_metrics.c */
int ctd_metrics(const char *cgroups_path, cJSON **out, cut_err *err);

/* Handlers (ctd_api.c registers them). */
void ctd_h_version(httpd_req *req, void *ctx);
void ctd_h_images_list(httpd_req *req, void *ctx);
void ctd_h_images_pull(httpd_req *req, void *ctx);
void ctd_h_images_import(httpd_req *req, void *ctx);
void ctd_h_images_export(httpd_req *req, void *ctx);
void ctd_h_images_get(httpd_req *req, void *ctx);
void ctd_h_images_tag(httpd_req *req, void *ctx);
void ctd_h_images_delete(httpd_req *req, void *ctx);
void ctd_h_content_list(httpd_req *req, void *ctx);
void ctd_h_content_info(httpd_req *req, void *ctx);
void ctd_h_snap_list(httpd_req *req, void *ctx);
void ctd_h_snap_prepare(httpd_req *req, void *ctx);
void ctd_h_snap_commit(httpd_req *req, void *ctx);
void ctd_h_snap_mounts(httpd_req *req, void *ctx);
void ctd_h_snap_usage(httpd_req *req, void *ctx);
void ctd_h_snap_delete(httpd_req *req, void *ctx);
void ctd_h_containers_list(httpd_req *req, void *ctx);
void ctd_h_containers_create(httpd_req *req, void *ctx);
void ctd_h_containers_get(httpd_req *req, void *ctx);
void ctd_h_containers_delete(httpd_req *req, void *ctx);
void ctd_h_tasks_list(httpd_req *req, void *ctx);
void ctd_h_task_create(httpd_req *req, void *ctx);
void ctd_h_task_get(httpd_req *req, void *ctx);
void ctd_h_task_start(httpd_req *req, void *ctx);
void ctd_h_task_wait(httpd_req *req, void *ctx);
void ctd_h_task_kill(httpd_req *req, void *ctx);
void ctd_h_task_delete(httpd_req *req, void *ctx);
void ctd_h_task_exec(httpd_req *req, void *ctx);
void ctd_h_task_pause(httpd_req *req, void *ctx);
void ctd_h_task_resume(httpd_req *req, void *ctx);
void ctd_h_task_ps(httpd_req *req, void *ctx);
void ctd_h_task_resize(httpd_req *req, void *ctx);
void ctd_h_task_closeio(httpd_req *req, void *ctx);
void ctd_h_task_metrics(httpd_req *req, void *ctx);
void ctd_h_events(httpd_req *req, void *ctx);
void ctd_h_gc(httpd_req *req, void *ctx);

extern const httpd_route ctd_routes[];
extern const size_t ctd_nroutes;

#endif
