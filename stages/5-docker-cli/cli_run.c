/* cli_run.c: the streaming commands, run, exec and logs, in the order of
 * requests the docker CLI 28 uses (reference captures 05, 06, 10, 14, 20, 22,
 * 24).
 *
 * `run` is the central flow, and its order is what makes it race-free:
 *
 *   1. POST /containers/create        (404 "No such image": pull, create again)
 *   2. POST /containers/ID/attach     hijacked: 101, then the raw stream
 *   3. POST /containers/ID/wait       its headers come back at once, its
 *                                     body only when the container exits
 *   4. POST /containers/ID/start
 *   5. copy the stream until the daemon closes it, read the wait body,
 *      exit with its StatusCode.
 *
 * Attach comes before start so that no output is lost (the first bytes of
 * `echo hi` are written microseconds after start), and wait comes before
 * start so that a fast exit cannot happen before anyone waits for it: a
 * `next-exit` wait registered after the exit would wait forever.  With --rm
 * the wait condition is `removed`, so we exit only after the daemon has
 * deleted the container (AutoRemove is done server-side).
 *
 * Exit codes are docker's: the wait's StatusCode; 125 when the daemon
 * refuses (create, attach...); and for a failed start, 127 when the
 * program was not found, 126 when it cannot be executed, else 125. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

#define RUN_USAGE "cutaway run [OPTIONS] IMAGE [COMMAND] [ARG...]"
#define EXEC_USAGE "cutaway exec [OPTIONS] CONTAINER COMMAND [ARG...]"
#define LOGS_USAGE "cutaway logs [OPTIONS] CONTAINER"

struct run_opts {
  bool rm, detach, interactive, tty;
  const char *name, *memory, *cpus, *pids, *network, *user, *workdir, *entrypoint;
  cli_strlist env, vols, ports;
};

/* -p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO], as docker parses it: into
 * HostConfig.PortBindings {"80/tcp":[{"HostIp","HostPort"}]} and
 * Config.ExposedPorts {"80/tcp":{}}. */
static int
add_port(const char *spec, cJSON *bindings, cJSON *exposed, cut_err *err)
{
  char buf[128], key[32];
  if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
    return cut_error(err, EINVAL, "invalid publish spec: %s", spec);
  char *proto = strchr(buf, '/');
  if (proto)
    *proto++ = '\0';
  char *cport = strrchr(buf, ':'), *hport = NULL, *ip = NULL;
  if (cport) {
    *cport++ = '\0';
    hport = strrchr(buf, ':');
    if (hport) {
      *hport++ = '\0';
      ip = buf;
    } else {
      hport = buf;
    }
  } else {
    cport = buf;
  }
  char *end;
  long c = strtol(cport, &end, 10);
  if (*cport == '\0' || *end || c < 1 || c > 65535)
    return cut_error(err, EINVAL, "invalid containerPort: %s", cport);
  snprintf(key, sizeof key, "%ld/%s", c, proto && *proto ? proto : "tcp");
  cJSON *list = cJSON_GetObjectItem(bindings, key);
  if (list == NULL)
    list = cJSON_AddArrayToObject(bindings, key);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "HostIp", ip ? ip : "");
  cJSON_AddStringToObject(b, "HostPort", hport ? hport : "");
  cJSON_AddItemToArray(list, b);
  if (cJSON_GetObjectItem(exposed, key) == NULL)
    cJSON_AddObjectToObject(exposed, key);
  return 0;
}

/* ---- the create request --------------------------------------------------- */

static cJSON *
string_array(const char *const *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
  return a;
}

/* "-e K" takes K's value from our environment (docker's rule); unset: dropped. */
static cJSON *
env_array(const cli_strlist *env)
{
  if (env->n == 0)
    return cJSON_CreateNull();
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < env->n; i++) {
    const char *e = env->v[i];
    if (strchr(e, '=')) {
      cJSON_AddItemToArray(a, cJSON_CreateString(e));
    } else if (getenv(e)) {
      char kv[4096];
      snprintf(kv, sizeof kv, "%s=%s", e, getenv(e));
      cJSON_AddItemToArray(a, cJSON_CreateString(kv));
    }
  }
  return a;
}

