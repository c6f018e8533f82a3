/* process.c: see process.h. */
#include "process.h"

#include "exec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "proc.h"
#include "trace.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void
rc_caps_text(uint64_t mask, char buf[24])
{
  snprintf(buf, 24, "%016llx", (unsigned long long)mask);
}

/* ---- program lookup ---------------------------------------------------- */

static bool
is_executable(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return false;
  /* errno says why for the caller: execve(2) would fail with these. */
  if (S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    errno = EACCES;
    return false;
  }
  return access(path, X_OK) == 0;
}

static char *
json_argv(char *const *args)
{
  size_t cap = 2;
  for (char *const *a = args; *a; a++)
    cap += strlen(*a) * 6 + 4;
  char *out = malloc(cap), *p = out;
  if (out == NULL)
    return NULL;
  *p++ = '[';
  for (char *const *a = args; *a; a++) {
    if (a != args)
      *p++ = ',';
    *p++ = '"';
    for (const unsigned char *c = (const unsigned char *)*a; *c; c++) {
      if (*c == '"' || *c == '\\') {
        *p++ = '\\';
        *p++ = (char)*c;
      } else if (*c < 0x20) {
        p += sprintf(p, "\\u%04x", *c);
      } else {
        *p++ = (char)*c;
      }
    }
    *p++ = '"';
  }
  *p++ = ']';
  *p = '\0';
  return out;
}

int
rc_process_lookup(const rc_process *p, rc_exec_target *t, cut_err *err)
{
  const char *prog = p->args[0];
  t->argv_json = json_argv(p->args);
  if (strchr(prog, '/')) {
    errno = 0;
    if (!is_executable(prog))
      return cut_error(err, errno ? errno : EACCES, "process.args[0] %s", prog);
    snprintf(t->path, sizeof t->path, "%s", prog);
    return 0;
  }
  const char *path = DEFAULT_PATH;
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp(p->env[i], "PATH=", 5) == 0)
      path = p->env[i] + 5;
  const char *dir = path;
  while (*dir) {
    const char *end = strchr(dir, ':');
    size_t dl = end ? (size_t)(end - dir) : strlen(dir);
    int n = snprintf(t->path, sizeof t->path, "%.*s/%s", (int)dl, dl ? dir : ".", prog);
    if (n > 0 && n < (int)sizeof t->path && is_executable(t->path))
      return 0;
    if (end == NULL)
      break;
    dir = end + 1;
  }
  return cut_error(err, ENOENT, "process.args[0] %s: not found in $PATH (%s)", prog, path);
}

/* ---- fds --------------------------------------------------------------- */

static int
cmp_int(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

void
rc_process_close_fds(int preserve, const int *keep, size_t n_keep)
{
  int sorted[8] = {0};
  size_t n = 0;
  for (size_t i = 0; i < n_keep && n < 8; i++)
    if (keep[i] >= 3 + preserve)
      sorted[n++] = keep[i];
  qsort(sorted, n, sizeof(int), cmp_int);
  /* close_range(2) over the gaps between the fds we keep. */
  unsigned from = 3u + (unsigned)preserve;
  for (size_t i = 0; i <= n; i++) {
    unsigned to = i < n ? (unsigned)sorted[i] : ~0U;
    if (to > from) {
      if (syscall(SYS_close_range, from, to - 1, 0) < 0)
        for (unsigned fd = from; fd < to && fd < 65536; fd++)
          close((int)fd);
    }
    if (i < n)
      from = (unsigned)sorted[i] + 1;
  }
  /* The preserved fds pass to the program: clear close-on-exec. */
  for (int fd = 3; fd < 3 + preserve; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
      fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
}

/* ---- identity and privileges ------------------------------------------- */

static int
set_rlimits(const rc_process *p, cut_err *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const rc_rlimit *r = &p->rlimits[i];
    trace_span sp;
    trace_begin(&sp, TRACE_SYSCALL, "setrlimit", TA_STR("resource", r->name),
                TA_INT("soft", (long long)r->limit.rlim_cur),
                TA_INT("hard", (long long)r->limit.rlim_max));
    if (trace_end_sys(&sp, setrlimit((__rlimit_resource_t)r->resource, &r->limit)) < 0)
      return cut_error(err, errno, "setrlimit %s", r->name);
  }
  return 0;
}

static int
drop_bounding(uint64_t keep, cut_err *err)
{
  int last = cap_max_bits() - 1;
  int dropped = 0;
  char text[24];
  rc_caps_text(keep, text);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "capbset.drop", TA_STR("bounding", text));
  for (int c = 0; c <= last; c++) {
    if (keep & (1ULL << c))
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
      cut_error(err, errno, "drop capability %d from the bounding set", c);
      trace_end(&sp, err);
      return -1;
    }
    dropped++;
  }
  trace_end(&sp, NULL, TA_INT("dropped", dropped));
  return 0;
}

