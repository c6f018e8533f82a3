/* containerd_spec.c: unit tests of stage 3's pure logic: the OCI spec built
 * from an image config and options (Docker's defaults), the seccomp profile
 * rendered per capability set, chain IDs, container ids, and the HTTP route
 * matcher of common/httpd. */
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "stages/3-containerd/ctd.h"
#include "tap.h"

static const cJSON *
find_rule(const cJSON *prof, const char *name, const char *action)
{
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItem(prof, "syscalls"))
  {
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItem(r, "names"))
    {
      if (strcmp(n->valuestring, name) == 0 &&
          strcmp(cJSON_GetObjectItem(r, "action")->valuestring, action) == 0)
        return r;
    }
  }
  return NULL;
}

static void
test_seccomp(void)
{
  const char *docker[] = {"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"};
  cJSON *p = ctd_seccomp_default(docker, 3);
  tap_is_str(cJSON_GetObjectItem(p, "defaultAction")->valuestring, "SCMP_ACT_ERRNO",
             "default action ERRNO");
  tap_is_int(cJSON_GetObjectItem(p, "defaultErrnoRet")->valueint, 1, "default errno EPERM");
  tap_ok(find_rule(p, "read", "SCMP_ACT_ALLOW") != NULL, "read is allowed");
  tap_ok(find_rule(p, "keyctl", "SCMP_ACT_ALLOW") == NULL, "keyctl is not");
  tap_ok(find_rule(p, "io_uring_setup", "SCMP_ACT_ALLOW") == NULL, "io_uring_setup is not");
  tap_ok(find_rule(p, "mount", "SCMP_ACT_ALLOW") == NULL, "mount needs CAP_SYS_ADMIN");
  tap_ok(find_rule(p, "chroot", "SCMP_ACT_ALLOW") != NULL, "chroot with CAP_SYS_CHROOT");
  const cJSON *cl = find_rule(p, "clone", "SCMP_ACT_ALLOW");
  const cJSON *a0 = cl ? cJSON_GetArrayItem(cJSON_GetObjectItem(cl, "args"), 0) : NULL;
  tap_ok(a0 && (long long)cJSON_GetObjectItem(a0, "value")->valuedouble == 0x7E020000 &&
             strcmp(cJSON_GetObjectItem(a0, "op")->valuestring, "SCMP_CMP_MASKED_EQ") == 0,
         "clone only without namespace flags");
  const cJSON *c3 = find_rule(p, "clone3", "SCMP_ACT_ERRNO");
  tap_ok(c3 && cJSON_GetObjectItem(c3, "errnoRet")->valueint == 38, "clone3 gets ENOSYS");
  int socket_rules = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "syscalls"))
  {
    const cJSON *n = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "names"), 0);
    if (strcmp(n->valuestring, "socket") == 0)
      socket_rules++;
  }
  tap_is_int(socket_rules, 3, "socket: three range rules (all but AF_ALG and AF_VSOCK)");
  /* Every name is known to libseccomp for x86_64 or its 32-bit siblings. */
  int unknown = 0;
  const cJSON *base = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "syscalls"), 0), *n;
  cJSON_ArrayForEach(n, cJSON_GetObjectItem(base, "names"))
  {
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, n->valuestring) == __NR_SCMP_ERROR &&
        seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, n->valuestring) == __NR_SCMP_ERROR) {
      tap_diag("unknown syscall %s", n->valuestring);
      unknown++;
    }
  }
  tap_is_int(unknown, 0, "every allowed name is a syscall libseccomp knows");
  cJSON_Delete(p);

  const char *admin[] = {"CAP_SYS_ADMIN"};
  p = ctd_seccomp_default(admin, 1);
  tap_ok(find_rule(p, "mount", "SCMP_ACT_ALLOW") != NULL, "CAP_SYS_ADMIN opens mount");
  tap_ok(find_rule(p, "clone3", "SCMP_ACT_ERRNO") == NULL, "and clone3");
  cJSON_Delete(p);
}

