/* dkd_containers.c: Docker containers as records, and their create, list,
 * inspect and remove (dockerd's daemon/create.go, list.go, inspect.go,
 * delete.go).
 *
 * A Docker container is two things, as in dockerd: our record
 * ROOT/containers/<id>/config.v2.json (name, Config and HostConfig as the
 * client sent them, state, exit code), written atomically at every change,
 * and a containerd container of the same id that holds the OCI spec built
 * from them (cutaway-containerd's ctd_spec.c adds Docker's security
 * defaults).  `create` translates the Docker request into containerd's
 * options: Cmd/Entrypoint, Env, User, WorkingDir, Hostname, Tty, Binds,
 * Memory/NanoCpus/PidsLimit/CpuShares, CapAdd/CapDrop, ReadonlyRootfs,
 * seccomp=unconfined, and the network (dkd_networks.c). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dkd.h"
#include "dkd_net.h"
#include "fileutil.h"
#include "json.h"
#include "trace.h"

/* ---- finding ---- */

static bool
name_matches(const dkd_container *k, const char *ref)
{
  return strcmp(k->name + 1, ref[0] == '/' ? ref + 1 : ref) == 0;
}

dkd_container *
dkd_container_find(dkd *d, const char *ref, bool *ambiguous)
{
  if (ambiguous)
    *ambiguous = false;
  if (ref == NULL || *ref == '\0')
    return NULL;
  for (dkd_container *k = d->containers; k; k = k->next)
    if (!k->removed && !k->creating && (strcmp(k->id, ref) == 0 || name_matches(k, ref)))
      return k;
  /* A unique id prefix, as `docker rm 3f2` allows. */
  dkd_container *found = NULL;
  size_t n = strlen(ref);
  for (dkd_container *k = d->containers; k; k = k->next) {
    if (k->removed || k->creating || strncmp(k->id, ref, n) != 0)
      continue;
    if (found) {
      if (ambiguous)
        *ambiguous = true;
      return NULL;
    }
    found = k;
  }
  return found;
}

dkd_container *
dkd_container_req(dkd *d, httpd_req *req)
{
  const char *ref = httpd_param(req, "id");
  bool ambiguous;
  dkd_container *k = dkd_container_find(d, ref, &ambiguous);
  if (k == NULL) {
    if (ambiguous)
      httpd_reply_error(req, 400, "multiple IDs found with provided prefix: %s", ref);
    else
      httpd_reply_error(req, 404, "No such container: %s", ref);
    return NULL;
  }
  /* The CLI's create, attach, wait and start are separate traces: naming
   * the container on each lets `cutaway-trace --container` join them. */
  httpd_span_attr(req, "container_id", k->id);
  httpd_span_attr(req, "name", k->name + 1);
  return k;
}

/* ---- the record on disk ---- */

static void
record_dir(dkd *d, const char *id, char *out, size_t len)
{
  snprintf(out, len, "%s/containers/%s", d->root, id);
}

static cJSON *
record_json(const dkd_container *k)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", k->id);
  cJSON_AddStringToObject(o, "Name", k->name);
  cJSON_AddStringToObject(o, "Created", k->created);
  cJSON_AddStringToObject(o, "ImageName", k->image);
  cJSON_AddStringToObject(o, "ImageRef", k->image_ref);
  cJSON_AddStringToObject(o, "Image", k->image_id);
  cJSON_AddStringToObject(o, "LogPath", k->log_path);
  cJSON_AddItemToObject(o, "Config", cJSON_Duplicate(k->config, true));
  cJSON_AddItemToObject(o, "HostConfig", cJSON_Duplicate(k->host_config, true));
  cJSON_AddItemToObject(o, "Args", cJSON_Duplicate(k->args, true));
  cJSON *net = cJSON_AddObjectToObject(o, "Net");
  cJSON_AddStringToObject(net, "Netns", k->netns);
  cJSON_AddStringToObject(net, "Veth", k->veth);
  cJSON_AddStringToObject(net, "IP", k->ip);
  cJSON *st = cJSON_AddObjectToObject(o, "State");
  cJSON_AddStringToObject(st, "Status", dkd_state_name(k->state));
  cJSON_AddNumberToObject(st, "Pid", k->pid);
  cJSON_AddNumberToObject(st, "ExitCode", k->exit_code);
  cJSON_AddBoolToObject(st, "OOMKilled", k->oom_killed);
  cJSON_AddStringToObject(st, "StartedAt", k->started_at);
  cJSON_AddStringToObject(st, "FinishedAt", k->finished_at);
  cJSON_AddStringToObject(st, "Error", k->error);
  cJSON_AddNumberToObject(st, "RestartCount", k->restart_count);
  return o;
}

