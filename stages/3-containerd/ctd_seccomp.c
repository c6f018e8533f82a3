/* ctd_seccomp.c: Docker's default seccomp profile, generated per container.
 *
 * moby's profiles/seccomp/default.json is not one filter but a template:
 * each rule may say "only with capability X" (includes.caps) or "not with
 * X" (excludes.caps), and dockerd renders it against the container's
 * capability set before handing config.json to the runtime.  This file
 * holds the same rules as a C table and renders them the same way:
 *
 *   - defaultAction ERRNO with errno EPERM (1): anything not listed fails
 *     with "Operation not permitted";
 *   - ~340 syscalls allowed unconditionally (the table below; io_uring_*,
 *     keyctl, add_key, request_key, userfaultfd, kexec_*, pivot_root and
 *     swapon/off are deliberately absent);
 *   - socket() for every address family except AF_ALG (38) and AF_VSOCK
 *     (40), written as three range rules (domain < 38, == 39, > 40) because
 *     runtimes OR together several conditions on one argument;
 *   - personality() only with the five harmless personas;
 *   - groups gated on capabilities (CAP_SYS_ADMIN opens mount, unshare,
 *     setns, clone with namespace flags and clone3; CAP_SYS_PTRACE opens
 *     process_vm_*, kcmp; CAP_SYS_TIME settimeofday; ...);
 *   - without CAP_SYS_ADMIN, clone() is allowed only when
 *     flags & 0x7E020000 == 0 (no CLONE_NEW* flag), and clone3() - whose
 *     flags live in memory a filter cannot read - returns ENOSYS (38) so
 *     libc falls back to clone().
 * (security-catalogue.md §1, "Seccomp".) */
#include <string.h>
#include <sys/utsname.h>

#include "ctd.h"