/* The raw system calls, not glibc's wrappers: those broadcast the change to
 * every thread glibc knows of (nptl setxid) and wait for each.  The init is
 * a raw clone(2) of a runtime that may have had another thread (warm.c), so
 * glibc's list can name a thread that does not exist in the init: the wait
 * would never end.  The init has one thread; the syscall is all it needs. */
static long
set_groups_raw(size_t n, const gid_t *groups)
{
  return syscall(SYS_setgroups, n, groups);
}

static int
switch_user(const rc_process *p, cut_err *err)
{
  trace_span sp;
  if (p->n_additional_gids > 0 || getuid() == 0) {
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < p->n_additional_gids && used < sizeof list - 16; i++)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", i ? "," : "",
                               (unsigned)p->additional_gids[i]);
    trace_begin(&sp, TRACE_SYSCALL, "setgroups", TA_STR("groups", list));
    if (trace_end_sys(&sp, set_groups_raw(p->n_additional_gids, p->additional_gids)) < 0 &&
        !(errno == EPERM && p->n_additional_gids == 0))
      return cut_error(err, errno, "setgroups");
  }
  trace_begin(&sp, TRACE_SYSCALL, "setgid", TA_INT("gid", p->gid));
  if (trace_end_sys(&sp, syscall(SYS_setresgid, p->gid, p->gid, p->gid)) < 0)
    return cut_error(err, errno, "setgid %u", (unsigned)p->gid);
  trace_begin(&sp, TRACE_SYSCALL, "setuid", TA_INT("uid", p->uid));
  if (trace_end_sys(&sp, syscall(SYS_setresuid, p->uid, p->uid, p->uid)) < 0)
    return cut_error(err, errno, "setuid %u", (unsigned)p->uid);
  return 0;
}

/* Name the capabilities of `wanted` this process does not have in its
 * permitted set (so capset cannot grant them); false when there are none. */
static bool
caps_not_held(uint64_t wanted, char *out, size_t len)
{
  cap_t cur = cap_get_proc();
  size_t used = 0;
  out[0] = '\0';
  for (cap_value_t c = 0; c < 64 && cur != NULL; c++) {
    cap_flag_value_t v = CAP_CLEAR;
    if (!(wanted & (1ULL << c)) || (cap_get_flag(cur, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET))
      continue;
    char *name = cap_to_name(c); /* "cap_sys_resource": spell it as the config does */
    int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "", name ? name : "?");
    cap_free(name);
    if (n < 0 || (size_t)n >= len - used)
      break;
    for (size_t i = used; i < used + (size_t)n; i++)
      out[i] = (char)toupper((unsigned char)out[i]);
    used += (size_t)n;
  }
  if (cur)
    cap_free(cur);
  return used > 0;
}

/* `held`: capabilities kept in effective and permitted on top of the
 * configured sets, until execve drops them (see seccomp_needs_admin). */
