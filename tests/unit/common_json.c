/* common_json.c: typed JSON accessors over cJSON. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

int
main(void)
{
  cJSON *d = NULL;
  cut_err e;
  const char *doc =
      "{\"s\":\"v\",\"i\":42,\"neg\":-3,\"f\":1.5,\"b\":true,\"o\":{},\"a\":[\"x\",\"y\"],"
      "\"bad\":[1],\"n\":null}\n";
  tap_is_int(json_parse(doc, strlen(doc), "doc", &d, &e), 0, "parse (trailing newline ok)");
  const char *s = NULL;
  tap_ok(json_get_string(d, "s", "s", true, &s, &e) == 0 && strcmp(s, "v") == 0, "string");
  tap_is_int(json_get_string(d, "i", "i", true, &s, &e), -1, "int is not a string");
  tap_is_str(e.msg, "i: expected a string", "type error names the path");
  int64_t i = 0;
  tap_ok(json_get_int64(d, "i", "i", true, &i, &e) == 0 && i == 42, "int64");
  tap_is_int(json_get_int64(d, "f", "f", true, &i, &e), -1, "fraction refused as int");
  uint64_t u = 0;
  tap_is_int(json_get_uint64(d, "neg", "neg", true, &u, &e), -1, "negative refused as uint");
  bool b = false;
  tap_ok(json_get_bool(d, "b", "b", true, &b, &e) == 0 && b, "bool");
  s = "unchanged";
  tap_ok(json_get_string(d, "missing", "missing", false, &s, &e) == 0 &&
             strcmp(s, "unchanged") == 0,
         "optional missing leaves the output");
  tap_is_int(json_get_string(d, "missing", "x.missing", true, &s, &e), -1, "required missing");
  tap_is_str(e.msg, "x.missing: required field missing", "missing names the path");
  tap_is_int(json_get_string(d, "n", "n", true, &s, &e), -1, "null counts as missing");
  const cJSON *o = NULL;
  tap_ok(json_get_object(d, "o", "o", true, &o, &e) == 0 && o, "object");
  tap_is_int(json_get_object(d, "a", "a", true, &o, &e), -1, "array is not an object");
  const cJSON *arr = NULL;
  char **v = NULL;
  size_t n = 0;
  json_get_array(d, "a", "a", true, &arr, &e);
  tap_ok(json_string_array(arr, "a", &v, &n, &e) == 0 && n == 2 && strcmp(v[1], "y") == 0 &&
             v[2] == NULL,
         "string array");
  free(v);
  json_get_array(d, "bad", "bad", true, &arr, &e);
  tap_is_int(json_string_array(arr, "bad", &v, &n, &e), -1, "non-string element refused");
  tap_is_str(e.msg, "bad[0]: expected a string", "element error names the index");
  cJSON_Delete(d);
  tap_is_int(json_parse("{} x", 4, "doc", &d, &e), -1, "trailing garbage refused");
  tap_ok(strstr(e.msg, "trailing data") != NULL, "trailing garbage error");
  tap_is_int(json_parse("{}\0garbage", 10, "doc", &d, &e), -1,
             "data after an embedded NUL is trailing data too");
  tap_is_int(json_parse("{\"a\":", 5, "cfg", &d, &e), -1, "truncated refused");
  tap_ok(strncmp(e.msg, "cfg: invalid JSON", 17) == 0, "invalid JSON names the document");
  return tap_done();
}
