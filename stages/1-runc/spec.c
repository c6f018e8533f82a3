/* spec.c: config.json parsed and checked (see spec.h).
 *
 * The rules are the runtime-spec's (config.md, config-linux.md): ociVersion
 * is SemVer and this runtime supports 1.0 to 1.3; root.path is relative to
 * the bundle; mount destinations are absolute; capability and rlimit names
 * the runtime does not know are errors (runtime-tools checks both); a
 * namespace type may appear once.  Each failure names the field. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

#define CONFIG_MAX_BYTES (16u << 20)

/* ---- namespaces -------------------------------------------------------- */

static const struct {
  const char *name, *proc;
  int flag;
} ns_table[RC_NS_COUNT] = {
    [RC_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [RC_NS_NET] = {"network", "net", CLONE_NEWNET},
    [RC_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [RC_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [RC_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [RC_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [RC_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [RC_NS_TIME] = {"time", "time", 0x00000080 /* CLONE_NEWTIME */},
};

const char *
rc_ns_name(enum rc_ns_type t)
{
  return ns_table[t].name;
}

const char *
rc_ns_proc_name(enum rc_ns_type t)
{
  return ns_table[t].proc;
}

int
rc_ns_clone_flag(enum rc_ns_type t)
{
  return ns_table[t].flag;
}

int
rc_ns_parse(const char *name)
{
  for (int i = 0; i < RC_NS_COUNT; i++)
    if (strcmp(name, ns_table[i].name) == 0)
      return i;
  return -1;
}

const rc_namespace *
rc_spec_ns(const rc_spec *spec, enum rc_ns_type t)
{
  for (size_t i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].type == t)
      return &spec->namespaces[i];
  return NULL;
}

/* ---- version ----------------------------------------------------------- */

int
rc_spec_check_version(const char *v, cut_err *err)
{
  unsigned major, minor, patch;
  int used = 0;
  if (v == NULL || sscanf(v, "%u.%u.%u%n", &major, &minor, &patch, &used) != 3 ||
      (v[used] != '\0' && v[used] != '-' && v[used] != '+'))
    return cut_error(err, 0, "ociVersion \"%s\": not a version (want 1.x.y)", v ? v : "");
  if (major != 1)
    return cut_error(err, 0,
                     "ociVersion \"%s\": unsupported major version (this runtime supports 1.x)", v);
  if (minor > 3)
    return cut_error(err, 0,
                     "ociVersion \"%s\": newer than the runtime-spec 1.3 this runtime knows", v);
  return 0;
}

/* ---- capabilities and rlimits ------------------------------------------ */

int
rc_cap_parse(const char *name)
{
  /* libcap also accepts bare numbers and "all"; config.json may only name
   * capabilities, so insist on the CAP_ prefix. */
  if (strncasecmp(name, "CAP_", 4) != 0)
    return -1;
  cap_value_t v;
  if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
    return -1;
  return (int)v;
}

static const struct {
  const char *name;
  int resource;
} rlimit_table[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int
rc_rlimit_parse(const char *name)
{
  for (size_t i = 0; i < sizeof rlimit_table / sizeof rlimit_table[0]; i++)
    if (strcmp(name, rlimit_table[i].name) == 0)
      return rlimit_table[i].resource;
  return -1;
}

/* ---- process ----------------------------------------------------------- */

static int
parse_caps(const cJSON *obj, rc_process *p, cut_err *err)
{
  static const char *const set_names[RC_CAP_NSETS] = {"bounding", "effective", "permitted",
                                                      "inheritable", "ambient"};
  int last_cap = cap_max_bits() - 1;
  p->have_caps = true;
  for (int s = 0; s < RC_CAP_NSETS; s++) {
    const cJSON *arr;
    if (json_get_array(obj, set_names[s], "process.capabilities", false, &arr, err) < 0)
      return -1;
    p->caps[s] = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
      if (!cJSON_IsString(it))
        return cut_error(err, 0, "process.capabilities.%s: expected strings", set_names[s]);
      int c = rc_cap_parse(it->valuestring);
      if (c < 0)
        return cut_error(err, 0, "process.capabilities.%s: unknown capability \"%s\"", set_names[s],
                         it->valuestring);
      /* A capability newer than the running kernel cannot be granted;
       * runc ignores it with a warning, and so do we. */
      if (c <= last_cap)
        p->caps[s] |= 1ULL << c;
    }
  }
  return 0;
}

static int
parse_rlimits(const cJSON *arr, rc_process *p, cut_err *err)
{
  int n = cJSON_GetArraySize(arr);
  p->rlimits = calloc((size_t)n + 1, sizeof *p->rlimits);
  if (p->rlimits == NULL)
    return cut_error(err, ENOMEM, "process.rlimits");
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    const char *type;
    uint64_t hard, soft;
    if (json_get_string(it, "type", "process.rlimits[].type", true, &type, err) < 0 ||
        json_get_uint64(it, "hard", "process.rlimits[].hard", true, &hard, err) < 0 ||
        json_get_uint64(it, "soft", "process.rlimits[].soft", true, &soft, err) < 0)
      return -1;
    int res = rc_rlimit_parse(type);
    if (res < 0)
      return cut_error(err, 0, "process.rlimits: unknown rlimit type \"%s\"", type);
    for (size_t i = 0; i < p->n_rlimits; i++)
      if (p->rlimits[i].resource == res)
        return cut_error(err, 0, "process.rlimits: %s listed twice", type);
    if (soft > hard)
      return cut_error(err, 0, "process.rlimits: %s soft limit %llu above hard limit %llu", type,
                       (unsigned long long)soft, (unsigned long long)hard);
    rc_rlimit *r = &p->rlimits[p->n_rlimits++];
    r->resource = res;
    r->name = type;
    r->limit.rlim_cur = soft;
    r->limit.rlim_max = hard;
  }
  return 0;
}

static int
parse_user(const cJSON *user, rc_process *p, cut_err *err)
{
  int64_t v;
  if (user == NULL)
    return 0;
  if (json_get_int64(user, "uid", "process.user.uid", false, &v, err) < 0)
    return -1;
  if (cJSON_GetObjectItemCaseSensitive(user, "uid")) {
    if (v < 0 || v > UINT32_MAX - 1)
      return cut_error(err, 0, "process.user.uid: out of range");
    p->uid = (uid_t)v;
  }
  if (json_get_int64(user, "gid", "process.user.gid", false, &v, err) < 0)
    return -1;
  if (cJSON_GetObjectItemCaseSensitive(user, "gid")) {
    if (v < 0 || v > UINT32_MAX - 1)
      return cut_error(err, 0, "process.user.gid: out of range");
    p->gid = (gid_t)v;
  }
  const cJSON *umask = cJSON_GetObjectItemCaseSensitive(user, "umask");
  if (umask && !cJSON_IsNull(umask)) {
    if (json_get_int64(user, "umask", "process.user.umask", true, &v, err) < 0)
      return -1;
    if (v < 0 || v > 0777)
      return cut_error(err, 0, "process.user.umask: out of range");
    p->have_umask = true;
    p->umask = (mode_t)v;
  }
  const cJSON *gids;
  if (json_get_array(user, "additionalGids", "process.user.additionalGids", false, &gids, err) < 0)
    return -1;
  if (gids) {
    int n = cJSON_GetArraySize(gids);
    p->additional_gids = calloc((size_t)n + 1, sizeof(gid_t));
    if (p->additional_gids == NULL)
      return cut_error(err, ENOMEM, "process.user.additionalGids");
    const cJSON *it;
    cJSON_ArrayForEach(it, gids)
    {
      if (!json_is_integer(it) || it->valuedouble < 0 || it->valuedouble > UINT32_MAX - 1)
        return cut_error(err, 0, "process.user.additionalGids: expected gids");
      p->additional_gids[p->n_additional_gids++] = (gid_t)it->valuedouble;
    }
  }
  return 0;
}

bool
rc_apparmor_enabled(void)
{
  char c = 'N';
  FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
  if (f == NULL)
    return false;
  if (fread(&c, 1, 1, f) != 1)
    c = 'N';
  fclose(f);
  return c == 'Y';
}

int
rc_process_parse(const cJSON *obj, const char *what, rc_process *p, cut_err *err)
{
  memset(p, 0, sizeof *p);
  if (!cJSON_IsObject(obj))
    return cut_error(err, 0, "%s: expected an object", what);
  const cJSON *user, *arr;
  if (json_get_bool(obj, "terminal", "process.terminal", false, &p->terminal, err) < 0 ||
      json_get_object(obj, "user", "process.user", false, &user, err) < 0 ||
      parse_user(user, p, err) < 0)
    return -1;
  if (json_get_array(obj, "args", "process.args", true, &arr, err) < 0 ||
      json_string_array(arr, "process.args", &p->args, &p->n_args, err) < 0)
    return -1;
  if (p->n_args == 0 || p->args[0][0] == '\0')
    return cut_error(err, 0, "process.args: must name a program to run");
  if (json_get_array(obj, "env", "process.env", false, &arr, err) < 0)
    return -1;
  if (arr) {
    if (json_string_array(arr, "process.env", &p->env, &p->n_env, err) < 0)
      return -1;
  } else {
    p->env = calloc(1, sizeof(char *));
    if (p->env == NULL)
      return cut_error(err, ENOMEM, "process.env");
  }
  for (size_t i = 0; i < p->n_env; i++)
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): n_env counts non-NULL strings
    if (strchr(p->env[i], '=') == NULL)
      return cut_error(err, 0, "process.env: \"%s\" is not NAME=VALUE", p->env[i]);
  if (json_get_string(obj, "cwd", "process.cwd", true, &p->cwd, err) < 0)
    return -1;
  if (p->cwd[0] != '/')
    return cut_error(err, 0, "process.cwd \"%s\": must be an absolute path", p->cwd);
  const cJSON *caps;
  if (json_get_object(obj, "capabilities", "process.capabilities", false, &caps, err) < 0)
    return -1;
  if (caps && parse_caps(caps, p, err) < 0)
    return -1;
  if (json_get_array(obj, "rlimits", "process.rlimits", false, &arr, err) < 0)
    return -1;
  if (arr && parse_rlimits(arr, p, err) < 0)
    return -1;
  if (json_get_bool(obj, "noNewPrivileges", "process.noNewPrivileges", false, &p->no_new_privileges,
                    err) < 0)
    return -1;
  if (json_get_string(obj, "apparmorProfile", "process.apparmorProfile", false,
                      &p->apparmor_profile, err) < 0)
    return -1;
  if (p->apparmor_profile && (p->apparmor_profile[0] == '\0' || !rc_apparmor_enabled())) {
    /* Docker sets a profile only where AppArmor is on; a config written
     * elsewhere still runs, but not silently (the log says so). */
    if (p->apparmor_profile[0])
      rc_log_warn("process.apparmorProfile \"%s\" ignored: AppArmor is not enabled on this host",
                  p->apparmor_profile);
    p->apparmor_profile = NULL;
  }
  if (cJSON_GetObjectItemCaseSensitive(obj, "oomScoreAdj")) {
    int64_t v;
    if (json_get_int64(obj, "oomScoreAdj", "process.oomScoreAdj", true, &v, err) < 0)
      return -1;
    if (v < -1000 || v > 1000)
      return cut_error(err, 0, "process.oomScoreAdj %lld: out of range -1000..1000", (long long)v);
    p->have_oom_score_adj = true;
    p->oom_score_adj = (int)v;
  }
  return 0;
}

void
rc_process_free(rc_process *p)
{
  free(p->args);
  free(p->env);
  free(p->additional_gids);
  free(p->rlimits);
  memset(p, 0, sizeof *p);
}

/* ---- mounts ------------------------------------------------------------ */

static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
};

static const struct {
  const char *name;
  unsigned long flag;
} propagation_flags[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

int
rc_mount_option(const char *opt, rc_mount *m)
{
  for (size_t i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++)
    if (strcmp(opt, mount_flags[i].name) == 0) {
      if (mount_flags[i].clear)
        m->flags &= ~mount_flags[i].flag;
      else
        m->flags |= mount_flags[i].flag;
      return 1;
    }
  for (size_t i = 0; i < sizeof propagation_flags / sizeof propagation_flags[0]; i++)
    if (strcmp(opt, propagation_flags[i].name) == 0) {
      m->propagation = propagation_flags[i].flag;
      return 1;
    }
  if (strcmp(opt, "bind") == 0 || strcmp(opt, "rbind") == 0) {
    m->bind = true;
    m->recursive = opt[0] == 'r';
    return 1;
  }
  /* Options of runc/crun that need no mount flag here: tmpcopyup (copy the
   * image's content under a tmpfs, not done), and the recursive
   * mount_setattr variants, approximated by their plain forms. */
  if (strcmp(opt, "tmpcopyup") == 0 || strcmp(opt, "rro") == 0 || strcmp(opt, "rrw") == 0 ||
      strcmp(opt, "rnosuid") == 0 || strcmp(opt, "rnodev") == 0 || strcmp(opt, "rnoexec") == 0 ||
      strcmp(opt, "notmpcopyup") == 0) {
    if (strcmp(opt, "rro") == 0)
      m->flags |= MS_RDONLY;
    return 1;
  }
  if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0)
    return -1;
  return 0;
}

static int
append_data(rc_mount *m, const char *opt, cut_err *err)
{
  size_t old = m->data ? strlen(m->data) : 0;
  char *d = realloc(m->data, old + strlen(opt) + 2);
  if (d == NULL)
    return cut_error(err, ENOMEM, "mount options");
  if (old)
    d[old++] = ',';
  strcpy(d + old, opt);
  m->data = d;
  return 0;
}

static int
parse_mount(const cJSON *obj, rc_mount *m, cut_err *err)
{
  if (json_get_string(obj, "destination", "mounts[].destination", true, &m->destination, err) < 0)
    return -1;
  const char *d = m->destination;
  if (json_get_string(obj, "type", "mounts[].type", false, &m->type, err) < 0 ||
      json_get_string(obj, "source", "mounts[].source", false, &m->source, err) < 0)
    return cut_wrap(err, "mount %s", d);
  if (m->type == NULL)
    m->type = "";
  if (m->source == NULL)
    m->source = "";
  /* runtime-spec 1.0 allowed relative destinations (runc resolves them
   * from "/"); 1.1 requires absolute ones.  Accept both, as runc does. */
  if (d[0] == '\0')
    return cut_error(err, 0, "mounts: empty destination");
  const cJSON *opts;
  if (json_get_array(obj, "options", "mounts[].options", false, &opts, err) < 0)
    return cut_wrap(err, "mount %s", d);
  const cJSON *it;
  cJSON_ArrayForEach(it, opts)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, 0, "mount %s: options: expected strings", d);
    int r = rc_mount_option(it->valuestring, m);
    if (r < 0)
      return cut_error(err, 0, "mount %s: option \"%s\" is not supported", d, it->valuestring);
    if (r == 0 && append_data(m, it->valuestring, err) < 0)
      return -1;
  }
  if (strcmp(m->type, "bind") == 0)
    m->bind = true;
  if (m->type[0] == '\0' && !m->bind)
    return cut_error(err, 0, "mount %s: no type and no bind option", d);
  if (m->bind && m->source[0] == '\0')
    return cut_error(err, 0, "mount %s: a bind mount needs a source", d);
  return 0;
}

