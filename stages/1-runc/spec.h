/* spec.h: config.json, the OCI runtime-spec document, parsed and checked.
 *
 * runc turns config.json into libcontainer's configs.Config (specconv),
 * crun into libocispec's structs; cutaway-runc parses it here into rc_spec.
 * Everything that can be wrong with a config is found at this point, in
 * the runtime's own process, before any clone(2): an unknown namespace
 * type, capability or rlimit, a bad mount option, an unsupported
 * ociVersion.  So bad input fails with one line and leaves nothing behind.
 *
 * The strings in rc_spec point into the cJSON tree (spec->doc), which the
 * spec owns; the container init inherits the whole parsed spec as a copy of
 * the parent's memory when it is cloned. */
#ifndef CUTAWAY_RUNC_SPEC_H
#define CUTAWAY_RUNC_SPEC_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "error.h"

/* The five capability sets as bit masks (bit n = capability n). */
enum rc_capset {
  RC_CAP_BOUNDING,
  RC_CAP_EFFECTIVE,
  RC_CAP_PERMITTED,
  RC_CAP_INHERITABLE,
  RC_CAP_AMBIENT,
  RC_CAP_NSETS
};

typedef struct rc_rlimit {
  int resource; /* RLIMIT_* */
  const char *name;
  struct rlimit limit;
} rc_rlimit;

/* process: what execve runs and with which identity (also the shape of
 * `runc exec --process FILE`, which reuses rc_process_parse). */
typedef struct rc_process {
  bool terminal;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool have_umask;
  mode_t umask;
  char **args; /* NULL-terminated */
  size_t n_args;
  char **env; /* NULL-terminated */
  size_t n_env;
  const char *cwd;
  bool have_caps;
  uint64_t caps[RC_CAP_NSETS];
  rc_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool have_oom_score_adj;
  int oom_score_adj;
  /* process.apparmorProfile; NULL when absent, or when AppArmor is not
   * enabled on this host (the parser then warns in the log). */
  const char *apparmor_profile;
} rc_process;

/* One entry of `mounts`, with its options split the way mount(2) wants. */
typedef struct rc_mount {
  const char *destination;
  const char *type; /* "" when absent */
  const char *source;
  unsigned long flags;       /* MS_* to set at mount time */
  unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (|MS_REC), 0: none */
  bool bind;                 /* bind or rbind */
  bool recursive;            /* rbind */
  char *data;                /* the fs-specific options, comma-joined (malloc'ed) */
} rc_mount;

enum rc_ns_type {
  RC_NS_PID,
  RC_NS_NET,
  RC_NS_MNT,
  RC_NS_IPC,
  RC_NS_UTS,
  RC_NS_USER,
  RC_NS_CGROUP,
  RC_NS_TIME,
  RC_NS_COUNT
};

typedef struct rc_namespace {
  enum rc_ns_type type;
  const char *path; /* NULL: create a new one; else join this one */
} rc_namespace;

typedef struct rc_idmap {
  uint32_t container_id, host_id, size;
} rc_idmap;

typedef struct rc_device {
  const char *path;
  char type; /* 'c', 'b', 'u', 'p' */
  int64_t major, minor;
  bool have_mode;
  mode_t mode;
  bool have_uid, have_gid;
  uid_t uid;
  gid_t gid;
} rc_device;

typedef struct rc_spec {
  cJSON *doc;
  const char *oci_version;
  char bundle[PATH_MAX]; /* absolute */
  char rootfs[PATH_MAX]; /* absolute */
  bool root_readonly;
  bool have_process;
  rc_process process;
  const char *hostname;
  const char *domainname;
  rc_mount *mounts;
  size_t n_mounts;
  rc_namespace namespaces[RC_NS_COUNT];
  size_t n_namespaces;
  rc_idmap *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  rc_device *devices;
  size_t n_devices;
  char **masked_paths, **readonly_paths;
  size_t n_masked_paths, n_readonly_paths;
  unsigned long rootfs_propagation; /* 0: the default (rslave) */
  const cJSON *sysctl;              /* object of strings, or NULL */
  const cJSON *resources;           /* linux.resources, or NULL */
  const char *cgroups_path;         /* linux.cgroupsPath, or NULL */
  const cJSON *seccomp;             /* linux.seccomp, or NULL */
  const cJSON *hooks;               /* hooks, or NULL (run by issue 4's code) */
  const cJSON *annotations;         /* annotations, or NULL */
} rc_spec;

/* Read <bundle>/config.json and check it whole.  `bundle` may be relative. */
int rc_spec_load(const char *bundle, rc_spec *spec, cut_err *err);

/* Parse an already-read document (for tests and `exec --process`). The
 * spec takes ownership of doc, even on failure. */
int rc_spec_parse(cJSON *doc, const char *bundle, rc_spec *spec, cut_err *err);

void rc_spec_free(rc_spec *spec);

/* Parse a `process` object into p (pointers into obj). */
int rc_process_parse(const cJSON *obj, const char *what, rc_process *p, cut_err *err);

/* /sys/module/apparmor/parameters/enabled says "Y". */
bool rc_apparmor_enabled(void);
void rc_process_free(rc_process *p);

/* ociVersion: 1.0.x to 1.3.x (and "-dev"/"-rc" suffixes) are accepted. */
int rc_spec_check_version(const char *version, cut_err *err);

/* The namespace table: names as config.json spells them, CLONE_NEW* flags,
 * and the /proc/<pid>/ns/<name> file names. */
const char *rc_ns_name(enum rc_ns_type t);
const char *rc_ns_proc_name(enum rc_ns_type t);
int rc_ns_clone_flag(enum rc_ns_type t);
/* -1 for an unknown type name. */
int rc_ns_parse(const char *name);
/* The entry for a type, or NULL when the config does not list it. */
const rc_namespace *rc_spec_ns(const rc_spec *spec, enum rc_ns_type t);

/* Split one mount option into the mount struct (exposed for unit tests):
 * returns 1 when it was a flag, 0 when it is fs data, -1 when unsupported. */
int rc_mount_option(const char *opt, rc_mount *m);

/* Capability name ("CAP_CHOWN", case-insensitive) to its number; -1 when
 * unknown to libcap. */
int rc_cap_parse(const char *name);

/* RLIMIT_* name to resource, -1 when unknown. */
int rc_rlimit_parse(const char *name);

/* The default config.json that `spec` writes (a new cJSON tree). */
cJSON *rc_spec_default(void);

#endif
