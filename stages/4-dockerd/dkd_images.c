/* dkd_images.c: the /images endpoints of the Docker Engine API, on cutaway-containerd's
 * image service (dockerd 20.10 keeps its own image store; dockerd 24+
 * with the containerd image store does what we do: ask containerd).
 *
 *   GET    /images/json           -> GET /v1/images, then each image's config
 *   POST   /images/create?fromImage=&tag=  -> POST /v1/images/pull, with a
 *          progress stream of JSON messages, as `docker pull` prints them
 *   GET    /images/{name}/json    -> GET /v1/images/{name}
 *   DELETE /images/{name}         -> DELETE /v1/images/{name} (409 if in use) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkd.h"
#include "json.h"
#include "stages/2-registry/ref.h"

int
dkd_image_normalize(const char *name, char *out, size_t len, cut_err *err)
{
  image_ref r;
  if (ref_parse(name, &r, err) < 0)
    return -1;
  ref_string(&r, out, len);
  return 0;
}

/* "docker.io/library/busybox:latest" -> "busybox:latest", as Docker shows. */
static void
familiar(const char *ref, char *out, size_t len)
{
  const char *p = ref;
  if (strncmp(p, "docker.io/", 10) == 0) {
    p += 10;
    if (strncmp(p, "library/", 8) == 0)
      p += 8;
  }
  snprintf(out, len, "%s", p);
}

/* Unix seconds of the image config's "created", 0 when absent. */
static double
created_unix(const cJSON *config)
{
  const cJSON *c = cJSON_GetObjectItem(config, "created");
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!cJSON_IsString(c) || strptime(c->valuestring, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (double)timegm(&tm);
}

/* containerd's GET /v1/images/{ref}, 404 when unknown. */
static int
image_get(dkd *d, const char *ref, cJSON **out, long *status, cut_err *err)
{
  char path[1200];
  snprintf(path, sizeof path, "/v1/images/%s", ref);
  return dkd_ctd(d, "GET", path, NULL, status, out, err);
}

static cJSON *
summary(const char *ref, const cJSON *img)
{
  const cJSON *cd = cJSON_GetObjectItem(img, "config_descriptor");
  const cJSON *md = cJSON_GetObjectItem(img, "manifest");
  const char *cfg_digest = cJSON_GetStringValue(cJSON_GetObjectItem(cd, "digest"));
  const char *man_digest = cJSON_GetStringValue(cJSON_GetObjectItem(md, "digest"));
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", cfg_digest ? cfg_digest : "");
  cJSON_AddStringToObject(o, "ParentId", "");
  char fam[600], name[600];
  familiar(ref, fam, sizeof fam);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "RepoTags"), cJSON_CreateString(fam));
  snprintf(name, sizeof name, "%.*s@%s", (int)strcspn(fam, "@"), fam, man_digest ? man_digest : "");
  /* The repository part of "repo:tag": up to the last ':' after the last '/'. */
  char *slash = strrchr(name, '/'), *colon = strrchr(name, ':'), *at = strchr(name, '@');
  if (at && colon && colon < at && (!slash || colon > slash))
    memmove(colon, at, strlen(at) + 1);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "RepoDigests"), cJSON_CreateString(name));
  cJSON_AddNumberToObject(o, "Created", created_unix(cJSON_GetObjectItem(img, "config")));
  const cJSON *size = cJSON_GetObjectItem(img, "size");
  cJSON_AddNumberToObject(o, "Size", cJSON_IsNumber(size) ? size->valuedouble : 0);
  cJSON_AddNumberToObject(o, "VirtualSize", cJSON_IsNumber(size) ? size->valuedouble : 0);
  cJSON_AddNumberToObject(o, "SharedSize", -1);
  cJSON_AddNumberToObject(o, "Containers", -1);
  cJSON_AddNullToObject(o, "Labels");
  return o;
}

void
dkd_h_images_list(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *list = NULL;
  cut_err err;
  if (dkd_ctd(d, "GET", "/v1/images", NULL, NULL, &list, &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  cJSON *out = cJSON_CreateArray();
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "images"))
  {
    const char *ref = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
    cJSON *img = NULL;
    if (ref && image_get(d, ref, &img, NULL, &err) == 0)
      cJSON_AddItemToArray(out, summary(ref, img));
    cJSON_Delete(img);
  }
  cJSON_Delete(list);
  httpd_reply_json(req, 200, out);
}