static int
parse_mounts(const cJSON *arr, rc_spec *s, cut_err *err)
{
  int n = cJSON_GetArraySize(arr);
  s->mounts = calloc((size_t)n + 1, sizeof *s->mounts);
  if (s->mounts == NULL)
    return cut_error(err, ENOMEM, "mounts");
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    if (!cJSON_IsObject(it))
      return cut_error(err, 0, "mounts: expected objects");
    if (parse_mount(it, &s->mounts[s->n_mounts++], err) < 0)
      return -1;
  }
  return 0;
}

/* ---- linux ------------------------------------------------------------- */

static int
parse_namespaces(const cJSON *arr, rc_spec *s, cut_err *err)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    const char *type, *path = NULL;
    if (json_get_string(it, "type", "linux.namespaces[].type", true, &type, err) < 0 ||
        json_get_string(it, "path", "linux.namespaces[].path", false, &path, err) < 0)
      return -1;
    int t = rc_ns_parse(type);
    if (t < 0)
      return cut_error(err, 0, "linux.namespaces: unknown namespace type \"%s\"", type);
    if (rc_spec_ns(s, (enum rc_ns_type)t))
      return cut_error(err, 0, "linux.namespaces: %s listed twice", type);
    if (path && path[0] == '\0')
      path = NULL;
    if (path && path[0] != '/')
      return cut_error(err, 0, "linux.namespaces: %s path \"%s\" must be absolute", type, path);
    s->namespaces[s->n_namespaces].type = (enum rc_ns_type)t;
    s->namespaces[s->n_namespaces].path = path;
    s->n_namespaces++;
  }
  return 0;
}

