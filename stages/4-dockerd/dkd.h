/* dkd.h: the insides of cutawayd, shared by its files.
 *
 * cutawayd mirrors dockerd: it serves the Docker Engine API (v1.41) on a
 * unix socket, so the real `docker` CLI can drive it, and hands images and
 * container lifecycles to cutaway-containerd over its HTTP + JSON API, the
 * way dockerd hands them to containerd over gRPC (libcontainerd):
 *
 *   images      dkd_images.c   /images/... -> containerd /v1/images/...
 *   containers  dkd_containers.c  create, list, inspect, remove: dockerd's
 *               own records ROOT/containers/<id>/config.v2.json, plus a
 *               containerd container (the OCI spec) per Docker container
 *   running     dkd_run.c      start, wait, stop, kill: containerd tasks;
 *               one monitor thread per running container waits for its exit
 *   streams     dkd_stream.c   attach (hijacked HTTP connections), the
 *               container's stdio FIFOs, stdcopy framing
 *   logs        dkd_logs.c     the shim's json-file log, served as stdcopy
 *   exec        dkd_exec.c     /containers/{id}/exec, /exec/{id}/start|json
 *   volumes     dkd_volumes.c  ROOT/volumes/<name>/_data, bound by Binds
 *   networks    dkd_networks.c bridge, host, none
 *
 * Locking: `d->lock` guards the tables and every container's fields (short
 * critical sections only); `d->changed` is broadcast on every state change,
 * which is what /wait and `logs --follow` sleep on. */
#ifndef CUTAWAY_DKD_H
#define CUTAWAY_DKD_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "httpd.h"

#define DKD_API_VERSION "1.41"
#define DKD_MIN_API_VERSION "1.12"
#define DKD_DIR_MAX 1024
/* The containerd label naming the cutawayd (its --root) that made a container. */
#define DKD_OWNER_LABEL "io.cutaway.dockerd.root"

typedef struct dkd dkd;
struct dkd_port; /* a published port (dkd_ports.c) */

/* One hijacked connection (attach or exec start): output goes to fd as
 * stdcopy frames (raw when the process has a TTY); input read from it
 * becomes the process's stdin. */
typedef struct dkd_attacher {
  int fd;
  void *urh; /* libmicrohttpd's upgrade handle: closes the connection */
  bool want_stdout, want_stderr, want_stdin;
  bool tty;
  bool closed;
  struct dkd_attacher *next;
} dkd_attacher;

/* The FIFOs between the shim and us for one process (dockerd's
 * containerd-fifo set). */
typedef struct dkd_stdio {
  char dir[DKD_DIR_MAX + 64];
  char in[DKD_DIR_MAX + 80], out[DKD_DIR_MAX + 80], err[DKD_DIR_MAX + 80];
  int rd_out, rd_err, wr_in;
  bool tty, with_stdin;
  bool relaying;           /* the relay thread runs */
  bool drained;            /* it saw the end of both streams */
  double exited_at;        /* the process exited (dkd_monotonic), 0 before */
  dkd_attacher *attachers; /* guarded by d->lock */
  int stdin_writers;       /* attachers still feeding stdin */
} dkd_stdio;

enum dkd_state { DKD_CREATED, DKD_RUNNING, DKD_PAUSED, DKD_EXITED, DKD_DEAD };

