/* seccomp.c: see seccomp.h.  The names are the runtime-spec's
 * (config-linux.md#seccomp): SCMP_ACT_*, SCMP_ARCH_*, SCMP_CMP_*. */
#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "json.h"
#include "trace.h"

static int
parse_action(const char *name, const cJSON *errno_ret, uint32_t *out, cut_err *err)
{
  uint32_t ret = EPERM;
  if (errno_ret && !cJSON_IsNull(errno_ret)) {
    if (!json_is_integer(errno_ret) || errno_ret->valuedouble < 0 || errno_ret->valuedouble > 4095)
      return cut_error(err, 0, "errnoRet: expected an errno number");
    ret = (uint32_t)errno_ret->valuedouble;
  }
  if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO(ret);
  else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE(ret);
  else if (strcmp(name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
    return cut_error(err, 0, "action %s: seccomp notification is not supported", name);
  else
    return cut_error(err, 0, "unknown action \"%s\"", name);
  return 0;
}

static int
parse_op(const char *name, enum scmp_compare *op)
{
  static const struct {
    const char *name;
    enum scmp_compare op;
  } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
             {"SCMP_CMP_LT", SCMP_CMP_LT},
             {"SCMP_CMP_LE", SCMP_CMP_LE},
             {"SCMP_CMP_EQ", SCMP_CMP_EQ},
             {"SCMP_CMP_GE", SCMP_CMP_GE},
             {"SCMP_CMP_GT", SCMP_CMP_GT},
             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(name, ops[i].name) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return -1;
}

static int
add_arch(scmp_filter_ctx ctx, const char *name, cut_err *err)
{
  char lower[32];
  if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof lower)
    return cut_error(err, 0, "unknown architecture \"%s\"", name);
  size_t i = 0;
  for (const char *p = name + 10; *p; p++)
    lower[i++] = (char)tolower((unsigned char)*p);
  lower[i] = '\0';
  uint32_t arch = seccomp_arch_resolve_name(lower);
  if (arch == 0)
    return cut_error(err, 0, "unknown architecture \"%s\"", name);
  int r = seccomp_arch_add(ctx, arch);
  if (r < 0 && r != -EEXIST)
    return cut_error(err, -r, "add architecture %s", name);
  return 0;
}

static int
parse_args(const cJSON *args, struct scmp_arg_cmp *cmp, int *n, bool *repeated, cut_err *err)
{
  *n = 0;
  *repeated = false;
  unsigned seen = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, args)
  {
    if (*n >= 6)
      return cut_error(err, 0, "more than 6 argument conditions");
    uint64_t index, value = 0, two = 0;
    const char *op_name;
    if (json_get_uint64(it, "index", "args[].index", true, &index, err) < 0 ||
        json_get_uint64(it, "value", "args[].value", false, &value, err) < 0 ||
        json_get_uint64(it, "valueTwo", "args[].valueTwo", false, &two, err) < 0 ||
        json_get_string(it, "op", "args[].op", true, &op_name, err) < 0)
      return -1;
    if (index > 5)
      return cut_error(err, 0, "argument index %llu out of range 0..5", (unsigned long long)index);
    enum scmp_compare op;
    if (parse_op(op_name, &op) < 0)
      return cut_error(err, 0, "unknown operator \"%s\"", op_name);
    if (seen & (1u << index))
      *repeated = true;
    seen |= 1u << index;
    cmp[*n] =
        (struct scmp_arg_cmp){.arg = (unsigned)index, .op = op, .datum_a = value, .datum_b = two};
    (*n)++;
  }
  return 0;
}

/* One syscalls[] entry: every name, with its action and conditions.  Two
 * conditions on the same argument cannot be ANDed in one libseccomp rule;
 * like runc, each then becomes a rule of its own (they OR). */
static int
add_entry(rc_seccomp *sc, const cJSON *entry, uint32_t default_action, cut_err *err)
{
  const cJSON *names, *args;
  const char *action_name;
  if (json_get_array(entry, "names", "names", true, &names, err) < 0 ||
      json_get_string(entry, "action", "action", true, &action_name, err) < 0 ||
      json_get_array(entry, "args", "args", false, &args, err) < 0)
    return -1;
  uint32_t action;
  if (parse_action(action_name, cJSON_GetObjectItemCaseSensitive(entry, "errnoRet"), &action, err) <
      0)
    return -1;
  struct scmp_arg_cmp cmp[6];
  int n;
  bool repeated;
  if (parse_args(args, cmp, &n, &repeated, err) < 0)
    return -1;
  /* A rule with the default action changes nothing, and libseccomp
   * refuses it. */
  if (action == default_action)
    return 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, names)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, 0, "names: expected strings");
    int nr = seccomp_syscall_resolve_name(it->valuestring);
    if (nr == __NR_SCMP_ERROR) {
      sc->skipped++;
      continue;
    }
    int r = 0;
    if (!repeated) {
      r = seccomp_rule_add_array(sc->ctx, action, nr, (unsigned)n, cmp);
      sc->rules++;
    } else {
      for (int i = 0; i < n && r == 0; i++, sc->rules++)
        r = seccomp_rule_add_array(sc->ctx, action, nr, 1, &cmp[i]);
    }
    if (r < 0)
      return cut_error(err, -r, "rule for %s", it->valuestring);
  }
  return 0;
}

/* Each flag is set on the libseccomp filter too: that is where a kernel
 * or libseccomp without it says so, at create. */
