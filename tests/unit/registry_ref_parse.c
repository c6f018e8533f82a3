/* registry_ref_parse: Docker-style reference normalisation (ref.c) and
 * the WWW-Authenticate / config.json pieces of auth.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stages/2-registry/auth.h"
#include "stages/2-registry/ref.h"
#include "tap.h"

static const char *D64 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
norm(const char *in, const char *want)
{
  image_ref r;
  cut_err err;
  char out[600];
  if (ref_parse(in, &r, &err) < 0) {
    tap_ok(0, "parse %s", in);
    tap_diag("%s", err.msg);
    return;
  }
  tap_is_str(ref_string(&r, out, sizeof out), want, "%s normalises", in);
}

static void
bad(const char *in, const char *why_substr)
{
  image_ref r;
  cut_err err = {0};
  int rc = ref_parse(in, &r, &err);
  tap_ok(rc < 0 && strstr(err.msg, why_substr) != NULL, "\"%s\" refused (%s)", in, why_substr);
  if (rc == 0 || !strstr(err.msg, why_substr))
    tap_diag("got: %s", rc == 0 ? "accepted" : err.msg);
}

int
main(void)
{
  setenv("CUTAWAY_TRACE", "off", 1); /* no trace is checked here */
  char buf[300];
  norm("busybox", "docker.io/library/busybox:latest");
  norm("busybox:1.36", "docker.io/library/busybox:1.36");
  norm("me/app", "docker.io/me/app:latest");
  norm("index.docker.io/library/alpine:3", "docker.io/library/alpine:3");
  norm("localhost/app", "localhost/app:latest");
  norm("localhost:5000/a/b/c:v1", "localhost:5000/a/b/c:v1");
  norm("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest");
  norm("[::1]:5000/x:t", "[::1]:5000/x:t");
  norm("Registry.Example/x", "Registry.Example/x:latest");
  norm("quay.io/a-b/c__d.e:1.0-rc_1", "quay.io/a-b/c__d.e:1.0-rc_1");
  snprintf(buf, sizeof buf, "busybox@%s", D64);
  char want[300];
  snprintf(want, sizeof want, "docker.io/library/busybox@%s", D64);
  norm(buf, want);
  snprintf(buf, sizeof buf, "host:1/x:t@%s", D64);
  snprintf(want, sizeof want, "host:1/x:t@%s", D64);
  norm(buf, want);

  bad("", "empty");
  bad("Busybox", "lowercase");
  bad("host:5000/App", "lowercase");
  bad("busybox:", "bad tag");
  bad("busybox:-x", "bad tag");
  bad("a//b", "bad repository name");
  bad("a/b_", "bad repository name");
  bad("a/.b", "bad repository name");
  bad("x@sha256:../../etc/passwd", "bad digest");
  bad("x@sha256:0123", "bad digest");
  bad("x@md5:0123456789abcdef0123456789abcdef", "bad digest");
  bad("x@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "bad digest");
  bad("host:99999999/x", "bad registry host");
  bad("-host.io/x", "bad registry host");
  memset(buf, 'a', 280);
  buf[280] = '\0';
  bad(buf, "too long");

  image_ref r;
  cut_err err;
  ref_parse("busybox", &r, &err);
  tap_is_str(ref_api_host(&r), "registry-1.docker.io", "docker.io is served by registry-1");
  tap_is_str(ref_reference(&r), "latest", "tag is the reference");
  tap_ok(ref_domain_is_loopback("127.0.0.1:5000"), "127.0.0.1 is loopback");
  tap_ok(ref_domain_is_loopback("127.9.9.9"), "127/8 is loopback");
  tap_ok(ref_domain_is_loopback("localhost:1"), "localhost is loopback");
  tap_ok(ref_domain_is_loopback("[::1]:5000"), "::1 is loopback");
  tap_ok(!ref_domain_is_loopback("128.0.0.1"), "128.0.0.1 is not");
  tap_ok(!ref_domain_is_loopback("localhost.evil.com"), "localhost.evil.com is not");

  /* WWW-Authenticate */
  auth_challenge ch;
  tap_is_int(auth_parse_challenge("Bearer realm=\"https://auth.io/token\",service=\"reg\","
                                  "scope=\"repository:a/b:pull\"",
                                  &ch, &err),
             0, "bearer challenge parses");
  tap_is_str(ch.scheme, "bearer", "scheme");
  tap_is_str(ch.realm, "https://auth.io/token", "realm");
  tap_is_str(ch.service, "reg", "service");
  tap_is_str(ch.scope, "repository:a/b:pull", "scope");
  tap_is_int(auth_parse_challenge("Basic realm=\"x\\\"y\"", &ch, &err), 0, "basic parses");
  tap_is_str(ch.realm, "x\"y", "quoted-pair unescaped");
  tap_ok(auth_parse_challenge("Bearer service=\"x\"", &ch, &err) < 0, "bearer without realm");
  tap_ok(auth_parse_challenge("Negotiate abc", &ch, &err) < 0, "unknown scheme refused");

  /* config.json round trip, atomically written 0600 */
  char dir[] = "/tmp/cutaway-unit-auth-XXXXXX";
  if (!mkdtemp(dir))
    return 1;
  setenv("DOCKER_CONFIG", dir, 1);
  char *u = NULL, *p = NULL;
  tap_is_int(auth_get("127.0.0.1:5000", &u, &p, &err), 0, "no config: no credentials");
  tap_is_int(auth_store("127.0.0.1:5000", "alice", "pa:ss", &err), 0, "store");
  tap_is_int(auth_get("127.0.0.1:5000", &u, &p, &err), 1, "found");
  tap_is_str(u, "alice", "user");
  tap_is_str(p, "pa:ss", "password with a colon");
  free(u);
  free(p);
  char path[300];
  snprintf(path, sizeof path, "%s/config.json", dir);
  struct stat st;
  tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "config.json is 0600");
  tap_is_int(auth_store("docker.io", "bob", "x", &err), 0, "store hub");
  char *text = NULL;
  size_t len;
  FILE *f = fopen(path, "r");
  text = calloc(1, 4096);
  len = fread(text, 1, 4095, f);
  fclose(f);
  tap_ok(len > 0 && strstr(text, "https://index.docker.io/v1/") != NULL, "hub key is the v1 URL");
  tap_ok(strstr(text, "YWxpY2U6cGE6c3M=") != NULL, "auth is base64(user:pass)");
  free(text);
  tap_is_int(auth_erase("127.0.0.1:5000", &err), 1, "erase");
  tap_is_int(auth_erase("127.0.0.1:5000", &err), 0, "erase again: nothing");
  tap_is_int(auth_get("127.0.0.1:5000", &u, &p, &err), 0, "gone");
  f = fopen(path, "w");
  fputs("{not json", f);
  fclose(f);
  tap_ok(auth_get("x", &u, &p, &err) < 0, "broken config is an error");
  unlink(path);
  rmdir(dir);
  return tap_done();
}
