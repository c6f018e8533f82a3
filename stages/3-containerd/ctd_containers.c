/* ctd_containers.c: container records (containerd's containers service).
 *
 * A container is metadata only: its id, the image it came from, the chain
 * ID its snapshot starts from, the OCI spec, the runtime and labels.  It
 * runs nothing; a task does (ctd_task.c).  Each record is
 * ROOT/containers/<id>/container.json, written atomically and last, so a
 * directory without it is a create that was interrupted (daemon killed in
 * the middle) and is removed at the next start.  The container's json-file
 * log lives next to it (<id>-json.log), as in Docker's
 * /var/lib/docker/containers/<id>/. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctd.h"
#include "fileutil.h"
#include "json.h"
#include "trace.h"

static void
container_dir(ctd *c, const char *id, char *out, size_t len)
{
  ctd_fmt(out, len, "%s/containers/%s", c->root, id);
}

ctd_container *
ctd_container_find(ctd *c, const char *id)
{
  for (ctd_container *k = c->containers; k; k = k->next)
    if (strcmp(k->id, id) == 0)
      return k;
  return NULL;
}

static ctd_container *
container_new(const char *id, cJSON *record)
{
  ctd_container *k = calloc(1, sizeof *k);
  ctd_fmt(k->id, sizeof k->id, "%s", id);
  k->record = record;
  pthread_mutex_init(&k->busy, NULL);
  return k;
}

int
ctd_containers_load(ctd *c, cut_err *err)
{
  char dir[PATH_MAX];
  ctd_fmt(dir, sizeof dir, "%s/containers", c->root);
  if (cut_mkdir_p(dir, 0700, err) < 0)
    return -1;
  DIR *d = opendir(dir);
  if (d == NULL)
    return cut_error(err, errno, "open %s", dir);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[PATH_MAX];
    ctd_fmt(path, sizeof path, "%s/%s/container.json", dir, de->d_name);
    cJSON *doc = NULL;
    cut_err e2;
    if (!ctd_valid_id(de->d_name) || json_read_file(path, 16 << 20, &doc, &e2) < 0) {
      char cdir[PATH_MAX];
      ctd_fmt(cdir, sizeof cdir, "%s/%s", dir, de->d_name);
      trace_event("containers.cleanup", TA_STR("dir", cdir), TA_STR("reason", "no container.json"));
      cut_rm_rf(cdir, &e2);
      continue;
    }
    ctd_container *k = container_new(de->d_name, doc);
    k->next = c->containers;
    c->containers = k;
  }
  closedir(d);
  return 0;
}

static cJSON *
container_summary(const ctd_container *k)
{
  cJSON *o = cJSON_CreateObject();
  const char *keys[] = {"id", "image", "runtime", "created", "snapshot_key", "labels"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const cJSON *v = cJSON_GetObjectItem(k->record, keys[i]);
    if (v)
      cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, true));
  }
  return o;
}

void
ctd_h_containers_list(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&c->lock);
  for (ctd_container *k = c->containers; k; k = k->next) {
    if (k->record == NULL) /* being created */
      continue;
    cJSON *o = container_summary(k);
    ctd_task *t = ctd_task_find(c, k->id);
    cJSON_AddStringToObject(o, "task", t ? ctd_task_status_name(t->status) : "");
    cJSON_AddItemToArray(a, o);
  }
  pthread_mutex_unlock(&c->lock);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "containers", a);
  httpd_reply_json(req, 200, o);
}

void
ctd_h_containers_get(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  const char *id = httpd_param(req, "id");
  pthread_mutex_lock(&c->lock);
  ctd_container *k = ctd_container_find(c, id);
  cJSON *o = k ? cJSON_Duplicate(k->record, true) : NULL;
  pthread_mutex_unlock(&c->lock);
  if (o == NULL) {
    httpd_reply_error(req, 404, "container %s: not found", id);
    return;
  }
  char log[PATH_MAX];
  ctd_fmt(log, sizeof log, "%s/containers/%s/%s-json.log", c->root, id, id);
  cJSON_AddStringToObject(o, "log_path", log);
  httpd_reply_json(req, 200, o);
}

