/* seccomp.h: linux.seccomp compiled with libseccomp and loaded last.
 *
 * The profile (Docker's default has ~350 allowed syscalls, a few with
 * argument conditions) is turned into a libseccomp filter in the runtime's
 * own process, before clone: a wrong action, architecture or operator is
 * a config error found while nothing exists yet.  The container init, a
 * copy of that memory, only loads it (seccomp(2) with the BPF program
 * libseccomp generates) as the very last step before execve, so the
 * runtime's own syscalls are never filtered.  Syscall names libseccomp does
 * not know on this architecture are skipped, as runc does: profiles list
 * syscalls of every architecture. */
#ifndef CUTAWAY_RUNC_SECCOMP_H
#define CUTAWAY_RUNC_SECCOMP_H

#include <cjson/cJSON.h>
#include <seccomp.h>
#include <stdbool.h>

#include "error.h"

typedef struct rc_seccomp {
  scmp_filter_ctx ctx; /* NULL: no filter */
  int rules;           /* rules added */
  int skipped;         /* names unknown to libseccomp */
  char default_action[40];
} rc_seccomp;

int rc_seccomp_build(const cJSON *profile, rc_seccomp *out, cut_err *err);

/* seccomp(2), traced as "seccomp.load" with the rule count. */
int rc_seccomp_load(rc_seccomp *sc, cut_err *err);

void rc_seccomp_free(rc_seccomp *sc);

#endif
