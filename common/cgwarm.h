/* cgwarm.h: get the kernel's slow part of a cgroup move out of the way
 * early.
 *
 * Moving a process into a cgroup (writing its pid to cgroup.procs) takes the
 * kernel's global cgroup_threadgroup_rwsem for writing.  That
 * percpu_rw_semaphore is built on rcu_sync: a writer arriving when no writer
 * was seen lately waits for a full RCU grace period (several milliseconds on
 * an idle 2-vCPU VM: the largest single cost of starting a container here),
 * while a writer arriving in the "writer recently active" window does not.
 * Writing our own pid to our own cgroup.procs changes nothing but takes the
 * lock: done in a thread shortly before a real move (runc `exec`, or
 * containerd just before it asks the shim to create a container), it turns
 * that move's wait into a head start.  Used by stages/1-runc/warm.c and by
 * cutaway-containerd. */
#ifndef CUTAWAY_CGWARM_H
#define CUTAWAY_CGWARM_H

#include <stddef.h>

/* The cgroup.procs file of this process in the first usable hierarchy of
 * /proc/self/cgroup (v1 "pids:/x" -> /sys/fs/cgroup/pids/x/cgroup.procs, v2
 * "0::/x" -> /sys/fs/cgroup/x/cgroup.procs).  Uses no malloc and no stdio, so
 * it is safe in a raw clone.  Returns 0, or -1 when there is none. */
int cut_cgroup_own_procs(char *out, size_t len);

/* The warm-up write itself, traced as a `cgroup.write` syscall span under
 * `traceparent` (NULL: a root span).  Never fails the caller. */
void cut_cgroup_warm_write(const char *traceparent);

#endif