static const char *const allowed[] = {"accept",
                                      "accept4",
                                      "access",
                                      "adjtimex",
                                      "alarm",
                                      "bind",
                                      "brk",
                                      "capget",
                                      "capset",
                                      "chdir",
                                      "chmod",
                                      "chown",
                                      "chown32",
                                      "clock_adjtime",
                                      "clock_adjtime64",
                                      "clock_getres",
                                      "clock_getres_time64",
                                      "clock_gettime",
                                      "clock_gettime64",
                                      "clock_nanosleep",
                                      "clock_nanosleep_time64",
                                      "close",
                                      "close_range",
                                      "connect",
                                      "copy_file_range",
                                      "creat",
                                      "dup",
                                      "dup2",
                                      "dup3",
                                      "epoll_create",
                                      "epoll_create1",
                                      "epoll_ctl",
                                      "epoll_ctl_old",
                                      "epoll_pwait",
                                      "epoll_pwait2",
                                      "epoll_wait",
                                      "epoll_wait_old",
                                      "eventfd",
                                      "eventfd2",
                                      "execve",
                                      "execveat",
                                      "exit",
                                      "exit_group",
                                      "faccessat",
                                      "faccessat2",
                                      "fadvise64",
                                      "fadvise64_64",
                                      "fallocate",
                                      "fanotify_mark",
                                      "fchdir",
                                      "fchmod",
                                      "fchmodat",
                                      "fchown",
                                      "fchown32",
                                      "fchownat",
                                      "fcntl",
                                      "fcntl64",
                                      "fdatasync",
                                      "fgetxattr",
                                      "flistxattr",
                                      "flock",
                                      "fork",
                                      "fremovexattr",
                                      "fsetxattr",
                                      "fstat",
                                      "fstat64",
                                      "fstatat64",
                                      "fstatfs",
                                      "fstatfs64",
                                      "fsync",
                                      "ftruncate",
                                      "ftruncate64",
                                      "futex",
                                      "futex_time64",
                                      "futex_waitv",
                                      "futimesat",
                                      "getcpu",
                                      "getcwd",
                                      "getdents",
                                      "getdents64",
                                      "getegid",
                                      "getegid32",
                                      "geteuid",
                                      "geteuid32",
                                      "getgid",
                                      "getgid32",
                                      "getgroups",
                                      "getgroups32",
                                      "getitimer",
                                      "getpeername",
                                      "getpgid",
                                      "getpgrp",
                                      "getpid",
                                      "getppid",
                                      "getpriority",
                                      "getrandom",
                                      "getresgid",
                                      "getresgid32",
                                      "getresuid",
                                      "getresuid32",
                                      "getrlimit",
                                      "get_robust_list",
                                      "getrusage",
                                      "getsid",
                                      "getsockname",
                                      "getsockopt",
                                      "get_thread_area",
                                      "gettid",
                                      "gettimeofday",
                                      "getuid",
                                      "getuid32",
                                      "getxattr",
                                      "inotify_add_watch",
                                      "inotify_init",
                                      "inotify_init1",
                                      "inotify_rm_watch",
                                      "io_cancel",
                                      "ioctl",
                                      "io_destroy",
                                      "io_getevents",
                                      "io_pgetevents",
                                      "io_pgetevents_time64",
                                      "ioprio_get",
                                      "ioprio_set",
                                      "io_setup",
                                      "io_submit",
                                      "ipc",
                                      "kill",
                                      "landlock_add_rule",
                                      "landlock_create_ruleset",
                                      "landlock_restrict_self",
                                      "lchown",
                                      "lchown32",
                                      "lgetxattr",
                                      "link",
                                      "linkat",
                                      "listen",
                                      "listxattr",
                                      "llistxattr",
                                      "_llseek",
                                      "lremovexattr",
                                      "lseek",
                                      "lsetxattr",
                                      "lstat",
                                      "lstat64",
                                      "madvise",
                                      "membarrier",
                                      "memfd_create",
                                      "memfd_secret",
                                      "mincore",
                                      "mkdir",
                                      "mkdirat",
                                      "mknod",
                                      "mknodat",
                                      "mlock",
                                      "mlock2",
                                      "mlockall",
                                      "mmap",
                                      "mmap2",
                                      "mprotect",
                                      "mq_getsetattr",
                                      "mq_notify",
                                      "mq_open",
                                      "mq_timedreceive",
                                      "mq_timedreceive_time64",
                                      "mq_timedsend",
                                      "mq_timedsend_time64",
                                      "mq_unlink",
                                      "mremap",
                                      "msgctl",
                                      "msgget",
                                      "msgrcv",
                                      "msgsnd",
                                      "msync",
                                      "munlock",
                                      "munlockall",
                                      "munmap",
                                      "nanosleep",
                                      "newfstatat",
                                      "_newselect",
                                      "open",
                                      "openat",
                                      "openat2",
                                      "pause",
                                      "pidfd_open",
                                      "pidfd_send_signal",
                                      "pipe",
                                      "pipe2",
                                      "poll",
                                      "ppoll",
                                      "ppoll_time64",
                                      "prctl",
                                      "pread64",
                                      "preadv",
                                      "preadv2",
                                      "prlimit64",
                                      "process_mrelease",
                                      "pselect6",
                                      "pselect6_time64",
                                      "pwrite64",
                                      "pwritev",
                                      "pwritev2",
                                      "read",
                                      "readahead",
                                      "readlink",
                                      "readlinkat",
                                      "readv",
                                      "recv",
                                      "recvfrom",
                                      "recvmmsg",
                                      "recvmmsg_time64",
                                      "recvmsg",
                                      "remap_file_pages",
                                      "removexattr",
                                      "rename",
                                      "renameat",
                                      "renameat2",
                                      "restart_syscall",
                                      "rmdir",
                                      "rseq",
                                      "rt_sigaction",
                                      "rt_sigpending",
                                      "rt_sigprocmask",
                                      "rt_sigqueueinfo",
                                      "rt_sigreturn",
                                      "rt_sigsuspend",
                                      "rt_sigtimedwait",
                                      "rt_sigtimedwait_time64",
                                      "rt_tgsigqueueinfo",
                                      "sched_getaffinity",
                                      "sched_getattr",
                                      "sched_getparam",
                                      "sched_get_priority_max",
                                      "sched_get_priority_min",
                                      "sched_getscheduler",
                                      "sched_rr_get_interval",
                                      "sched_rr_get_interval_time64",
                                      "sched_setaffinity",
                                      "sched_setattr",
                                      "sched_setparam",
                                      "sched_setscheduler",
                                      "sched_yield",
                                      "seccomp",
                                      "select",
                                      "semctl",
                                      "semget",
                                      "semop",
                                      "semtimedop",
                                      "semtimedop_time64",
                                      "send",
                                      "sendfile",
                                      "sendfile64",
                                      "sendmmsg",
                                      "sendmsg",
                                      "sendto",
                                      "setfsgid",
                                      "setfsgid32",
                                      "setfsuid",
                                      "setfsuid32",
                                      "setgid",
                                      "setgid32",
                                      "setgroups",
                                      "setgroups32",
                                      "setitimer",
                                      "setpgid",
                                      "setpriority",
                                      "setregid",
                                      "setregid32",
                                      "setresgid",
                                      "setresgid32",
                                      "setresuid",
                                      "setresuid32",
                                      "setreuid",
                                      "setreuid32",
                                      "setrlimit",
                                      "set_robust_list",
                                      "setsid",
                                      "setsockopt",
                                      "set_thread_area",
                                      "set_tid_address",
                                      "setuid",
                                      "setuid32",
                                      "setxattr",
                                      "shmat",
                                      "shmctl",
                                      "shmdt",
                                      "shmget",
                                      "shutdown",
                                      "sigaltstack",
                                      "signalfd",
                                      "signalfd4",
                                      "sigprocmask",
                                      "sigreturn",
                                      "socketcall",
                                      "socketpair",
                                      "splice",
                                      "stat",
                                      "stat64",
                                      "statfs",
                                      "statfs64",
                                      "statx",
                                      "symlink",
                                      "symlinkat",
                                      "sync",
                                      "sync_file_range",
                                      "syncfs",
                                      "sysinfo",
                                      "tee",
                                      "tgkill",
                                      "time",
                                      "timer_create",
                                      "timer_delete",
                                      "timer_getoverrun",
                                      "timer_gettime",
                                      "timer_gettime64",
                                      "timer_settime",
                                      "timer_settime64",
                                      "timerfd_create",
                                      "timerfd_gettime",
                                      "timerfd_gettime64",
                                      "timerfd_settime",
                                      "timerfd_settime64",
                                      "times",
                                      "tkill",
                                      "truncate",
                                      "truncate64",
                                      "ugetrlimit",
                                      "umask",
                                      "uname",
                                      "unlink",
                                      "unlinkat",
                                      "utime",
                                      "utimensat",
                                      "utimensat_time64",
                                      "utimes",
                                      "vfork",
                                      "vmsplice",
                                      "wait4",
                                      "waitid",
                                      "waitpid",
                                      "write",
                                      "writev",
                                      NULL};

