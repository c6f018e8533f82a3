/* dkd_volumes.c: Docker's local volumes (dockerd's volume/local driver).
 *
 * A named volume is a directory ROOT/volumes/<name>/_data (its metadata in
 * ROOT/volumes/<name>/meta.json) that containers get as a bind mount.
 * `-v vol1:/data` creates vol1 if it does not exist, as dockerd does; a bind
 * `-v /host/dir:/data` mounts a host directory (created when missing, as
 * dockerd does for -v).  A volume outlives its containers; removing one in
 * use is refused. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkd.h"
#include "fileutil.h"
#include "json.h"
#include "trace.h"

/* Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static bool
valid_name(const char *n)
{
  if (!isalnum((unsigned char)n[0]) || strlen(n) < 2 || strlen(n) > 200)
    return false;
  for (const char *p = n; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
      return false;
  return true;
}

static void
volume_dir(dkd *d, const char *name, char *out, size_t len)
{
  snprintf(out, len, "%s/volumes/%s", d->root, name);
}

static cJSON *
volume_json(dkd *d, const char *name)
{
  char dir[DKD_DIR_MAX + 256], path[DKD_DIR_MAX + 300];
  volume_dir(d, name, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/meta.json", dir);
  cJSON *meta = NULL;
  cut_err err;
  if (json_read_file(path, 1 << 16, &meta, &err) < 0)
    return NULL;
  cJSON *o = cJSON_CreateObject();
  const char *created = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "CreatedAt"));
  cJSON_AddStringToObject(o, "CreatedAt", created ? created : "");
  cJSON_AddStringToObject(o, "Driver", "local");
  const cJSON *labels = cJSON_GetObjectItem(meta, "Labels");
  cJSON_AddItemToObject(o, "Labels", labels ? cJSON_Duplicate(labels, true) : cJSON_CreateNull());
  snprintf(path, sizeof path, "%s/_data", dir);
  cJSON_AddStringToObject(o, "Mountpoint", path);
  cJSON_AddStringToObject(o, "Name", name);
  cJSON_AddNullToObject(o, "Options");
  cJSON_AddStringToObject(o, "Scope", "local");
  cJSON_Delete(meta);
  return o;
}

/* Create the volume if it does not exist; its _data path into mountpoint. */
static int
volume_ensure(dkd *d, const char *name, const cJSON *labels, char *mountpoint, size_t len,
              bool *created, cut_err *err)
{
  char dir[DKD_DIR_MAX + 256], path[DKD_DIR_MAX + 300];
  volume_dir(d, name, dir, sizeof dir);
  snprintf(mountpoint, len, "%s/_data", dir);
  snprintf(path, sizeof path, "%s/meta.json", dir);
  *created = false;
  if (access(path, F_OK) == 0)
    return 0;
  if (cut_mkdir_p(mountpoint, 0755, err) < 0)
    return -1;
  cJSON *meta = cJSON_CreateObject();
  char now[40];
  dkd_now(now, sizeof now);
  now[19] = 'Z'; /* Docker shows seconds here */
  now[20] = '\0';
  cJSON_AddStringToObject(meta, "CreatedAt", now);
  if (labels)
    cJSON_AddItemToObject(meta, "Labels", cJSON_Duplicate(labels, true));
  int r = json_write_file(path, meta, true, err);
  cJSON_Delete(meta);
  *created = r == 0;
  if (r == 0)
    trace_event("volume.create", TA_STR("name", name));
  if (r == 0)
    dkd_event(d, "volume", "create", name, NULL, NULL, "driver=local");
  return r;
}

int
dkd_binds_to_mounts(dkd *d, const cJSON *binds, cJSON *mounts, cut_err *err)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, binds)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, EINVAL, "HostConfig.Binds: expected strings");
    char spec[1024], src[DKD_DIR_MAX + 1100];
    snprintf(spec, sizeof spec, "%s", it->valuestring);
    char *dst = strchr(spec, ':');
    if (dst == NULL || dst == spec)
      return cut_error(err, EINVAL, "invalid volume specification: '%s'", it->valuestring);
    *dst++ = '\0';
    char *mode = strchr(dst, ':');
    if (mode)
      *mode++ = '\0';
    if (dst[0] != '/')
      return cut_error(err, EINVAL,
                       "invalid volume specification: '%s': the destination must be "
                       "an absolute path",
                       it->valuestring);
    bool ro = mode && strstr(mode, "ro") != NULL;
    if (spec[0] == '/') {
      if (cut_mkdir_p(spec, 0755, err) < 0)
        return -1;
      snprintf(src, sizeof src, "%s", spec);
    } else {
      if (!valid_name(spec))
        return cut_error(err, EINVAL, "\"%s\" includes invalid characters for a local volume name",
                         spec);
      bool created;
      if (volume_ensure(d, spec, NULL, src, sizeof src, &created, err) < 0)
        return -1;
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dst);
    cJSON_AddStringToObject(m, "source", src);
    cJSON_AddStringToObject(m, "type", "bind");
    cJSON *opts = cJSON_AddArrayToObject(m, "options");
    cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
    cJSON_AddItemToArray(opts, cJSON_CreateString(ro ? "ro" : "rw"));
    cJSON_AddItemToArray(mounts, m);
  }
  return 0;
}

