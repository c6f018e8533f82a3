/* json.h: typed accessors over cJSON with the cutaway error idiom.
 *
 * Every consumer of untrusted JSON (config.json, API bodies, manifests,
 * registry replies) goes through these so that a wrong type or a missing
 * field becomes one clear line: "process.args: expected array of strings". */
#ifndef CUTAWAY_JSON_H
#define CUTAWAY_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Parse a whole buffer; trailing garbage is an error.  `what` names the
 * document in the error ("config.json").  On success *out owns the tree. */
int json_parse(const char *buf, size_t len, const char *what, cJSON **out, cut_err *err);

/* Read and parse a file of at most max_bytes. */
int json_read_file(const char *path, size_t max_bytes, cJSON **out, cut_err *err);

/* Serialise and write atomically (see fileutil.h), pretty or compact. */
int json_write_file(const char *path, const cJSON *doc, bool pretty, cut_err *err);

/* Accessors.  `key` is looked up in `obj`; `path` is the dotted name used in
 * errors.  A missing optional key leaves *out unchanged and returns 0;
 * a missing required key, or a present key of the wrong type, is an error.
 * Strings returned point into the tree. */
int json_get_string(const cJSON *obj, const char *key, const char *path, bool required,
                    const char **out, cut_err *err);
int json_get_int64(const cJSON *obj, const char *key, const char *path, bool required, int64_t *out,
                   cut_err *err);
int json_get_uint64(const cJSON *obj, const char *key, const char *path, bool required,
                    uint64_t *out, cut_err *err);
int json_get_bool(const cJSON *obj, const char *key, const char *path, bool required, bool *out,
                  cut_err *err);
/* Object or array child; *out is NULL when optional and absent. */
int json_get_object(const cJSON *obj, const char *key, const char *path, bool required,
                    const cJSON **out, cut_err *err);
int json_get_array(const cJSON *obj, const char *key, const char *path, bool required,
                   const cJSON **out, cut_err *err);

/* An array whose every element is a string: returns a NULL-terminated vector
 * of pointers into the tree (free the vector only). */
int json_string_array(const cJSON *arr, const char *path, char ***out, size_t *count, cut_err *err);

/* True when a number is integral and fits in int64_t (cJSON stores doubles). */
bool json_is_integer(const cJSON *item);

#endif