typedef struct dkd_container {
  char id[65];
  char name[256]; /* "/web" as Docker writes it */
  char created[40];
  char image[512];     /* as the user typed it ("busybox") */
  char image_ref[512]; /* normalized, with its tag: containerd's name */
  char image_id[80];   /* sha256:<config digest> */
  char log_path[PATH_MAX];
  cJSON *config;                /* Config as created (with the image's defaults filled in) */
  cJSON *host_config;           /* HostConfig as created */
  cJSON *args;                  /* the process's argv (entrypoint + cmd) */
  char netns[DKD_DIR_MAX + 80]; /* the network namespace we made, "" none */
  char veth[16];                /* its host-side veth, "" none */
  char ip[20];                  /* its bridge address, "" none */
  struct dkd_port *ports;       /* published ports, bound while it runs */
  enum dkd_state state;
  int pid;
  int exit_code;
  bool oom_killed;
  char started_at[40], finished_at[40];
  char error[256]; /* the last start error, for inspect and wait */
  uint64_t exits;  /* incremented at every exit: next-exit waits on it */
  bool removing, removed;
  double removed_at; /* dkd_monotonic() when removed: freed a while later */
  bool has_task;     /* a containerd task exists (created or running) */
  bool starting;     /* a start is in progress */
  bool creating;     /* being built by create: only its name and address count */
  char start_tp[64]; /* the traceparent of the last start: its exit joins that trace */
  dkd_stdio stdio;
  int restart_count;
  struct dkd_container *next;
} dkd_container;

typedef struct dkd_exec {
  char id[65];
  char container_id[65];
  cJSON *config; /* the create request: Cmd, Tty, Env, User, WorkingDir, Attach* */
  bool running, started, done;
  double done_at; /* dkd_monotonic() when it ended: freed a while later */
  int exit_code;
  int pid;
  dkd_stdio stdio;
  struct dkd_exec *next;
} dkd_exec;

/* The event log behind GET /events (dkd_events.c): the last DKD_EVENTS
 * events, each one JSON line in Docker's format. */
#define DKD_EVENTS 256
typedef struct dkd_events {
  pthread_mutex_t mu; /* its own lock: events are published under d->lock too */
  pthread_cond_t cv;
  char *lines[DKD_EVENTS];
  double times[DKD_EVENTS]; /* unix seconds, for since= */
  uint64_t next;            /* sequence number of the next event */
} dkd_events;

struct dkd {
  char root[DKD_DIR_MAX];      /* ROOT: containers/, volumes/ */
  char exec_root[DKD_DIR_MAX]; /* EXEC_ROOT: fifos/, netns/ */
  char containerd[108];        /* cutaway-containerd's socket */
  char host[108];              /* our socket */
  char bridge[16];             /* the default bridge's name, "" disables it */
  char bridge_cidr[32];        /* its gateway address, "172.30.0.1/16" */
  pthread_mutex_t lock;
  pthread_cond_t changed;
  dkd_container *containers;
  dkd_exec *execs;
  httpd *srv;
  dkd_events events;
};

/* ---- dkd_util.c ---- */
/* Lower-case hex of n random bytes. */
void dkd_random_hex(char *out, size_t nbytes);
/* RFC 3339 with nanoseconds, UTC (Go's time.RFC3339Nano, as Docker writes). */
void dkd_now(char *out, size_t len);
/* "Up 3 seconds", "Exited (0) 2 minutes ago", as `docker ps` prints them. */
void dkd_human_duration(double seconds, char *out, size_t len);
double dkd_seconds_since(const char *rfc3339);
/* A JSON call to cutaway-containerd; the status is 0 on a transport error. */
int dkd_ctd(dkd *d, const char *method, const char *path, const cJSON *body, long *status,
            cJSON **out, cut_err *err);
/* Reply with Docker's error shape and the status err implies. */
void dkd_reply_err(httpd_req *req, unsigned status, const cut_err *err);
/* "Up 2 minutes" etc. for a container (d->lock held). */
void dkd_status_text(const dkd_container *k, char *out, size_t len);
const char *dkd_state_name(enum dkd_state s);
/* Docker's name generator: "adjective_surname". */
void dkd_random_name(char *out, size_t len);
/* Signal number for "SIGTERM", "TERM", "15"; -1 if unknown. */
int dkd_signal_number(const char *name);

/* Seconds on CLOCK_MONOTONIC. */
double dkd_monotonic(void);
/* Mark k removed (d->lock held). */
void dkd_container_removed(dkd *d, dkd_container *k);
/* Free removed containers and finished execs old enough that nobody can
 * still hold them (d->lock held; called at each create). */
void dkd_sweep(dkd *d);

/* ---- dkd_containers.c ---- */
/* Find by full id, name ("web" or "/web") or unique id prefix (d->lock held).
 * NULL with *ambiguous set when a prefix matches several. */