struct cap_group {
  const char *cap;
  const char *const names[24];
};

/* includes.caps groups of the profile. */
static const struct cap_group cap_groups[] = {
    {"CAP_SYS_ADMIN", {"bpf",           "clone",           "clone3",
                       "fanotify_init", "fsconfig",        "fsmount",
                       "fsopen",        "fspick",          "lookup_dcookie",
                       "mount",         "mount_setattr",   "move_mount",
                       "open_tree",     "perf_event_open", "quotactl",
                       "quotactl_fd",   "setdomainname",   "sethostname",
                       "setns",         "syslog",          "umount",
                       "umount2",       "unshare",         NULL}},
    {"CAP_SYS_BOOT", {"reboot", NULL}},
    {"CAP_SYS_CHROOT", {"chroot", NULL}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module", NULL}},
    {"CAP_SYS_PACCT", {"acct", NULL}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
      NULL}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm", NULL}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64", NULL}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup", NULL}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", NULL}},
    {"CAP_SYSLOG", {"syslog", NULL}},
    {"CAP_BPF", {"bpf", NULL}},
    {"CAP_PERFMON", {"perf_event_open", NULL}},
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at", NULL}},
};

static bool
has_cap(const char *const *caps, size_t n, const char *cap)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(caps[i], cap) == 0)
      return true;
  return false;
}

static cJSON *
names_array(const char *const *names)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; names[i]; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
  return a;
}

static cJSON *
rule(const char *name, const char *action)
{
  cJSON *r = cJSON_CreateObject();
  const char *one[] = {name, NULL};
  cJSON_AddItemToObject(r, "names", names_array(one));
  cJSON_AddStringToObject(r, "action", action);
  return r;
}