static int
parse_flags(rc_seccomp *sc, const cJSON *flags, cut_err *err)
{
  scmp_filter_ctx ctx = sc->ctx;
  const cJSON *it;
  cJSON_ArrayForEach(it, flags)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, 0, "flags: expected strings");
    const char *f = it->valuestring;
    int r = 0;
    if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0) {
      r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
      sc->flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
      r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
      sc->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
      r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
      sc->flags |= SECCOMP_FILTER_FLAG_TSYNC;
    } else
      return cut_error(err, 0, "unknown flag \"%s\"", f);
    if (r < 0)
      return cut_error(err, -r, "flag %s", f);
  }
  return 0;
}

static int
build(const cJSON *profile, rc_seccomp *sc, cut_err *err)
{
  const char *def_name;
  const cJSON *arr;
  if (json_get_string(profile, "defaultAction", "defaultAction", true, &def_name, err) < 0)
    return -1;
  uint32_t def;
  if (parse_action(def_name, cJSON_GetObjectItemCaseSensitive(profile, "defaultErrnoRet"), &def,
                   err) < 0)
    return cut_wrap(err, "defaultAction");
  snprintf(sc->default_action, sizeof sc->default_action, "%s", def_name);
  sc->ctx = seccomp_init(def);
  if (sc->ctx == NULL)
    return cut_error(err, ENOMEM, "seccomp_init");
  /* libseccomp sets no_new_privs on load unless told not to; whether the
   * container gets it is process.noNewPrivileges's business alone. */
  seccomp_attr_set(sc->ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (json_get_array(profile, "architectures", "architectures", false, &arr, err) < 0)
    return -1;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    if (!cJSON_IsString(it))
      return cut_error(err, 0, "architectures: expected strings");
    if (add_arch(sc->ctx, it->valuestring, err) < 0)
      return -1;
  }
  if (json_get_array(profile, "flags", "flags", false, &arr, err) < 0 ||
      parse_flags(sc, arr, err) < 0)
    return -1;
  if (json_get_array(profile, "syscalls", "syscalls", false, &arr, err) < 0)
    return -1;
  int i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    if (add_entry(sc, it, def, err) < 0)
      return cut_wrap(err, "syscalls[%d]", i);
    i++;
  }
  return 0;
}

/* libseccomp writes the program it would load, a raw array of struct
 * sock_filter, to an fd: a memfd, read back whole (no size limit, unlike
 * a pipe, whose reader would have to run alongside). */
static int
export_bpf(rc_seccomp *sc, cut_err *err)
{
  int fd = memfd_create("cutaway-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "memfd_create");
  int r = seccomp_export_bpf(sc->ctx, fd);
  struct stat st;
  ssize_t n;
  if (r < 0) {
    cut_error(err, -r, "generate the BPF program");
  } else if (fstat(fd, &st) < 0) {
    r = cut_error(err, errno, "fstat the BPF program");
  } else if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
             st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    r = cut_error(err, EINVAL, "BPF program of %lld bytes", (long long)st.st_size);
  } else if ((sc->prog = malloc((size_t)st.st_size)) == NULL) {
    r = cut_error(err, ENOMEM, "BPF program");
  } else if ((n = pread(fd, sc->prog, (size_t)st.st_size, 0)) != st.st_size) {
    r = cut_error(err, n < 0 ? errno : EIO, "read the BPF program");
  } else {
    sc->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
  }
  close(fd);
  return r < 0 ? -1 : 0;
}

/* The BPF generation is the slow part (milliseconds for Docker's
 * profile): done here, once, it is off the path from `start` to execve. */
static int
compile(rc_seccomp *sc, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "seccomp.compile", TA_INT("rules", sc->rules));
  if (export_bpf(sc, err) < 0) {
    trace_end(&sp, err);
    return -1;
  }
  trace_end(&sp, NULL, TA_INT("instructions", sc->len));
  /* The program is all the init needs: the libseccomp filter can go. */
  seccomp_release(sc->ctx);
  sc->ctx = NULL;
  return 0;
}

int
rc_seccomp_build(const cJSON *profile, rc_seccomp *sc, cut_err *err)
{
  memset(sc, 0, sizeof *sc);
  if (profile == NULL)
    return 0;
  if (build(profile, sc, err) < 0 || compile(sc, err) < 0) {
    rc_seccomp_free(sc);
    return cut_wrap(err, "linux.seccomp");
  }
  return 0;
}

bool
rc_seccomp_active(const rc_seccomp *sc)
{
  return sc->prog != NULL;
}

/* What seccomp_load would do, minus the BPF generation: seccomp(2) with
 * the profile's flags (no_new_privs is process.c's business). */
int
rc_seccomp_load(rc_seccomp *sc, cut_err *err)
{
  if (sc->prog == NULL)
    return 0;
  struct sock_fprog fprog = {.len = sc->len, .filter = sc->prog};
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "seccomp.load", TA_INT("rules", sc->rules),
              TA_INT("instructions", sc->len), TA_STR("default_action", sc->default_action),
              TA_INT("skipped", sc->skipped));
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sc->flags, &fprog);
  if (r != 0) {
    /* With TSYNC, a positive value is the thread that could not follow. */
    cut_error(err, r < 0 ? errno : ESRCH, "load seccomp filter");
    trace_end(&sp, err);
    return -1;
  }
  trace_end(&sp, NULL);
  return 0;
}

void
rc_seccomp_free(rc_seccomp *sc)
{
  if (sc->ctx)
    seccomp_release(sc->ctx);
  sc->ctx = NULL;
  free(sc->prog);
  sc->prog = NULL;
  sc->len = 0;
}
