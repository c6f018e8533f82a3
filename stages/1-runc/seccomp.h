/* seccomp.h: linux.seccomp compiled with libseccomp and loaded last.
 *
 * The profile (Docker's default has ~350 allowed syscalls, a few with
 * argument conditions) is turned into a libseccomp filter and its BPF
 * program generated (seccomp_export_bpf, traced as "seccomp.compile"),
 * which takes milliseconds for Docker's profile.  The container init does
 * it right after GO, while the runtime sets up its cgroup, so a wrong
 * action, architecture or operator still fails `create`, and the cost is
 * paid at `create`, not between `start` and execve; a program compiled
 * before for the same profile comes from the cache instead
 * (seccomp_cache.h).  The init only hands the ready program to seccomp(2)
 * (SECCOMP_SET_MODE_FILTER, the profile's flags) as the very last step
 * before execve, so the runtime's own syscalls are never filtered.  Syscall
 * names libseccomp does not know on this architecture are skipped, as runc
 * does: profiles list syscalls of every architecture. */
#ifndef CUTAWAY_RUNC_SECCOMP_H
#define CUTAWAY_RUNC_SECCOMP_H

#include <cjson/cJSON.h>
#include <seccomp.h>
#include <stdbool.h>

#include "error.h"

typedef struct rc_seccomp {
  scmp_filter_ctx ctx;      /* the libseccomp filter while it is built */
  struct sock_filter *prog; /* its BPF program; NULL: no filter */
  unsigned short len;       /* instructions in prog */
  unsigned flags;           /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  int rules;                /* rules added */
  int skipped;              /* names unknown to libseccomp */
  char default_action[40];
} rc_seccomp;

/* Parse the profile (NULL: no filter) and generate its BPF program. */
int rc_seccomp_build(const cJSON *profile, rc_seccomp *out, cut_err *err);

/* True when a filter is to be loaded. */
bool rc_seccomp_active(const rc_seccomp *sc);

/* seccomp(2) with the program built beforehand, traced as "seccomp.load"
 * with the rule and instruction counts. */
int rc_seccomp_load(rc_seccomp *sc, cut_err *err);

void rc_seccomp_free(rc_seccomp *sc);

#endif