/* Docker checks -v client-side: SRC:DST[:MODE], DST absolute. */
static int
check_bind(const char *spec, cut_err *err)
{
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", spec);
  char *parts[4] = {0};
  int n = 0;
  for (char *save = NULL, *t = strtok_r(copy, ":", &save); t && n < 4;
       t = strtok_r(NULL, ":", &save))
    parts[n++] = t;
  if (n < 2 || n > 3 || parts[1][0] != '/')
    return cut_error(err, EINVAL, "invalid volume specification: '%s'", spec);
  if (n == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0)
    return cut_error(err, EINVAL, "invalid mode: %s", parts[2]);
  return 0;
}

static int
create_body(const struct run_opts *o, const char *image, const char *const *cmd, size_t ncmd,
            cJSON **out, cut_err *err)
{
  long long mem = 0, cpus = 0, pids = 0;
  if (o->memory && (mem = cli_parse_bytes(o->memory)) < 0)
    return cut_error(err, EINVAL, "invalid argument \"%s\" for \"-m, --memory\" flag", o->memory);
  if (o->cpus && (cpus = cli_parse_cpus(o->cpus)) < 0)
    return cut_error(err, EINVAL, "invalid argument \"%s\" for \"--cpus\" flag", o->cpus);
  if (o->pids) {
    char *end;
    pids = strtoll(o->pids, &end, 10);
    if (*o->pids == '\0' || *end)
      return cut_error(err, EINVAL, "invalid argument \"%s\" for \"--pids-limit\" flag", o->pids);
  }
  for (size_t i = 0; i < o->vols.n; i++)
    if (check_bind(o->vols.v[i], err) < 0)
      return -1;
  bool attach = !o->detach;
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "Hostname", "");
  cJSON_AddStringToObject(b, "Domainname", "");
  cJSON_AddStringToObject(b, "User", o->user ? o->user : "");
  cJSON_AddBoolToObject(b, "AttachStdin", attach && o->interactive);
  cJSON_AddBoolToObject(b, "AttachStdout", attach);
  cJSON_AddBoolToObject(b, "AttachStderr", attach);
  cJSON_AddBoolToObject(b, "Tty", o->tty);
  cJSON_AddBoolToObject(b, "OpenStdin", o->interactive);
  cJSON_AddBoolToObject(b, "StdinOnce", attach && o->interactive);
  cJSON_AddItemToObject(b, "Env", env_array(&o->env));
  cJSON_AddItemToObject(b, "Cmd", ncmd ? string_array(cmd, ncmd) : cJSON_CreateNull());
  cJSON_AddStringToObject(b, "Image", image);
  cJSON_AddItemToObject(b, "Volumes", cJSON_CreateObject());
  cJSON_AddStringToObject(b, "WorkingDir", o->workdir ? o->workdir : "");
  if (o->entrypoint)
    cJSON_AddItemToObject(b, "Entrypoint", string_array(&o->entrypoint, 1));
  else
    cJSON_AddNullToObject(b, "Entrypoint");
  cJSON_AddItemToObject(b, "Labels", cJSON_CreateObject());
  cJSON *h = cJSON_AddObjectToObject(b, "HostConfig");
  cJSON_AddItemToObject(h, "Binds",
                        o->vols.n ? string_array(o->vols.v, o->vols.n) : cJSON_CreateNull());
  cJSON *lc = cJSON_AddObjectToObject(h, "LogConfig");
  cJSON_AddStringToObject(lc, "Type", "");
  cJSON_AddItemToObject(lc, "Config", cJSON_CreateObject());
  cJSON_AddStringToObject(h, "NetworkMode", o->network ? o->network : "default");
  cJSON *pb = cJSON_AddObjectToObject(h, "PortBindings");
  cJSON *exposed = cJSON_AddObjectToObject(b, "ExposedPorts");
  for (size_t i = 0; i < o->ports.n; i++)
    if (add_port(o->ports.v[i], pb, exposed, err) < 0) {
      cJSON_Delete(b);
      return -1;
    }
  cJSON *rp = cJSON_AddObjectToObject(h, "RestartPolicy");
  cJSON_AddStringToObject(rp, "Name", "no");
  cJSON_AddNumberToObject(rp, "MaximumRetryCount", 0);
  cJSON_AddBoolToObject(h, "AutoRemove", o->rm);
  cJSON_AddNumberToObject(h, "Memory", (double)mem);
  cJSON_AddNumberToObject(h, "NanoCpus", (double)cpus);
  cJSON_AddNumberToObject(h, "PidsLimit", (double)pids);
  cJSON_AddNumberToObject(h, "MemorySwappiness", -1);
  cJSON *nc = cJSON_AddObjectToObject(b, "NetworkingConfig");
  cJSON_AddItemToObject(nc, "EndpointsConfig", cJSON_CreateObject());
  *out = b;
  return 0;
}

