/* cli_cmds.c: the request/response commands of the docker CLI: version,
 * info, pull, images, rmi, ps, stop, kill, rm, inspect, volume, network.
 *
 * Each is one or a few Engine API requests (docker-api-minimum.md §3) and a
 * rendering of the JSON reply the way docker prints it: the same tables,
 * the same one-name-per-line acknowledgements, the same error lines.  For
 * commands over several objects (stop a b c) docker goes on after a
 * failure, prints each error, and exits 1 at the end; so do we. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "cli.h"
#include "json.h"

static const char *
jstr(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static double
jnum(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool
jbool(const cJSON *obj, const char *key)
{
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* "3 minutes ago" from a unix time. */
static void
ago(double created, char *out, size_t len)
{
  char d[48];
  cli_human_duration((long long)((double)time(NULL) - created), d, sizeof d);
  snprintf(out, len, "%s ago", d);
}

/* The 12-hex short form of an id ("sha256:" dropped). */
static void
short_id(const char *id, char *out, size_t len)
{
  if (strncmp(id, "sha256:", 7) == 0)
    id += 7;
  snprintf(out, len, "%.12s", id);
}

/* Parse flags for a command with no positional limit; returns the rc. */
#define PARSE(usage, flags, argc, argv, pos)                                                       \
  cli_flags_parse((usage), (flags), sizeof(flags) / sizeof((flags)[0]), (argc), (argv), false,     \
                  (pos))

static const cli_flag no_flags[] = {{0, NULL, CLI_BOOL, NULL}};

/* ---- version, info ---------------------------------------------------------- */