/* The Docker inspect shape of an image. */
static cJSON *
inspect(const char *ref, const cJSON *img)
{
  cJSON *o = summary(ref, img);
  const cJSON *cfg = cJSON_GetObjectItem(img, "config");
  cJSON_DeleteItemFromObject(o, "Created");
  const cJSON *created = cJSON_GetObjectItem(cfg, "created");
  cJSON_AddStringToObject(o, "Created", cJSON_IsString(created) ? created->valuestring : "");
  cJSON_AddItemToObject(o, "Config", cJSON_Duplicate(cJSON_GetObjectItem(cfg, "config"), true));
  const cJSON *arch = cJSON_GetObjectItem(cfg, "architecture"),
              *os = cJSON_GetObjectItem(cfg, "os");
  cJSON_AddStringToObject(o, "Architecture", cJSON_IsString(arch) ? arch->valuestring : "");
  cJSON_AddStringToObject(o, "Os", cJSON_IsString(os) ? os->valuestring : "");
  cJSON *rootfs = cJSON_AddObjectToObject(o, "RootFS");
  cJSON_AddStringToObject(rootfs, "Type", "layers");
  const cJSON *rf = cJSON_GetObjectItem(cfg, "rootfs");
  cJSON_AddItemToObject(rootfs, "Layers",
                        cJSON_Duplicate(cJSON_GetObjectItem(rf, "diff_ids"), true));
  cJSON *gd = cJSON_AddObjectToObject(o, "GraphDriver");
  cJSON_AddStringToObject(gd, "Name", "overlayfs");
  cJSON_AddObjectToObject(gd, "Data");
  return o;
}

void
dkd_h_images_inspect(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  char name[1024], ref[600];
  const char *p = httpd_param(req, "name");
  snprintf(name, sizeof name, "%.*s", (int)(strlen(p) - 5), p); /* without "/json" */
  cut_err err;
  long st = 0;
  cJSON *img = NULL;
  if (dkd_image_normalize(name, ref, sizeof ref, &err) < 0 ||
      image_get(d, ref, &img, &st, &err) < 0) {
    httpd_reply_error(req, 404, "No such image: %s", name);
    return;
  }
  httpd_reply_json(req, 200, inspect(ref, img));
  cJSON_Delete(img);
}

/* ---- pull: a stream of progress messages ---- */

struct pull_stream {
  char *text; /* all the messages, sent as they are */
  size_t len, off;
};

static ssize_t
pull_read(void *cls, char *buf, size_t max)
{
  struct pull_stream *s = cls;
  size_t n = s->len - s->off < max ? s->len - s->off : max;
  memcpy(buf, s->text + s->off, n);
  s->off += n;
  return (ssize_t)n;
}

static void
pull_free(void *cls)
{
  struct pull_stream *s = cls;
  free(s->text);
  free(s);
}

static void
add_message(char **text, const char *status, const char *id)
{
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "status", status);
  if (id)
    cJSON_AddStringToObject(m, "id", id);
  char *line = cJSON_PrintUnformatted(m);
  cJSON_Delete(m);
  char *joined = NULL;
  if (asprintf(&joined, "%s%s\r\n", *text ? *text : "", line) >= 0) {
    free(*text);
    *text = joined;
  }
  free(line);
}

/* Loopback registries are spoken to in plain HTTP, as dockerd does
 * (127.0.0.0/8 is in its default insecure CIDRs). */
static cJSON *
pull_body(const char *ref)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "ref", ref);
  image_ref r;
  cut_err err;
  if (ref_parse(ref, &r, &err) == 0 && ref_domain_is_loopback(r.domain))
    cJSON_AddItemToArray(cJSON_AddArrayToObject(b, "insecure_registries"),
                         cJSON_CreateString(r.domain));
  return b;
}