dkd_container *dkd_container_find(dkd *d, const char *ref, bool *ambiguous);
/* The container named in the path, or a 404 reply and NULL (d->lock held). */
dkd_container *dkd_container_req(dkd *d, httpd_req *req);
int dkd_container_save(dkd *d, dkd_container *k, cut_err *err);
int dkd_containers_load(dkd *d, cut_err *err);
/* After a crash: containerd containers, network namespaces and FIFOs this
 * daemon made but has no record of go (a create killed half-way). */
void dkd_reconcile(dkd *d);
/* Die here (SIGKILL) when CUTAWAY_FAILPOINT names this point (tests). */
void dkd_failpoint(const char *name);
/* Forget the container: containerd container, records, FIFOs (not locked). */
int dkd_container_destroy(dkd *d, dkd_container *k, cut_err *err);
void dkd_h_containers_create(httpd_req *req, void *ctx);
void dkd_h_containers_list(httpd_req *req, void *ctx);
void dkd_h_containers_inspect(httpd_req *req, void *ctx);
void dkd_h_containers_delete(httpd_req *req, void *ctx);

/* ---- dkd_run.c ---- */
void dkd_h_containers_start(httpd_req *req, void *ctx);
void dkd_h_containers_wait(httpd_req *req, void *ctx);
void dkd_h_containers_stop(httpd_req *req, void *ctx);
void dkd_h_containers_kill(httpd_req *req, void *ctx);
void dkd_h_containers_restart(httpd_req *req, void *ctx);
void dkd_h_containers_resize(httpd_req *req, void *ctx);
void dkd_h_containers_pause(httpd_req *req, void *ctx);
void dkd_h_containers_unpause(httpd_req *req, void *ctx);
void dkd_h_containers_top(httpd_req *req, void *ctx);
/* dkd_stats.c */
void dkd_h_containers_stats(httpd_req *req, void *ctx);
/* Kill (signal) and wait up to timeout_s for the exit (not locked). */
int dkd_container_stop(dkd *d, dkd_container *k, int signal, int timeout_s, cut_err *err);
/* After a daemon restart: watch the containers whose task still runs. */
void dkd_run_recover(dkd *d);

/* ---- dkd_stream.c ---- */
/* Make the FIFOs of a process under EXEC_ROOT/fifos/<name>. */
int dkd_stdio_open(dkd *d, dkd_stdio *s, const char *name, bool tty, bool with_stdin, cut_err *err);
/* After a daemon restart: open the FIFOs a running process still writes
 * to (the shim holds its ends), so attaching works again; -1 if gone. */
int dkd_stdio_reopen(dkd *d, dkd_stdio *s, const char *name, bool tty, bool with_stdin);
/* Their paths for a containerd task or exec request body. */
void dkd_stdio_body(const dkd_stdio *s, cJSON *body);
/* The shim has its ends: start relaying (output to attachers). */
void dkd_stdio_start(dkd *d, dkd_stdio *s);
/* Close every attacher still waiting (a container removed before it ever
 * ran, a process that failed to start: no relay will end them), after
 * sending them last_words on stderr (may be NULL). */
void dkd_stdio_close_attachers(dkd *d, dkd_stdio *s, const char *last_words);
/* Close our ends and remove the FIFOs (after the relay ended). */
void dkd_stdio_close(dkd_stdio *s);
/* Wait (d->lock held) until the relay has delivered everything. */
void dkd_stdio_wait_drained(dkd *d, dkd_stdio *s);
/* The hijacked connection for attach or exec start: a 101 reply whose
 * socket joins s as an attacher.  on_attached (may be NULL) runs once it
 * has joined (exec start starts the process then: no output is lost);
 * on_stdin_eof runs (unlocked) when the client closed its side. */
typedef struct dkd_hijack_hooks {
  void (*on_attached)(dkd *d, void *arg);
  void (*on_stdin_eof)(dkd *d, void *arg);
  void *arg;
} dkd_hijack_hooks;
void dkd_reply_hijack(httpd_req *req, dkd *d, dkd_stdio *s, bool out, bool err, bool in, bool tty,
                      const dkd_hijack_hooks *hooks);