int
cli_cmd_version(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  int rc = cli_flags_parse("cutaway version [OPTIONS]", no_flags, 0, argc, argv, false, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  struct utsname u;
  uname(&u);
  cut_err err;
  int pr = cli_ping(c, &err);
  printf("Client:\n");
  printf(" Version:           %s\n", CLI_VERSION);
  printf(" API version:       %s\n", pr == 0 ? c->version : CLI_API_MAX);
  printf(" OS/Arch:           linux/%s\n", strcmp(u.machine, "x86_64") == 0 ? "amd64" : u.machine);
  printf(" Context:           default\n");
  cJSON *v = NULL;
  char path[256];
  cli_path(c, path, sizeof path, "/version");
  if (pr < 0 || cli_json(c, "GET", path, NULL, NULL, &v, &err) < 0) {
    fflush(stdout);
    return cli_fail(&err, 1);
  }
  printf("\nServer:\n");
  const cJSON *comps = cJSON_GetObjectItemCaseSensitive(v, "Components");
  const cJSON *comp;
  bool engine = false;
  cJSON_ArrayForEach(comp, comps) engine |= strcmp(jstr(comp, "Name"), "Engine") == 0;
  if (!engine || !comps) {
    printf(" Engine:\n");
    printf("  Version:          %s\n", jstr(v, "Version"));
    printf("  API version:      %s (minimum version %s)\n", jstr(v, "ApiVersion"),
           jstr(v, "MinAPIVersion"));
    printf("  OS/Arch:          %s/%s\n", jstr(v, "Os"), jstr(v, "Arch"));
  }
  cJSON_ArrayForEach(comp, comps)
  {
    bool is_engine = strcmp(jstr(comp, "Name"), "Engine") == 0;
    printf(" %s:\n", is_engine ? "Engine" : jstr(comp, "Name"));
    printf("  Version:          %s\n", jstr(comp, "Version"));
    if (is_engine) {
      printf("  API version:      %s (minimum version %s)\n", jstr(v, "ApiVersion"),
             jstr(v, "MinAPIVersion"));
      if (*jstr(v, "GoVersion"))
        printf("  Go version:       %s\n", jstr(v, "GoVersion"));
      if (*jstr(v, "GitCommit"))
        printf("  Git commit:       %s\n", jstr(v, "GitCommit"));
      printf("  OS/Arch:          %s/%s\n", jstr(v, "Os"), jstr(v, "Arch"));
      printf("  Experimental:     %s\n", jbool(v, "Experimental") ? "true" : "false");
      continue;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(comp, "Details"))
    {
      if (!cJSON_IsString(kv) || kv->string == NULL)
        continue;
      char key[80];
      snprintf(key, sizeof key, "%s:", kv->string);
      printf("  %-18s%s\n", key, kv->valuestring);
    }
  }
  cJSON_Delete(v);
  return 0;
}

int
cli_cmd_info(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  int rc = cli_flags_parse("cutaway info [OPTIONS]", no_flags, 0, argc, argv, false, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\nServer:\n",
         CLI_VERSION);
  cut_err err;
  cJSON *i = NULL;
  char path[256];
  if (cli_ping(c, &err) < 0)
    return fflush(stdout), cli_fail(&err, 1);
  cli_path(c, path, sizeof path, "/info");
  if (cli_json(c, "GET", path, NULL, NULL, &i, &err) < 0)
    return fflush(stdout), cli_fail(&err, 1);
  char mem[32];
  cli_bytes_size(jnum(i, "MemTotal"), mem, sizeof mem);
  printf(" Containers: %.0f\n  Running: %.0f\n  Paused: %.0f\n  Stopped: %.0f\n",
         jnum(i, "Containers"), jnum(i, "ContainersRunning"), jnum(i, "ContainersPaused"),
         jnum(i, "ContainersStopped"));
  printf(" Images: %.0f\n", jnum(i, "Images"));
  printf(" Server Version: %s\n", jstr(i, "ServerVersion"));
  printf(" Storage Driver: %s\n", jstr(i, "Driver"));
  printf(" Logging Driver: %s\n", jstr(i, "LoggingDriver"));
  printf(" Cgroup Driver: %s\n", jstr(i, "CgroupDriver"));
  printf(" Cgroup Version: %s\n", jstr(i, "CgroupVersion"));
  printf(" Default Runtime: %s\n", jstr(i, "DefaultRuntime"));
  printf(" Kernel Version: %s\n", jstr(i, "KernelVersion"));
  printf(" Operating System: %s\n", jstr(i, "OperatingSystem"));
  printf(" OSType: %s\n", jstr(i, "OSType"));
  printf(" Architecture: %s\n", jstr(i, "Architecture"));
  printf(" CPUs: %.0f\n", jnum(i, "NCPU"));
  printf(" Total Memory: %s\n", mem);
  printf(" Name: %s\n", jstr(i, "Name"));
  printf(" ID: %s\n", jstr(i, "ID"));
  printf(" Docker Root Dir: %s\n", jstr(i, "DockerRootDir"));
  printf(" Debug Mode: %s\n", jbool(i, "Debug") ? "true" : "false");
  printf(" Experimental: %s\n", jbool(i, "ExperimentalBuild") ? "true" : "false");
  printf(" Live Restore Enabled: %s\n", jbool(i, "LiveRestoreEnabled") ? "true" : "false");
  fflush(stdout);
  const cJSON *w;
  cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(i, "Warnings")) if (cJSON_IsString(w))
      fprintf(stderr, "WARNING: %s\n", w->valuestring);
  cJSON_Delete(i);
  return 0;
}

/* ---- pull --------------------------------------------------------------- */

/* One progress message, rendered as docker does when not on a terminal:
 * byte counts are skipped, the rest prints as "<id>: <status>". */
static int
pull_message(const cJSON *m, FILE *out, cut_err *err)
{
  const cJSON *ed = cJSON_GetObjectItemCaseSensitive(m, "errorDetail");
  if (cJSON_IsObject(ed))
    return cut_error(err, 0, "%s", jstr(ed, "message"));
  const cJSON *pd = cJSON_GetObjectItemCaseSensitive(m, "progressDetail");
  if (jnum(pd, "current") > 0 || jnum(pd, "total") > 0)
    return 0;
  const char *status = jstr(m, "status"), *id = jstr(m, "id");
  if (*status == '\0')
    return 0;
  if (*id)
    fprintf(out, "%s: %s\n", id, status);
  else
    fprintf(out, "%s\n", status);
  fflush(out);
  return 0;
}

