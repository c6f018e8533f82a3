/* ref.h: image references, normalised the way Docker does.
 *
 * Mirrors docker/distribution's `reference` package (ParseNormalizedNamed):
 *
 *     busybox                  -> docker.io/library/busybox:latest
 *     me/app:1.0               -> docker.io/me/app:1.0
 *     localhost:5000/app       -> localhost:5000/app:latest
 *     127.0.0.1:5000/a/b@sha256:<64 hex>
 *
 * The first path component is a registry host when it contains '.' or ':',
 * is "localhost", or has an uppercase letter; otherwise the image is on
 * Docker Hub.  Every part is validated before it is used to build a URL or a
 * path: a reference is attacker-controlled input (CVE-2024-3727). */
#ifndef CUTAWAY_REG_REF_H
#define CUTAWAY_REG_REF_H

#include <stdbool.h>

#include "digest.h"
#include "error.h"

#define REF_NAME_MAX 255 /* domain + "/" + path, as Docker limits it */
#define REF_TAG_MAX 128

typedef struct image_ref {
  char domain[REF_NAME_MAX + 1];   /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
  char path[REF_NAME_MAX + 1];     /* "library/busybox" */
  char tag[REF_TAG_MAX + 1];       /* "" when only a digest was given */
  char digest[CUT_DIGEST_LEN + 1]; /* "" or "sha256:<hex>" */
} image_ref;

/* Parse and normalise.  A reference with neither tag nor digest gets
 * "latest".  Errors name the offending part ("invalid tag "x!"..."). */
int ref_parse(const char *s, image_ref *out, cut_err *err);

/* The normalised string: domain/path:tag, domain/path@digest, or both
 * (domain/path:tag@digest).  Returns out. */
char *ref_string(const image_ref *r, char *out, size_t size);

/* domain/path (no tag, no digest). */
char *ref_name(const image_ref *r, char *out, size_t size);

/* What to ask the registry for: the digest when there is one, else the tag. */
const char *ref_reference(const image_ref *r);

/* The host:port to connect to: docker.io is served by registry-1.docker.io. */
const char *ref_api_host(const image_ref *r);

/* The host part of a domain without its port ("127.0.0.1", "::1", "localhost"). */
void ref_domain_host(const char *domain, char *out, size_t size);

/* True for hosts Docker talks plain HTTP to without being told:
 * 127.0.0.0/8, ::1 and localhost (daemon/registry config.go). */
bool ref_domain_is_loopback(const char *domain);

/* Validators, exposed for the unit tests and for push's DEST parsing. */
bool ref_valid_tag(const char *tag);
bool ref_valid_path(const char *path);
bool ref_valid_domain(const char *domain);

#endif