/* One argument condition: {"index":i,"value":v,"valueTwo":v2,"op":op}. */
static void
add_arg(cJSON *r, int index, double value, double value2, const char *op)
{
  cJSON *args = cJSON_GetObjectItem(r, "args");
  if (args == NULL)
    args = cJSON_AddArrayToObject(r, "args");
  cJSON *a = cJSON_CreateObject();
  cJSON_AddNumberToObject(a, "index", index);
  cJSON_AddNumberToObject(a, "value", value);
  cJSON_AddNumberToObject(a, "valueTwo", value2);
  cJSON_AddStringToObject(a, "op", op);
  cJSON_AddItemToArray(args, a);
}

static void
add_arches(cJSON *prof)
{
  struct utsname u;
  uname(&u);
  const char *const x86[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};
  const char *const arm[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
  const char *const *list = strcmp(u.machine, "aarch64") == 0 ? arm : x86;
  cJSON_AddItemToObject(prof, "architectures", names_array(list));
}

cJSON *
ctd_seccomp_default(const char *const *caps, size_t ncaps)
{
  cJSON *prof = cJSON_CreateObject();
  cJSON_AddStringToObject(prof, "defaultAction", "SCMP_ACT_ERRNO");
  cJSON_AddNumberToObject(prof, "defaultErrnoRet", 1);
  add_arches(prof);
  cJSON *rules = cJSON_AddArrayToObject(prof, "syscalls");

  cJSON *base = cJSON_CreateObject();
  cJSON_AddItemToObject(base, "names", names_array(allowed));
  cJSON_AddStringToObject(base, "action", "SCMP_ACT_ALLOW");
  cJSON_AddItemToArray(rules, base);

  /* ptrace since kernel 4.8 (no more seccomp bypass through it). */
  cJSON_AddItemToArray(rules, rule("ptrace", "SCMP_ACT_ALLOW"));

  /* socket: all families but AF_ALG (38) and AF_VSOCK (40). */
  cJSON *s1 = rule("socket", "SCMP_ACT_ALLOW");
  add_arg(s1, 0, 38, 0, "SCMP_CMP_LT");
  cJSON_AddItemToArray(rules, s1);
  cJSON *s2 = rule("socket", "SCMP_ACT_ALLOW");
  add_arg(s2, 0, 39, 0, "SCMP_CMP_EQ");
  cJSON_AddItemToArray(rules, s2);
  cJSON *s3 = rule("socket", "SCMP_ACT_ALLOW");
  add_arg(s3, 0, 40, 0, "SCMP_CMP_GT");
  cJSON_AddItemToArray(rules, s3);

  static const double personas[] = {0, 8, 0x20000, 0x20008, 0xffffffff};
  for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++) {
    cJSON *p = rule("personality", "SCMP_ACT_ALLOW");
    add_arg(p, 0, personas[i], 0, "SCMP_CMP_EQ");
    cJSON_AddItemToArray(rules, p);
  }

  struct utsname u;
  uname(&u);
  if (strcmp(u.machine, "x86_64") == 0) {
    cJSON_AddItemToArray(rules, rule("arch_prctl", "SCMP_ACT_ALLOW"));
    cJSON_AddItemToArray(rules, rule("modify_ldt", "SCMP_ACT_ALLOW"));
  }

  for (size_t g = 0; g < sizeof cap_groups / sizeof cap_groups[0]; g++) {
    if (!has_cap(caps, ncaps, cap_groups[g].cap))
      continue;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "names", names_array(cap_groups[g].names));
    cJSON_AddStringToObject(r, "action", "SCMP_ACT_ALLOW");
    cJSON_AddItemToArray(rules, r);
  }

  if (!has_cap(caps, ncaps, "CAP_SYS_ADMIN")) {
    /* CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP = 0x7E020000 */
    cJSON *cl = rule("clone", "SCMP_ACT_ALLOW");
    add_arg(cl, 0, 0x7E020000, 0, "SCMP_CMP_MASKED_EQ");
    cJSON_AddItemToArray(rules, cl);
    cJSON *c3 = rule("clone3", "SCMP_ACT_ERRNO");
    cJSON_AddNumberToObject(c3, "errnoRet", 38);
    cJSON_AddItemToArray(rules, c3);
  }
  return prof;
}