static int
parse_idmaps(const cJSON *arr, const char *what, rc_idmap **out, size_t *n, cut_err *err)
{
  int cnt = cJSON_GetArraySize(arr);
  if (cnt > 340)
    return cut_error(err, 0, "%s: too many entries (the kernel takes 340)", what);
  *out = calloc((size_t)cnt + 1, sizeof **out);
  if (*out == NULL)
    return cut_error(err, ENOMEM, "%s", what);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    uint64_t c, h, sz;
    if (json_get_uint64(it, "containerID", what, true, &c, err) < 0 ||
        json_get_uint64(it, "hostID", what, true, &h, err) < 0 ||
        json_get_uint64(it, "size", what, true, &sz, err) < 0)
      return -1;
    if (c > UINT32_MAX || h > UINT32_MAX || sz == 0 || sz > UINT32_MAX)
      return cut_error(err, 0, "%s: entry out of range", what);
    (*out)[*n].container_id = (uint32_t)c;
    (*out)[*n].host_id = (uint32_t)h;
    (*out)[*n].size = (uint32_t)sz;
    (*n)++;
  }
  return 0;
}

static int
parse_devices(const cJSON *arr, rc_spec *s, cut_err *err)
{
  int n = cJSON_GetArraySize(arr);
  s->devices = calloc((size_t)n + 1, sizeof *s->devices);
  if (s->devices == NULL)
    return cut_error(err, ENOMEM, "linux.devices");
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    rc_device *d = &s->devices[s->n_devices];
    const char *type;
    int64_t v;
    if (json_get_string(it, "path", "linux.devices[].path", true, &d->path, err) < 0 ||
        json_get_string(it, "type", "linux.devices[].type", true, &type, err) < 0)
      return -1;
    if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
      return cut_error(err, 0, "linux.devices %s: type \"%s\" (want c, b, u or p)", d->path, type);
    if (d->path[0] != '/' || strncmp(d->path, "/dev/", 5) != 0)
      return cut_error(err, 0, "linux.devices %s: path must be under /dev", d->path);
    d->type = type[0];
    if (d->type != 'p' &&
        (json_get_int64(it, "major", "linux.devices[].major", true, &d->major, err) < 0 ||
         json_get_int64(it, "minor", "linux.devices[].minor", true, &d->minor, err) < 0))
      return cut_wrap(err, "device %s", d->path);
    if (cJSON_GetObjectItemCaseSensitive(it, "fileMode")) {
      if (json_get_int64(it, "fileMode", "linux.devices[].fileMode", true, &v, err) < 0)
        return -1;
      d->have_mode = true;
      d->mode = (mode_t)(v & 07777);
    }
    if (cJSON_GetObjectItemCaseSensitive(it, "uid")) {
      if (json_get_int64(it, "uid", "linux.devices[].uid", true, &v, err) < 0)
        return -1;
      d->have_uid = true;
      d->uid = (uid_t)v;
    }
    if (cJSON_GetObjectItemCaseSensitive(it, "gid")) {
      if (json_get_int64(it, "gid", "linux.devices[].gid", true, &v, err) < 0)
        return -1;
      d->have_gid = true;
      d->gid = (gid_t)v;
    }
    s->n_devices++;
  }
  return 0;
}