/* POST /v1/containers: {"id","image", options...} or {"id","image","spec"}. */
void
ctd_h_containers_create(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  const char *id = NULL, *image = NULL, *runtime = NULL;
  const cJSON *spec_in = NULL, *labels = NULL;
  cut_err err;
  if (json_get_string(body, "id", "id", true, &id, &err) < 0 ||
      json_get_string(body, "image", "image", true, &image, &err) < 0 ||
      json_get_string(body, "runtime", "runtime", false, &runtime, &err) < 0 ||
      json_get_object(body, "spec", "spec", false, &spec_in, &err) < 0 ||
      json_get_object(body, "labels", "labels", false, &labels, &err) < 0) {
    httpd_reply_err(req, 400, &err);
    return;
  }
  if (!ctd_valid_id(id)) {
    httpd_reply_error(req, 400,
                      "container id \"%.80s\": invalid (1-64 of [a-zA-Z0-9_.-], starting with a "
                      "letter or digit)",
                      id);
    return;
  }
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "containers.Create", TA_STR("id", id), TA_STR("image", image));
  /* Reserve the id first: two creates of one id race to this point, one
   * wins, the other gets 409 and changes nothing. */
  pthread_mutex_lock(&c->lock);
  if (ctd_container_find(c, id)) {
    pthread_mutex_unlock(&c->lock);
    ctd_err(&err, EEXIST, "container %s: already exists", id);
    trace_end(&sp, &err);
    httpd_reply_err(req, 409, &err);
    return;
  }
  ctd_container *k = container_new(id, NULL);
  pthread_mutex_lock(&k->busy);
  k->next = c->containers;
  c->containers = k;
  pthread_mutex_unlock(&c->lock);

  unsigned status = 500;
  char chain[72] = "", ref[600] = "";
  cJSON *image_config = NULL, *spec = NULL, *record = NULL;
  char dir[PATH_MAX];
  container_dir(c, id, dir, sizeof dir);
  bool made_dir = false;
  if (ctd_image_unpack(c, image, chain, sizeof chain, &image_config, ref, sizeof ref, &err) < 0) {
    status = err.errnum == ENOENT ? 404 : 500;
    goto fail;
  }
  if (spec_in) {
    spec = cJSON_Duplicate(spec_in, true);
  } else {
    cJSON *opts = cJSON_Duplicate(body, true);
    cJSON_AddStringToObject(opts, "_chain", chain);
    int r = ctd_spec_build(c, id, image_config, opts, &spec, &err);
    cJSON_Delete(opts);
    if (r < 0) {
      status = 400;
      goto fail;
    }
  }
  if (mkdir(dir, 0700) < 0) {
    cut_error(&err, errno, "mkdir %s", dir);
    goto fail;
  }
  made_dir = true;
  ctd_failpoint("containers.create.before_record");
  record = cJSON_CreateObject();
  char now[40];
  ctd_now_rfc3339(now);
  cJSON_AddStringToObject(record, "id", id);
  cJSON_AddStringToObject(record, "image", ref);
  cJSON_AddStringToObject(record, "snapshot_parent", chain);
  cJSON_AddStringToObject(record, "snapshot_key", id);
  cJSON_AddStringToObject(record, "runtime", runtime && *runtime ? runtime : c->runtime);
  cJSON_AddStringToObject(record, "created", now);
  cJSON_AddBoolToObject(record, "auto_remove",
                        cJSON_IsTrue(cJSON_GetObjectItem(body, "auto_remove")));
  cJSON_AddItemToObject(record, "labels",
                        labels ? cJSON_Duplicate(labels, true) : cJSON_CreateObject());
  cJSON_AddItemToObject(record, "spec", spec);
  spec = NULL;
  char path[PATH_MAX + 32];
  ctd_fmt(path, sizeof path, "%s/container.json", dir);
  if (json_write_file(path, record, false, &err) < 0)
    goto fail;
  pthread_mutex_lock(&c->lock);
  k->record = record;
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_unlock(&k->busy);
  cJSON_Delete(image_config);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "id", id);
  cJSON_AddStringToObject(ev, "image", ref);
  ctd_publish(c, "/containers/create", ev);
  trace_end(&sp, NULL);
  httpd_reply_json(req, 201, container_summary(k));
  return;
fail:
  trace_end(&sp, &err);
  cJSON_Delete(image_config);
  cJSON_Delete(spec);
  cJSON_Delete(record);
  if (made_dir) {
    cut_err e2;
    cut_rm_rf(dir, &e2);
  }
  pthread_mutex_lock(&c->lock);
  for (ctd_container **pp = &c->containers; *pp; pp = &(*pp)->next)
    if (*pp == k) {
      *pp = k->next;
      break;
    }
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_unlock(&k->busy);
  free(k);
  httpd_reply_err(req, status, &err);
}

void
ctd_h_containers_delete(httpd_req *req, void *ctx)
{
  ctd *c = ctx;
  const char *id = httpd_param(req, "id");
  pthread_mutex_lock(&c->lock);
  ctd_container *k = ctd_container_find(c, id);
  if (k == NULL || k->record == NULL) {
    pthread_mutex_unlock(&c->lock);
    httpd_reply_error(req, 404, "container %s: not found", id);
    return;
  }
  ctd_task *t = ctd_task_find(c, id);
  if (t) {
    bool running = t->status != TASK_STOPPED;
    pthread_mutex_unlock(&c->lock);
    httpd_reply_error(req, 409,
                      "container %s: has a %s task, delete the task first (kill it if running)", id,
                      running ? "running" : "stopped");
    return;
  }
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_lock(&k->busy);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "containers.Delete", TA_STR("id", id));
  cut_err err;
  char dir[PATH_MAX], path[PATH_MAX + 32];
  container_dir(c, id, dir, sizeof dir);
  /* The record goes first: after that, whatever is left (snapshot, log) is
   * garbage that the next start or GC removes. */
  ctd_fmt(path, sizeof path, "%s/container.json", dir);
  unlink(path);
  pthread_mutex_lock(&c->lock);
  bool has_snap = ctd_snap_find(c, id) != NULL;
  pthread_mutex_unlock(&c->lock);
  int r = has_snap ? ctd_snap_remove(c, id, &err) : 0;
  cut_err e2;
  cut_rm_rf(dir, &e2);
  pthread_mutex_lock(&c->lock);
  for (ctd_container **pp = &c->containers; *pp; pp = &(*pp)->next)
    if (*pp == k) {
      *pp = k->next;
      break;
    }
  pthread_mutex_unlock(&c->lock);
  pthread_mutex_unlock(&k->busy);
  cJSON_Delete(k->record);
  free(k);
  trace_end(&sp, r < 0 ? &err : NULL);
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "id", id);
  ctd_publish(c, "/containers/delete", ev);
  if (r < 0) {
    httpd_reply_err(req, 500, &err);
    return;
  }
  httpd_reply_json(req, 200, NULL);
}