static void
test_spec(void)
{
  static ctd c;
  snprintf(c.snap_dir, sizeof c.snap_dir, "/nonexistent");
  pthread_mutex_init(&c.lock, NULL);
  cJSON *img = cJSON_Parse("{\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Entrypoint\":[\"/ep\"],"
                           "\"Cmd\":[\"x\"],\"WorkingDir\":\"/w\"}}");
  cJSON *opts = cJSON_Parse("{\"env\":[\"A=2\",\"B=3\"],\"resources\":{\"memory\":67108864,"
                            "\"cpus\":1.5,\"pids_limit\":50}}");
  cJSON *spec = NULL;
  cut_err err;
  int r = ctd_spec_build(&c, "abcdefabcdef0123", img, opts, &spec, &err);
  tap_is_int(r, 0, "spec builds");
  char *s = cJSON_PrintUnformatted(spec);
  tap_ok(strstr(s, "\"args\":[\"/ep\",\"x\"]") != NULL, "args = entrypoint + cmd");
  tap_ok(strstr(s, "\"env\":[\"PATH=/bin\",\"A=2\",\"B=3\"]") != NULL,
         "env: the image's PATH, later values win");
  tap_ok(strstr(s, "\"cwd\":\"/w\"") != NULL, "cwd from WorkingDir");
  tap_ok(strstr(s, "\"hostname\":\"abcdefabcdef\"") != NULL, "hostname = first 12 of the id");
  const char *cg = strstr(s, "\"cgroupsPath\":\"/cutaway-");
  tap_ok(cg && strncmp(cg + 32, "-abcdefabcdef0123\"", 18) == 0,
         "cgroupsPath /cutaway-<8 hex of the root>-<id>");
  tap_ok(strstr(s, "\"quota\":150000,\"period\":100000") != NULL, "cpus 1.5 = quota/period");
  tap_ok(strstr(s, "\"limit\":67108864") != NULL, "memory limit");
  tap_ok(strstr(s, "\"pids\":{\"limit\":50}") != NULL, "pids limit");
  tap_ok(strstr(s, "\"/proc/kcore\"") != NULL, "maskedPaths");
  tap_ok(strstr(s, "\"/proc/sysrq-trigger\"") != NULL, "readonlyPaths");
  tap_ok(strstr(s, "\"destination\":\"/dev/shm\"") != NULL, "/dev/shm mount");
  tap_ok(strstr(s, "\"major\":10,\"minor\":229") != NULL, "fuse denied in the device cgroup");
  const cJSON *caps = cJSON_GetObjectItem(
      cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "process"), "capabilities"), "effective");
  tap_is_int(cJSON_GetArraySize(caps), 14, "Docker's 14 capabilities");
  free(s);
  cJSON_Delete(spec);
  cJSON_Delete(opts);

  opts = cJSON_Parse("{\"args\":[\"sh\"],\"mounts\":[{\"source\":\"/x\",\"destination\":\"/\"}]}");
  tap_is_int(ctd_spec_build(&c, "x1", img, opts, &spec, &err), -1, "bind onto / is refused");
  tap_ok(strstr(err.msg, "absolute path other than /") != NULL, "with a clear message");
  cJSON_Delete(opts);
  opts = cJSON_Parse("{\"user\":\"someone\"}");
  tap_is_int(ctd_spec_build(&c, "x2", img, opts, &spec, &err), -1, "unknown user is refused");
  cJSON_Delete(opts);
  cJSON_Delete(img);
}

static void
test_ids(void)
{
  tap_ok(ctd_valid_id("web-1.a_b"), "valid id");
  tap_ok(!ctd_valid_id("../etc"), "'../etc' refused");
  tap_ok(!ctd_valid_id("a/b"), "'a/b' refused");
  tap_ok(!ctd_valid_id("."), "'.' refused");
  tap_ok(!ctd_valid_id("-x"), "leading '-' refused");
  char long_id[80];
  memset(long_id, 'a', 65);
  long_id[65] = '\0';
  tap_ok(!ctd_valid_id(long_id), "65 chars refused");
  char chain[72];
  const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  ctd_chain_id("", d1, chain);
  tap_is_str(chain, d1, "chain(0) = diff_id(0)");
  ctd_chain_id(d1, d1, chain);
  /* sha256("sha256:11..1 sha256:11..1") */
  tap_ok(strncmp(chain, "sha256:", 7) == 0 && strcmp(chain, d1) != 0, "chain(1) is a new digest");
}

static void
test_match(void)
{
  char *n[8], *v[8];
  int k = httpd_match("/v1/containers/{id}/task", "/v1/containers/abc/task", n, v, 8);
  tap_is_int(k, 1, "one parameter");
  tap_is_str(v[0], "abc", "its value");
  free(n[0]);
  free(v[0]);
  tap_is_int(httpd_match("/v1/containers/{id}", "/v1/containers/a/b", n, v, 8), -1,
             "a segment does not match a slash");
  k = httpd_match("/v1/images/{name*}", "/v1/images/docker.io/library/busybox:latest", n, v, 8);
  tap_is_str(k == 1 ? v[0] : NULL, "docker.io/library/busybox:latest", "{name*} takes the rest");
  if (k == 1) {
    free(n[0]);
    free(v[0]);
  }
  k = httpd_match("/v1/x/{id}", "/v1/x/a%2Fb", n, v, 8);
  tap_is_str(k == 1 ? v[0] : NULL, "a/b", "percent-decoded");
  if (k == 1) {
    free(n[0]);
    free(v[0]);
  }
  tap_is_int(httpd_match("/v1/version", "/v1/version/", n, v, 8), 0, "trailing slash tolerated");
}

int
main(void)
{
  test_seccomp();
  test_spec();
  test_ids();
  test_match();
  return tap_done();
}