static int
set_caps(const rc_process *p, uint64_t held, cut_err *err)
{
  cap_t caps = cap_init();
  if (caps == NULL)
    return cut_error(err, errno, "cap_init");
  static const cap_flag_t flag_of[] = {[RC_CAP_EFFECTIVE] = CAP_EFFECTIVE,
                                       [RC_CAP_PERMITTED] = CAP_PERMITTED,
                                       [RC_CAP_INHERITABLE] = CAP_INHERITABLE};
  static const enum rc_capset sets[] = {RC_CAP_EFFECTIVE, RC_CAP_PERMITTED, RC_CAP_INHERITABLE};
  for (size_t s = 0; s < 3; s++) {
    uint64_t set = p->caps[sets[s]] | (sets[s] == RC_CAP_INHERITABLE ? 0 : held);
    for (cap_value_t c = 0; c < 64; c++)
      if (set & (1ULL << c))
        cap_set_flag(caps, flag_of[sets[s]], 1, &c, CAP_SET);
  }
  char eff[24], prm[24], inh[24], bnd[24], amb[24], hld[24];
  rc_caps_text(p->caps[RC_CAP_EFFECTIVE], eff);
  rc_caps_text(p->caps[RC_CAP_PERMITTED], prm);
  rc_caps_text(held, hld);
  rc_caps_text(p->caps[RC_CAP_INHERITABLE], inh);
  rc_caps_text(p->caps[RC_CAP_BOUNDING], bnd);
  rc_caps_text(p->caps[RC_CAP_AMBIENT], amb);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "capset", TA_STR("effective", eff), TA_STR("permitted", prm),
              TA_STR("inheritable", inh), TA_STR("bounding", bnd), TA_STR("ambient", amb),
              TA_STR("held_until_execve", hld));
  int r = cap_set_proc(caps);
  int e = errno;
  cap_free(caps);
  if (r < 0) {
    char missing[512];
    if (e == EPERM && caps_not_held(p->caps[RC_CAP_EFFECTIVE] | p->caps[RC_CAP_PERMITTED] |
                                        p->caps[RC_CAP_INHERITABLE],
                                    missing, sizeof missing))
      cut_error(err, e,
                "process.capabilities: %s not available to the runtime (not in this host's "
                "bounding set)",
                missing);
    else
      cut_error(err, e, "capset effective=%s permitted=%s inheritable=%s", eff, prm, inh);
    trace_end(&sp, err);
    return -1;
  }
  /* Ambient capabilities (Linux 4.3) survive execve of a non-setuid
   * program even for a non-root uid, but the kernel only takes those also
   * in permitted AND inheritable.  `runc spec` lists ambient ones with an
   * empty inheritable set; like runc, skip what the kernel cannot take. */
  uint64_t ambient =
      p->caps[RC_CAP_AMBIENT] & p->caps[RC_CAP_PERMITTED] & p->caps[RC_CAP_INHERITABLE];
  for (int c = 0; c < 64; c++)
    if ((ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
      cut_error(err, errno, "raise ambient capability %d", c);
      trace_end(&sp, err);
      return -1;
    }
  char raised[24];
  rc_caps_text(ambient, raised);
  trace_end(&sp, NULL, TA_STR("ambient_raised", raised));
  return 0;
}

/* AppArmor: the profile takes effect at the next execve, "exec NAME"
 * written to the process's attr/apparmor/exec (attr/exec before Linux 5.8),
 * only into a real procfs: the image or a volume could have put something
 * else at /proc (CVE-2019-16884). */
static int
set_apparmor(const char *profile, cut_err *err)
{
  static const char *const files[] = {"/proc/self/attr/apparmor/exec", "/proc/self/attr/exec"};
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "apparmor.exec", TA_STR("profile", profile));
  int fd = -1;
  const char *file = files[0];
  for (size_t i = 0; i < 2 && fd < 0; i++) {
    file = files[i];
    fd = open(file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
      break;
  }
  struct statfs sfs;
  if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
    if (fd >= 0)
      cut_error(err, EPERM, "process.apparmorProfile: %s is not on a procfs", file);
    else
      cut_error(err, errno, "process.apparmorProfile: open %s", file);
    if (fd >= 0)
      close(fd);
    trace_end(&sp, err);
    return -1;
  }
  char text[4200];
  int n = snprintf(text, sizeof text, "exec %s", profile);
  ssize_t w = n < (int)sizeof text ? write(fd, text, (size_t)n) : -1;
  int e = n < (int)sizeof text ? errno : ENAMETOOLONG;
  close(fd);
  if (w < 0) {
    cut_error(err, e, "process.apparmorProfile %s", profile);
    trace_end(&sp, err);
    return -1;
  }
  trace_end(&sp, NULL);
  return 0;
}