void
dkd_h_volumes_list(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  char dir[DKD_DIR_MAX + 16];
  snprintf(dir, sizeof dir, "%s/volumes", d->root);
  cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "Volumes");
  DIR *dp = opendir(dir);
  struct dirent *de;
  while (dp && (de = readdir(dp)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    cJSON *v = volume_json(d, de->d_name);
    if (v)
      cJSON_AddItemToArray(a, v);
  }
  if (dp)
    closedir(dp);
  cJSON_AddNullToObject(o, "Warnings");
  httpd_reply_json(req, 200, o);
}

void
dkd_h_volumes_create(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *body;
  if (httpd_json_body(req, true, &body) < 0)
    return;
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(body, "Name"));
  const char *driver = cJSON_GetStringValue(cJSON_GetObjectItem(body, "Driver"));
  char anon[65];
  if (driver && *driver && strcmp(driver, "local") != 0) {
    httpd_reply_error(req, 400, "volume driver %s: only \"local\" is supported", driver);
    return;
  }
  if (name == NULL || *name == '\0') {
    dkd_random_hex(anon, 32);
    name = anon;
  }
  if (!valid_name(name)) {
    httpd_reply_error(req, 400,
                      "create %s: \"%s\" includes invalid characters for a local volume name, "
                      "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                      name, name);
    return;
  }
  char mp[DKD_DIR_MAX + 300];
  bool created;
  cut_err err;
  const cJSON *labels = cJSON_GetObjectItem(body, "Labels");
  if (volume_ensure(d, name, cJSON_IsObject(labels) ? labels : NULL, mp, sizeof mp, &created,
                    &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  httpd_reply_json(req, 201, volume_json(d, name));
}

void
dkd_h_volumes_inspect(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = httpd_param(req, "name");
  cJSON *v = valid_name(name) ? volume_json(d, name) : NULL;
  if (v == NULL) {
    httpd_reply_error(req, 404, "get %s: no such volume", name);
    return;
  }
  httpd_reply_json(req, 200, v);
}

/* Containers (not removed) whose Binds name the volume (d->lock held). */
static bool
volume_in_use(dkd *d, const char *name, char *ids, size_t len)
{
  size_t n = 0;
  ids[0] = '\0';
  for (dkd_container *k = d->containers; k; k = k->next) {
    if (k->removed || k->creating)
      continue;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(k->host_config, "Binds"))
    {
      size_t l = strlen(name);
      if (cJSON_IsString(it) && strncmp(it->valuestring, name, l) == 0 &&
          it->valuestring[l] == ':' && n + 70 < len)
        n += (size_t)snprintf(ids + n, len - n, "%s%s", n ? ", " : "", k->id);
    }
  }
  return n > 0;
}

void
dkd_h_volumes_delete(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = httpd_param(req, "name");
  cJSON *v = valid_name(name) ? volume_json(d, name) : NULL;
  if (v == NULL) {
    httpd_reply_error(req, 404, "get %s: no such volume", name);
    return;
  }
  cJSON_Delete(v);
  char ids[1024];
  pthread_mutex_lock(&d->lock);
  bool used = volume_in_use(d, name, ids, sizeof ids);
  pthread_mutex_unlock(&d->lock);
  if (used) {
    httpd_reply_error(req, 409, "remove %s: volume is in use - [%s]", name, ids);
    return;
  }
  char dir[DKD_DIR_MAX + 256];
  volume_dir(d, name, dir, sizeof dir);
  cut_err err;
  if (cut_rm_rf(dir, &err) < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  trace_event("volume.remove", TA_STR("name", name));
  dkd_event(d, "volume", "destroy", name, NULL, NULL, "driver=local");
  httpd_reply_raw(req, 204, NULL, "", 0);
}