/* create; on 404 No such image: pull to stderr, then create again. */
static int
create_container(cli *c, const struct run_opts *o, const char *image, const cJSON *body, char *id,
                 size_t idlen, cut_err *err)
{
  char path[1024], enc[512];
  if (o->name) {
    cli_urlencode(o->name, enc, sizeof enc);
    cli_path(c, path, sizeof path, "/containers/create?name=%s", enc);
  } else {
    cli_path(c, path, sizeof path, "/containers/create");
  }
  for (int attempt = 0;; attempt++) {
    long status = 0;
    cJSON *rep = NULL;
    int r = cli_json(c, "POST", path, body, &status, &rep, err);
    if (r < 0 && status == 404 && attempt == 0 && strstr(err->msg, "No such image")) {
      cli_ref ref;
      char fam[1024];
      if (cli_ref_parse(image, &ref, err) < 0)
        return -1;
      cli_ref_familiar(&ref, fam, sizeof fam);
      fprintf(stderr, "Unable to find image '%s' locally\n", fam);
      if (cli_pull_image(c, image, stderr, err) < 0)
        return -1;
      continue;
    }
    if (r < 0)
      return -1;
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(rep, "Id");
    const cJSON *warn = cJSON_GetObjectItemCaseSensitive(rep, "Warnings");
    const cJSON *w;
    cJSON_ArrayForEach(w, warn) if (cJSON_IsString(w))
        fprintf(stderr, "WARNING: %s\n", w->valuestring);
    if (!cJSON_IsString(jid) || jid->valuestring[0] == '\0') {
      cJSON_Delete(rep);
      return cut_error(err, EPROTO, "create: the daemon returned no Id");
    }
    snprintf(id, idlen, "%s", jid->valuestring);
    cJSON_Delete(rep);
    return 0;
  }
}

/* Read the wait body: {"StatusCode":N,"Error":null|{"Message":...}}. */
static int
wait_result(cli *c, cli_call *wait, int *code, cut_err *err)
{
  cli_reply rep;
  if (cli_call_reply(wait, &rep, err) < 0)
    return -1;
  int r = 0;
  if (rep.status >= 400) {
    char msg[CUT_ERR_MAX - 64];
    cli_reply_message(&rep, "wait", msg, sizeof msg);
    r = cut_error(err, 0, "Error response from daemon: %s", msg);
  } else {
    cJSON *doc = cJSON_ParseWithLength(rep.body, rep.len);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(doc, "StatusCode");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "Error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "Message");
    if (cJSON_IsString(m) && m->valuestring[0])
      r = cut_error(err, 0, "Error waiting for container: %s", m->valuestring);
    else if (!cJSON_IsNumber(sc))
      r = cut_error(err, EPROTO, "Error waiting for container: %.200s", rep.body);
    else
      *code = sc->valueint;
    cJSON_Delete(doc);
  }
  cli_reply_free(&rep);
  return r;
}

/* Docker's toStatusError: the exit code of a failed start. */
static int
start_error_code(const char *msg)
{
  if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
    return 127;
  if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
    return 126;
  return 125;
}

