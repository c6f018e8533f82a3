/* state.c: see state.h. */
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "json.h"

int
rc_id_check(const char *id, cut_err *err)
{
  size_t n = strlen(id);
  if (n == 0 || n > 200)
    return cut_error(err, 0, "invalid container id \"%s\": empty or too long", id);
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return cut_error(err, 0, "invalid container id \"%s\"", id);
  for (const char *p = id; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_+.-", *p))
      return cut_error(err, 0, "invalid container id \"%s\": use letters, digits, _ + . -", id);
  return 0;
}

int
rc_state_dir(const char *root, const char *id, char *buf, size_t len, cut_err *err)
{
  if (rc_id_check(id, err) < 0)
    return -1;
  if (snprintf(buf, len, "%s/%s", root, id) >= (int)len)
    return cut_error(err, ENAMETOOLONG, "state directory of %s", id);
  return 0;
}

void
rc_now_rfc3339(char *buf, size_t len)
{
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", now.tv_nsec);
}

int
rc_proc_start_time(pid_t pid, uint64_t *start, char *state_letter)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name (field 2) may hold spaces and ')': skip to the last
   * ')' and count fields from there (field 3 is the state). */
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  p += 2;
  if (state_letter)
    *state_letter = *p;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
  }
  *start = strtoull(p, NULL, 10);
  return 0;
}

enum rc_status
rc_state_status(const rc_state *st)
{
  if (st->pid <= 0)
    return RC_STOPPED;
  uint64_t start;
  char letter;
  if (rc_proc_start_time(st->pid, &start, &letter) < 0 || start != st->pid_start)
    return RC_STOPPED;
  /* A zombie has exited; its parent just has not reaped it yet. */
  if (letter == 'Z' || letter == 'X')
    return RC_STOPPED;
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/%s", st->dir, RC_EXEC_FIFO);
  if (access(fifo, F_OK) == 0)
    return RC_CREATED;
  if (st->have_cgroup && st->cgroup.layout.mode == CG_V1) {
    char freezer[PATH_MAX + 600], buf[32] = "";
    snprintf(freezer, sizeof freezer, "%s/freezer%s/freezer.state", st->cgroup.layout.root,
             st->cgroup.path);
    int fd = open(freezer, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t r = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (r > 0 && strncmp(buf, "FROZEN", 6) == 0)
        return RC_PAUSED;
    }
  } else if (st->have_cgroup) {
    char freeze[PATH_MAX + 600], buf[8] = "";
    snprintf(freeze, sizeof freeze, "%s%s/cgroup.freeze", st->cgroup.layout.root, st->cgroup.path);
    int fd = open(freeze, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t r = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (r > 0 && buf[0] == '1')
        return RC_PAUSED;
    }
  }
  return RC_RUNNING;
}

const char *
rc_status_name(enum rc_status s)
{
  switch (s) {
  case RC_CREATING: return "creating";
  case RC_CREATED: return "created";
  case RC_RUNNING: return "running";
  case RC_PAUSED: return "paused";
  case RC_STOPPED: return "stopped";
  }
  return "unknown";
}

static void
copy_str(const cJSON *obj, const char *key, char *out, size_t len)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
  snprintf(out, len, "%s", cJSON_IsString(it) ? it->valuestring : "");
}

