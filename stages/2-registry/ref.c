/* ref.c: Docker-style image reference parsing (see ref.h).
 *
 * The grammar is docker/distribution's reference grammar written as small
 * hand-rolled scanners instead of one big regular expression, so that each
 * rejection can say which part was wrong. */
#include "ref.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool
is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )*  */
static bool
valid_component(const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum(s[0]))
    return false;
  while (i < n) {
    while (i < n && is_lower_alnum(s[i]))
      i++;
    if (i == n)
      return true;
    /* a separator, then at least one alnum */
    if (s[i] == '.' || (s[i] == '_' && !(i + 1 < n && s[i + 1] == '_')))
      i++;
    else if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
      i += 2;
    else if (s[i] == '-')
      while (i < n && s[i] == '-')
        i++;
    else
      return false;
    if (i == n || !is_lower_alnum(s[i]))
      return false;
  }
  return true;
}

bool
ref_valid_path(const char *path)
{
  const char *p = path;
  if (*p == '\0')
    return false;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!valid_component(p, n))
      return false;
    if (!slash)
      return true;
    p = slash + 1;
  }
}

bool
ref_valid_tag(const char *tag)
{
  size_t n = strlen(tag);
  if (n == 0 || n > REF_TAG_MAX)
    return false;
  if (!(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
      return false;
  return true;
}

/* host[:port], host being dotted labels of [A-Za-z0-9-] or [IPv6]. */
bool
ref_valid_domain(const char *domain)
{
  const char *p = domain, *port = NULL;
  if (*p == '[') {
    const char *end = strchr(p, ']');
    if (!end || end - p - 1 <= 0 || end - p - 1 >= INET6_ADDRSTRLEN)
      return false;
    char ip[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    memcpy(ip, p + 1, end - p - 1);
    ip[end - p - 1] = '\0';
    if (inet_pton(AF_INET6, ip, &a6) != 1)
      return false;
    if (end[1] == '\0')
      return true;
    if (end[1] != ':')
      return false;
    port = end + 2;
  } else {
    size_t label = 0;
    for (; *p && *p != ':'; p++) {
      if (*p == '.') {
        if (label == 0)
          return false;
        label = 0;
      } else if (isalnum((unsigned char)*p) || (*p == '-' && label > 0)) {
        label++;
      } else {
        return false;
      }
    }
    if (label == 0 || p[-1] == '-')
      return false;
    if (*p == ':')
      port = p + 1;
  }
  if (port) {
    if (*port == '\0' || strlen(port) > 5)
      return false;
    for (const char *q = port; *q; q++)
      if (!isdigit((unsigned char)*q))
        return false;
  }
  return true;
}

/* Docker's rule (splitDockerDomain): the part before the first '/' is a
 * registry when it looks like a host, else the name is on Docker Hub. */
static bool
looks_like_domain(const char *s, size_t n)
{
  if (n == 9 && strncmp(s, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
      return true;
  return false;
}

static int
copy_part(char *dst, size_t size, const char *src, size_t n, const char *what, const char *whole,
          cut_err *err)
{
  if (n >= size)
    return cut_error(err, 0, "invalid reference \"%s\": %s too long", whole, what);
  memcpy(dst, src, n);
  dst[n] = '\0';
  return 0;
}

int
ref_parse(const char *s, image_ref *out, cut_err *err)
{
  memset(out, 0, sizeof *out);
  size_t len = strlen(s);
  if (len == 0)
    return cut_error(err, 0, "invalid reference: empty");
  if (len > 2 * REF_NAME_MAX)
    return cut_error(err, 0, "invalid reference: too long");

  /* name[:tag][@digest]: the digest first, since it contains a ':'. */
  char work[2 * REF_NAME_MAX + 1];
  memcpy(work, s, len + 1);
  char *at = strchr(work, '@');
  if (at) {
    *at = '\0';
    const char *dg = at + 1;
    if (!cut_digest_valid(dg))
      return cut_error(
          err, 0, "invalid reference \"%s\": bad digest \"%s\" (want sha256:<64 lowercase hex>)", s,
          dg);
    snprintf(out->digest, sizeof out->digest, "%s", dg);
  }
  /* A ':' after the last '/' starts the tag (a ':' before it is a port). */
  char *slash = strrchr(work, '/');
  char *colon = strrchr(slash ? slash : work, ':');
  if (colon) {
    *colon = '\0';
    if (!ref_valid_tag(colon + 1))
      return cut_error(err, 0, "invalid reference \"%s\": bad tag \"%s\"", s, colon + 1);
    snprintf(out->tag, sizeof out->tag, "%s", colon + 1);
  }

  const char *name = work;
  const char *first_slash = strchr(name, '/');
  const char *path;
  if (first_slash && looks_like_domain(name, first_slash - name)) {
    if (copy_part(out->domain, sizeof out->domain, name, first_slash - name, "domain", s, err) < 0)
      return -1;
    path = first_slash + 1;
  } else {
    snprintf(out->domain, sizeof out->domain, "docker.io");
    path = name;
  }
  if (strcmp(out->domain, "index.docker.io") == 0)
    snprintf(out->domain, sizeof out->domain, "docker.io");
  if (!ref_valid_domain(out->domain))
    return cut_error(err, 0, "invalid reference \"%s\": bad registry host \"%s\"", s, out->domain);

  if (strcmp(out->domain, "docker.io") == 0 && !strchr(path, '/')) {
    char tmp[REF_NAME_MAX + 1];
    if (snprintf(tmp, sizeof tmp, "library/%s", path) >= (int)sizeof tmp)
      return cut_error(err, 0, "invalid reference \"%s\": name too long", s);
    memcpy(out->path, tmp, sizeof tmp);
  } else if (copy_part(out->path, sizeof out->path, path, strlen(path), "name", s, err) < 0) {
    return -1;
  }
  for (const char *p = out->path; *p; p++)
    if (isupper((unsigned char)*p))
      return cut_error(err, 0, "invalid reference \"%s\": repository name must be lowercase", s);
  if (!ref_valid_path(out->path))
    return cut_error(err, 0, "invalid reference \"%s\": bad repository name \"%s\"", s, out->path);
  if (strlen(out->domain) + 1 + strlen(out->path) > REF_NAME_MAX)
    return cut_error(err, 0, "invalid reference \"%s\": name longer than %d characters", s,
                     REF_NAME_MAX);
  if (out->tag[0] == '\0' && out->digest[0] == '\0')
    snprintf(out->tag, sizeof out->tag, "latest");
  return 0;
}

char *
ref_name(const image_ref *r, char *out, size_t size)
{
  snprintf(out, size, "%s/%s", r->domain, r->path);
  return out;
}

char *
ref_string(const image_ref *r, char *out, size_t size)
{
  snprintf(out, size, "%s/%s%s%s%s%s", r->domain, r->path, r->tag[0] ? ":" : "", r->tag,
           r->digest[0] ? "@" : "", r->digest);
  return out;
}

const char *
ref_reference(const image_ref *r)
{
  return r->digest[0] ? r->digest : r->tag;
}

const char *
ref_api_host(const image_ref *r)
{
  return strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
}

void
ref_domain_host(const char *domain, char *out, size_t size)
{
  const char *end;
  if (domain[0] == '[') {
    end = strchr(domain, ']');
    size_t n = end ? (size_t)(end - domain - 1) : 0;
    snprintf(out, size, "%.*s", (int)n, domain + 1);
    return;
  }
  end = strchr(domain, ':');
  snprintf(out, size, "%.*s", end ? (int)(end - domain) : (int)strlen(domain), domain);
}

bool
ref_domain_is_loopback(const char *domain)
{
  char host[REF_NAME_MAX + 1];
  ref_domain_host(domain, host, sizeof host);
  if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
    return true;
  struct in_addr a;
  if (inet_pton(AF_INET, host, &a) == 1)
    return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}
