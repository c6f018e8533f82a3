/* ctd_spec.c: the OCI runtime spec (config.json) of a container, built the
 * way dockerd's daemon/oci_linux.go and containerd's oci.WithImageConfig
 * build it:
 *
 *   process   args = entrypoint + cmd (either replaced by the request), env
 *             = PATH default, the image's Env, then the request's (a later
 *             KEY= wins), cwd = WorkingDir, user = the image's User or the
 *             request's ("uid[:gid]" or names looked up in the image's
 *             /etc/passwd and /etc/group);
 *   security  Docker's 14 capabilities in bounding/effective/permitted,
 *             its seccomp profile rendered for those caps (ctd_seccomp.c),
 *             masked and read-only /proc and /sys paths, the device cgroup
 *             allow-list;
 *   mounts    proc, /dev tmpfs, devpts, sysfs (ro), cgroup (ro), mqueue,
 *             /dev/shm, then the request's binds;
 *   linux     new mount, network, uts, pid and ipc namespaces, the
 *             resources (memory, cpus as quota/period, shares, pids), and a
 *             cgroupsPath "/<parent>/<id>".
 *
 * The reference is /work/shared/reference/oci-config-samples/
 * dockerd-run-default.json: what dockerd 20.10 handed runc for `docker run`. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctd.h"
#include "digest.h"
#include "json.h"

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static cJSON *
str_array(const char *const *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
  return a;
}

static void
add_mount(cJSON *mounts, const char *dst, const char *type, const char *src,
          const char *const *opts)
{
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "destination", dst);
  cJSON_AddStringToObject(m, "type", type);
  cJSON_AddStringToObject(m, "source", src);
  size_t n = 0;
  while (opts[n])
    n++;
  cJSON_AddItemToObject(m, "options", str_array(opts, n));
  cJSON_AddItemToArray(mounts, m);
}

static cJSON *
default_mounts(void)
{
  cJSON *m = cJSON_CreateArray();
  add_mount(m, "/proc", "proc", "proc", (const char *[]){"nosuid", "noexec", "nodev", NULL});
  add_mount(m, "/dev", "tmpfs", "tmpfs",
            (const char *[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL});
  add_mount(m, "/dev/pts", "devpts", "devpts",
            (const char *[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                             "gid=5", NULL});
  add_mount(m, "/sys", "sysfs", "sysfs", (const char *[]){"nosuid", "noexec", "nodev", "ro", NULL});
  add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup",
            (const char *[]){"ro", "nosuid", "noexec", "nodev", NULL});
  add_mount(m, "/dev/mqueue", "mqueue", "mqueue",
            (const char *[]){"nosuid", "noexec", "nodev", NULL});
  add_mount(m, "/dev/shm", "tmpfs", "shm",
            (const char *[]){"nosuid", "noexec", "nodev", "mode=1777", "size=67108864", NULL});
  return m;
}

static void
add_device_rule(cJSON *devs, bool allow, const char *type, int major, int minor)
{
  cJSON *d = cJSON_CreateObject();
  cJSON_AddBoolToObject(d, "allow", allow);
  if (type) {
    cJSON_AddStringToObject(d, "type", type);
    cJSON_AddNumberToObject(d, "major", major);
    cJSON_AddNumberToObject(d, "minor", minor);
  }
  cJSON_AddStringToObject(d, "access", "rwm");
  cJSON_AddItemToArray(devs, d);
}

/* Deny all, then null, zero, full, urandom, random, tty, console... as the
 * sample; 10:229 (fuse) explicitly denied. */
static cJSON *
default_devices(void)
{
  cJSON *d = cJSON_CreateArray();
  add_device_rule(d, false, NULL, 0, 0);
  static const int allow[][2] = {{1, 5}, {1, 3}, {1, 9}, {1, 8}, {5, 0}, {5, 1}};
  for (size_t i = 0; i < 6; i++)
    add_device_rule(d, true, "c", allow[i][0], allow[i][1]);
  add_device_rule(d, false, "c", 10, 229);
  return d;
}