static int
set_no_new_privs(cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "prctl", TA_STR("option", "PR_SET_NO_NEW_PRIVS"));
  if (trace_end_sys(&sp, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
    return cut_error(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}

static int
enter_cwd(const char *cwd, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "chdir", TA_STR("path", cwd));
  if (trace_end_sys(&sp, chdir(cwd)) < 0)
    return cut_error(err, errno, "chdir to process.cwd %s", cwd);
  /* CVE-2024-21626: a cwd reached through a leaked host fd would lie
   * outside the container's root, and getcwd() then fails (or, on old
   * libcs, starts with "(unreachable)").  Refuse to run there. */
  char buf[4096];
  if (getcwd(buf, sizeof buf) == NULL || buf[0] != '/')
    return cut_error(err, EPERM, "process.cwd %s is outside the container's root", cwd);
  return 0;
}

/* seccomp(2) needs no_new_privs or CAP_SYS_ADMIN in the effective set.
 * Without the first, and when the process keeps no CAP_SYS_ADMIN, the
 * capset of rc_process_drop_privileges holds CAP_SYS_ADMIN (effective and
 * permitted only) until the filter is in.  execve drops it for good: a new
 * program's permitted set comes from the bounding, inheritable and ambient
 * sets, never from the old permitted one (capabilities(7)). */
static bool
seccomp_needs_admin(const rc_process *p, const rc_seccomp *sc)
{
  bool keeps_admin = !p->have_caps || (p->caps[RC_CAP_EFFECTIVE] & (1ULL << CAP_SYS_ADMIN));
  return sc != NULL && rc_seccomp_active(sc) && !p->no_new_privileges && !keeps_admin;
}

int
rc_process_drop_privileges(const rc_process *p, const rc_seccomp *sc, cut_err *err)
{
  uint64_t full = p->have_caps ? 0 : ~0ULL;
  /* issue 4, CVE-2019-5736 (exec.c): the sealed exec stub, made while
   * memfd_create is surely allowed; and non-dumpable from here to execve,
   * so once this process has no more capabilities than the container's
   * processes they still cannot open its /proc/<pid>/exe. */
  rc_exec_stub_prepare();
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (set_rlimits(p, err) < 0)
    return -1;
  if (p->apparmor_profile && set_apparmor(p->apparmor_profile, err) < 0)
    return -1;
  if (p->no_new_privileges && set_no_new_privs(err) < 0)
    return -1;
  if (p->have_caps && drop_bounding(p->caps[RC_CAP_BOUNDING] | full, err) < 0)
    return -1;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return cut_error(err, errno, "prctl PR_SET_KEEPCAPS");
  if (switch_user(p, err) < 0)
    return -1;
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  uint64_t held = seccomp_needs_admin(p, sc) ? 1ULL << CAP_SYS_ADMIN : 0;
  if (p->have_caps && set_caps(p, held, err) < 0)
    return -1;
  if (p->have_umask)
    umask(p->umask);
  else
    umask(022);
  return enter_cwd(p->cwd, err);
}

int
rc_process_finalize(const rc_process *p, rc_seccomp *sc, cut_err *err)
{
  if (rc_process_drop_privileges(p, sc, err) < 0)
    return -1;
  return rc_seccomp_load(sc, err);
}

int
rc_process_exec(const rc_process *p, const rc_exec_target *t, trace_span *handover, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "execve", TA_STR("path", t->path),
              TA_JSON("argv", t->argv_json ? t->argv_json : "[]"));
  if (handover)
    trace_end(handover, NULL);
  rc_exec_final(t->path, p->args, p->env); /* through the sealed stub: exec.c */
  int e = errno;
  cut_error(err, e, "execve %s", t->path);
  trace_end(&sp, err);
  return -1;
}