int
dkd_container_save(dkd *d, dkd_container *k, cut_err *err)
{
  char dir[DKD_DIR_MAX + 128], path[DKD_DIR_MAX + 160];
  record_dir(d, k->id, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/config.v2.json", dir);
  cJSON *o = record_json(k);
  int r = json_write_file(path, o, true, err);
  cJSON_Delete(o);
  return r;
}

static void
copy_string(const cJSON *o, const char *key, char *out, size_t len)
{
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
  snprintf(out, len, "%s", v ? v : "");
}

static enum dkd_state
state_parse(const char *s)
{
  const enum dkd_state all[] = {DKD_CREATED, DKD_RUNNING, DKD_PAUSED, DKD_EXITED, DKD_DEAD};
  for (size_t i = 0; i < 5; i++)
    if (s && strcmp(s, dkd_state_name(all[i])) == 0)
      return all[i];
  return DKD_DEAD;
}

static dkd_container *
record_load(const cJSON *o)
{
  dkd_container *k = calloc(1, sizeof *k);
  copy_string(o, "Id", k->id, sizeof k->id);
  copy_string(o, "Name", k->name, sizeof k->name);
  copy_string(o, "Created", k->created, sizeof k->created);
  copy_string(o, "ImageName", k->image, sizeof k->image);
  copy_string(o, "ImageRef", k->image_ref, sizeof k->image_ref);
  copy_string(o, "Image", k->image_id, sizeof k->image_id);
  copy_string(o, "LogPath", k->log_path, sizeof k->log_path);
  k->config = cJSON_Duplicate(cJSON_GetObjectItem(o, "Config"), true);
  k->host_config = cJSON_Duplicate(cJSON_GetObjectItem(o, "HostConfig"), true);
  k->args = cJSON_Duplicate(cJSON_GetObjectItem(o, "Args"), true);
  const cJSON *net = cJSON_GetObjectItem(o, "Net");
  copy_string(net, "Netns", k->netns, sizeof k->netns);
  copy_string(net, "Veth", k->veth, sizeof k->veth);
  copy_string(net, "IP", k->ip, sizeof k->ip);
  const cJSON *st = cJSON_GetObjectItem(o, "State");
  k->state = state_parse(cJSON_GetStringValue(cJSON_GetObjectItem(st, "Status")));
  k->pid = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "Pid"));
  k->exit_code = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(st, "ExitCode"));
  k->oom_killed = cJSON_IsTrue(cJSON_GetObjectItem(st, "OOMKilled"));
  copy_string(st, "StartedAt", k->started_at, sizeof k->started_at);
  copy_string(st, "FinishedAt", k->finished_at, sizeof k->finished_at);
  copy_string(st, "Error", k->error, sizeof k->error);
  k->stdio.rd_out = k->stdio.rd_err = k->stdio.wr_in = -1;
  if (k->config == NULL)
    k->config = cJSON_CreateObject();
  if (k->host_config == NULL)
    k->host_config = cJSON_CreateObject();
  return k;
}

/* At startup: every record written by a previous run.  A half-written
 * record cannot exist (atomic writes); a directory without one is a create
 * that was killed before it finished, and goes. */
int
dkd_containers_load(dkd *d, cut_err *err)
{
  char dir[DKD_DIR_MAX + 32];
  snprintf(dir, sizeof dir, "%s/containers", d->root);
  if (cut_mkdir_p(dir, 0700, err) < 0)
    return -1;
  DIR *dp = opendir(dir);
  if (dp == NULL)
    return cut_error(err, errno, "open %s", dir);
  struct dirent *de;
  while ((de = readdir(dp)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[DKD_DIR_MAX + 400];
    snprintf(path, sizeof path, "%s/%s/config.v2.json", dir, de->d_name);
    cJSON *o = NULL;
    cut_err e;
    if (json_read_file(path, 4 << 20, &o, &e) < 0) {
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      cut_rm_rf(path, &e);
      continue;
    }
    dkd_container *k = record_load(o);
    cJSON_Delete(o);
    k->next = d->containers;
    d->containers = k;
  }
  closedir(dp);
  return 0;
}

/* ---- create ---- */

/* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static bool
valid_name(const char *n)
{
  if (*n == '/')
    n++;
  if (!isalnum((unsigned char)n[0]) || strlen(n) < 2 || strlen(n) > 200)
    return false;
  for (const char *p = n; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
      return false;
  return true;
}

/* null, "" or a string is a one-element array (old clients send strings). */
static cJSON *
string_list(const cJSON *v)
{
  if (cJSON_IsArray(v))
    return cJSON_Duplicate(v, true);
  if (cJSON_IsString(v) && *v->valuestring) {
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString(v->valuestring));
    return a;
  }
  return NULL;
}

static const char *
str_or_null(const cJSON *o, const char *key)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
  return s && *s ? s : NULL;
}

static int64_t
int_of(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItem(o, key);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* HostConfig's limits as containerd resources (dockerd's daemon/oci_linux.go:
 * Memory -> memory.limit, MemorySwap 0 -> twice Memory, NanoCpus -> quota). */
