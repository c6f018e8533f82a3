/* ctd_api.c: the HTTP + JSON API of cutaway-containerd: the route table
 * (every route is documented with a curl example in
 * docs/stages/3-containerd.md), and the small handlers that have no file of
 * their own: version, snapshots, events, garbage collection.
 *
 * containerd speaks gRPC (containerd.services.*.v1); the same services are
 * here as REST-ish paths under /v1 so a learner can drive them with
 * `curl --unix-socket`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctd.h"
#include "json.h"
#include "stages/2-registry/layout.h"
#include "trace.h"

void
ctd_h_version(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", "cutaway-containerd");
  cJSON_AddStringToObject(o, "version", "0.3.0");
  cJSON_AddStringToObject(o, "api", "v1");
  cJSON_AddStringToObject(o, "runtime", c->runtime);
  cJSON_AddStringToObject(o, "root", c->root);
  cJSON_AddStringToObject(o, "exec_root", c->exec_root);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_events(httpd_req *req, void *ctx)
{
  ctd_events_serve(ctx, req);
}

/* ---- snapshots ---- */

void
ctd_h_snap_list(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&c->lock);
  for (ctd_snap *s = c->snaps; s; s = s->next)
    cJSON_AddItemToArray(a, ctd_snap_json(c, s));
  pthread_mutex_unlock(&c->lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "snapshots", a);
  httpd_reply_json(req, 200, o);
}

static bool
valid_key(const char *k)
{
  size_t n = strlen(k);
  if (n == 0 || n >= 200 || strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
    return false;
  return true;
}

static cJSON *
mounts_json(ctd *c, const char *key, cut_err *err)
{
  char opts[8192];
  int n;
  if (ctd_snap_mount_options(c, key, false, opts, sizeof opts, &n, err) < 0)
    return NULL;
  cJSON *a = cJSON_CreateArray();
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "type", "overlay");
  cJSON_AddStringToObject(m, "source", "overlay");
  cJSON *o = cJSON_AddArrayToObject(m, "options");
  char *save, *tok = strtok_r(opts, ",", &save);
  for (; tok; tok = strtok_r(NULL, ",", &save))
    cJSON_AddItemToArray(o, cJSON_CreateString(tok));
  cJSON_AddItemToArray(a, m);
  return a;
}