int
rc_state_load(const char *root, const char *id, rc_state *st, cut_err *err)
{
  memset(st, 0, sizeof *st);
  if (rc_state_dir(root, id, st->dir, sizeof st->dir, err) < 0)
    return -1;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/state.json", st->dir);
  cJSON *doc;
  if (access(path, F_OK) < 0 && errno == ENOENT)
    return cut_error(err, ENOENT, "container %s does not exist", id);
  if (json_read_file(path, 1 << 20, &doc, err) < 0)
    return cut_wrap(err, "container %s: state", id);
  snprintf(st->id, sizeof st->id, "%s", id);
  copy_str(doc, "ociVersion", st->oci_version, sizeof st->oci_version);
  copy_str(doc, "bundle", st->bundle, sizeof st->bundle);
  copy_str(doc, "rootfs", st->rootfs, sizeof st->rootfs);
  copy_str(doc, "created", st->created, sizeof st->created);
  int64_t v = 0;
  uint64_t u = 0;
  json_get_int64(doc, "pid", "pid", false, &v, NULL);
  st->pid = (pid_t)v;
  json_get_uint64(doc, "pid_start", "pid_start", false, &u, NULL);
  st->pid_start = u;
  v = 0;
  json_get_int64(doc, "owner", "owner", false, &v, NULL);
  st->owner = (uid_t)v;
  const cJSON *cg = cJSON_GetObjectItemCaseSensitive(doc, "cgroup");
  if (cJSON_IsObject(cg)) {
    if (cg_handle_from_json(cg, &st->cgroup, err) < 0) {
      cJSON_Delete(doc);
      return cut_wrap(err, "container %s: state", id);
    }
    st->have_cgroup = true;
  }
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
  if (cJSON_IsObject(ann))
    st->annotations = cJSON_Duplicate(ann, 1);
  st->host_mntns = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "host_mntns"));
  const cJSON *pre = cJSON_GetObjectItemCaseSensitive(doc, "premounts"), *it;
  st->n_premounts = 0;
  cJSON_ArrayForEach(it, pre)
  {
    if (cJSON_IsNumber(it) && st->n_premounts < RC_MAX_PREMOUNTS)
      st->premounts[st->n_premounts++] = it->valueint;
  }
  cJSON_Delete(doc);
  return 0;
}

int
rc_state_save(const rc_state *st, cut_err *err)
{
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "ociVersion", st->oci_version);
  cJSON_AddStringToObject(doc, "id", st->id);
  cJSON_AddNumberToObject(doc, "pid", st->pid);
  cJSON_AddNumberToObject(doc, "pid_start", (double)st->pid_start);
  cJSON_AddStringToObject(doc, "bundle", st->bundle);
  cJSON_AddStringToObject(doc, "rootfs", st->rootfs);
  cJSON_AddStringToObject(doc, "created", st->created);
  cJSON_AddNumberToObject(doc, "owner", st->owner);
  if (st->have_cgroup)
    cJSON_AddItemToObject(doc, "cgroup", cg_handle_to_json(&st->cgroup));
  if (st->annotations)
    cJSON_AddItemToObject(doc, "annotations", cJSON_Duplicate(st->annotations, 1));
  if (st->host_mntns) {
    cJSON_AddTrueToObject(doc, "host_mntns");
    cJSON_AddItemToObject(doc, "premounts",
                          cJSON_CreateIntArray(st->premounts, (int)st->n_premounts));
  }
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (text == NULL)
    return cut_error(err, ENOMEM, "state of %s", st->id);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/state.json", st->dir);
  int r = cut_write_file_replace(path, text, strlen(text), 0600, err);
  free(text);
  return r;
}

void
rc_state_free(rc_state *st)
{
  cJSON_Delete(st->annotations);
  st->annotations = NULL;
}

cJSON *
rc_state_to_oci(const rc_state *st, enum rc_status status)
{
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "ociVersion", st->oci_version[0] ? st->oci_version : "1.2.0");
  cJSON_AddStringToObject(doc, "id", st->id);
  cJSON_AddNumberToObject(doc, "pid", status == RC_STOPPED ? 0 : st->pid);
  cJSON_AddStringToObject(doc, "status", rc_status_name(status));
  cJSON_AddStringToObject(doc, "bundle", st->bundle);
  cJSON_AddStringToObject(doc, "rootfs", st->rootfs);
  cJSON_AddStringToObject(doc, "created", st->created);
  cJSON_AddStringToObject(doc, "owner", "");
  cJSON_AddItemToObject(doc, "annotations",
                        st->annotations ? cJSON_Duplicate(st->annotations, 1)
                                        : cJSON_CreateObject());
  return doc;
}