static int
parse_paths(const cJSON *linux_obj, const char *key, char ***out, size_t *n, cut_err *err)
{
  const cJSON *arr;
  char what[64];
  snprintf(what, sizeof what, "linux.%s", key);
  if (json_get_array(linux_obj, key, what, false, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  if (json_string_array(arr, what, out, n, err) < 0)
    return -1;
  for (size_t i = 0; i < *n; i++)
    if ((*out)[i][0] != '/')
      return cut_error(err, 0, "%s: \"%s\" must be absolute", what, (*out)[i]);
  return 0;
}

static int
parse_linux(const cJSON *lx, rc_spec *s, cut_err *err)
{
  const cJSON *arr, *obj;
  if (json_get_array(lx, "namespaces", "linux.namespaces", false, &arr, err) < 0)
    return -1;
  if (arr && parse_namespaces(arr, s, err) < 0)
    return -1;
  if (json_get_array(lx, "uidMappings", "linux.uidMappings", false, &arr, err) < 0)
    return -1;
  if (arr && parse_idmaps(arr, "linux.uidMappings", &s->uid_maps, &s->n_uid_maps, err) < 0)
    return -1;
  if (json_get_array(lx, "gidMappings", "linux.gidMappings", false, &arr, err) < 0)
    return -1;
  if (arr && parse_idmaps(arr, "linux.gidMappings", &s->gid_maps, &s->n_gid_maps, err) < 0)
    return -1;
  if (json_get_array(lx, "devices", "linux.devices", false, &arr, err) < 0)
    return -1;
  if (arr && parse_devices(arr, s, err) < 0)
    return -1;
  if (parse_paths(lx, "maskedPaths", &s->masked_paths, &s->n_masked_paths, err) < 0 ||
      parse_paths(lx, "readonlyPaths", &s->readonly_paths, &s->n_readonly_paths, err) < 0)
    return -1;
  const char *prop = NULL;
  if (json_get_string(lx, "rootfsPropagation", "linux.rootfsPropagation", false, &prop, err) < 0)
    return -1;
  if (prop && prop[0]) {
    rc_mount tmp = {0};
    if (rc_mount_option(prop, &tmp) != 1 || tmp.propagation == 0)
      return cut_error(err, 0, "linux.rootfsPropagation \"%s\": not a propagation type", prop);
    s->rootfs_propagation = tmp.propagation;
  }
  if (json_get_object(lx, "sysctl", "linux.sysctl", false, &obj, err) < 0)
    return -1;
  s->sysctl = obj;
  const cJSON *it;
  cJSON_ArrayForEach(it, obj)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, 0, "linux.sysctl.%s: expected a string", it->string);
    if (strstr(it->string, "..") || strchr(it->string, '/') || it->string[0] == '\0')
      return cut_error(err, 0, "linux.sysctl: bad key \"%s\"", it->string);
  }
  if (json_get_object(lx, "resources", "linux.resources", false, &s->resources, err) < 0 ||
      json_get_string(lx, "cgroupsPath", "linux.cgroupsPath", false, &s->cgroups_path, err) < 0 ||
      json_get_object(lx, "seccomp", "linux.seccomp", false, &s->seccomp, err) < 0)
    return -1;
  return 0;
}