void
ctd_h_snap_prepare(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *key = NULL, *parent = "";
  bool readonly = false;
  cut_err err;
  if (json_get_string(body, "key", "key", true, &key, &err) < 0 ||
      json_get_string(body, "parent", "parent", false, &parent, &err) < 0 ||
      json_get_bool(body, "readonly", "readonly", false, &readonly, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  if (!valid_key(key)) {
    httpd_reply_error(req, 400, "snapshot key \"%.80s\": invalid", key);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "snapshot.prepare", TA_STR("key", key),
              TA_STR("parent", parent));
  int r = ctd_snap_prepare(c, key, parent, readonly, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  if (r < 0) {
    httpd_reply_err(req, err.errnum == EEXIST ? 409 : err.errnum == ENOENT ? 404 : 400, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON *m = mounts_json(c, key, &err);
  cJSON_AddItemToObject(o, "mounts", m ? m : cJSON_CreateArray());
  httpd_reply_json(req, 201, o);
}

void
ctd_h_snap_commit(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *key = NULL, *name = NULL;
  cut_err err;
  if (json_get_string(body, "key", "key", true, &key, &err) < 0 ||
      json_get_string(body, "name", "name", true, &name, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  if (!valid_key(name)) {
    httpd_reply_error(req, 400, "snapshot name \"%.80s\": invalid", name);
    return;
  }
  if (ctd_snap_commit(c, name, key, &err) < 0) {
    httpd_reply_err(req, err.errnum == ENOENT ? 404 : 409, &err);
    return;
  }
  httpd_reply_json(req, 200, NULL);
}

void
ctd_h_snap_mounts(httpd_req *req, void *ctx)
{
  cut_err err;
  cJSON *m = mounts_json(ctx, httpd_param(req, "key"), &err);
  if (m == NULL) {
    httpd_reply_err(req, 404, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "mounts", m);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_snap_usage(httpd_req *req, void *ctx)
{
  cut_err err;
  uint64_t bytes, inodes;
  if (ctd_snap_usage(ctx, httpd_param(req, "key"), &bytes, &inodes, &err) < 0) {
    httpd_reply_err(req, 404, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "size", (double)bytes);
  cJSON_AddNumberToObject(o, "inodes", (double)inodes);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_snap_delete(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  const char *key = httpd_param(req, "key");
  pthread_mutex_lock(&c->lock);
  bool used = ctd_container_find(c, key) != NULL;
  pthread_mutex_unlock(&c->lock);
  if (used) {
    httpd_reply_error(req, 409, "snapshot %s: in use by container %s", key, key);
    return;
  }
  cut_err err;
  if (ctd_snap_remove(c, key, &err) < 0) {
    httpd_reply_err(req, err.errnum == ENOENT ? 404 : 409, &err);
    return;
  }
  httpd_reply_json(req, 200, NULL);
}

/* ---- garbage collection ---- */

/* containerd's GC: roots are the images (and containers, whose snapshots
 * are never committed so never collected); everything unreachable goes. */
void
ctd_h_gc(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cut_err err;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "gc.Collect");
  char **keep = NULL;
  size_t nkeep = 0, removed = 0;
  layout_gc_stats gs = {0};
  layout l;
  int r = ctd_images_chains(c, &keep, &nkeep, &err);
  if (r == 0)
    r = ctd_snap_gc(c, keep, &removed, &err);
  if (r == 0 && (r = layout_open(&l, c->content_dir, false, &err)) == 0) {
    r = layout_gc(&l, &gs, &err);
    layout_close(&l);
  }
  for (size_t i = 0; i < nkeep; i++)
    free(keep[i]);
  free(keep);
  trace_end(&sp, r < 0 ? &err : NULL, TA_INT("snapshots", removed), TA_INT("blobs", gs.removed));
  if (r < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "snapshots_removed", (double)removed);
  cJSON_AddNumberToObject(o, "blobs_removed", (double)gs.removed);
  cJSON_AddNumberToObject(o, "bytes_freed", (double)gs.bytes);
  httpd_reply_json(req, 200, o);
}

const httpd_route ctd_routes[] = {
    {"GET", "/v1/version", ctd_h_version},
    {"GET", "/v1/events", ctd_h_events},
    {"POST", "/v1/gc", ctd_h_gc},
    {"GET", "/v1/images", ctd_h_images_list},
    {"POST", "/v1/images/pull", ctd_h_images_pull},
    {"POST", "/v1/images/import", ctd_h_images_import},
    {"POST", "/v1/images/export", ctd_h_images_export},
    {"POST", "/v1/images/tag", ctd_h_images_tag},
    {"GET", "/v1/images/{name*}", ctd_h_images_get},
    {"DELETE", "/v1/images/{name*}", ctd_h_images_delete},
    {"GET", "/v1/content", ctd_h_content_list},
    {"GET", "/v1/content/{digest}", ctd_h_content_info},
    {"GET", "/v1/snapshots", ctd_h_snap_list},
    {"POST", "/v1/snapshots/prepare", ctd_h_snap_prepare},
    {"POST", "/v1/snapshots/commit", ctd_h_snap_commit},
    {"GET", "/v1/snapshots/{key}/mounts", ctd_h_snap_mounts},
    {"GET", "/v1/snapshots/{key}/usage", ctd_h_snap_usage},
    {"DELETE", "/v1/snapshots/{key}", ctd_h_snap_delete},
    {"GET", "/v1/containers", ctd_h_containers_list},
    {"POST", "/v1/containers", ctd_h_containers_create},
    {"GET", "/v1/containers/{id}", ctd_h_containers_get},
    {"DELETE", "/v1/containers/{id}", ctd_h_containers_delete},
    {"GET", "/v1/tasks", ctd_h_tasks_list},
    {"POST", "/v1/containers/{id}/task", ctd_h_task_create},
    {"GET", "/v1/containers/{id}/task", ctd_h_task_get},
    {"DELETE", "/v1/containers/{id}/task", ctd_h_task_delete},
    {"POST", "/v1/containers/{id}/task/start", ctd_h_task_start},
    {"GET", "/v1/containers/{id}/task/wait", ctd_h_task_wait},
    {"POST", "/v1/containers/{id}/task/kill", ctd_h_task_kill},
    {"POST", "/v1/containers/{id}/task/exec", ctd_h_task_exec},
    {"POST", "/v1/containers/{id}/task/pause", ctd_h_task_pause},
    {"POST", "/v1/containers/{id}/task/resume", ctd_h_task_resume},
    {"GET", "/v1/containers/{id}/task/pids", ctd_h_task_ps},
    {"POST", "/v1/containers/{id}/task/resize", ctd_h_task_resize},
    {"POST", "/v1/containers/{id}/task/closeio", ctd_h_task_closeio},
    {"GET", "/v1/containers/{id}/task/metrics", ctd_h_task_metrics},
};
const size_t ctd_nroutes = sizeof ctd_routes / sizeof ctd_routes[0];
