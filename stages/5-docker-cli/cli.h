/* cli.h: cutaway, the docker-compatible command-line client (stage 5).
 *
 * It mirrors the real docker CLI: every command is a short sequence of
 * Docker Engine API requests over a unix socket, decided by the client and
 * served by the daemon (cutawayd, or a real dockerd).  The files:
 *
 *   cli_conn.c     one HTTP/1.1 connection: request writer, response head
 *                  parser, Content-Length / chunked / until-close bodies, and
 *                  the hijack (101 UPGRADED, then raw bytes both ways)
 *   cli_api.c      the session: socket, /_ping version negotiation, the
 *                  persistent connections, one client trace span per request
 *   cli_fmt.c      pure formatting: docker's tables, "3 minutes ago", "1.99MB",
 *                  image references, JSON re-indentation, stdcopy demuxing
 *   cli_stream.c   an attached session: stdin, output, signals, the terminal
 *   cli_run.c      run, exec, logs (the streaming commands)
 *   cli_cmds.c     version, info, pull, images, rmi, ps, stop, kill, rm,
 *                  inspect, volume, network
 *   cutaway_main.c global flags, the command table, the root trace span
 *
 * Prefix: cli_. */
#ifndef CUTAWAY_CLI_H
#define CUTAWAY_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"
#include "trace.h"

#define CLI_VERSION "0.1.0"
#define CLI_API_MAX "1.41" /* the newest Engine API this client speaks */
#define CLI_DEFAULT_SOCK "/run/cutaway/docker/docker.sock"

/* ---- cli_conn.c: one HTTP/1.1 connection on a unix socket ---------------- */

typedef struct cli_conn {
  int fd;
  bool eof;          /* the peer closed its side */
  size_t start, end; /* unread bytes are buf[start..end) */
  char buf[32768];
} cli_conn;

/* What the response head said, and where its body reading stands. */
typedef struct cli_resp {
  long status;
  long long length; /* Content-Length, -1 when absent */
  bool chunked;
  bool keep_alive; /* false after "Connection: close" */
  char content_type[128];
  char api_version[32];
  /* body state */
  bool done;
  unsigned long long chunk_left; /* bytes left in the current chunk */
  bool in_chunk;
} cli_resp;

int cli_conn_open(cli_conn *c, const char *sock, cut_err *err);
void cli_conn_close(cli_conn *c);
/* Write a request.  `headers` holds extra header lines ("K: v\r\n"...) or
 * NULL; a body (or, for POST, an empty one) gets Content-Length. */
int cli_conn_send(cli_conn *c, const char *method, const char *path, const char *headers,
                  const void *body, size_t len, const char *traceparent, cut_err *err);
/* Read the status line and headers (a 1xx other than 101 is skipped). */
int cli_conn_head(cli_conn *c, const char *method, cli_resp *r, cut_err *err);
/* Up to cap body bytes; 0 at the end of the body. */
ssize_t cli_conn_body(cli_conn *c, cli_resp *r, char *out, size_t cap, cut_err *err);
/* The whole body (NUL-terminated), at most max bytes. */
int cli_conn_body_all(cli_conn *c, cli_resp *r, size_t max, char **out, size_t *len, cut_err *err);
/* After a 101: raw bytes (those already buffered first); 0 at EOF. */
ssize_t cli_conn_raw_read(cli_conn *c, char *out, size_t cap, cut_err *err);
int cli_conn_write_all(cli_conn *c, const void *data, size_t len, cut_err *err);
/* Bytes read past the head that the caller has not consumed yet. */
static inline size_t
cli_conn_buffered(const cli_conn *c)
{
  return c->end - c->start;
}

/* ---- cli_api.c: the session with the daemon ------------------------------- */

typedef struct cli {
  char sock[108];   /* the daemon's socket path */
  char host[128];   /* as the user gave it: unix:///path */
  char version[16]; /* negotiated API version, "1.41" */
  bool pinged;      /* /_ping done (and version known) */
  cli_conn main;    /* persistent: ping, create, wait... */
  bool main_open;   /* main holds a live connection */
  cli_conn aux;     /* persistent: start, resize, kill while main waits */
  bool aux_open;
  trace_span root; /* the command's root span (cli.run, cli.ps...) */
  char root_tp[TRACEPARENT_LEN];
} cli;

/* A finished request: status and body. */
typedef struct cli_reply {
  long status;
  char *body;
  size_t len;
  char content_type[128];
} cli_reply;

void cli_reply_free(cli_reply *r);