/* Semantic checks that involve several fields. */
/* The namespace a sysctl belongs to, as runc decides it; -1 for a sysctl
 * that is not namespaced at all (it would change the whole host). */
static int
sysctl_namespace(const char *key)
{
  static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                    "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                    "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++)
    if (strcmp(key, ipc[i]) == 0)
      return RC_NS_IPC;
  if (strncmp(key, "fs.mqueue.", 10) == 0)
    return RC_NS_IPC;
  if (strncmp(key, "net.", 4) == 0)
    return RC_NS_NET;
  if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
    return RC_NS_UTS;
  return -1;
}

/* A sysctl is written inside the container's namespaces: allowed only when
 * the config gives the container the namespace that sysctl lives in, or a
 * `net.*` write would land on the host's network stack. */
static int
check_sysctls(const rc_spec *s, cut_err *err)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, s->sysctl)
  {
    int ns = sysctl_namespace(it->string);
    if (ns < 0)
      return cut_error(err, 0,
                       "linux.sysctl.%s: not a namespaced sysctl (it would change the host)",
                       it->string);
    if (!rc_spec_ns(s, (enum rc_ns_type)ns))
      return cut_error(err, 0, "linux.sysctl.%s: needs the container's own %s namespace",
                       it->string, rc_ns_name((enum rc_ns_type)ns));
  }
  return 0;
}