static cJSON *
masked_paths(void)
{
  static const char *const fixed[] = {
      "/proc/asound",     "/proc/acpi",        "/proc/interrupts",
      "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
  cJSON *a = str_array(fixed, sizeof fixed / sizeof fixed[0]);
  /* Per-CPU thermal_throttle dirs exist only on some hosts: listed as found. */
  glob_t g;
  if (glob("/sys/devices/system/cpu/cpu*/thermal_throttle", GLOB_NOSORT, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(g.gl_pathv[i]));
    globfree(&g);
  }
  return a;
}

static cJSON *
readonly_paths(void)
{
  static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                   "/proc/sysrq-trigger"};
  return str_array(ro, 5);
}

/* Env: later entries replace earlier ones with the same KEY. */
static void
env_set(cJSON *env, const char *entry)
{
  size_t klen = strcspn(entry, "=");
  cJSON *it;
  int i = 0;
  cJSON_ArrayForEach(it, env)
  {
    if (cJSON_IsString(it) && strncmp(it->valuestring, entry, klen) == 0 &&
        (it->valuestring[klen] == '=' || it->valuestring[klen] == '\0')) {
      cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(entry));
      return;
    }
    i++;
  }
  cJSON_AddItemToArray(env, cJSON_CreateString(entry));
}

static int
append_strings(cJSON *dst, const cJSON *src, const char *what, cut_err *err)
{
  if (src == NULL || cJSON_IsNull(src))
    return 0;
  if (!cJSON_IsArray(src))
    return ctd_err(err, EINVAL, "%s: expected an array of strings", what);
  const cJSON *it;
  cJSON_ArrayForEach(it, src)
  {
    if (!cJSON_IsString(it))
      return ctd_err(err, EINVAL, "%s: expected an array of strings", what);
    cJSON_AddItemToArray(dst, cJSON_CreateString(it->valuestring));
  }
  return 0;
}

/* Look a name up in a passwd/group style file of the image: field 0 is the
 * name, field 2 the id (and field 3 of passwd the primary gid). */