/* An ordinary request whose reply we only need to judge (start, stop...). */
static int
simple_call(cli *c, enum cli_conn_pick where, const char *method, const char *path,
            const char *body, long *status, cut_err *err)
{
  cli_call call;
  const char *hdr = body ? "Content-Type: application/json\r\n" : NULL;
  int r = cli_call_begin(c, &call, where, method, path, hdr, body, body ? strlen(body) : 0, err);
  if (r == 0) {
    cli_reply rep;
    r = cli_call_reply(&call, &rep, err);
    if (r == 0) {
      *status = rep.status;
      if (rep.status >= 400) {
        char msg[CUT_ERR_MAX - 64];
        cli_reply_message(&rep, path, msg, sizeof msg);
        r = cut_error(err, 0, "Error response from daemon: %s", msg);
      }
      cli_reply_free(&rep);
    }
  }
  cli_call_end(c, &call, r < 0 ? err : NULL);
  return r;
}

/* Open a hijacked stream: Connection: Upgrade, Upgrade: tcp, expect 101. */
static int
hijack(cli *c, cli_call *call, const char *path, const char *ctype, const char *body, cut_err *err)
{
  char hdrs[256];
  snprintf(hdrs, sizeof hdrs, "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: %s\r\n", ctype);
  if (cli_call_begin(c, call, CLI_ON_NEW, "POST", path, hdrs, body, body ? strlen(body) : 0, err) <
      0)
    return -1;
  if (call->resp.status == 101)
    return 0;
  cli_reply rep;
  if (cli_call_reply(call, &rep, err) < 0)
    return -1;
  char msg[CUT_ERR_MAX - 64];
  if (rep.status >= 400)
    cli_reply_message(&rep, path, msg, sizeof msg);
  else
    snprintf(msg, sizeof msg, "unable to upgrade to tcp, received %ld", rep.status);
  cli_reply_free(&rep);
  return cut_error(err, 0, "%s%s", rep.status >= 400 ? "Error response from daemon: " : "", msg);
}

static int
run_attached(cli *c, const struct run_opts *o, const char *id, cut_err *err)
{
  char path[512], kill_path[512], resize_path[512];
  cli_path(c, kill_path, sizeof kill_path, "/containers/%s/kill", id);
  cli_path(c, resize_path, sizeof resize_path, "/containers/%s/resize", id);
  /* 2. attach (Go sorts the query: stderr, stdin, stdout, stream). */
  cli_path(c, path, sizeof path, "/containers/%s/attach?stderr=1%s&stdout=1&stream=1", id,
           o->interactive ? "&stdin=1" : "");
  cli_call att;
  if (hijack(c, &att, path, "text/plain", NULL, err) < 0) {
    cli_call_end(c, &att, err);
    return 125;
  }
  if (!o->interactive)
    shutdown(att.conn->fd, SHUT_WR); /* nothing to send: say so at once */
  /* 3. wait: headers now, body at exit. */
  cli_path(c, path, sizeof path, "/containers/%s/wait?condition=%s", id,
           o->rm ? "removed" : "next-exit");
  cli_call wait;
  if (cli_call_begin(c, &wait, CLI_ON_MAIN, "POST", path, NULL, NULL, 0, err) < 0) {
    cli_call_end(c, &wait, err);
    cli_call_end(c, &att, err);
    return 125;
  }
  if (o->tty && o->interactive)
    cli_term_raw();
  /* 4. start. */
  long status = 0;
  cli_path(c, path, sizeof path, "/containers/%s/start", id);
  if (simple_call(c, CLI_ON_AUX, "POST", path, NULL, &status, err) < 0) {
    cli_term_restore();
    cli_call_end(c, &att, NULL); /* the attach itself succeeded (101): start failed */
    int code = start_error_code(err->msg);
    if (o->rm) { /* let the daemon remove it before we exit, as docker does */
      cut_err werr;
      int ignored;
      wait_result(c, &wait, &ignored, &werr);
    }
    cli_call_end(c, &wait, NULL);
    return -code;
  }
  if (o->tty && isatty(1))
    cli_send_resize(c, resize_path);
  /* 5. the stream, until the daemon closes it. */
  cli_attach a = {.conn = att.conn,
                  .tty = o->tty,
                  .send_stdin = o->interactive,
                  .proxy_signals = !o->tty,
                  .resize = o->tty && isatty(1),
                  .kill_path = kill_path,
                  .resize_path = resize_path};
  int r = cli_attach_pump(c, &a, err);
  cli_term_restore();
  cli_call_end(c, &att, r < 0 ? err : NULL);
  if (a.syserr[0])
    fprintf(stderr, "%s\n", a.syserr);
  int code = 125;
  r = wait_result(c, &wait, &code, err);
  cli_call_end(c, &wait, r < 0 ? err : NULL);
  return r < 0 ? 125 : code;
}