static void
add_resources(const cJSON *hc, cJSON *opts)
{
  cJSON *r = cJSON_AddObjectToObject(opts, "resources");
  int64_t mem = int_of(hc, "Memory"), swap = int_of(hc, "MemorySwap");
  if (mem > 0) {
    cJSON_AddNumberToObject(r, "memory", (double)mem);
    cJSON_AddNumberToObject(r, "memory_swap", (double)(swap == 0 ? 2 * mem : swap));
  }
  int64_t nano = int_of(hc, "NanoCpus");
  if (nano > 0)
    cJSON_AddNumberToObject(r, "cpus", (double)nano / 1e9);
  int64_t pids = int_of(hc, "PidsLimit");
  if (pids > 0)
    cJSON_AddNumberToObject(r, "pids_limit", (double)pids);
  int64_t shares = int_of(hc, "CpuShares");
  if (shares > 0)
    cJSON_AddNumberToObject(r, "cpu_shares", (double)shares);
}

/* What HostConfig asks that we refuse, rather than silently ignore. */
static int
check_unsupported(const cJSON *hc, cut_err *err)
{
  if (cJSON_IsTrue(cJSON_GetObjectItem(hc, "Privileged")))
    return cut_error(err, ENOTSUP, "--privileged is not supported by cutawayd");
  const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(hc, "NetworkMode"));
  if (dkd_ports_check(hc, mode && *mode ? mode : "default", err) < 0)
    return -1;
  const cJSON *rp = cJSON_GetObjectItem(cJSON_GetObjectItem(hc, "RestartPolicy"), "Name");
  if (cJSON_IsString(rp) && *rp->valuestring && strcmp(rp->valuestring, "no") != 0)
    return cut_error(err, ENOTSUP, "restart policy \"%s\" is not supported by cutawayd",
                     rp->valuestring);
  return 0;
}

/* resolv.conf for the container: the host's, unless it only names a local
 * resolver (127.0.0.53 of systemd-resolved is unreachable from another
 * network namespace), then Docker's fallback.  With the host's network the
 * host's file as it is. */