/* The stream is a sequence of JSON objects: parse each complete one. */
static int
pull_stream(cli_call *call, FILE *out, cut_err *err)
{
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return cut_error(err, ENOMEM, "pull");
  int rc = 0;
  for (;;) {
    if (cap - n < 4096) {
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        rc = cut_error(err, ENOMEM, "pull");
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t got = cli_conn_body(call->conn, &call->resp, buf + n, cap - n - 1, err);
    if (got < 0) {
      rc = -1;
      break;
    }
    n += (size_t)got;
    buf[n] = '\0';
    size_t used = 0;
    for (;;) {
      while (used < n && strchr(" \t\r\n", buf[used]))
        used++;
      if (used == n)
        break;
      const char *endp = NULL;
      cJSON *m = cJSON_ParseWithLengthOpts(buf + used, n - used, &endp, false);
      if (m == NULL)
        break; /* incomplete: wait for more */
      used = (size_t)(endp - buf);
      rc = pull_message(m, out, err);
      cJSON_Delete(m);
      if (rc < 0)
        break;
    }
    memmove(buf, buf + used, n - used);
    n -= used;
    if (rc < 0 || got == 0)
      break;
  }
  free(buf);
  return rc;
}

int
cli_pull_image(cli *c, const char *image, FILE *out, cut_err *err)
{
  cli_ref ref;
  if (cli_ref_parse(image, &ref, err) < 0)
    return -1;
  char name[1024], ename[1200], etag[300], path[2048];
  cli_ref_name(&ref, name, sizeof name);
  cli_urlencode(name, ename, sizeof ename);
  cli_urlencode(ref.digest[0] ? ref.digest : ref.tag, etag, sizeof etag);
  cli_path(c, path, sizeof path, "/images/create?fromImage=%s&tag=%s", ename, etag);
  cli_call call;
  /* X-Registry-Auth: base64url("{}"), no credentials (docker sends it too). */
  int r = cli_call_begin(c, &call, CLI_ON_MAIN, "POST", path, "X-Registry-Auth: e30=\r\n", NULL, 0,
                         err);
  if (r == 0 && call.resp.status >= 400) {
    cli_reply rep;
    r = cli_call_reply(&call, &rep, err);
    if (r == 0) {
      char msg[CUT_ERR_MAX - 64];
      cli_reply_message(&rep, path, msg, sizeof msg);
      cli_reply_free(&rep);
      r = cut_error(err, 0, "Error response from daemon: %s", msg);
    }
  } else if (r == 0) {
    r = pull_stream(&call, out, err);
  }
  cli_call_end(c, &call, r < 0 ? err : NULL);
  return r;
}

int
cli_cmd_pull(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool quiet = false;
  const cli_flag flags[] = {{'q', "quiet", CLI_BOOL, &quiet}};
  int rc = PARSE("cutaway pull [OPTIONS] NAME[:TAG|@DIGEST]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n != 1) {
    cli_strlist_free(&pos);
    return cli_usage_error("pull", "cutaway pull [OPTIONS] NAME[:TAG|@DIGEST]", "1 argument");
  }
  cut_err err;
  cli_ref ref;
  if (cli_ref_parse(pos.v[0], &ref, &err) < 0) {
    cli_strlist_free(&pos);
    return cli_fail(&err, 1);
  }
  if (!ref.tag_given && !ref.digest[0] && !quiet)
    printf("Using default tag: latest\n");
  fflush(stdout);
  FILE *devnull = quiet ? fopen("/dev/null", "w") : NULL;
  int r =
      cli_ping(c, &err) < 0 ? -1 : cli_pull_image(c, pos.v[0], devnull ? devnull : stdout, &err);
  if (devnull)
    fclose(devnull);
  char name[1024];
  cli_ref_name(&ref, name, sizeof name);
  cli_strlist_free(&pos);
  if (r < 0)
    return cli_fail(&err, 1);
  printf("%s%s%s\n", name, ref.digest[0] ? "@" : ":", ref.digest[0] ? ref.digest : ref.tag);
  return 0;
}

/* ---- images, rmi ------------------------------------------------------------ */

int
cli_cmd_images(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool quiet = false, all = false;
  const cli_flag flags[] = {{'q', "quiet", CLI_BOOL, &quiet}, {'a', "all", CLI_BOOL, &all}};
  int rc = PARSE("cutaway images [OPTIONS] [REPOSITORY[:TAG]]", flags, argc, argv, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  cut_err err;
  cJSON *list = NULL;
  char path[256];
  if (cli_ping(c, &err) < 0)
    return cli_fail(&err, 1);
  cli_path(c, path, sizeof path, "/images/json%s", all ? "?all=1" : "");
  if (cli_json(c, "GET", path, NULL, NULL, &list, &err) < 0)
    return cli_fail(&err, 1);
  cli_table t;
  cli_table_init(&t, 5);
  const char *hdr[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
  cli_table_add(&t, hdr);
  const cJSON *img;
  cJSON_ArrayForEach(img, list)
  {
    char id[16], created[64], size[32];
    short_id(jstr(img, "Id"), id, sizeof id);
    if (quiet) {
      printf("%s\n", id);
      continue;
    }
    ago(jnum(img, "Created"), created, sizeof created);
    cli_human_size(jnum(img, "Size"), size, sizeof size);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(img, "RepoTags"), *tag;
    bool any = false;
    cJSON_ArrayForEach(tag, tags)
    {
      if (!cJSON_IsString(tag) || strcmp(tag->valuestring, "<none>:<none>") == 0)
        continue;
      char repo[1024];
      snprintf(repo, sizeof repo, "%s", tag->valuestring);
      char *colon = strrchr(repo, ':'), *slash = strrchr(repo, '/');
      const char *tg = "<none>";
      if (colon && (!slash || colon > slash)) {
        *colon = '\0';
        tg = colon + 1;
      }
      const char *row[] = {repo, tg, id, created, size};
      cli_table_add(&t, row);
      any = true;
    }
    if (!any) {
      const char *row[] = {"<none>", "<none>", id, created, size};
      cli_table_add(&t, row);
    }
  }
  if (!quiet)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  cJSON_Delete(list);
  return 0;
}

int
cli_cmd_rmi(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool force = false;
  const cli_flag flags[] = {{'f', "force", CLI_BOOL, &force}};
  int rc = PARSE("cutaway rmi [OPTIONS] IMAGE [IMAGE...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("rmi", "cutaway rmi [OPTIONS] IMAGE [IMAGE...]", "at least 1 argument");
  cut_err err;
  if (cli_ping(c, &err) < 0)
    return cli_strlist_free(&pos), cli_fail(&err, 1);
  int status = 0;
  for (size_t i = 0; i < pos.n; i++) {
    char path[1200];
    cli_path(c, path, sizeof path, "/images/%s%s", pos.v[i], force ? "?force=1" : "");
    cJSON *list = NULL;
    if (cli_json(c, "DELETE", path, NULL, NULL, &list, &err) < 0) {
      status = cli_fail(&err, 1);
      continue;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
      if (*jstr(e, "Untagged"))
        printf("Untagged: %s\n", jstr(e, "Untagged"));
      if (*jstr(e, "Deleted"))
        printf("Deleted: %s\n", jstr(e, "Deleted"));
    }
    cJSON_Delete(list);
  }
  cli_strlist_free(&pos);
  return status;
}

/* ---- ps -------------------------------------------------------------------- */

int
cli_cmd_ps(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool all = false, quiet = false, no_trunc = false;
  const cli_flag flags[] = {{'a', "all", CLI_BOOL, &all},
                            {'q', "quiet", CLI_BOOL, &quiet},
                            {0, "no-trunc", CLI_BOOL, &no_trunc}};
  int rc = PARSE("cutaway ps [OPTIONS]", flags, argc, argv, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  cut_err err;
  cJSON *list = NULL;
  char path[256];
  if (cli_ping(c, &err) < 0)
    return cli_fail(&err, 1);
  cli_path(c, path, sizeof path, "/containers/json%s", all ? "?all=1" : "");
  if (cli_json(c, "GET", path, NULL, NULL, &list, &err) < 0)
    return cli_fail(&err, 1);
  cli_table t;
  cli_table_init(&t, 7);
  const char *hdr[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"};
  cli_table_add(&t, hdr);
  const cJSON *k;
  cJSON_ArrayForEach(k, list)
  {
    char id[80];
    snprintf(id, sizeof id, no_trunc ? "%s" : "%.12s", jstr(k, "Id"));
    if (quiet) {
      printf("%s\n", id);
      continue;
    }
    char cmd[1100], created[64], names[1024] = "";
    cli_command_cell(jstr(k, "Command"), !no_trunc, cmd, sizeof cmd);
    ago(jnum(k, "Created"), created, sizeof created);
    const cJSON *nm;
    cJSON_ArrayForEach(nm, cJSON_GetObjectItemCaseSensitive(k, "Names"))
    {
      if (!cJSON_IsString(nm))
        continue;
      const char *s = nm->valuestring[0] == '/' ? nm->valuestring + 1 : nm->valuestring;
      if (strchr(s, '/')) /* a link name (/other/alias): docker hides those */
        continue;
      size_t have = strlen(names);
      snprintf(names + have, sizeof names - have, "%s%s", have ? "," : "", s);
    }
    char ports[512] = "";
    const cJSON *pt;
    cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(k, "Ports"))
    {
      /* docker's rendering: 127.0.0.1:8080->80/tcp, or 80/tcp when unpublished */
      size_t have = strlen(ports);
      const char *ip = jstr(pt, "IP");
      if (jnum(pt, "PublicPort") > 0)
        snprintf(ports + have, sizeof ports - have, "%s%s:%.0f->%.0f/%s", have ? ", " : "", ip,
                 jnum(pt, "PublicPort"), jnum(pt, "PrivatePort"), jstr(pt, "Type"));
      else
        snprintf(ports + have, sizeof ports - have, "%s%.0f/%s", have ? ", " : "",
                 jnum(pt, "PrivatePort"), jstr(pt, "Type"));
    }
    const char *row[] = {id, jstr(k, "Image"), cmd, created, jstr(k, "Status"), ports, names};
    cli_table_add(&t, row);
  }
  if (!quiet)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  cJSON_Delete(list);
  return 0;
}

/* ---- stop, kill, rm: one request per argument, its name echoed ------------ */

static int
each_container(cli *c, const cli_strlist *pos, const char *method, const char *fmt,
               const char *query)
{
  cut_err err;
  if (cli_ping(c, &err) < 0)
    return cli_fail(&err, 1);
  int status = 0;
  for (size_t i = 0; i < pos->n; i++) {
    char path[1200];
    cli_path(c, path, sizeof path, fmt, pos->v[i], query);
    if (cli_json(c, method, path, NULL, NULL, NULL, &err) < 0) {
      status = cli_fail(&err, 1);
      continue;
    }
    printf("%s\n", pos->v[i]);
    fflush(stdout);
  }
  return status;
}

int
cli_cmd_stop(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  const char *t = NULL;
  const cli_flag flags[] = {{'t', "time", CLI_STR, &t}};
  int rc = PARSE("cutaway stop [OPTIONS] CONTAINER [CONTAINER...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("stop", "cutaway stop [OPTIONS] CONTAINER [CONTAINER...]",
                           "at least 1 argument");
  char q[64] = "";
  if (t) {
    char *end;
    long secs = strtol(t, &end, 10);
    if (*t == '\0' || *end) {
      fprintf(stderr, "cutaway: invalid argument \"%s\" for \"-t, --time\" flag\n", t);
      cli_strlist_free(&pos);
      return 125;
    }
    snprintf(q, sizeof q, "?t=%ld", secs);
  }
  int r = each_container(c, &pos, "POST", "/containers/%s/stop%s", q);
  cli_strlist_free(&pos);
  return r;
}

int
cli_cmd_kill(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  const char *sig = NULL;
  const cli_flag flags[] = {{'s', "signal", CLI_STR, &sig}};
  int rc = PARSE("cutaway kill [OPTIONS] CONTAINER [CONTAINER...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("kill", "cutaway kill [OPTIONS] CONTAINER [CONTAINER...]",
                           "at least 1 argument");
  char q[128] = "", enc[64];
  if (sig) {
    cli_urlencode(sig, enc, sizeof enc);
    snprintf(q, sizeof q, "?signal=%s", enc);
  }
  int r = each_container(c, &pos, "POST", "/containers/%s/kill%s", q);
  cli_strlist_free(&pos);
  return r;
}

int
cli_cmd_rm(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool force = false, volumes = false;
  const cli_flag flags[] = {{'f', "force", CLI_BOOL, &force}, {'v', "volumes", CLI_BOOL, &volumes}};
  int rc = PARSE("cutaway rm [OPTIONS] CONTAINER [CONTAINER...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("rm", "cutaway rm [OPTIONS] CONTAINER [CONTAINER...]",
                           "at least 1 argument");
  char q[32];
  snprintf(q, sizeof q, "%s%s%s", force || volumes ? "?" : "", force ? "force=1" : "",
           volumes ? (force ? "&v=1" : "v=1") : "");
  int r = each_container(c, &pos, "DELETE", "/containers/%s%s", q);
  cli_strlist_free(&pos);
  return r;
}

/* ---- inspect --------------------------------------------------------------- */

/* GET one object as raw JSON: containers first, then images, as docker's
 * type-less inspect tries them.  1: found, 0: not found anywhere. */
static int
inspect_one(cli *c, const char *name, cli_reply *out, cut_err *err)
{
  static const char *const kinds[] = {"/containers/%s/json", "/images/%s/json", "/volumes/%s",
                                      "/networks/%s"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char path[1200];
    cli_path(c, path, sizeof path, kinds[i], name);
    if (cli_request(c, "GET", path, NULL, NULL, out, err) < 0)
      return -1;
    if (out->status == 200)
      return 1;
    if (out->status != 404) {
      char msg[CUT_ERR_MAX - 64];
      cli_reply_message(out, path, msg, sizeof msg);
      cli_reply_free(out);
      return cut_error(err, 0, "Error response from daemon: %s", msg);
    }
    cli_reply_free(out);
  }
  return 0;
}

int
cli_cmd_inspect(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  const char *format = NULL;
  const cli_flag flags[] = {{'f', "format", CLI_STR, &format}};
  int rc = PARSE("cutaway inspect [OPTIONS] NAME|ID [NAME|ID...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("inspect", "cutaway inspect [OPTIONS] NAME|ID [NAME|ID...]",
                           "at least 1 argument");
  if (format) {
    fprintf(stderr, "cutaway: inspect --format is not supported (templates are Go's)\n");
    cli_strlist_free(&pos);
    return 125;
  }
  cut_err err;
  if (cli_ping(c, &err) < 0)
    return cli_strlist_free(&pos), cli_fail(&err, 1);
  /* docker prints the objects found as one array, then the errors. */
  char **found = calloc(pos.n, sizeof *found);
  size_t nfound = 0;
  int status = 0;
  char errors[4096] = "";
  for (size_t i = 0; i < pos.n && found; i++) {
    cli_reply rep;
    int r = inspect_one(c, pos.v[i], &rep, &err);
    if (r < 0) {
      cli_strlist_free(&pos);
      free(found);
      return cli_fail(&err, 1);
    }
    if (r == 0) {
      size_t have = strlen(errors);
      snprintf(errors + have, sizeof errors - have, "Error: No such object: %s\n", pos.v[i]);
      status = 1;
      continue;
    }
    found[nfound] = cli_json_indent(rep.body, rep.len, "    ", "    ");
    if (found[nfound])
      nfound++;
    cli_reply_free(&rep);
  }
  if (nfound == 0) {
    printf("[]\n");
  } else {
    printf("[\n");
    for (size_t i = 0; i < nfound; i++)
      printf("    %s%s\n", found[i], i + 1 < nfound ? "," : "");
    printf("]\n");
  }
  fflush(stdout);
  fputs(errors, stderr);
  for (size_t i = 0; i < nfound; i++)
    free(found[i]);
  free(found);
  cli_strlist_free(&pos);
  return status;
}

/* ---- volume, network ------------------------------------------------------------ */

static int
by_name(const void *a, const void *b)
{
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  return strcmp(jstr(x, "Name"), jstr(y, "Name"));
}

/* The elements of a JSON array, sorted by "Name" (docker sorts these lists). */
static const cJSON **
sorted_by_name(const cJSON *arr, size_t *n)
{
  *n = (size_t)cJSON_GetArraySize(arr);
  const cJSON **v = calloc(*n + 1, sizeof *v);
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) if (v && i < *n) v[i++] = e;
  if (v)
    qsort(v, *n, sizeof *v, by_name);
  return v;
}

static int
volume_ls(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool quiet = false;
  const cli_flag flags[] = {{'q', "quiet", CLI_BOOL, &quiet}};
  int rc = PARSE("cutaway volume ls [OPTIONS]", flags, argc, argv, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  cut_err err;
  cJSON *doc = NULL;
  char path[256];
  if (cli_ping(c, &err) < 0)
    return cli_fail(&err, 1);
  cli_path(c, path, sizeof path, "/volumes");
  if (cli_json(c, "GET", path, NULL, NULL, &doc, &err) < 0)
    return cli_fail(&err, 1);
  size_t n;
  const cJSON **v = sorted_by_name(cJSON_GetObjectItemCaseSensitive(doc, "Volumes"), &n);
  cli_table t;
  cli_table_init(&t, 2);
  const char *hdr[] = {"DRIVER", "VOLUME NAME"};
  cli_table_add(&t, hdr);
  for (size_t i = 0; v && i < n; i++) {
    if (quiet) {
      printf("%s\n", jstr(v[i], "Name"));
      continue;
    }
    const char *row[] = {jstr(v[i], "Driver"), jstr(v[i], "Name")};
    cli_table_add(&t, row);
  }
  if (!quiet)
    cli_table_print(&t, stdout);
  fflush(stdout);
  const cJSON *w;
  cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "Warnings")) if (cJSON_IsString(w))
      fprintf(stderr, "%s\n", w->valuestring);
  cli_table_free(&t);
  free(v);
  cJSON_Delete(doc);
  return 0;
}

static int
volume_create(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  const char *driver = "local", *name = NULL;
  const cli_flag flags[] = {{'d', "driver", CLI_STR, &driver}, {0, "name", CLI_STR, &name}};
  int rc = PARSE("cutaway volume create [OPTIONS] [VOLUME]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n > 1) {
    cli_strlist_free(&pos);
    return cli_usage_error("volume create", "cutaway volume create [OPTIONS] [VOLUME]",
                           "at most 1 argument");
  }
  cut_err err;
  cJSON *b = cJSON_CreateObject(), *rep = NULL;
  cJSON_AddStringToObject(b, "Driver", driver);
  cJSON_AddStringToObject(b, "Name", pos.n ? pos.v[0] : name ? name : "");
  char path[256];
  int r = cli_ping(c, &err);
  cli_path(c, path, sizeof path, "/volumes/create");
  if (r == 0)
    r = cli_json(c, "POST", path, b, NULL, &rep, &err);
  cJSON_Delete(b);
  cli_strlist_free(&pos);
  if (r < 0)
    return cli_fail(&err, 1);
  printf("%s\n", jstr(rep, "Name"));
  cJSON_Delete(rep);
  return 0;
}

static int
volume_rm(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool force = false;
  const cli_flag flags[] = {{'f', "force", CLI_BOOL, &force}};
  int rc = PARSE("cutaway volume rm [OPTIONS] VOLUME [VOLUME...]", flags, argc, argv, &pos);
  if (rc)
    return rc;
  if (pos.n < 1)
    return cli_usage_error("volume rm", "cutaway volume rm [OPTIONS] VOLUME [VOLUME...]",
                           "at least 1 argument");
  int r = each_container(c, &pos, "DELETE", "/volumes/%s%s", force ? "?force=1" : "");
  cli_strlist_free(&pos);
  return r;
}

static int
network_ls(cli *c, int argc, char **argv)
{
  cli_strlist pos = {0};
  bool quiet = false;
  const cli_flag flags[] = {{'q', "quiet", CLI_BOOL, &quiet}};
  int rc = PARSE("cutaway network ls [OPTIONS]", flags, argc, argv, &pos);
  cli_strlist_free(&pos);
  if (rc)
    return rc;
  cut_err err;
  cJSON *list = NULL;
  char path[256];
  if (cli_ping(c, &err) < 0)
    return cli_fail(&err, 1);
  cli_path(c, path, sizeof path, "/networks");
  if (cli_json(c, "GET", path, NULL, NULL, &list, &err) < 0)
    return cli_fail(&err, 1);
  size_t n;
  const cJSON **v = sorted_by_name(list, &n);
  cli_table t;
  cli_table_init(&t, 4);
  const char *hdr[] = {"NETWORK ID", "NAME", "DRIVER", "SCOPE"};
  cli_table_add(&t, hdr);
  for (size_t i = 0; v && i < n; i++) {
    char id[16];
    short_id(jstr(v[i], "Id"), id, sizeof id);
    if (quiet) {
      printf("%s\n", id);
      continue;
    }
    const char *row[] = {id, jstr(v[i], "Name"), jstr(v[i], "Driver"), jstr(v[i], "Scope")};
    cli_table_add(&t, row);
  }
  if (!quiet)
    cli_table_print(&t, stdout);
  cli_table_free(&t);
  free(v);
  cJSON_Delete(list);
  return 0;
}

/* "cutaway volume" / "cutaway network": a sub-command table. */
struct sub {
  const char *name;
  int (*fn)(cli *, int, char **);
};

static int
dispatch_sub(cli *c, const char *group, const struct sub *subs, const char *help, int argc,
             char **argv)
{
  if (argc < 2) {
    printf("Usage:  cutaway %s COMMAND\n\n%s", group, help);
    return 0;
  }
  for (const struct sub *s = subs; s->name; s++)
    if (strcmp(argv[1], s->name) == 0 || (strcmp(s->name, "ls") == 0 && !strcmp(argv[1], "list")) ||
        (strcmp(s->name, "rm") == 0 && !strcmp(argv[1], "remove")))
      return s->fn(c, argc - 1, argv + 1);
  fprintf(stderr, "cutaway: unknown command: cutaway %s %s\n\nUsage:  cutaway %s COMMAND\n", group,
          argv[1], group);
  return 1;
}

int
cli_cmd_volume(cli *c, int argc, char **argv)
{
  static const struct sub subs[] = {
      {"ls", volume_ls}, {"create", volume_create}, {"rm", volume_rm}, {NULL, NULL}};
  return dispatch_sub(c, "volume", subs,
                      "Commands:\n  create      Create a volume\n  ls          List volumes\n"
                      "  rm          Remove one or more volumes\n",
                      argc, argv);
}

int
cli_cmd_network(cli *c, int argc, char **argv)
{
  static const struct sub subs[] = {{"ls", network_ls}, {NULL, NULL}};
  return dispatch_sub(c, "network", subs, "Commands:\n  ls          List networks\n", argc, argv);
}