/* HEAD /_ping (GET when HEAD is refused), version = min(1.41, Api-Version). */
int cli_ping(cli *c, cut_err *err);
/* "/v1.41" + the formatted path. */
void cli_path(cli *c, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* One request on the main connection, body read whole.  Transport errors
 * are -1 ("Cannot connect to the Docker daemon ..."); any status is 0. */
int cli_request(cli *c, const char *method, const char *path, const cJSON *body,
                const char *headers, cli_reply *out, cut_err *err);
/* JSON in and out; a status >= 400 is -1 with err = "Error response from
 * daemon: <message>" and *status set.  *out is NULL for an empty body. */
int cli_json(cli *c, const char *method, const char *path, const cJSON *body, long *status,
             cJSON **out, cut_err *err);
/* The daemon's error message from a reply (docker's rules). */
void cli_reply_message(const cli_reply *r, const char *path, char *out, size_t len);

/* A request whose reply is read later (wait, pull, logs, hijack): its own
 * connection (or main/aux), its own client span, open until cli_call_end. */
typedef struct cli_call {
  cli_conn *conn;
  bool own;   /* conn was opened for this call and is closed at the end */
  bool *open; /* the session's flag for main/aux */
  cli_resp resp;
  trace_span sp;
  bool span_open;
} cli_call;

enum cli_conn_pick { CLI_ON_MAIN, CLI_ON_AUX, CLI_ON_NEW };

/* Send a request and read its head.  The caller reads the body (or the raw
 * stream after a 101) from call->conn, then calls cli_call_end. */
int cli_call_begin(cli *c, cli_call *call, enum cli_conn_pick where, const char *method,
                   const char *path, const char *headers, const void *body, size_t len,
                   cut_err *err);
void cli_call_end(cli *c, cli_call *call, const cut_err *err);
/* Whole body of a call (for an error reply) into a cli_reply. */
int cli_call_reply(cli_call *call, cli_reply *out, cut_err *err);

/* The span name of a request: the route ("POST /containers/{id}/start"),
 * the same name the daemon gives its server span. */
void cli_route_name(const char *method, const char *path, char *out, size_t len);

/* The transport error line docker prints. */
int cli_cannot_connect(cli *c, cut_err *err);

/* ---- cli_fmt.c: pure formatting ------------------------------------------- */

/* A docker table (Go tabwriter: minwidth 10, padding 3, last column free). */
typedef struct cli_table {
  size_t ncols, nrows, cap;
  char **cells; /* nrows * ncols */
} cli_table;

void cli_table_init(cli_table *t, size_t ncols);
void cli_table_add(cli_table *t, const char *const *row);
void cli_table_print(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

/* "Less than a second", "3 seconds", "About a minute", "2 hours"... */
void cli_human_duration(long long seconds, char *out, size_t len);
/* Decimal units, 3 significant digits: "1.99MB", "72.8kB", "512B". */
void cli_human_size(double bytes, char *out, size_t len);
/* Binary units, docker's BytesSize: "23.54GiB". */
void cli_bytes_size(double bytes, char *out, size_t len);
/* "64m" -> 67108864 (b, k, m, g; binary).  -1 on a bad value. */
long long cli_parse_bytes(const char *s);
/* "0.5" -> 500000000 nano-CPUs.  -1 on a bad value. */
long long cli_parse_cpus(const char *s);

/* An image reference split docker's way. */
typedef struct cli_ref {
  char domain[640]; /* "docker.io", "127.0.0.1:5000" */
  char path[660];   /* "library/busybox", "lab/busybox" */
  char tag[640];    /* "" when a digest is given without tag */
  char digest[640]; /* "sha256:..." or "" */
  bool tag_given;
} cli_ref;

int cli_ref_parse(const char *s, cli_ref *r, cut_err *err);
/* "docker.io/library/busybox" (no tag). */
void cli_ref_name(const cli_ref *r, char *out, size_t len);
/* "busybox:latest", "127.0.0.1:5000/busybox:latest" (docker's familiar form). */
void cli_ref_familiar(const cli_ref *r, char *out, size_t len);

/* Re-indent raw JSON text the way Go's json.Indent does (strings and numbers
 * kept byte for byte, empty [] and {} kept compact).  Returns a malloc'ed
 * string or NULL on malformed input. */
char *cli_json_indent(const char *json, size_t len, const char *prefix, const char *indent);

/* "sleep 300" quoted and cut to 20 characters ("…" at the end). */
void cli_command_cell(const char *cmd, bool trunc, char *out, size_t len);

/* Query-string escaping (RFC 3986 unreserved kept). */
void cli_urlencode(const char *s, char *out, size_t len);

/* stdcopy: 8-byte headers [stream,0,0,0,len32be] before each payload. */
typedef struct cli_demux {
  unsigned char hdr[8];
  size_t have;             /* header bytes collected */
  unsigned long long left; /* payload bytes left in the frame */
  int stream;
} cli_demux;

/* Feed bytes; `out` gets each payload piece with its stream number (1
 * stdout, 2 stderr, 3 systemerr).  A non-zero return from out stops and is
 * returned. */
int cli_demux_feed(cli_demux *d, const char *data, size_t len,
                   int (*out)(int stream, const char *p, size_t n, void *ctx), void *ctx);

/* ---- cli_stream.c: an attached session ------------------------------------- */

typedef struct cli_attach {
  cli_conn *conn;          /* hijacked connection */
  bool tty;                /* raw stream (a pty) instead of stdcopy */
  bool send_stdin;         /* copy our stdin to the connection */
  bool proxy_signals;      /* forward INT/TERM/... as POST .../kill */
  bool resize;             /* send our terminal size after SIGWINCH */
  const char *kill_path;   /* "/containers/ID/kill" (versioned) */
  const char *resize_path; /* "/containers/ID/resize" or "/exec/ID/resize" */
  char syserr[512];        /* a stream-3 message, if any */
} cli_attach;

/* Pump until the daemon closes the stream (stdin EOF half-closes it). */
int cli_attach_pump(cli *c, cli_attach *a, cut_err *err);
/* POST <resize_path>?h=&w= with our terminal's size (errors ignored). */
void cli_send_resize(cli *c, const char *resize_path);
/* Raw mode on the terminal of fd 0; restored by cli_term_restore (also at exit). */
void cli_term_raw(void);
void cli_term_restore(void);
/* Write all bytes to an fd (EINTR-safe). */
int cli_write_fd(int fd, const void *p, size_t n);

/* ---- commands ------------------------------------------------------------- */

/* Each returns the process exit status, and prints its own errors. */
typedef int (*cli_cmd_fn)(cli *c, int argc, char **argv);

int cli_cmd_version(cli *c, int argc, char **argv);
int cli_cmd_info(cli *c, int argc, char **argv);
int cli_cmd_pull(cli *c, int argc, char **argv);
int cli_cmd_images(cli *c, int argc, char **argv);
int cli_cmd_rmi(cli *c, int argc, char **argv);
int cli_cmd_ps(cli *c, int argc, char **argv);
int cli_cmd_stop(cli *c, int argc, char **argv);
int cli_cmd_kill(cli *c, int argc, char **argv);
int cli_cmd_rm(cli *c, int argc, char **argv);
int cli_cmd_inspect(cli *c, int argc, char **argv);
int cli_cmd_volume(cli *c, int argc, char **argv);
int cli_cmd_network(cli *c, int argc, char **argv);
int cli_cmd_run(cli *c, int argc, char **argv);
int cli_cmd_exec(cli *c, int argc, char **argv);
int cli_cmd_logs(cli *c, int argc, char **argv);

/* Pull with progress lines to `out` (docker's non-terminal rendering). */
int cli_pull_image(cli *c, const char *image, FILE *out, cut_err *err);

/* ---- flags: docker's (cobra/pflag) conventions, a small subset ------------ */

enum cli_flag_type { CLI_BOOL, CLI_STR, CLI_LIST };

typedef struct cli_flag {
  char short_name; /* 0: none */
  const char *long_name;
  enum cli_flag_type type;
  void *dst; /* bool*, const char**, or cli_strlist* */
} cli_flag;

typedef struct cli_strlist {
  const char **v;
  size_t n, cap;
} cli_strlist;

/* Parse argv[1..] (argv[0] is the command).  Positional arguments are
 * gathered into *pos; with `stop_at_positional` (run, exec) the first
 * positional ends flag parsing, so `run img sh -c x` keeps -c for sh.
 * Returns 0, or 125 after printing docker's "unknown flag" usage text. */
int cli_flags_parse(const char *usage, const cli_flag *flags, size_t nflags, int argc, char **argv,
                    bool stop_at_positional, cli_strlist *pos);
void cli_strlist_push(cli_strlist *l, const char *s);
void cli_strlist_free(cli_strlist *l);
/* docker's "requires at least N argument(s)" text; returns 1. */
int cli_usage_error(const char *cmd, const char *usage, const char *what);
/* Print err as one line "cutaway: <msg>"; returns `code`. */
int cli_fail(const cut_err *err, int code);

#endif