static int
resolv_conf(const char *host_mode, char **out, cut_err *err)
{
  char *text = NULL;
  size_t len;
  if (cut_read_file("/etc/resolv.conf", 1 << 16, &text, &len, NULL) < 0)
    text = strdup("");
  if (strcmp(host_mode, "host") == 0) {
    *out = text;
    return 0;
  }
  bool remote = false;
  for (char *p = text; (p = strstr(p, "nameserver")) != NULL; p += 10) {
    const char *a = p + 10 + strspn(p + 10, " \t");
    if (strncmp(a, "127.", 4) != 0 && strncmp(a, "::1", 3) != 0)
      remote = true;
  }
  if (!remote) {
    free(text);
    text = strdup("# the host names only a local resolver: Docker's fallback\n"
                  "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  }
  *out = text;
  return text ? 0 : cut_error(err, ENOMEM, "resolv.conf");
}

static int
add_etc_mount(const char *dir, const char *name, const char *text, cJSON *mounts, cut_err *err)
{
  char path[DKD_DIR_MAX + 160], dst[32];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(dst, sizeof dst, "/etc/%s", name);
  if (cut_write_file_atomic(path, text, strlen(text), 0644, err) < 0)
    return -1;
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "destination", dst);
  cJSON_AddStringToObject(m, "source", path);
  cJSON_AddStringToObject(m, "type", "bind");
  cJSON *opts = cJSON_AddArrayToObject(m, "options");
  cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
  cJSON_AddItemToArray(opts, cJSON_CreateString("rw"));
  cJSON_AddItemToArray(mounts, m);
  return 0;
}

/* Docker gives every container its own /etc/hostname, /etc/hosts (with its
 * address on the bridge) and /etc/resolv.conf, bind-mounted from files in
 * the container's directory (dockerd's daemon/container_operations.go). */
static int
etc_files(const dkd_container *k, const cJSON *cfg, const char *mode, const char *dir,
          cJSON *mounts, cut_err *err)
{
  char host[256], hosts[1024], *resolv = NULL;
  const char *h = str_or_null(cfg, "Hostname");
  snprintf(host, sizeof host, "%.*s", h ? 255 : 12, h ? h : k->id);
  int n = snprintf(hosts, sizeof hosts,
                   "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                   "ff02::2\tip6-allrouters\n");
  if (k->ip[0])
    snprintf(hosts + n, sizeof hosts - (size_t)n, "%s\t%s\n", k->ip, host);
  char *host_hosts = NULL;
  size_t len;
  bool host_mode = strcmp(mode, "host") == 0;
  if (host_mode && cut_read_file("/etc/hosts", 1 << 16, &host_hosts, &len, NULL) < 0)
    host_hosts = NULL;
  char line[300];
  snprintf(line, sizeof line, "%s\n", host);
  int r = resolv_conf(mode, &resolv, err);
  if (r == 0)
    r = add_etc_mount(dir, "hostname", line, mounts, err);
  if (r == 0)
    r = add_etc_mount(dir, "hosts", host_hosts ? host_hosts : hosts, mounts, err);
  if (r == 0)
    r = add_etc_mount(dir, "resolv.conf", resolv, mounts, err);
  free(host_hosts);
  free(resolv);
  return r;
}

/* The body of containerd's POST /v1/containers for this request. */
static cJSON *
containerd_options(dkd *d, dkd_container *k, const cJSON *cfg, const cJSON *hc, const char *dir,
                   cut_err *err)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", k->id);
  cJSON_AddStringToObject(o, "image", k->image_ref);
  cJSON *ep = string_list(cJSON_GetObjectItem(cfg, "Entrypoint"));
  cJSON *cmd = string_list(cJSON_GetObjectItem(cfg, "Cmd"));
  if (ep)
    cJSON_AddItemToObject(o, "entrypoint", ep);
  if (cmd)
    cJSON_AddItemToObject(o, "args", cmd);
  const cJSON *env = cJSON_GetObjectItem(cfg, "Env");
  if (cJSON_IsArray(env))
    cJSON_AddItemToObject(o, "env", cJSON_Duplicate(env, true));
  const char *user = str_or_null(cfg, "User"), *wd = str_or_null(cfg, "WorkingDir");
  const char *host = str_or_null(cfg, "Hostname");
  if (user)
    cJSON_AddStringToObject(o, "user", user);
  if (wd)
    cJSON_AddStringToObject(o, "workdir", wd);
  if (host)
    cJSON_AddStringToObject(o, "hostname", host);
  cJSON_AddBoolToObject(o, "terminal", cJSON_IsTrue(cJSON_GetObjectItem(cfg, "Tty")));
  const cJSON *labels = cJSON_GetObjectItem(cfg, "Labels");
  cJSON *ol = cJSON_IsObject(labels) ? cJSON_Duplicate(labels, true) : cJSON_CreateObject();
  /* Ours: after a crash, dkd_reconcile finds containerd containers that
   * this daemon made but never recorded. */
  cJSON_DeleteItemFromObject(ol, DKD_OWNER_LABEL);
  cJSON_AddStringToObject(ol, DKD_OWNER_LABEL, d->root);
  cJSON_AddItemToObject(o, "labels", ol);
  add_resources(hc, o);
  const char *keys[] = {"CapAdd", "CapDrop"}, *ours[] = {"cap_add", "cap_drop"};
  for (int i = 0; i < 2; i++) {
    const cJSON *v = cJSON_GetObjectItem(hc, keys[i]);
    if (cJSON_IsArray(v))
      cJSON_AddItemToObject(o, ours[i], cJSON_Duplicate(v, true));
  }
  if (cJSON_IsTrue(cJSON_GetObjectItem(hc, "ReadonlyRootfs")))
    cJSON_AddBoolToObject(o, "readonly_rootfs", true);
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(hc, "SecurityOpt"))
  {
    if (cJSON_IsString(it) && (strcmp(it->valuestring, "seccomp=unconfined") == 0 ||
                               strcmp(it->valuestring, "seccomp:unconfined") == 0))
      cJSON_AddStringToObject(o, "seccomp", "unconfined");
    else if (cJSON_IsString(it) && strcmp(it->valuestring, "no-new-privileges") == 0)
      cJSON_AddBoolToObject(o, "no_new_privileges", true);
  }
  cJSON *mounts = cJSON_AddArrayToObject(o, "mounts");
  const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(hc, "NetworkMode"));
  if (dkd_binds_to_mounts(d, cJSON_GetObjectItem(hc, "Binds"), mounts, err) < 0 ||
      dkd_network_setup(d, k, o, err) < 0) {
    cJSON_Delete(o);
    return NULL;
  }
  if (etc_files(k, cfg, mode ? mode : "default", dir, mounts, err) < 0) {
    dkd_network_teardown(d, k);
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* Config as inspect shows it: the request with the image's defaults. */
static void
fill_config(dkd_container *k, cJSON *cfg, const cJSON *image_cfg)
{
  const char *keys[] = {"Cmd", "Entrypoint", "WorkingDir", "User"};
  const cJSON *ep = cJSON_GetObjectItem(cfg, "Entrypoint");
  bool own_entrypoint = ep && !cJSON_IsNull(ep);
  for (size_t i = 0; i < 4; i++) {
    const cJSON *v = cJSON_GetObjectItem(cfg, keys[i]);
    bool empty = v == NULL || cJSON_IsNull(v) || (cJSON_IsString(v) && *v->valuestring == '\0');
    /* An Entrypoint of the user's drops the image's Cmd, as Docker does. */
    if (!empty || (i == 0 && own_entrypoint))
      continue;
    const cJSON *iv = cJSON_GetObjectItem(image_cfg, keys[i]);
    if (iv) {
      cJSON_DeleteItemFromObject(cfg, keys[i]);
      cJSON_AddItemToObject(cfg, keys[i], cJSON_Duplicate(iv, true));
    }
  }
  if (str_or_null(cfg, "Hostname") == NULL) {
    char h[13];
    snprintf(h, sizeof h, "%.12s", k->id);
    cJSON_DeleteItemFromObject(cfg, "Hostname");
    cJSON_AddStringToObject(cfg, "Hostname", h);
  }
  cJSON_DeleteItemFromObject(cfg, "Image");
  cJSON_AddStringToObject(cfg, "Image", k->image);
}

/* With the host's network a container gets the host's name too, as in
 * Docker (it still has a UTS namespace of its own). */
static void
host_network_hostname(const cJSON *hc, cJSON *cfg)
{
  const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(hc, "NetworkMode"));
  char host[256];
  if (m == NULL || strcmp(m, "host") != 0 || str_or_null(cfg, "Hostname") ||
      gethostname(host, sizeof host) < 0)
    return;
  cJSON_DeleteItemFromObject(cfg, "Hostname");
  cJSON_AddStringToObject(cfg, "Hostname", host);
}