void
dkd_h_images_create(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *from = httpd_query(req, "fromImage"), *tag = httpd_query(req, "tag");
  if (from == NULL || *from == '\0') {
    httpd_reply_error(req, 400, "image import (fromSrc) is not supported; give fromImage");
    return;
  }
  char name[1024], ref[600];
  if (tag && *tag)
    snprintf(name, sizeof name, "%s%s%s", from, strncmp(tag, "sha256:", 7) == 0 ? "@" : ":", tag);
  else
    snprintf(name, sizeof name, "%s", from);
  cut_err err;
  if (dkd_image_normalize(name, ref, sizeof ref, &err) < 0) {
    dkd_reply_err(req, 400, &err);
    return;
  }
  cJSON *b = pull_body(ref), *out = NULL;
  long st = 0;
  int r = dkd_ctd(d, "POST", "/v1/images/pull", b, &st, &out, &err);
  cJSON_Delete(b);
  /* Errors before any progress is sent are plain HTTP errors (404 for an
   * unknown manifest: `docker run` then says "Unable to find image"). */
  if (r < 0) {
    httpd_reply_error(req, st == 404 ? 404 : 500, "%s", err.msg);
    return;
  }
  struct pull_stream *s = calloc(1, sizeof *s);
  char line[800], fam[600];
  familiar(ref, fam, sizeof fam);
  const char *colon = strrchr(fam, ':');
  snprintf(line, sizeof line, "Pulling from %.*s", (int)(colon ? colon - fam : (long)strlen(fam)),
           fam);
  add_message(&s->text, line, colon ? colon + 1 : "latest");
  snprintf(line, sizeof line, "Digest: %s",
           cJSON_GetStringValue(cJSON_GetObjectItem(out, "manifest")));
  add_message(&s->text, line, NULL);
  snprintf(line, sizeof line, "Status: Downloaded newer image for %s", fam);
  add_message(&s->text, line, NULL);
  cJSON_Delete(out);
  dkd_event(d, "image", "pull", ref, NULL, NULL, NULL);
  s->len = s->text ? strlen(s->text) : 0;
  httpd_reply_stream(req, 200, "application/json", pull_read, s, pull_free);
}

/* Is the image used by a container? (409 on removal, as dockerd says.) */
static bool
image_in_use(dkd *d, const char *ref, char *who, size_t len)
{
  bool used = false;
  pthread_mutex_lock(&d->lock);
  for (dkd_container *k = d->containers; k && !used; k = k->next)
    if (!k->removed && !k->creating && strcmp(k->image_ref, ref) == 0) {
      used = true;
      snprintf(who, len, "%.12s", k->id);
    }
  pthread_mutex_unlock(&d->lock);
  return used;
}

void
dkd_h_images_delete(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = httpd_param(req, "name");
  char ref[600], path[1200], who[16];
  cut_err err;
  if (dkd_image_normalize(name, ref, sizeof ref, &err) < 0) {
    httpd_reply_error(req, 404, "No such image: %s", name);
    return;
  }
  cJSON *img = NULL;
  long st = 0;
  if (image_get(d, ref, &img, &st, &err) < 0) {
    httpd_reply_error(req, 404, "No such image: %s", name);
    return;
  }
  if (image_in_use(d, ref, who, sizeof who) && !httpd_query_bool(req, "force")) {
    cJSON_Delete(img);
    httpd_reply_error(req, 409,
                      "conflict: unable to remove repository reference \"%s\" (must force) - "
                      "container %s is using its referenced image",
                      name, who);
    return;
  }
  snprintf(path, sizeof path, "/v1/images/%s", ref);
  if (dkd_ctd(d, "DELETE", path, NULL, &st, NULL, &err) < 0) {
    cJSON_Delete(img);
    dkd_reply_err(req, st == 404 ? 404 : 500, &err);
    return;
  }
  /* Unused content and snapshots go, as dockerd prunes an untagged image. */
  dkd_ctd(d, "POST", "/v1/gc", NULL, NULL, NULL, &err);
  char fam[600];
  familiar(ref, fam, sizeof fam);
  cJSON *a = cJSON_CreateArray(), *u = cJSON_CreateObject(), *del = cJSON_CreateObject();
  cJSON_AddStringToObject(u, "Untagged", fam);
  dkd_event(d, "image", "untag", ref, NULL, NULL, NULL);
  cJSON_AddItemToArray(a, u);
  const char *id = cJSON_GetStringValue(
      cJSON_GetObjectItem(cJSON_GetObjectItem(img, "config_descriptor"), "digest"));
  cJSON_AddStringToObject(del, "Deleted", id ? id : "");
  cJSON_AddItemToArray(a, del);
  cJSON_Delete(img);
  httpd_reply_json(req, 200, a);
}

void
dkd_h_auth(httpd_req *req, void *ctx)
{
  httpd_reply_error(req, 501,
                    "login through cutawayd is not implemented: run `cutaway-image login` on the "
                    "daemon's host (cutaway-containerd reads its ~/.docker/config.json)");
}