static int
check_spec(rc_spec *s, cut_err *err)
{
  if (check_sysctls(s, err) < 0)
    return -1;
  const rc_namespace *user = rc_spec_ns(s, RC_NS_USER);
  if (user && user->path == NULL && (s->n_uid_maps == 0 || s->n_gid_maps == 0))
    return cut_error(err, 0, "linux: a new user namespace needs uidMappings and gidMappings");
  if (!user && (s->n_uid_maps || s->n_gid_maps))
    return cut_error(err, 0, "linux: uidMappings need a user namespace");
  const rc_namespace *uts = rc_spec_ns(s, RC_NS_UTS);
  /* A uts namespace joined by path is the container's too (runc sets the
   * hostname there as well; the OCI suite's linux_ns_path does this). */
  if ((s->hostname && s->hostname[0]) && !uts)
    return cut_error(err, 0,
                     "hostname: setting it needs a new uts namespace (or one joined by path)");
  if ((s->domainname && s->domainname[0]) && !uts)
    return cut_error(err, 0,
                     "domainname: setting it needs a new uts namespace (or one joined by path)");
  /* No mount namespace is allowed: the container then uses the runtime's
   * (config-linux.md#namespaces; rootfs.h says how). */
  return 0;
}

static int
resolve_rootfs(rc_spec *s, const char *path, cut_err *err)
{
  int n = path[0] == '/' ? snprintf(s->rootfs, sizeof s->rootfs, "%s", path)
                         : snprintf(s->rootfs, sizeof s->rootfs, "%s/%s", s->bundle, path);
  if (n >= (int)sizeof s->rootfs)
    return cut_error(err, ENAMETOOLONG, "root.path");
  struct stat st;
  if (stat(s->rootfs, &st) < 0)
    return cut_error(err, errno, "root.path %s", s->rootfs);
  if (!S_ISDIR(st.st_mode))
    return cut_error(err, ENOTDIR, "root.path %s", s->rootfs);
  char real[PATH_MAX];
  if (realpath(s->rootfs, real) == NULL)
    return cut_error(err, errno, "root.path %s", s->rootfs);
  snprintf(s->rootfs, sizeof s->rootfs, "%s", real);
  if (strcmp(real, "/") == 0)
    return cut_error(err, 0, "root.path: the host's / cannot be a container's rootfs");
  return 0;
}

