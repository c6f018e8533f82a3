/* warm.h: start the kernel's slow part of a cgroup move early (the write
 * itself is common/cgwarm.h; cutaway-containerd does the same before it asks
 * the shim to create a container).
 *
 * Moving a process into a cgroup (writing its pid to cgroup.procs) takes
 * the kernel's global cgroup_threadgroup_rwsem for writing.  That
 * percpu_rw_semaphore is built on rcu_sync: a writer arriving when no
 * writer was seen lately must wait for a full RCU grace period before it
 * gets the lock: several milliseconds on an idle 2-vCPU VM, the largest
 * single cost of starting a container here (see the cgroup.write span of
 * cgroup.procs in a trace).  A writer that arrives while rcu_sync is still
 * in its "writer active" window does not wait.
 *
 * rc_cgroup_warm_start() starts a thread that writes this process's own
 * pid to its own cgroup.procs (a move to where it already is, which
 * changes nothing but still takes the lock) while the main thread goes on.
 * It pays off when the real move comes later and nothing else in between
 * needs the cgroup locks (`exec` joins an existing cgroup).  `create` and
 * `run` do not use it: measured, it gained nothing there, because the
 * waiting writer holds cgroup_mutex and the cgroup manager's mkdirs queue
 * behind it; the init's mounts overlapping the cgroup setup (init.h) is
 * what hides that wait for them.  Hosts where the write is refused (a
 * read-only cgroupfs) just do not get the head start. */
#ifndef CUTAWAY_RUNC_WARM_H
#define CUTAWAY_RUNC_WARM_H

/* Start the warm-up thread (once per process; never fails). */
void rc_cgroup_warm_start(void);

#endif