/* One stdcopy frame header: stream 1 stdout, 2 stderr. */
void dkd_stdcopy_header(unsigned char hdr[8], int stream, uint32_t len);
void dkd_h_containers_attach(httpd_req *req, void *ctx);

/* ---- dkd_logs.c ---- */
void dkd_h_containers_logs(httpd_req *req, void *ctx);

/* ---- dkd_exec.c ---- */
void dkd_h_exec_create(httpd_req *req, void *ctx);
void dkd_h_exec_start(httpd_req *req, void *ctx);
void dkd_h_exec_inspect(httpd_req *req, void *ctx);
void dkd_h_exec_resize(httpd_req *req, void *ctx);

/* ---- dkd_images.c ---- */
/* Docker's normalisation: "busybox" -> "docker.io/library/busybox:latest". */
int dkd_image_normalize(const char *name, char *out, size_t len, cut_err *err);
void dkd_h_images_list(httpd_req *req, void *ctx);
void dkd_h_images_create(httpd_req *req, void *ctx);
void dkd_h_images_inspect(httpd_req *req, void *ctx);
void dkd_h_images_delete(httpd_req *req, void *ctx);
void dkd_h_auth(httpd_req *req, void *ctx);

/* ---- dkd_volumes.c ---- */
/* "vol1:/data[:ro]" and "/host:/data" into containerd mounts (creating
 * named volumes as Docker does). */
int dkd_binds_to_mounts(dkd *d, const cJSON *binds, cJSON *mounts, cut_err *err);
void dkd_h_volumes_list(httpd_req *req, void *ctx);
void dkd_h_volumes_create(httpd_req *req, void *ctx);
void dkd_h_volumes_inspect(httpd_req *req, void *ctx);
void dkd_h_volumes_delete(httpd_req *req, void *ctx);

/* ---- dkd_networks.c ---- */
/* Give a container its network (NetworkMode): sets the containerd options
 * (host_network or netns) and k->netns/veth/ip. */
int dkd_network_setup(dkd *d, dkd_container *k, cJSON *ctd_opts, cut_err *err);
void dkd_network_teardown(dkd *d, dkd_container *k);
cJSON *dkd_network_settings(dkd *d, const dkd_container *k);
void dkd_h_networks_list(httpd_req *req, void *ctx);
void dkd_h_networks_inspect(httpd_req *req, void *ctx);
void dkd_h_networks_create(httpd_req *req, void *ctx);
void dkd_h_networks_delete(httpd_req *req, void *ctx);

/* ---- dkd_ports.c ---- */
/* HostConfig.PortBindings is publishable in network mode `mode`. */
int dkd_ports_check(const cJSON *hc, const char *mode, cut_err *err);
/* Bind them (at start) / release them (at stop). */
int dkd_ports_start(dkd *d, dkd_container *k, cut_err *err);
void dkd_ports_stop(dkd *d, dkd_container *k);
/* As inspect's NetworkSettings.Ports, or /containers/json's Ports
 * (summary) (d->lock held). */
cJSON *dkd_ports_json(const dkd_container *k, bool summary);

/* ---- dkd_events.c ---- */
void dkd_events_init(dkd *d);
/* Publish one event: type "container", "image", "volume" or "network",
 * action "create", "start", "die", "destroy"...; name and image may be NULL;
 * extra is one more attribute ("exitCode=0", "signal=15") or NULL. */
void dkd_event(dkd *d, const char *type, const char *action, const char *id, const char *name,
               const char *image, const char *extra);
void dkd_h_events(httpd_req *req, void *ctx);

/* ---- dkd_api.c ---- */
int dkd_serve(dkd *d, cut_err *err);
void dkd_h_ping(httpd_req *req, void *ctx);
void dkd_h_version(httpd_req *req, void *ctx);
void dkd_h_info(httpd_req *req, void *ctx);

#endif
