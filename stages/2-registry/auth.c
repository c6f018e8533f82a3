/* auth.c: docker config.json credentials and WWW-Authenticate parsing.
 *
 * Mirrors docker/cli's credential file store (configfile.go) for the plain
 * "auth" field only: credential helpers ("credsStore") are not run: a
 * teaching tool should not exec whatever a config file names. */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileutil.h"
#include "json.h"

#define CONFIG_MAX (1u << 20)

/* ---- challenge -------------------------------------------------------- */

static const char *
skip_ws(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == ',')
    p++;
  return p;
}

/* key=value or key="quoted value" (backslash escapes per RFC 7230). */
static const char *
parse_param(const char *p, char *key, size_t ksize, char *val, size_t vsize)
{
  size_t k = 0, v = 0;
  while (*p && *p != '=' && *p != ',' && *p != ' ') {
    if (k + 1 < ksize)
      key[k++] = (char)tolower((unsigned char)*p);
    p++;
  }
  key[k] = '\0';
  val[0] = '\0';
  if (*p != '=')
    return p;
  p++;
  if (*p == '"') {
    p++;
    while (*p && *p != '"') {
      if (*p == '\\' && p[1])
        p++;
      if (v + 1 < vsize)
        val[v++] = *p;
      p++;
    }
    if (*p == '"')
      p++;
  } else {
    while (*p && *p != ',' && *p != ' ') {
      if (v + 1 < vsize)
        val[v++] = *p;
      p++;
    }
  }
  val[v] = '\0';
  return p;
}

int
auth_parse_challenge(const char *hdr, auth_challenge *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  const char *p = skip_ws(hdr);
  size_t n = 0;
  while (*p && *p != ' ' && n + 1 < sizeof out->scheme)
    out->scheme[n++] = (char)tolower((unsigned char)*p++);
  out->scheme[n] = '\0';
  if (strcmp(out->scheme, "basic") != 0 && strcmp(out->scheme, "bearer") != 0)
    return cut_error(err, 0, "unsupported authentication scheme \"%s\"", out->scheme);
  for (;;) {
    p = skip_ws(p);
    if (*p == '\0')
      break;
    char key[32], val[1024];
    const char *next = parse_param(p, key, sizeof key, val, sizeof val);
    if (next == p)
      break;
    p = next;
    if (strcmp(key, "realm") == 0)
      snprintf(out->realm, sizeof out->realm, "%s", val);
    else if (strcmp(key, "service") == 0)
      snprintf(out->service, sizeof out->service, "%s", val);
    else if (strcmp(key, "scope") == 0)
      snprintf(out->scope, sizeof out->scope, "%s", val);
  }
  if (strcmp(out->scheme, "bearer") == 0 && out->realm[0] == '\0')
    return cut_error(err, 0, "Bearer challenge without a realm");
  return 0;
}

/* ---- base64 ----------------------------------------------------------- */

char *
auth_b64_encode(const void *data, size_t len)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (out)
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  return out;
}

int
auth_b64_decode(const char *s, char **out, size_t *len, cut_err *err)
{
  size_t n = strlen(s);
  if (n % 4 != 0 || n > CONFIG_MAX)
    return cut_error(err, 0, "bad base64 value");
  unsigned char *buf = malloc(n / 4 * 3 + 1);
  if (!buf)
    return cut_error(err, ENOMEM, "base64");
  int r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
  if (r < 0) {
    free(buf);
    return cut_error(err, 0, "bad base64 value");
  }
  /* EVP_DecodeBlock counts the '=' padding as zero bytes: drop them. */
  for (const char *q = s + n; q > s && q[-1] == '='; q--)
    r--;
  buf[r] = '\0';
  *out = (char *)buf;
  *len = (size_t)r;
  return 0;
}

/* ---- config.json ------------------------------------------------------ */

int
auth_config_path(char *out, size_t size, cut_err *err)
{
  const char *dir = getenv("DOCKER_CONFIG");
  int n;
  if (dir && *dir)
    n = snprintf(out, size, "%s/config.json", dir);
  else {
    const char *home = getenv("HOME");
    if (!home || !*home)
      return cut_error(err, 0, "neither DOCKER_CONFIG nor HOME is set");
    n = snprintf(out, size, "%s/.docker/config.json", home);
  }
  if (n < 0 || (size_t)n >= size)
    return cut_error(err, ENAMETOOLONG, "config path");
  return 0;
}