static int
run_detached(cli *c, const struct run_opts *o, const char *id, cut_err *err)
{
  char path[512];
  /* docker issues the wait even for -d (and drops it after start). */
  cli_path(c, path, sizeof path, "/containers/%s/wait?condition=%s", id,
           o->rm ? "removed" : "next-exit");
  cli_call wait;
  int r = cli_call_begin(c, &wait, CLI_ON_MAIN, "POST", path, NULL, NULL, 0, err);
  if (r < 0) {
    cli_call_end(c, &wait, err);
    return 125;
  }
  long status = 0;
  cli_path(c, path, sizeof path, "/containers/%s/start", id);
  r = simple_call(c, CLI_ON_AUX, "POST", path, NULL, &status, err);
  cli_call_end(c, &wait, NULL);
  if (r < 0)
    return -start_error_code(err->msg);
  printf("%s\n", id);
  return 0;
}

int
cli_cmd_run(cli *c, int argc, char **argv)
{
  struct run_opts o = {0};
  bool tty = false, interactive = false;
  const cli_flag flags[] = {
      {0, "rm", CLI_BOOL, &o.rm},
      {'d', "detach", CLI_BOOL, &o.detach},
      {'i', "interactive", CLI_BOOL, &interactive},
      {'t', "tty", CLI_BOOL, &tty},
      {0, "name", CLI_STR, &o.name},
      {'e', "env", CLI_LIST, &o.env},
      {'v', "volume", CLI_LIST, &o.vols},
      {'p', "publish", CLI_LIST, &o.ports},
      {'m', "memory", CLI_STR, &o.memory},
      {0, "cpus", CLI_STR, &o.cpus},
      {0, "pids-limit", CLI_STR, &o.pids},
      {0, "network", CLI_STR, &o.network},
      {0, "net", CLI_STR, &o.network},
      {'u', "user", CLI_STR, &o.user},
      {'w', "workdir", CLI_STR, &o.workdir},
      {0, "entrypoint", CLI_STR, &o.entrypoint},
  };
  cli_strlist pos = {0};
  int rc =
      cli_flags_parse(RUN_USAGE, flags, sizeof flags / sizeof flags[0], argc, argv, true, &pos);
  if (rc != 0)
    return rc;
  o.tty = tty;
  o.interactive = interactive;
  if (pos.n < 1)
    return cli_usage_error("run", RUN_USAGE, "at least 1 argument");
  cut_err err;
  cut_err_clear(&err);
  int code;
  cJSON *body = NULL;
  char id[128];
  if (o.tty && o.interactive && !isatty(0)) {
    cut_error(&err, 0, "the input device is not a TTY");
    code = cli_fail(&err, 1);
  } else if (create_body(&o, pos.v[0], pos.v + 1, pos.n - 1, &body, &err) < 0 ||
             cli_ping(c, &err) < 0 ||
             create_container(c, &o, pos.v[0], body, id, sizeof id, &err) < 0) {
    code = cli_fail(&err, 125);
  } else {
    trace_event("container.created", TA_STR("id", id), TA_STR("name", o.name ? o.name : ""));
    code = o.detach ? run_detached(c, &o, id, &err) : run_attached(c, &o, id, &err);
    if (code < 0) /* a failed start: docker's 127/126/125 */
      code = cli_fail(&err, -code);
    else if (code == 125 && err.msg[0])
      cli_fail(&err, code);
  }
  cJSON_Delete(body);
  cli_strlist_free(&pos);
  cli_strlist_free(&o.env);
  cli_strlist_free(&o.vols);
  cli_strlist_free(&o.ports);
  return code;
}

/* ---- exec -------------------------------------------------------------- */

