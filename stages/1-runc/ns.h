/* ns.h: namespaces, created by clone(2)/unshare(2) or joined by setns(2).
 *
 * runc's nsexec.c joins the namespaces a config names by path and creates
 * the others with the CLONE_NEW* flags of one clone; this file holds the
 * pieces both paths need: the flags as readable text for the trace, and
 * opening a namespace file while checking it is of the type the config
 * claims (ioctl NS_GET_NSTYPE), so a path of the wrong type is one clear
 * error before anything is created. */
#ifndef CUTAWAY_RUNC_NS_H
#define CUTAWAY_RUNC_NS_H

#include <stddef.h>

#include "error.h"
#include "spec.h"

/* "CLONE_NEWPID|CLONE_NEWNS|..." for the trace (or "0"). */
void rc_clone_flags_text(int flags, char *buf, size_t len);

/* The CLONE_NEW* flags of the namespaces the spec creates (not joins). */
int rc_ns_new_flags(const rc_spec *spec);

/* Open every namespace the spec joins (fds[type], -1 where none), checking
 * each file's type.  On failure every fd opened is closed. */
int rc_ns_open_joins(const rc_spec *spec, int fds[RC_NS_COUNT], cut_err *err);
void rc_ns_close_joins(int fds[RC_NS_COUNT]);

/* setns(2) into one joined namespace, traced as a "setns" span. */
int rc_ns_join(int fd, enum rc_ns_type type, const char *path, cut_err *err);

/* unshare(2) traced with its flags. */
int rc_ns_unshare(int flags, cut_err *err);

#endif