int
rc_spec_parse(cJSON *doc, const char *bundle, rc_spec *s, cut_err *err)
{
  memset(s, 0, sizeof *s);
  s->doc = doc;
  if (!cJSON_IsObject(doc))
    return cut_error(err, 0, "config.json: expected an object");
  if (realpath(bundle, s->bundle) == NULL)
    return cut_error(err, errno, "bundle %s", bundle);
  if (json_get_string(doc, "ociVersion", "ociVersion", true, &s->oci_version, err) < 0 ||
      rc_spec_check_version(s->oci_version, err) < 0)
    return -1;
  const cJSON *root, *obj, *arr;
  const char *root_path;
  if (json_get_object(doc, "root", "root", true, &root, err) < 0 ||
      json_get_string(root, "path", "root.path", true, &root_path, err) < 0 ||
      json_get_bool(root, "readonly", "root.readonly", false, &s->root_readonly, err) < 0)
    return -1;
  if (resolve_rootfs(s, root_path, err) < 0)
    return -1;
  if (json_get_object(doc, "process", "process", false, &obj, err) < 0)
    return -1;
  if (obj) {
    s->have_process = true;
    if (rc_process_parse(obj, "process", &s->process, err) < 0)
      return -1;
  }
  if (json_get_string(doc, "hostname", "hostname", false, &s->hostname, err) < 0 ||
      json_get_string(doc, "domainname", "domainname", false, &s->domainname, err) < 0)
    return -1;
  if (json_get_array(doc, "mounts", "mounts", false, &arr, err) < 0)
    return -1;
  if (arr && parse_mounts(arr, s, err) < 0)
    return -1;
  if (json_get_object(doc, "hooks", "hooks", false, &s->hooks, err) < 0 ||
      json_get_object(doc, "annotations", "annotations", false, &s->annotations, err) < 0)
    return -1;
  if (json_get_object(doc, "linux", "linux", false, &obj, err) < 0)
    return -1;
  if (obj && parse_linux(obj, s, err) < 0)
    return -1;
  return check_spec(s, err);
}

int
rc_spec_load(const char *bundle, rc_spec *spec, cut_err *err)
{
  char path[PATH_MAX];
  memset(spec, 0, sizeof *spec);
  if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path)
    return cut_error(err, ENAMETOOLONG, "bundle %s", bundle);
  cJSON *doc;
  if (json_read_file(path, CONFIG_MAX_BYTES, &doc, err) < 0)
    return -1;
  return rc_spec_parse(doc, bundle, spec, err);
}

void
rc_spec_free(rc_spec *s)
{
  rc_process_free(&s->process);
  for (size_t i = 0; i < s->n_mounts; i++)
    free(s->mounts[i].data);
  free(s->mounts);
  free(s->uid_maps);
  free(s->gid_maps);
  free(s->devices);
  free(s->masked_paths);
  free(s->readonly_paths);
  cJSON_Delete(s->doc);
  memset(s, 0, sizeof *s);
}

/* ---- the default config of `spec` -------------------------------------- */

static const char default_config[] =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
    "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    "\"TERM=xterm\"],\"cwd\":\"/\","
    "\"capabilities\":{"
    "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"cutaway\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]}"
    ","
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
    "\"/sys/firmware\",\"/proc/scsi\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

cJSON *
rc_spec_default(void)
{
  return cJSON_Parse(default_config);
}