/* The image must be there (404 otherwise: the CLI then pulls it). */
static int
resolve_image(dkd *d, dkd_container *k, cJSON **image, cut_err *err)
{
  if (dkd_image_normalize(k->image, k->image_ref, sizeof k->image_ref, err) < 0)
    return -1;
  char path[1200];
  snprintf(path, sizeof path, "/v1/images/%s", k->image_ref);
  long st = 0;
  if (dkd_ctd(d, "GET", path, NULL, &st, image, err) < 0) {
    const char *fam = k->image_ref;
    if (strncmp(fam, "docker.io/", 10) == 0)
      fam += strncmp(fam + 10, "library/", 8) == 0 ? 18 : 10;
    return cut_error(err, ENOENT, "No such image: %s", fam);
  }
  const cJSON *digest =
      cJSON_GetObjectItem(cJSON_GetObjectItem(*image, "config_descriptor"), "digest");
  snprintf(k->image_id, sizeof k->image_id, "%s",
           cJSON_IsString(digest) ? digest->valuestring : "");
  return 0;
}

/* The container holding a name, one being created included (d->lock held). */
static dkd_container *
name_holder(dkd *d, const char *name)
{
  for (dkd_container *k = d->containers; k; k = k->next)
    if (!k->removed && name_matches(k, name))
      return k;
  return NULL;
}

/* Reserve a name (d->lock held): 409 when another container has it. */
static int
claim_name(dkd *d, dkd_container *k, const char *want, cut_err *err)
{
  if (want && *want) {
    if (!valid_name(want))
      return cut_error(err, EINVAL,
                       "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                       want);
    dkd_container *o = name_holder(d, want);
    if (o)
      return cut_error(err, EEXIST,
                       "Conflict. The container name \"/%s\" is already in use by container "
                       "\"%s\". You have to remove (or rename) that container to be able to reuse "
                       "that name.",
                       want[0] == '/' ? want + 1 : want, o->id);
    snprintf(k->name, sizeof k->name, "/%s", want[0] == '/' ? want + 1 : want);
    return 0;
  }
  for (int tries = 0; tries < 100; tries++) {
    char n[64];
    dkd_random_name(n, sizeof n);
    if (tries > 10)
      snprintf(n + strlen(n), sizeof n - strlen(n), "%d", tries);
    if (name_holder(d, n) == NULL) {
      snprintf(k->name, sizeof k->name, "/%s", n);
      return 0;
    }
  }
  return cut_error(err, EEXIST, "no free container name");
}

static int
create_in_containerd(dkd *d, dkd_container *k, const cJSON *cfg, const cJSON *hc, const char *dir,
                     cut_err *err)
{
  cJSON *opts = containerd_options(d, k, cfg, hc, dir, err), *out = NULL;
  if (opts == NULL)
    return -1;
  long st = 0;
  int r = dkd_ctd(d, "POST", "/v1/containers", opts, &st, NULL, err);
  cJSON_Delete(opts);
  if (r < 0) {
    dkd_network_teardown(d, k);
    /* The status picks ours (400, 404...): keep containerd's message. */
    err->errnum = st == 400 ? EINVAL : st == 404 ? ENOENT : EIO;
    return -1;
  }
  char path[200];
  snprintf(path, sizeof path, "/v1/containers/%s", k->id);
  if (dkd_ctd(d, "GET", path, NULL, NULL, &out, err) == 0) {
    const char *lp = cJSON_GetStringValue(cJSON_GetObjectItem(out, "log_path"));
    snprintf(k->log_path, sizeof k->log_path, "%s", lp ? lp : "");
    const cJSON *args = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(out, "spec"), "process"), "args");
    k->args = cJSON_Duplicate(args, true);
  }
  cJSON_Delete(out);
  return 0;
}

static unsigned
create_status(const cut_err *err)
{
  switch (err->errnum) {
  case ENOENT: return 404;
  case EEXIST: return 409;
  case EINVAL:
  case ENOTSUP: return 400;
  default: return 500;
  }
}

/* Everything create does once the name is reserved.  On failure nothing is
 * left: each step undoes its own work, the directory goes last. */