static int
container_id(cli *c, const char *name, char *id, size_t idlen, bool *tty, cut_err *err)
{
  char path[1024];
  cli_path(c, path, sizeof path, "/containers/%s/json", name);
  cJSON *doc = NULL;
  if (cli_json(c, "GET", path, NULL, NULL, &doc, err) < 0)
    return -1;
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(doc, "Id");
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(doc, "Config");
  if (tty)
    *tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "Tty"));
  int r = 0;
  if (cJSON_IsString(jid))
    snprintf(id, idlen, "%s", jid->valuestring);
  else
    r = cut_error(err, EPROTO, "inspect %s: no Id", name);
  cJSON_Delete(doc);
  return r;
}

int
cli_cmd_exec(cli *c, int argc, char **argv)
{
  bool interactive = false, tty = false, detach = false;
  const char *user = NULL, *workdir = NULL;
  cli_strlist env = {0}, pos = {0};
  const cli_flag flags[] = {
      {'i', "interactive", CLI_BOOL, &interactive},
      {'t', "tty", CLI_BOOL, &tty},
      {'d', "detach", CLI_BOOL, &detach},
      {'e', "env", CLI_LIST, &env},
      {'u', "user", CLI_STR, &user},
      {'w', "workdir", CLI_STR, &workdir},
  };
  int rc =
      cli_flags_parse(EXEC_USAGE, flags, sizeof flags / sizeof flags[0], argc, argv, true, &pos);
  if (rc != 0)
    return rc;
  if (pos.n < 2)
    return cli_usage_error("exec", EXEC_USAGE, "at least 2 arguments");
  cut_err err;
  cut_err_clear(&err);
  if (tty && interactive && !isatty(0)) {
    cut_error(&err, 0, "the input device is not a TTY");
    return cli_fail(&err, 1);
  }
  char cid[128], path[1024], execid[128];
  if (cli_ping(c, &err) < 0 || container_id(c, pos.v[0], cid, sizeof cid, NULL, &err) < 0)
    return cli_fail(&err, 1);
  /* POST /containers/ID/exec: the process to start, and how to attach. */
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "User", user ? user : "");
  cJSON_AddBoolToObject(b, "Privileged", false);
  cJSON_AddBoolToObject(b, "Tty", tty);
  cJSON_AddBoolToObject(b, "AttachStdin", interactive && !detach);
  cJSON_AddBoolToObject(b, "AttachStderr", !detach);
  cJSON_AddBoolToObject(b, "AttachStdout", !detach);
  cJSON_AddBoolToObject(b, "Detach", detach);
  cJSON_AddStringToObject(b, "DetachKeys", "");
  cJSON_AddItemToObject(b, "Env", env_array(&env));
  cJSON_AddStringToObject(b, "WorkingDir", workdir ? workdir : "");
  cJSON_AddItemToObject(b, "Cmd", string_array(pos.v + 1, pos.n - 1));
  cli_path(c, path, sizeof path, "/containers/%s/exec", pos.v[0]);
  cJSON *rep = NULL;
  int r = cli_json(c, "POST", path, b, NULL, &rep, &err);
  cJSON_Delete(b);
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(rep, "Id");
  if (r == 0 && (!cJSON_IsString(jid) || jid->valuestring[0] == '\0'))
    r = cut_error(&err, EPROTO, "exec ID empty");
  if (r == 0)
    snprintf(execid, sizeof execid, "%s", jid->valuestring);
  cJSON_Delete(rep);
  cli_strlist_free(&env);
  cli_strlist_free(&pos);
  if (r < 0)
    return cli_fail(&err, 1);
  trace_event("exec.created", TA_STR("id", cid), TA_STR("exec_id", execid));
  char start_body[64];
  snprintf(start_body, sizeof start_body, "{\"Detach\":%s,\"Tty\":%s}", detach ? "true" : "false",
           tty ? "true" : "false");
  cli_path(c, path, sizeof path, "/exec/%s/start", execid);
  if (detach) {
    long status;
    if (simple_call(c, CLI_ON_MAIN, "POST", path, start_body, &status, &err) < 0)
      return cli_fail(&err, 1);
    return 0;
  }
  cli_call st;
  if (hijack(c, &st, path, "application/json", start_body, &err) < 0) {
    cli_call_end(c, &st, &err);
    return cli_fail(&err, 1);
  }
  if (!interactive)
    shutdown(st.conn->fd, SHUT_WR);
  char resize_path[512];
  cli_path(c, resize_path, sizeof resize_path, "/exec/%s/resize", execid);
  if (tty && interactive)
    cli_term_raw();
  if (tty && isatty(1))
    cli_send_resize(c, resize_path);
  cli_attach a = {.conn = st.conn,
                  .tty = tty,
                  .send_stdin = interactive,
                  .resize = tty && isatty(1),
                  .resize_path = resize_path};
  r = cli_attach_pump(c, &a, &err);
  cli_term_restore();
  cli_call_end(c, &st, r < 0 ? &err : NULL);
  if (a.syserr[0])
    fprintf(stderr, "%s\n", a.syserr);
  /* The exit status: GET /exec/ID/json, ExitCode. */
  cli_path(c, path, sizeof path, "/exec/%s/json", execid);
  cJSON *ins = NULL;
  if (cli_json(c, "GET", path, NULL, NULL, &ins, &err) < 0)
    return cli_fail(&err, 1);
  const cJSON *ec = cJSON_GetObjectItemCaseSensitive(ins, "ExitCode");
  int code = cJSON_IsNumber(ec) ? ec->valueint : 1;
  cJSON_Delete(ins);
  return code;
}

