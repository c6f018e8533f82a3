/* runc_cgroups_fake.h: helpers shared by the cgroup manager's unit tests.
 *
 * The tests build a fake cgroupfs from plain directories and files under a
 * temp dir and play the kernel's part through the manager's test hooks: a
 * new directory gets the knob files its controllers would show, and a
 * directory about to be removed loses its files (cgroupfs lets rmdir remove
 * a cgroup whose only entries are knobs).  What was written is then read
 * back from the files, and the order of the writes from the trace. */
#ifndef RUNC_CGROUPS_FAKE_H
#define RUNC_CGROUPS_FAKE_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tap.h"
#include "stages/1-runc/cgroups_internal.h"
#include "trace.h"

static char fk_root[256];
static char fk_trace[PATH_MAX];
/* A knob the next directories will lack (to make a write fail). */
static const char *fk_omit;

static void
fk_put(const char *path, const char *content)
{
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    tap_diag("cannot write %s: %s", path, strerror(errno));
    return;
  }
  fputs(content, f);
  fclose(f);
}

static void
fk_putf(const char *dir, const char *name, const char *content)
{
  char p[PATH_MAX];
  if (fk_omit && strcmp(name, fk_omit) == 0)
    return;
  if (snprintf(p, sizeof p, "%s/%s", dir, name) < (int)sizeof p)
    fk_put(p, content);
}

/* The content of root-relative `rel`, trailing newline cut; "<missing>"
 * when absent.  Returns a static buffer. */
static const char *
fk_get(const char *rel)
{
  static char buf[8192];
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", fk_root, rel);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return "<missing>";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  return buf;
}

static void
fk_set(const char *rel, const char *content)
{
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", fk_root, rel);
  fk_put(p, content);
}

static bool
fk_exists(const char *rel)
{
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", fk_root, rel);
  return access(p, F_OK) == 0;
}

/* rmdir's part of the kernel: a cgroup's knob files go with it. */
static void
fk_before_rmdir(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    char p[PATH_MAX];
    if (de->d_type == DT_REG && snprintf(p, sizeof p, "%s/%s", path, de->d_name) < (int)sizeof p)
      unlink(p);
  }
  if (d)
    closedir(d);
}

static void
fk_rm_rf(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    char p[PATH_MAX];
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof p, "%s/%s", path, de->d_name);
    if (de->d_type == DT_DIR)
      fk_rm_rf(p);
    else
      unlink(p);
  }
  if (d)
    closedir(d);
  rmdir(path);
}

/* A temp root and a trace sink in it; the trace records every write. */
static void
fk_setup(const char *tag)
{
  snprintf(fk_root, sizeof fk_root, "/tmp/cutaway-test.%s.XXXXXX", tag);
  if (mkdtemp(fk_root) == NULL) {
    perror("mkdtemp");
    exit(1);
  }
  snprintf(fk_trace, sizeof fk_trace, "%s.trace.jsonl", fk_root);
  setenv("CUTAWAY_TRACE", fk_trace, 1);
  unsetenv("TRACEPARENT");
  trace_init("cutaway-runc", "unit-test");
}

static void
fk_teardown(void)
{
  fk_rm_rf(fk_root);
  unlink(fk_trace);
}

/* The cgroup.write events of the trace since `from` (a byte offset), as
 * "name=value" for files whose name starts with prefix, joined by ';'.
 * The file name keeps its last path component only. */
static const char *
fk_writes(long from, const char *prefix)
{
  static char out[8192];
  out[0] = '\0';
  FILE *f = fopen(fk_trace, "r");
  if (f == NULL)
    return out;
  fseek(f, from, SEEK_SET);
  char line[4200];
  while (fgets(line, sizeof line, f)) {
    cJSON *ev = cJSON_Parse(line);
    const cJSON *name = cJSON_GetObjectItem(ev, "name"), *e = cJSON_GetObjectItem(ev, "ev");
    const cJSON *attrs = cJSON_GetObjectItem(ev, "attrs");
    if (cJSON_IsString(name) && strcmp(name->valuestring, "cgroup.write") == 0 &&
        cJSON_IsString(e) && strcmp(e->valuestring, "begin") == 0) {
      const char *path = cJSON_GetObjectItem(attrs, "path")->valuestring;
      const char *val = cJSON_GetObjectItem(attrs, "value")->valuestring;
      const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
      size_t used = strlen(out);
      if (strncmp(base, prefix, strlen(prefix)) == 0)
        snprintf(out + used, sizeof out - used, "%s%s=%s", used ? ";" : "", base, val);
    }
    cJSON_Delete(ev);
  }
  fclose(f);
  return out;
}

static long
fk_trace_pos(void)
{
  struct stat st;
  return stat(fk_trace, &st) == 0 ? (long)st.st_size : 0;
}

static cJSON *
fk_json(const char *text)
{
  cJSON *j = cJSON_Parse(text);
  if (j == NULL) {
    tap_diag("bad JSON in test: %s", text);
    exit(1);
  }
  return j;
}

/* Every directory below rel, as "a,a/b" (sorted by the walk). */
static void
fk_dirs_rec(const char *base, const char *rel, char *out, size_t len)
{
  char p[PATH_MAX];
  if (snprintf(p, sizeof p, "%s/%s", base, rel) >= (int)sizeof p)
    return;
  DIR *d = opendir(p);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
    size_t used = strlen(out);
    if (snprintf(out + used, len - used, "%s%s", used ? "," : "", sub) >= (int)(len - used))
      break;
    fk_dirs_rec(base, sub, out, len);
  }
  if (d)
    closedir(d);
}

static const char *
fk_dirs(const char *rel)
{
  static char out[4096];
  out[0] = '\0';
  fk_dirs_rec(fk_root, rel, out, sizeof out);
  return out;
}

#endif