static int
create_steps(dkd *d, dkd_container *k, cut_err *err)
{
  char dir[DKD_DIR_MAX + 128];
  record_dir(d, k->id, dir, sizeof dir);
  cJSON *img = NULL;
  int r = resolve_image(d, k, &img, err);
  if (r == 0)
    r = cut_mkdir_p(dir, 0700, err);
  if (r == 0)
    r = create_in_containerd(d, k, k->config, k->host_config, dir, err);
  if (r == 0) {
    fill_config(k, k->config, cJSON_GetObjectItem(cJSON_GetObjectItem(img, "config"), "config"));
    dkd_failpoint("dockerd.create.before_record");
    r = dkd_container_save(d, k, err);
    if (r < 0) {
      char path[200];
      snprintf(path, sizeof path, "/v1/containers/%s", k->id);
      cut_err e;
      dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &e);
      dkd_network_teardown(d, k);
    }
  }
  if (r < 0) {
    cut_err e;
    cut_rm_rf(dir, &e);
  }
  cJSON_Delete(img);
  return r;
}

static void
unlink_container(dkd *d, dkd_container *k)
{
  for (dkd_container **pp = &d->containers; *pp; pp = &(*pp)->next)
    if (*pp == k) {
      *pp = k->next;
      break;
    }
}

void
dkd_h_containers_create(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *body;
  if (httpd_json_body(req, false, &body) < 0)
    return;
  /* The name asked for, on the span even when create is refused. */
  httpd_span_attr(req, "name", httpd_query(req, "name"));
  const char *image = str_or_null(body, "Image");
  if (image == NULL) {
    httpd_reply_error(req, 400, "Config.Image: an image is required");
    return;
  }
  const cJSON *hc = cJSON_GetObjectItem(body, "HostConfig");
  cut_err err;
  if (check_unsupported(hc, &err) < 0) {
    dkd_reply_err(req, 400, &err);
    return;
  }
  dkd_container *k = calloc(1, sizeof *k);
  k->stdio.rd_out = k->stdio.rd_err = k->stdio.wr_in = -1;
  dkd_random_hex(k->id, 32);
  snprintf(k->image, sizeof k->image, "%s", image);
  dkd_now(k->created, sizeof k->created);
  k->state = DKD_CREATED;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "container.Create", TA_STR("id", k->id), TA_STR("image", image));
  pthread_mutex_lock(&d->lock);
  dkd_sweep(d);
  int r = claim_name(d, k, httpd_query(req, "name"), &err);
  if (r == 0) {
    /* Linked now so that its name (and, once taken, its address) is
     * reserved; every reader skips it until it is built (k->creating):
     * its fields are written below without the lock. */
    k->creating = true;
    k->next = d->containers;
    d->containers = k;
  }
  pthread_mutex_unlock(&d->lock);
  k->host_config = hc ? cJSON_Duplicate(hc, true) : cJSON_CreateObject();
  k->config = cJSON_Duplicate(body, true);
  cJSON_DeleteItemFromObject(k->config, "HostConfig");
  cJSON_DeleteItemFromObject(k->config, "NetworkingConfig");
  host_network_hostname(k->host_config, k->config);
  if (r == 0)
    r = create_steps(d, k, &err);
  trace_end(&sp, r < 0 ? &err : NULL, TA_STR("name", k->name));
  pthread_mutex_lock(&d->lock);
  if (r < 0)
    unlink_container(d, k);
  else
    k->creating = false;
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    cJSON_Delete(k->config);
    cJSON_Delete(k->host_config);
    cJSON_Delete(k->args);
    free(k);
    dkd_reply_err(req, create_status(&err), &err);
    return;
  }
  dkd_event(d, "container", "create", k->id, k->name, k->image, NULL);
  httpd_span_attr(req, "container_id", k->id);
  if (httpd_query(req, "name") == NULL || *httpd_query(req, "name") == '\0')
    httpd_span_attr(req, "name", k->name + 1); /* a generated name */
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", k->id);
  cJSON_AddArrayToObject(o, "Warnings");
  httpd_reply_json(req, 201, o);
}

/* ---- list and inspect ---- */

/* "sh -c 'echo hi'": argv joined as `docker ps` shows the command. */
static void
command_text(const cJSON *args, char *out, size_t len)
{
  size_t n = 0;
  out[0] = '\0';
  const cJSON *it;
  cJSON_ArrayForEach(it, args)
  {
    if (!cJSON_IsString(it))
      continue;
    int w = snprintf(out + n, len - n, "%s%s", n ? " " : "", it->valuestring);
    if (w < 0 || (size_t)w >= len - n)
      break;
    n += (size_t)w;
  }
}

static const char *
network_mode(const dkd_container *k)
{
  const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(k->host_config, "NetworkMode"));
  return m && *m ? m : "default";
}