/* ---- logs --------------------------------------------------------------- */

static int
logs_frame(int stream, const char *p, size_t n, void *ctx)
{
  (void)ctx;
  cli_write_fd(stream == 2 ? 2 : 1, p, n);
  return 0;
}

int
cli_cmd_logs(cli *c, int argc, char **argv)
{
  bool follow = false, timestamps = false;
  const char *tail = NULL;
  cli_strlist pos = {0};
  const cli_flag flags[] = {
      {'f', "follow", CLI_BOOL, &follow},
      {'t', "timestamps", CLI_BOOL, &timestamps},
      {'n', "tail", CLI_STR, &tail},
  };
  int rc =
      cli_flags_parse(LOGS_USAGE, flags, sizeof flags / sizeof flags[0], argc, argv, false, &pos);
  if (rc != 0)
    return rc;
  if (pos.n != 1) {
    cli_strlist_free(&pos);
    return cli_usage_error("logs", LOGS_USAGE, "1 argument");
  }
  cut_err err;
  char id[128], path[1024], enc[64];
  bool tty = false;
  int r = cli_ping(c, &err) < 0 ? -1 : container_id(c, pos.v[0], id, sizeof id, &tty, &err);
  cli_strlist_free(&pos);
  if (r < 0)
    return cli_fail(&err, 1);
  cli_urlencode(tail ? tail : "all", enc, sizeof enc);
  cli_path(c, path, sizeof path, "/containers/%s/logs?%sstderr=1&stdout=1&tail=%s%s", id,
           follow ? "follow=1&" : "", enc, timestamps ? "&timestamps=1" : "");
  cli_call call;
  if (cli_call_begin(c, &call, CLI_ON_MAIN, "GET", path, NULL, NULL, 0, &err) < 0) {
    cli_call_end(c, &call, &err);
    return cli_fail(&err, 1);
  }
  if (call.resp.status >= 400) {
    cli_reply rep;
    if (cli_call_reply(&call, &rep, &err) == 0) {
      char msg[CUT_ERR_MAX - 64];
      cli_reply_message(&rep, path, msg, sizeof msg);
      cli_reply_free(&rep);
      cut_error(&err, 0, "Error response from daemon: %s", msg);
    }
    cli_call_end(c, &call, &err);
    return cli_fail(&err, 1);
  }
  /* stdcopy frames, or raw bytes when the container has a TTY. */
  cli_demux dm = {0};
  char buf[32768];
  ssize_t n;
  while ((n = cli_conn_body(call.conn, &call.resp, buf, sizeof buf, &err)) > 0) {
    if (tty)
      cli_write_fd(1, buf, (size_t)n);
    else
      cli_demux_feed(&dm, buf, (size_t)n, logs_frame, NULL);
  }
  cli_call_end(c, &call, n < 0 ? &err : NULL);
  return n < 0 ? cli_fail(&err, 1) : 0;
}
