/* runc_spec.c: cutaway-runc's pure logic: config.json checks, mount
 * options, capability/rlimit/signal names, ids, flag texts, and the
 * detection of mount destinations that climb out of a rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stages/1-runc/container.h"
#include "stages/1-runc/ns.h"
#include "stages/1-runc/rootfs.h"
#include "stages/1-runc/spec.h"
#include "stages/1-runc/state.h"
#include "tap.h"

static int
parse(const char *text, rc_spec *s, cut_err *e)
{
  cJSON *doc = cJSON_Parse(text);
  if (doc == NULL)
    return -2;
  return rc_spec_parse(doc, "/tmp", s, e);
}

#define BASE                                                                                       \
  "\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"/tmp\"},"                                     \
  "\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}"

static void
test_spec(void)
{
  rc_spec s;
  cut_err e;
  tap_is_int(parse("{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}", &s, &e), 0,
             "a minimal config parses");
  tap_is_str(s.rootfs, "/tmp", "root.path absolute");
  tap_is_int(rc_ns_new_flags(&s) & CLONE_NEWNS, CLONE_NEWNS, "mount ns is new");
  rc_spec_free(&s);
  tap_is_int(parse("{" BASE
                   ",\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"foo\"}]}}",
                   &s, &e),
             -1, "an unknown namespace type fails");
  tap_is_str(e.msg, "linux.namespaces: unknown namespace type \"foo\"", "... and names it");
  rc_spec_free(&s);
  tap_is_int(parse("{" BASE "}", &s, &e), 0,
             "no mount namespace is allowed (the runtime's is inherited)");
  rc_spec_free(&s);
  tap_is_int(parse("{" BASE
                   ",\"hostname\":\"h\",\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
                   &s, &e),
             -1, "hostname without a uts namespace fails");
  rc_spec_free(&s);
  tap_is_int(
      parse("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/tmp\"},\"process\":{\"args\":[\"x\"],"
            "\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}},"
            "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
            &s, &e),
      -1, "an unknown capability fails");
  rc_spec_free(&s);
  tap_is_int(
      parse("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/tmp\"},\"process\":{\"args\":[\"x\"],"
            "\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]},"
            "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
            &s, &e),
      -1, "soft above hard fails");
  rc_spec_free(&s);
  tap_is_int(
      parse("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/tmp\"},\"process\":{\"args\":[\"x\"],"
            "\"cwd\":\"/\",\"capabilities\":{\"effective\":[\"CAP_CHOWN\",\"cap_kill\"]}},"
            "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
            &s, &e),
      0, "capability names parse, case-insensitively");
  tap_is_int(s.process.caps[RC_CAP_EFFECTIVE], (1 << 0) | (1 << 5), "... into a mask");
  rc_spec_free(&s);
}

static void
test_versions(void)
{
  cut_err e;
  tap_is_int(rc_spec_check_version("1.0.0", &e), 0, "1.0.0");
  tap_is_int(rc_spec_check_version("1.0.2-dev", &e), 0, "1.0.2-dev");
  tap_is_int(rc_spec_check_version("1.3.0", &e), 0, "1.3.0");
  tap_is_int(rc_spec_check_version("1.4.0", &e), -1, "1.4.0 is newer than known");
  tap_is_int(rc_spec_check_version("2.0.0", &e), -1, "2.0.0 is another major");
  tap_is_int(rc_spec_check_version("1.0", &e), -1, "1.0 is not SemVer");
}

static void
test_mount_options(void)
{
  rc_mount m = {0};
  tap_is_int(rc_mount_option("ro", &m), 1, "ro is a flag");
  tap_is_int(rc_mount_option("nosuid", &m), 1, "nosuid is a flag");
  tap_is_int(m.flags, MS_RDONLY | MS_NOSUID, "ro|nosuid");
  rc_mount_option("rw", &m);
  tap_is_int(m.flags, MS_NOSUID, "rw clears ro");
  tap_is_int(rc_mount_option("rbind", &m), 1, "rbind");
  tap_ok(m.bind && m.recursive, "rbind is a recursive bind");
  tap_is_int(rc_mount_option("rslave", &m), 1, "rslave");
  tap_is_int(m.propagation, MS_SLAVE | MS_REC, "rslave is MS_SLAVE|MS_REC");
  tap_is_int(rc_mount_option("mode=755", &m), 0, "mode=755 is fs data");
  tap_is_int(rc_mount_option("idmap", &m), -1, "idmap is not supported");
  char text[128];
  rc_mount_flags_text(MS_BIND | MS_REC | MS_RDONLY, text, sizeof text);
  tap_is_str(text, "MS_RDONLY|MS_BIND|MS_REC", "mount flags as text");
  rc_clone_flags_text(CLONE_NEWPID | CLONE_NEWNS, text, sizeof text);
  tap_is_str(text, "CLONE_NEWPID|CLONE_NEWNS", "clone flags as text");
}

static void
test_names(void)
{
  tap_is_int(rc_cap_parse("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN");
  tap_is_int(rc_cap_parse("CAP_TEST"), -1, "CAP_TEST is unknown");
  tap_is_int(rc_cap_parse("21"), -1, "a number is not a capability name");
  tap_is_int(rc_rlimit_parse("RLIMIT_NOFILE"), RLIMIT_NOFILE, "RLIMIT_NOFILE");
  tap_is_int(rc_rlimit_parse("RLIMIT_FOO"), -1, "RLIMIT_FOO is unknown");
  tap_is_int(rc_signal_parse("KILL"), SIGKILL, "KILL");
  tap_is_int(rc_signal_parse("SIGTERM"), SIGTERM, "SIGTERM");
  tap_is_int(rc_signal_parse("9"), 9, "9");
  tap_is_int(rc_signal_parse("sigusr1"), SIGUSR1, "sigusr1");
  tap_is_int(rc_signal_parse("BOGUS"), -1, "BOGUS");
  tap_is_int(rc_signal_parse("0"), -1, "0 is not a signal to send");
  cut_err e;
  tap_is_int(rc_id_check("cutaway-web_1.a+b", &e), 0, "a valid id");
  tap_is_int(rc_id_check("../x", &e), -1, "an id with a slash");
  tap_is_int(rc_id_check("..", &e), -1, "..");
  tap_is_int(rc_id_check("", &e), -1, "an empty id");
  tap_is_int(rc_ns_parse("network"), RC_NS_NET, "network namespace");
  tap_is_int(rc_ns_parse("net"), -1, "\"net\" is not a config name");
}

static void
test_escapes(void)
{
  char dir[] = "/tmp/cutaway-unit-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    tap_skip("mkdtemp failed");
    return;
  }
  char p[256];
  snprintf(p, sizeof p, "%s/a", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof p, "%s/up", dir);
  symlink("../../..", p);
  snprintf(p, sizeof p, "%s/abs", dir);
  symlink("/etc", p);
  snprintf(p, sizeof p, "%s/a/back", dir);
  symlink("..", p);
  int fd = open(dir, O_PATH | O_DIRECTORY);
  tap_ok(!rc_path_escapes(fd, "/a/b/c"), "a plain path stays inside");
  tap_ok(rc_path_escapes(fd, "/../x"), "a literal .. above the root escapes");
  tap_ok(rc_path_escapes(fd, "/up/x"), "a symlink to ../../.. escapes");
  tap_ok(!rc_path_escapes(fd, "/abs/x"), "an absolute symlink is resolved inside");
  tap_ok(!rc_path_escapes(fd, "/a/back/a/x"), "a symlink to .. that stays inside");
  tap_ok(rc_path_escapes(fd, "/a/back/../x"), "... and one more .. escapes");
  close(fd);
  snprintf(p, sizeof p, "rm -rf %s", dir);
  if (system(p) != 0)
    tap_diag("could not remove %s", dir);
}

int
main(void)
{
  test_spec();
  test_versions();
  test_mount_options();
  test_names();
  test_escapes();
  tap_done();
  return tap_failed_ ? 1 : 0;
}