static cJSON *
summary(dkd *d, const dkd_container *k)
{
  cJSON *o = cJSON_CreateObject();
  char cmd[1024], status[128];
  cJSON_AddStringToObject(o, "Id", k->id);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "Names"), cJSON_CreateString(k->name));
  cJSON_AddStringToObject(o, "Image", k->image);
  cJSON_AddStringToObject(o, "ImageID", k->image_id);
  command_text(k->args, cmd, sizeof cmd);
  cJSON_AddStringToObject(o, "Command", cmd);
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  strptime(k->created, "%Y-%m-%dT%H:%M:%S", &tm);
  cJSON_AddNumberToObject(o, "Created", (double)timegm(&tm));
  cJSON_AddItemToObject(o, "Ports", dkd_ports_json(k, true));
  const cJSON *labels = cJSON_GetObjectItem(k->config, "Labels");
  cJSON_AddItemToObject(
      o, "Labels", cJSON_IsObject(labels) ? cJSON_Duplicate(labels, true) : cJSON_CreateObject());
  cJSON_AddStringToObject(o, "State", dkd_state_name(k->state));
  dkd_status_text(k, status, sizeof status);
  cJSON_AddStringToObject(o, "Status", status);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "HostConfig"), "NetworkMode", network_mode(k));
  cJSON_AddItemToObject(o, "NetworkSettings", dkd_network_settings(d, k));
  cJSON_AddArrayToObject(o, "Mounts");
  return o;
}

void
dkd_h_containers_list(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  bool all = httpd_query_bool(req, "all");
  const char *lim = httpd_query(req, "limit");
  long limit = lim ? strtol(lim, NULL, 10) : -1;
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&d->lock);
  /* Newest first, as dockerd lists them: our list is newest-first already. */
  for (dkd_container *k = d->containers; k; k = k->next) {
    if (k->removed || k->creating)
      continue;
    if (!all && limit <= 0 && k->state != DKD_RUNNING && k->state != DKD_PAUSED)
      continue;
    if (limit > 0 && cJSON_GetArraySize(a) >= limit)
      break;
    cJSON_AddItemToArray(a, summary(d, k));
  }
  pthread_mutex_unlock(&d->lock);
  httpd_reply_json(req, 200, a);
}

static cJSON *
state_json(const dkd_container *k)
{
  cJSON *st = cJSON_CreateObject();
  cJSON_AddStringToObject(st, "Status", dkd_state_name(k->state));
  cJSON_AddBoolToObject(st, "Running", k->state == DKD_RUNNING || k->state == DKD_PAUSED);
  cJSON_AddBoolToObject(st, "Paused", k->state == DKD_PAUSED);
  cJSON_AddBoolToObject(st, "Restarting", false);
  cJSON_AddBoolToObject(st, "OOMKilled", k->oom_killed);
  cJSON_AddBoolToObject(st, "Dead", k->state == DKD_DEAD);
  cJSON_AddNumberToObject(st, "Pid",
                          k->state == DKD_RUNNING || k->state == DKD_PAUSED ? k->pid : 0);
  cJSON_AddNumberToObject(st, "ExitCode", k->exit_code);
  cJSON_AddStringToObject(st, "Error", k->error);
  cJSON_AddStringToObject(st, "StartedAt", *k->started_at ? k->started_at : "0001-01-01T00:00:00Z");
  cJSON_AddStringToObject(st, "FinishedAt",
                          *k->finished_at ? k->finished_at : "0001-01-01T00:00:00Z");
  return st;
}

void
dkd_h_containers_inspect(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "Id", k->id);
  cJSON_AddStringToObject(o, "Created", k->created);
  const cJSON *a0 = cJSON_GetArrayItem(k->args, 0);
  cJSON_AddStringToObject(o, "Path", cJSON_IsString(a0) ? a0->valuestring : "");
  cJSON *args = cJSON_AddArrayToObject(o, "Args");
  for (const cJSON *it = a0 ? a0->next : NULL; it; it = it->next)
    cJSON_AddItemToArray(args, cJSON_Duplicate(it, true));
  cJSON_AddItemToObject(o, "State", state_json(k));
  cJSON_AddStringToObject(o, "Image", k->image_id);
  cJSON_AddStringToObject(o, "LogPath", k->log_path);
  cJSON_AddStringToObject(o, "Name", k->name);
  cJSON_AddNumberToObject(o, "RestartCount", k->restart_count);
  cJSON_AddStringToObject(o, "Driver", "overlayfs");
  cJSON_AddStringToObject(o, "Platform", "linux");
  cJSON_AddItemToObject(o, "HostConfig", cJSON_Duplicate(k->host_config, true));
  cJSON_AddArrayToObject(o, "Mounts");
  cJSON_AddItemToObject(o, "Config", cJSON_Duplicate(k->config, true));
  cJSON_AddItemToObject(o, "NetworkSettings", dkd_network_settings(d, k));
  pthread_mutex_unlock(&d->lock);
  httpd_reply_json(req, 200, o);
}

/* ---- remove ---- */

