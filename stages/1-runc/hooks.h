/* hooks.h: OCI lifecycle hooks (runtime-spec config.md "POSIX-platform
 * Hooks"; runc's libcontainer/configs Hook.Run, crun's do_hooks).
 *
 * A hook is a program the runtime runs at a fixed point of the container's
 * life, with the container's state JSON on its stdin.  dockerd relies on
 * them: every container it creates carries a prestart hook
 * (libnetwork-setkey) that moves the network interface into the new
 * network namespace, so a runtime without hooks gives containers no network.
 *
 * When each kind runs, and what a failure does (runtime-spec 1.2):
 *   prestart, createRuntime  during create, in the runtime's namespaces,
 *                            after the container's namespaces exist and
 *                            before pivot_root;  failure fails create
 *   createContainer          during create, in the container's mount
 *                            namespace, before pivot_root; failure fails
 *   startContainer           during start, inside the container, before the
 *                            user process is exec'ed;      failure fails
 *   poststart                after the user process started, before `start`
 *                            returns;                     failure warns
 *   poststop                 at delete, after the container stopped;
 *                                                          failure warns
 *
 * Each hook is one `internal` trace span named "hook.<kind>" with its path;
 * the hook gets TRACEPARENT in its environment so a traced hook joins the
 * trace. */
#ifndef CUTAWAY_RUNC_HOOKS_H
#define CUTAWAY_RUNC_HOOKS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

enum hook_kind {
  HOOK_PRESTART,
  HOOK_CREATE_RUNTIME,
  HOOK_CREATE_CONTAINER,
  HOOK_START_CONTAINER,
  HOOK_POSTSTART,
  HOOK_POSTSTOP,
  HOOK_KIND_COUNT
};

/* The config.json key of a kind: "prestart", "createRuntime", ... */
const char *hook_kind_name(enum hook_kind kind);

/* Check config.json's "hooks" object (may be NULL) at create time, before
 * anything is set up: every entry has an absolute path, string args and env,
 * and a positive timeout.  Unknown keys are ignored, as the spec asks. */
int hooks_validate(const cJSON *hooks, cut_err *err);

/* True when `hooks` has at least one hook of `kind` (lets callers skip
 * building the state JSON and the synchronisation a kind needs). */
bool hooks_have(const cJSON *hooks, enum hook_kind kind);

/* Run every hook of `kind` in order, each with `state_json` on stdin.  A hook
 * fails when it cannot be started, exits non-zero, is killed, or outlives its
 * timeout (then it is SIGKILLed).  For prestart, createRuntime,
 * createContainer and startContainer the first failure stops the run and is
 * returned; for poststart and poststop every hook runs, failures are printed
 * to stderr as warnings and 0 is returned. */
int hooks_run(const cJSON *hooks, enum hook_kind kind, const char *state_json, cut_err *err);

/* ---- where the runtime calls them (container.c, init.c, rootfs.c) ---- */

struct rc_launch;
struct rc_state;

/* The state document hooks read on stdin (runtime-spec state.md), as
 * compact JSON; the caller frees it. */
char *hooks_state_json(const char *oci_version, const char *id, const char *status, pid_t pid,
                       const char *bundle, const cJSON *annotations);

/* True when the init must stop before pivot_root for hooks (prestart,
 * createRuntime, createContainer or startContainer present). */
bool rc_hooks_need_init_stop(const cJSON *hooks);

/* Init side, called by rc_rootfs_setup just before pivot_root (its
 * before_pivot callback; arg is the rc_launch): asks the parent to run
 * prestart and createRuntime (RC_SYNC_HOOKS, answered RC_SYNC_HOOKS_DONE),
 * then runs createContainer itself, in the container's mount namespace. */
int rc_hooks_before_pivot(void *launch, cut_err *err);

/* Init side, after `start` released it: startContainer, in the container. */
int rc_hooks_start_container(const struct rc_launch *l, cut_err *err);

/* Parent side of create: wait for the init's READY, running prestart and
 * createRuntime when it asks on the way.  Replaces a plain wait for READY. */
int rc_hooks_create_wait_ready(struct rc_launch *l, const char *id, cut_err *err);

/* Keep the hooks that run after create (poststart, poststop) in the state
 * directory (<dir>/hooks.json), so `start` and `delete` find them even if
 * the bundle's config.json changes or goes. */
int rc_hooks_save(const char *state_dir, const cJSON *hooks, cut_err *err);

/* Run poststart (after `start` released the init and it has exec'ed the
 * user's program: rc_hooks_after_start waits for that, hooks or not) or
 * poststop (at delete) from the saved hooks; failures warn only. */
void rc_hooks_after_start(const struct rc_state *st);
void rc_hooks_at_delete(const struct rc_state *st);

/* The same for `run`, which holds the parsed config. */
void rc_hooks_run_warn(const cJSON *hooks, enum hook_kind kind, const struct rc_state *st,
                       pid_t pid, const char *status);

#endif