static int
lookup_colon_file(const char *path, const char *name, long *id, long *gid)
{
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  char line[1024];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    char *save, *fields[5] = {0};
    char *tok = strtok_r(line, ":\n", &save);
    for (int i = 0; tok && i < 5; i++) {
      fields[i] = tok;
      tok = strtok_r(NULL, ":\n", &save);
    }
    if (fields[0] && fields[2] && strcmp(fields[0], name) == 0) {
      *id = strtol(fields[2], NULL, 10);
      if (gid && fields[3])
        *gid = strtol(fields[3], NULL, 10);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

static bool
all_digits(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* The image file (etc/passwd) as seen from the top of its chain. */
static bool
image_file(ctd *c, const char *chain, const char *rel, char *out, size_t len)
{
  pthread_mutex_lock(&c->lock);
  for (ctd_snap *s = chain && *chain ? ctd_snap_find(c, chain) : NULL; s;
       s = *s->parent ? ctd_snap_find(c, s->parent) : NULL) {
    ctd_fmt(out, len, "%s/%ld/fs/%s", c->snap_dir, s->num, rel);
    FILE *f = fopen(out, "re");
    if (f) {
      fclose(f);
      pthread_mutex_unlock(&c->lock);
      return true;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return false;
}

static int
resolve_user(ctd *c, const char *chain, const char *spec, cJSON *user, cut_err *err)
{
  char buf[256];
  ctd_fmt(buf, sizeof buf, "%s", spec);
  char *grp = strchr(buf, ':');
  if (grp)
    *grp++ = '\0';
  long uid = 0, gid = 0;
  char passwd[PATH_MAX], group[PATH_MAX];
  bool have_passwd = image_file(c, chain, "etc/passwd", passwd, sizeof passwd);
  bool have_group = image_file(c, chain, "etc/group", group, sizeof group);
  if (*buf == '\0') {
    uid = 0;
  } else if (all_digits(buf)) {
    uid = strtol(buf, NULL, 10);
    long pg;
    /* A numeric uid known to passwd gets its primary group there. */
    (void)pg;
  } else if (!have_passwd || lookup_colon_file(passwd, buf, &uid, &gid) < 0) {
    return ctd_err(err, ENOENT, "user %s: no such user in the image's /etc/passwd", buf);
  }
  if (grp) {
    if (all_digits(grp))
      gid = strtol(grp, NULL, 10);
    else if (!have_group || lookup_colon_file(group, grp, &gid, NULL) < 0)
      return ctd_err(err, ENOENT, "group %s: no such group in the image's /etc/group", grp);
  }
  cJSON_AddNumberToObject(user, "uid", (double)uid);
  cJSON_AddNumberToObject(user, "gid", (double)gid);
  /* additionalGids: the groups of /etc/group that list the user by name
   * (what Docker puts there: root in busybox gets 0 and 10). */
  if (have_group && !all_digits(buf)) {
    FILE *f = fopen(group, "re");
    cJSON *extra = cJSON_CreateArray();
    char line[4096];
    const char *uname = *buf ? buf : "root";
    while (f && fgets(line, sizeof line, f)) {
      char *save, *fields[4] = {0};
      char *tok = strtok_r(line, ":\n", &save);
      for (int i = 0; tok && i < 4; i++) {
        fields[i] = tok;
        tok = strtok_r(NULL, ":\n", &save);
      }
      if (!fields[2] || !fields[3])
        continue;
      char *msave, *m = strtok_r(fields[3], ",", &msave);
      for (; m; m = strtok_r(NULL, ",", &msave))
        if (strcmp(m, uname) == 0)
          cJSON_AddItemToArray(extra, cJSON_CreateNumber((double)strtol(fields[2], NULL, 10)));
    }
    if (f)
      fclose(f);
    if (cJSON_GetArraySize(extra) > 0)
      cJSON_AddItemToObject(user, "additionalGids", extra);
    else
      cJSON_Delete(extra);
  }
  return 0;
}

static int
build_resources(const cJSON *opts, cJSON *res, cut_err *err)
{
  const cJSON *r = NULL;
  if (json_get_object(opts, "resources", "resources", false, &r, err) < 0)
    return -1;
  cJSON_AddItemToObject(res, "devices", default_devices());
  if (r == NULL)
    return 0;
  int64_t memory = 0, swap = 0, pids = 0, shares = 0;
  if (json_get_int64(r, "memory", "resources.memory", false, &memory, err) < 0 ||
      json_get_int64(r, "memory_swap", "resources.memory_swap", false, &swap, err) < 0 ||
      json_get_int64(r, "pids_limit", "resources.pids_limit", false, &pids, err) < 0 ||
      json_get_int64(r, "cpu_shares", "resources.cpu_shares", false, &shares, err) < 0)
    return -1;
  if (memory < 0 || pids < 0 || shares < 0)
    return ctd_err(err, EINVAL, "resources: negative limit");
  if (memory > 0 && memory < 6 * 1024 * 1024)
    return ctd_err(err, EINVAL, "resources.memory: minimum is 6 MiB (6291456 bytes)");
  const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(r, "cpus");
  if (cpus && (!cJSON_IsNumber(cpus) || cpus->valuedouble < 0 || cpus->valuedouble > 1024))
    return ctd_err(err, EINVAL, "resources.cpus: expected a number of CPUs");
  if (memory || swap) {
    cJSON *m = cJSON_AddObjectToObject(res, "memory");
    if (memory)
      cJSON_AddNumberToObject(m, "limit", (double)memory);
    if (swap)
      cJSON_AddNumberToObject(m, "swap", (double)swap);
  }
  if ((cpus && cpus->valuedouble > 0) || shares) {
    cJSON *cpu = cJSON_AddObjectToObject(res, "cpu");
    if (shares)
      cJSON_AddNumberToObject(cpu, "shares", (double)shares);
    if (cpus && cpus->valuedouble > 0) {
      cJSON_AddNumberToObject(cpu, "quota", (double)(long long)(cpus->valuedouble * 100000));
      cJSON_AddNumberToObject(cpu, "period", 100000);
    }
  }
  if (pids) {
    cJSON *p = cJSON_AddObjectToObject(res, "pids");
    cJSON_AddNumberToObject(p, "limit", (double)pids);
  }
  return 0;
}

/* Binds from the request: {"source","destination","type"?,"options"?}.
 * The destination must be absolute and not "/" (security-catalogue A4). */
static int
add_user_mounts(const cJSON *opts, cJSON *mounts, cut_err *err)
{
  const cJSON *list = NULL, *it;
  if (json_get_array(opts, "mounts", "mounts", false, &list, err) < 0)
    return -1;
  int i = 0;
  cJSON_ArrayForEach(it, list)
  {
    char path[64];
    ctd_fmt(path, sizeof path, "mounts[%d]", i++);
    const char *src = NULL, *dst = NULL, *type = "bind";
    const cJSON *mo = NULL;
    if (json_get_string(it, "destination", path, true, &dst, err) < 0 ||
        json_get_string(it, "source", path, false, &src, err) < 0 ||
        json_get_string(it, "type", path, false, &type, err) < 0 ||
        json_get_array(it, "options", path, false, &mo, err) < 0)
      return -1;
    if (dst[0] != '/' || strcmp(dst, "/") == 0 || strstr(dst, "/../") ||
        (strlen(dst) >= 3 && strcmp(dst + strlen(dst) - 3, "/..") == 0))
      return ctd_err(err, EINVAL, "%s.destination %s: must be an absolute path other than /", path,
                     dst);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dst);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", src ? src : type);
    cJSON *o = cJSON_AddArrayToObject(m, "options");
    if (mo) {
      if (append_strings(o, mo, path, err) < 0) {
        cJSON_Delete(m);
        return -1;
      }
    } else if (strcmp(type, "bind") == 0) {
      cJSON_AddItemToArray(o, cJSON_CreateString("rbind"));
      cJSON_AddItemToArray(o, cJSON_CreateString("rprivate"));
    }
    cJSON_AddItemToArray(mounts, m);
  }
  return 0;
}

static cJSON *
namespaces(const cJSON *opts)
{
  cJSON *ns = cJSON_CreateArray();
  const char *const types[] = {"mount", "network", "uts", "pid", "ipc"};
  const cJSON *hostnet = cJSON_GetObjectItemCaseSensitive(opts, "host_network");
  const cJSON *netns = cJSON_GetObjectItemCaseSensitive(opts, "netns");
  for (size_t i = 0; i < 5; i++) {
    if (i == 1 && cJSON_IsTrue(hostnet))
      continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", types[i]);
    if (i == 1 && cJSON_IsString(netns))
      cJSON_AddStringToObject(o, "path", netns->valuestring);
    cJSON_AddItemToArray(ns, o);
  }
  return ns;
}

/* Capabilities: Docker's 14, plus cap_add, minus cap_drop ("ALL" drops all). */
static int
capabilities(const cJSON *opts, const char **caps, size_t *ncaps, cut_err *err)
{
  size_t n = 0;
  const cJSON *drop = cJSON_GetObjectItemCaseSensitive(opts, "cap_drop");
  const cJSON *add = cJSON_GetObjectItemCaseSensitive(opts, "cap_add");
  bool drop_all = false;
  const cJSON *it;
  cJSON_ArrayForEach(it, drop) if (cJSON_IsString(it) && strcasecmp(it->valuestring, "ALL") == 0)
      drop_all = true;
  for (size_t i = 0; i < 14 && !drop_all; i++) {
    bool dropped = false;
    cJSON_ArrayForEach(it, drop) if (cJSON_IsString(it) &&
                                     (strcasecmp(it->valuestring, default_caps[i]) == 0 ||
                                      strcasecmp(it->valuestring, default_caps[i] + 4) == 0))
        dropped = true;
    if (!dropped)
      caps[n++] = default_caps[i];
  }
  static __thread char added[41][40];
  int k = 0;
  cJSON_ArrayForEach(it, add)
  {
    if (!cJSON_IsString(it) || k >= 40)
      return ctd_err(err, EINVAL, "cap_add: expected capability names");
    const char *name = it->valuestring;
    ctd_fmt(added[k], sizeof added[k], "%s%s", strncasecmp(name, "CAP_", 4) ? "CAP_" : "", name);
    for (char *p = added[k]; *p; p++)
      *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    bool have = false;
    for (size_t i = 0; i < n; i++)
      have |= strcmp(caps[i], added[k]) == 0;
    if (!have)
      caps[n++] = added[k];
    k++;
  }
  *ncaps = n;
  return 0;
}

int
ctd_spec_build(ctd *c, const char *id, const cJSON *image_config, const cJSON *opts, cJSON **out,
               cut_err *err)
{
  const cJSON *icfg =
      image_config ? cJSON_GetObjectItemCaseSensitive(image_config, "config") : NULL;
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(opts, "_chain");
  cJSON *spec = cJSON_CreateObject();
  cJSON_AddStringToObject(spec, "ociVersion", "1.0.2-dev");
  cJSON *proc = cJSON_AddObjectToObject(spec, "process");
  const cJSON *term = cJSON_GetObjectItemCaseSensitive(opts, "terminal");
  cJSON_AddBoolToObject(proc, "terminal", cJSON_IsTrue(term));

  /* user */
  const char *user = "";
  const cJSON *iu = icfg ? cJSON_GetObjectItemCaseSensitive(icfg, "User") : NULL;
  if (cJSON_IsString(iu))
    user = iu->valuestring;
  if (json_get_string(opts, "user", "user", false, &user, err) < 0)
    goto fail;
  cJSON *ju = cJSON_AddObjectToObject(proc, "user");
  if (resolve_user(c, cJSON_IsString(chain) ? chain->valuestring : NULL, user, ju, err) < 0)
    goto fail;

  /* args = entrypoint + cmd; a request's args replace Cmd, its entrypoint
   * replaces Entrypoint (and then the image's Cmd is dropped, as Docker does). */
  cJSON *args = cJSON_AddArrayToObject(proc, "args");
  const cJSON *req_ep = cJSON_GetObjectItemCaseSensitive(opts, "entrypoint");
  const cJSON *req_args = cJSON_GetObjectItemCaseSensitive(opts, "args");
  const cJSON *ep = req_ep ? req_ep
                    : icfg ? cJSON_GetObjectItemCaseSensitive(icfg, "Entrypoint")
                           : NULL;
  const cJSON *cmd = req_args && cJSON_GetArraySize(req_args) > 0 ? req_args
                     : req_ep                                     ? NULL
                     : icfg ? cJSON_GetObjectItemCaseSensitive(icfg, "Cmd")
                            : NULL;
  if (append_strings(args, ep, "entrypoint", err) < 0 || append_strings(args, cmd, "args", err) < 0)
    goto fail;
  if (cJSON_GetArraySize(args) == 0) {
    ctd_err(err, EINVAL, "no command: the image has no Cmd or Entrypoint and none was given");
    goto fail;
  }

  /* env */
  cJSON *env = cJSON_AddArrayToObject(proc, "env");
  cJSON_AddItemToArray(env, cJSON_CreateString(DEFAULT_PATH));
  const cJSON *ienv = icfg ? cJSON_GetObjectItemCaseSensitive(icfg, "Env") : NULL, *it;
  cJSON_ArrayForEach(it, ienv) if (cJSON_IsString(it)) env_set(env, it->valuestring);
  const cJSON *renv = NULL;
  if (json_get_array(opts, "env", "env", false, &renv, err) < 0)
    goto fail;
  cJSON_ArrayForEach(it, renv)
  {
    if (!cJSON_IsString(it) || !strchr(it->valuestring, '=') || it->valuestring[0] == '=') {
      ctd_err(err, EINVAL, "env: expected KEY=VALUE strings");
      goto fail;
    }
    env_set(env, it->valuestring);
  }
  if (cJSON_IsTrue(term))
    env_set(env, "TERM=xterm");

  /* cwd */
  const char *cwd = "/";
  const cJSON *iwd = icfg ? cJSON_GetObjectItemCaseSensitive(icfg, "WorkingDir") : NULL;
  if (cJSON_IsString(iwd) && iwd->valuestring[0] == '/')
    cwd = iwd->valuestring;
  if (json_get_string(opts, "workdir", "workdir", false, &cwd, err) < 0)
    goto fail;
  if (cwd[0] != '/') {
    ctd_err(err, EINVAL, "workdir %s: must be an absolute path", cwd);
    goto fail;
  }
  cJSON_AddStringToObject(proc, "cwd", cwd);

  /* capabilities */
  const char *caps[64];
  size_t ncaps = 0;
  if (capabilities(opts, caps, &ncaps, err) < 0)
    goto fail;
  cJSON *jc = cJSON_AddObjectToObject(proc, "capabilities");
  cJSON_AddItemToObject(jc, "bounding", str_array(caps, ncaps));
  cJSON_AddItemToObject(jc, "effective", str_array(caps, ncaps));
  cJSON_AddItemToObject(jc, "permitted", str_array(caps, ncaps));
  const cJSON *nnp = cJSON_GetObjectItemCaseSensitive(opts, "no_new_privileges");
  if (cJSON_IsTrue(nnp))
    cJSON_AddBoolToObject(proc, "noNewPrivileges", true);
  cJSON_AddNumberToObject(proc, "oomScoreAdj", 0);

  /* root, hostname */
  cJSON *root = cJSON_AddObjectToObject(spec, "root");
  cJSON_AddStringToObject(root, "path", "rootfs");
  const cJSON *ro = cJSON_GetObjectItemCaseSensitive(opts, "readonly_rootfs");
  if (cJSON_IsTrue(ro))
    cJSON_AddBoolToObject(root, "readonly", true);
  char host[65];
  ctd_fmt(host, sizeof host, "%.12s", id);
  const char *hostname = host;
  if (json_get_string(opts, "hostname", "hostname", false, &hostname, err) < 0)
    goto fail;
  cJSON_AddStringToObject(spec, "hostname", hostname);

  /* mounts */
  cJSON *mounts = default_mounts();
  cJSON_AddItemToObject(spec, "mounts", mounts);
  if (add_user_mounts(opts, mounts, err) < 0)
    goto fail;

  /* linux */
  cJSON *lx = cJSON_AddObjectToObject(spec, "linux");
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, "host_network"))) {
    cJSON *sysctl = cJSON_AddObjectToObject(lx, "sysctl");
    cJSON_AddStringToObject(sysctl, "net.ipv4.ip_unprivileged_port_start", "0");
    cJSON_AddStringToObject(sysctl, "net.ipv4.ping_group_range", "0 2147483647");
  }
  cJSON *res = cJSON_AddObjectToObject(lx, "resources");
  if (build_resources(opts, res, err) < 0)
    goto fail;
  char cgpath[256];
  if (*c->cgroup_parent)
    ctd_fmt(cgpath, sizeof cgpath, "/%s/%s", c->cgroup_parent, id);
  else {
    /* Flat and unique per daemon: "/cutaway-<8 hex of ROOT>-<id>", so two
     * daemons (two test runs) never share a cgroup, and nothing is left
     * behind when the runtime removes the container's (no parent dir). */
    char d[CUT_DIGEST_LEN + 1];
    cut_err e;
    if (cut_sha256_buf(c->root, strlen(c->root), d, &e) < 0)
      snprintf(d, sizeof d, "sha256:00000000");
    ctd_fmt(cgpath, sizeof cgpath, "/cutaway-%.8s-%s", d + 7, id);
  }
  cJSON_AddStringToObject(lx, "cgroupsPath", cgpath);
  cJSON_AddItemToObject(lx, "namespaces", namespaces(opts));
  const cJSON *nosec = cJSON_GetObjectItemCaseSensitive(opts, "seccomp");
  if (!(cJSON_IsString(nosec) && strcmp(nosec->valuestring, "unconfined") == 0))
    cJSON_AddItemToObject(lx, "seccomp", ctd_seccomp_default(caps, ncaps));
  cJSON_AddItemToObject(lx, "maskedPaths", masked_paths());
  cJSON_AddItemToObject(lx, "readonlyPaths", readonly_paths());
  *out = spec;
  return 0;
fail:
  cJSON_Delete(spec);
  return -1;
}