int
dkd_container_destroy(dkd *d, dkd_container *k, cut_err *err)
{
  char path[200];
  cut_err e;
  if (k->has_task) {
    snprintf(path, sizeof path, "/v1/containers/%s/task", k->id);
    dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &e);
    k->has_task = false;
  }
  snprintf(path, sizeof path, "/v1/containers/%s", k->id);
  long st = 0;
  if (dkd_ctd(d, "DELETE", path, NULL, &st, NULL, err) < 0 && st != 404)
    return -1;
  dkd_network_teardown(d, k);
  if (!k->stdio.relaying)
    dkd_stdio_close_attachers(d, &k->stdio, NULL);
  dkd_stdio_close(&k->stdio);
  char dir[DKD_DIR_MAX + 128];
  record_dir(d, k->id, dir, sizeof dir);
  if (cut_rm_rf(dir, err) < 0)
    return -1;
  dkd_event(d, "container", "destroy", k->id, k->name, k->image, NULL);
  return 0;
}

void
dkd_h_containers_delete(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  bool force = httpd_query_bool(req, "force");
  pthread_mutex_lock(&d->lock);
  dkd_container *k = dkd_container_req(d, req);
  if (k == NULL) {
    pthread_mutex_unlock(&d->lock);
    return;
  }
  if (k->removing || k->starting) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_error(req, 409, "container %s is %s", httpd_param(req, "id"),
                      k->removing ? "already being removed" : "starting: try again");
    return;
  }
  bool running = k->state == DKD_RUNNING || k->state == DKD_PAUSED;
  if (running && !force) {
    pthread_mutex_unlock(&d->lock);
    httpd_reply_error(req, 409,
                      "You cannot remove a running container %s. Stop the container before "
                      "attempting removal or force remove",
                      k->id);
    return;
  }
  k->removing = true;
  pthread_mutex_unlock(&d->lock);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "container.Delete", TA_STR("id", k->id),
              TA_BOOL("force", force));
  cut_err err;
  int r = running ? dkd_container_stop(d, k, 9, 10, &err) : 0;
  if (r == 0)
    r = dkd_container_destroy(d, k, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  pthread_mutex_lock(&d->lock);
  k->removing = false;
  if (r == 0)
    dkd_container_removed(d, k);
  pthread_cond_broadcast(&d->changed);
  pthread_mutex_unlock(&d->lock);
  if (r < 0) {
    dkd_reply_err(req, 500, &err);
    return;
  }
  httpd_reply_raw(req, 204, NULL, "", 0);
}

/* ---- after a crash ---- */

static bool
known(dkd *d, const char *id)
{
  for (dkd_container *k = d->containers; k; k = k->next)
    if (strcmp(k->id, id) == 0)
      return true;
  return false;
}

/* containerd containers this daemon labelled but has no record of: a create
 * killed between containerd's create and our record.  Their tasks, snapshots
 * and containers go. */
static void
reconcile_containerd(dkd *d)
{
  cJSON *list = NULL;
  cut_err err;
  if (dkd_ctd(d, "GET", "/v1/containers", NULL, NULL, &list, &err) < 0) {
    fprintf(stderr, "cutawayd: cannot list containerd's containers: %s\n", err.msg);
    return;
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "containers"))
  {
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(it, "id"));
    const char *owner = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(it, "labels"), DKD_OWNER_LABEL));
    if (id == NULL || owner == NULL || strcmp(owner, d->root) != 0 || known(d, id))
      continue;
    char path[200];
    snprintf(path, sizeof path, "/v1/containers/%s/task", id);
    dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &err);
    snprintf(path, sizeof path, "/v1/containers/%s", id);
    if (dkd_ctd(d, "DELETE", path, NULL, NULL, NULL, &err) == 0)
      fprintf(stderr, "cutawayd: removed half-created container %.12s\n", id);
  }
  cJSON_Delete(list);
}

/* Network namespaces (and their veths, named after the id as
 * dkd_networks.c names them) and FIFO directories of containers we have no
 * record of. */
static void
reconcile_dir(dkd *d, const char *sub, bool netns)
{
  char dir[DKD_DIR_MAX + 16];
  snprintf(dir, sizeof dir, "%s/%s", d->exec_root, sub);
  DIR *dp = opendir(dir);
  struct dirent *de;
  while (dp && (de = readdir(dp)) != NULL) {
    if (de->d_name[0] == '.' || known(d, de->d_name))
      continue;
    /* An exec's FIFOs are named by the exec id: none survive a restart. */
    char path[DKD_DIR_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    cut_err err;
    char veth[16];
    snprintf(veth, sizeof veth, "veth%.8s", de->d_name);
    if (netns)
      dkd_net_detach(veth, &err);
    if (netns ? dkd_net_netns_delete(path, &err) : cut_rm_rf(path, &err))
      fprintf(stderr, "cutawayd: remove %s: %s\n", path, err.msg);
  }
  if (dp)
    closedir(dp);
}

void
dkd_reconcile(dkd *d)
{
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "dockerd.Reconcile");
  reconcile_containerd(d);
  reconcile_dir(d, "netns", true);
  reconcile_dir(d, "fifos", false);
  trace_end(&sp, NULL);
}
