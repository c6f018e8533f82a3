/* auth.h: registry credentials and authentication challenges.
 *
 * Credentials live where Docker keeps them, so `docker login` and
 * `cutaway-image login` share them: $DOCKER_CONFIG/config.json (default
 * ~/.docker/config.json): {"auths":{"REGISTRY":{"auth":"base64(user:pass)"}}},
 * written atomically with mode 0600.  Docker Hub's key is the historical
 * "https://index.docker.io/v1/".
 *
 * A registry that wants credentials answers 401 with a WWW-Authenticate
 * challenge (RFC 7235): `Basic realm="..."` or
 * `Bearer realm="https://auth/token",service="registry",scope="..."`. */
#ifndef CUTAWAY_REG_AUTH_H
#define CUTAWAY_REG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct auth_challenge {
  char scheme[16]; /* "basic" or "bearer" (lowercased) */
  char realm[1024];
  char service[256];
  char scope[512];
} auth_challenge;

/* Parse one WWW-Authenticate value.  Unknown parameters are ignored. */
int auth_parse_challenge(const char *hdr, auth_challenge *out, cut_err *err);

/* The config.json path: $DOCKER_CONFIG/config.json or $HOME/.docker/config.json. */
int auth_config_path(char *out, size_t size, cut_err *err);

/* The key a registry domain has in "auths". */
const char *auth_config_key(const char *domain);

/* Look up credentials: 1 and malloc'ed *user and *pass when found, 0 when
 * none, <0 on a broken config file. */
int auth_get(const char *domain, char **user, char **pass, cut_err *err);

/* Add or replace (store) / remove (erase; returns 1 if there was one). */
int auth_store(const char *domain, const char *user, const char *pass, cut_err *err);
int auth_erase(const char *domain, cut_err *err);

/* base64 helpers (OpenSSL).  The result is malloc'ed and NUL-terminated. */
char *auth_b64_encode(const void *data, size_t len);
int auth_b64_decode(const char *s, char **out, size_t *len, cut_err *err);

#endif
