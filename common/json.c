/* json.c: see json.h.  cJSON keeps numbers as doubles, exact up to 2^53:
 * ample for byte counts and ids; the accessors refuse fractional values
 * rather than silently truncating them. */
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"

int
json_parse(const char *buf, size_t len, const char *what, cJSON **out, cut_err *err)
{
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(buf, len, &end, false);
  if (doc == NULL) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = (at && at >= buf && at <= buf + len) ? (size_t)(at - buf) : 0;
    return cut_error(err, 0, "%s: invalid JSON near byte %zu", what, off);
  }
  /* Allow trailing whitespace (a file's final newline), nothing else. */
  while (end && end < buf + len && strchr(" \t\r\n", *end) && *end)
    end++;
  /* A NUL inside the buffer is trailing data too: a body of "{}\0garbage"
   * must not pass as "{}". */
  if (end && end < buf + len) {
    cJSON_Delete(doc);
    return cut_error(err, 0, "%s: trailing data after JSON at byte %zu", what, (size_t)(end - buf));
  }
  *out = doc;
  return 0;
}

int
json_read_file(const char *path, size_t max_bytes, cJSON **out, cut_err *err)
{
  char *buf = NULL;
  size_t len = 0;
  if (cut_read_file(path, max_bytes, &buf, &len, err) < 0)
    return -1;
  int r = json_parse(buf, len, path, out, err);
  free(buf);
  return r;
}

int
json_write_file(const char *path, const cJSON *doc, bool pretty, cut_err *err)
{
  char *text = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
  if (text == NULL)
    return cut_error(err, ENOMEM, "serialise %s", path);
  size_t len = strlen(text);
  text[len] = '\0';
  int r = cut_write_file_atomic(path, text, len, 0644, err);
  cJSON_free(text);
  return r;
}

static int
lookup(const cJSON *obj, const char *key, const char *path, bool required, const cJSON **item,
       cut_err *err)
{
  *item = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  if (*item == NULL || cJSON_IsNull(*item)) {
    *item = NULL;
    if (required)
      return cut_error(err, 0, "%s: required field missing", path);
  }
  return 0;
}

int
json_get_string(const cJSON *obj, const char *key, const char *path, bool required,
                const char **out, cut_err *err)
{
  const cJSON *it;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!cJSON_IsString(it))
    return cut_error(err, 0, "%s: expected a string", path);
  *out = it->valuestring;
  return 0;
}

bool
json_is_integer(const cJSON *item)
{
  if (!cJSON_IsNumber(item))
    return false;
  double d = item->valuedouble;
  return isfinite(d) && floor(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

int
json_get_int64(const cJSON *obj, const char *key, const char *path, bool required, int64_t *out,
               cut_err *err)
{
  const cJSON *it;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!json_is_integer(it))
    return cut_error(err, 0, "%s: expected an integer", path);
  *out = (int64_t)it->valuedouble;
  return 0;
}

int
json_get_uint64(const cJSON *obj, const char *key, const char *path, bool required, uint64_t *out,
                cut_err *err)
{
  const cJSON *it;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
      floor(it->valuedouble) != it->valuedouble || it->valuedouble >= 18446744073709551616.0)
    return cut_error(err, 0, "%s: expected a non-negative integer", path);
  *out = (uint64_t)it->valuedouble;
  return 0;
}

int
json_get_bool(const cJSON *obj, const char *key, const char *path, bool required, bool *out,
              cut_err *err)
{
  const cJSON *it;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!cJSON_IsBool(it))
    return cut_error(err, 0, "%s: expected true or false", path);
  *out = cJSON_IsTrue(it);
  return 0;
}

int
json_get_object(const cJSON *obj, const char *key, const char *path, bool required,
                const cJSON **out, cut_err *err)
{
  const cJSON *it;
  *out = NULL;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!cJSON_IsObject(it))
    return cut_error(err, 0, "%s: expected an object", path);
  *out = it;
  return 0;
}

int
json_get_array(const cJSON *obj, const char *key, const char *path, bool required,
               const cJSON **out, cut_err *err)
{
  const cJSON *it;
  *out = NULL;
  if (lookup(obj, key, path, required, &it, err) < 0)
    return -1;
  if (it == NULL)
    return 0;
  if (!cJSON_IsArray(it))
    return cut_error(err, 0, "%s: expected an array", path);
  *out = it;
  return 0;
}

int
json_string_array(const cJSON *arr, const char *path, char ***out, size_t *count, cut_err *err)
{
  if (arr == NULL) {
    *out = calloc(1, sizeof(char *));
    if (count)
      *count = 0;
    return *out ? 0 : cut_error(err, ENOMEM, "%s", path);
  }
  if (!cJSON_IsArray(arr))
    return cut_error(err, 0, "%s: expected an array of strings", path);
  size_t n = (size_t)cJSON_GetArraySize(arr);
  char **v = calloc(n + 1, sizeof(char *));
  if (v == NULL)
    return cut_error(err, ENOMEM, "%s", path);
  size_t i = 0;
  const cJSON *el;
  cJSON_ArrayForEach(el, arr)
  {
    if (!cJSON_IsString(el)) {
      free(v);
      return cut_error(err, 0, "%s[%zu]: expected a string", path, i);
    }
    v[i++] = el->valuestring;
  }
  *out = v;
  if (count)
    *count = n;
  return 0;
}