const char *
auth_config_key(const char *domain)
{
  return strcmp(domain, "docker.io") == 0 ? "https://index.docker.io/v1/" : domain;
}

/* The whole config (an empty object when the file does not exist). */
static int
config_load(const char *path, cJSON **out, cut_err *err)
{
  struct stat st;
  if (stat(path, &st) < 0 && errno == ENOENT) {
    *out = cJSON_CreateObject();
    return 0;
  }
  if (json_read_file(path, CONFIG_MAX, out, err) < 0)
    return cut_wrap(err, "read %s", path);
  if (!cJSON_IsObject(*out)) {
    cJSON_Delete(*out);
    return cut_error(err, 0, "%s: not a JSON object", path);
  }
  return 0;
}

int
auth_get(const char *domain, char **user, char **pass, cut_err *err)
{
  char path[PATH_MAX];
  cJSON *cfg;
  if (auth_config_path(path, sizeof path, err) < 0 || config_load(path, &cfg, err) < 0)
    return -1;
  int found = 0;
  const cJSON *auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths");
  const cJSON *entry = cJSON_GetObjectItemCaseSensitive(auths, auth_config_key(domain));
  const cJSON *auth = cJSON_GetObjectItemCaseSensitive(entry, "auth");
  if (cJSON_IsString(auth) && auth->valuestring[0]) {
    char *plain;
    size_t len;
    if (auth_b64_decode(auth->valuestring, &plain, &len, err) < 0) {
      cJSON_Delete(cfg);
      return cut_wrap(err, "%s: auths.%s.auth", path, auth_config_key(domain));
    }
    char *colon = memchr(plain, ':', len);
    if (!colon) {
      free(plain);
      cJSON_Delete(cfg);
      return cut_error(err, 0, "%s: auths.%s.auth: not user:password", path,
                       auth_config_key(domain));
    }
    *colon = '\0';
    *user = strdup(plain);
    *pass = strdup(colon + 1);
    explicit_bzero(plain, len);
    free(plain);
    found = 1;
  }
  cJSON_Delete(cfg);
  return found;
}

static int
config_save(const char *path, cJSON *cfg, cut_err *err)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    if (cut_mkdir_p(dir, 0700, err) < 0)
      return -1;
  }
  char *text = cJSON_Print(cfg);
  if (!text)
    return cut_error(err, ENOMEM, "serialise %s", path);
  size_t len = strlen(text);
  int r = cut_write_file_atomic(path, text, len, 0600, err);
  explicit_bzero(text, len);
  free(text);
  return r < 0 ? cut_wrap(err, "write %s", path) : 0;
}

int
auth_store(const char *domain, const char *user, const char *pass, cut_err *err)
{
  char path[PATH_MAX];
  cJSON *cfg;
  if (auth_config_path(path, sizeof path, err) < 0 || config_load(path, &cfg, err) < 0)
    return -1;
  cJSON *auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths");
  if (!cJSON_IsObject(auths)) {
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "auths");
    auths = cJSON_AddObjectToObject(cfg, "auths");
  }
  size_t n = strlen(user) + 1 + strlen(pass);
  char *plain = malloc(n + 1);
  snprintf(plain, n + 1, "%s:%s", user, pass);
  char *b64 = auth_b64_encode(plain, n);
  explicit_bzero(plain, n);
  free(plain);
  cJSON *entry = cJSON_CreateObject();
  cJSON_AddStringToObject(entry, "auth", b64);
  free(b64);
  const char *key = auth_config_key(domain);
  if (cJSON_GetObjectItemCaseSensitive(auths, key))
    cJSON_ReplaceItemInObjectCaseSensitive(auths, key, entry);
  else
    cJSON_AddItemToObject(auths, key, entry);
  int r = config_save(path, cfg, err);
  cJSON_Delete(cfg);
  return r;
}

int
auth_erase(const char *domain, cut_err *err)
{
  char path[PATH_MAX];
  cJSON *cfg;
  if (auth_config_path(path, sizeof path, err) < 0 || config_load(path, &cfg, err) < 0)
    return -1;
  cJSON *auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths");
  int had = 0;
  if (cJSON_IsObject(auths) && cJSON_GetObjectItemCaseSensitive(auths, auth_config_key(domain))) {
    cJSON_DeleteItemFromObjectCaseSensitive(auths, auth_config_key(domain));
    had = 1;
    if (config_save(path, cfg, err) < 0)
      had = -1;
  }
  cJSON_Delete(cfg);
  return had;
}
