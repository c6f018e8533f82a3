/* state.h: what the runtime remembers about a container between commands.
 *
 * runc keeps <root>/<id>/state.json and decides a container's status from
 * the live process, never from a stored word: the init's pid AND its start
 * time (field 22 of /proc/<pid>/stat, in clock ticks since boot) must both
 * match, otherwise the pid was recycled and the container is stopped.
 * "created" versus "running" is whether the exec fifo still exists: `start`
 * removes it when it releases the init.
 *
 * The state directory itself is the lock on an id: mkdir(2) is atomic, so
 * two `create`s of one id cannot both succeed. */
#ifndef CUTAWAY_RUNC_STATE_H
#define CUTAWAY_RUNC_STATE_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups.h"
#include "error.h"

#define RC_DEFAULT_ROOT "/run/cutaway-runc"
#define RC_EXEC_FIFO "exec.fifo"
#define RC_MAX_PREMOUNTS 64

enum rc_status { RC_CREATING, RC_CREATED, RC_RUNNING, RC_PAUSED, RC_STOPPED };

typedef struct rc_state {
  char id[256];
  char dir[PATH_MAX]; /* <root>/<id> */
  char oci_version[32];
  pid_t pid;
  uint64_t pid_start; /* start time of pid, from /proc/<pid>/stat */
  char bundle[PATH_MAX];
  char rootfs[PATH_MAX];
  char created[40]; /* RFC 3339, UTC */
  uid_t owner;
  bool have_cgroup;
  cg_handle cgroup;
  /* No mount namespace: the container's mounts are in the host's, and
   * delete unmounts those under rootfs but the ones already there. */
  bool host_mntns;
  size_t n_premounts;
  int premounts[RC_MAX_PREMOUNTS];
  cJSON *annotations; /* owned, may be NULL */
} rc_state;

/* Container ids: runc's rule, [A-Za-z0-9_+.-]+, not "." or "..". */
int rc_id_check(const char *id, cut_err *err);

/* <root>/<id> into buf. */
int rc_state_dir(const char *root, const char *id, char *buf, size_t len, cut_err *err);

/* Load <root>/<id>/state.json; "container <id> does not exist" when absent. */
int rc_state_load(const char *root, const char *id, rc_state *st, cut_err *err);
/* Write it atomically (temp + rename). */
int rc_state_save(const rc_state *st, cut_err *err);
void rc_state_free(rc_state *st);

/* The status, from the live process (see above). */
enum rc_status rc_state_status(const rc_state *st);
const char *rc_status_name(enum rc_status s);

/* The OCI state document (`state ID`, hooks' stdin). */
cJSON *rc_state_to_oci(const rc_state *st, enum rc_status status);

/* Start time of a pid (field 22 of /proc/<pid>/stat) and its state letter;
 * -1 when the process does not exist. */
int rc_proc_start_time(pid_t pid, uint64_t *start, char *state_letter);

/* RFC 3339 UTC timestamp with nanoseconds. */
void rc_now_rfc3339(char *buf, size_t len);

#endif
