/* dkd_api.c: the Docker Engine API's route table, and the endpoints that
 * describe the daemon: /_ping, /version, /info.
 *
 * The real docker CLI starts every command with `HEAD /_ping` and reads the
 * `Api-Version` header of the reply: it then speaks min(its own, ours),
 * so we advertise 1.41 (dockerd 20.10) and serve "/v1.41/..." as well as
 * unversioned paths (httpd's strip_api_version).  Every reply carries the
 * headers dockerd adds (Api-Version, Ostype, Docker-Experimental, Server).
 * See /work/shared/reference/docker-api-minimum.md for what the CLI reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dkd.h"
#include "fileutil.h"
#include "json.h"

#define DKD_SERVER "cutawayd/0.4 (linux)"

/* A version above ours is refused, as dockerd does. */
static bool
version_too_new(httpd_req *req)
{
  unsigned maj = 0, min = 0;
  const char *v = httpd_api_version(req);
  if (*v == '\0' || sscanf(v, "%u.%u", &maj, &min) != 2 || maj < 1 || (maj == 1 && min <= 41))
    return false;
  httpd_reply_error(
      req, 400, "client version %s is too new. Maximum supported API version is " DKD_API_VERSION,
      v);
  return true;
}

void
dkd_h_ping(httpd_req *req, void *ctx)
{
  httpd_reply_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
  httpd_reply_header(req, "Pragma", "no-cache");
  httpd_reply_raw(req, 200, "text/plain; charset=utf-8", "OK", 2);
}

static void
kernel_version(char *out, size_t len)
{
  struct utsname u;
  if (uname(&u) == 0)
    snprintf(out, len, "%s", u.release);
  else
    snprintf(out, len, "unknown");
}

void
dkd_h_version(httpd_req *req, void *ctx)
{
  if (version_too_new(req))
    return;
  char kv[128];
  kernel_version(kv, sizeof kv);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "Platform", cJSON_CreateObject());
  cJSON_AddStringToObject(cJSON_GetObjectItem(o, "Platform"), "Name", "cutaway");
  cJSON *comps = cJSON_AddArrayToObject(o, "Components");
  const char *names[] = {"Engine", "containerd", "runc"};
  const char *versions[] = {"0.4-cutawayd", "0.4-cutaway-containerd", "0.4-cutaway-runc"};
  for (int i = 0; i < 3; i++) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "Name", names[i]);
    cJSON_AddStringToObject(c, "Version", versions[i]);
    cJSON *det = cJSON_AddObjectToObject(c, "Details");
    if (i == 0) {
      cJSON_AddStringToObject(det, "ApiVersion", DKD_API_VERSION);
      cJSON_AddStringToObject(det, "MinAPIVersion", DKD_MIN_API_VERSION);
      cJSON_AddStringToObject(det, "Os", "linux");
      cJSON_AddStringToObject(det, "KernelVersion", kv);
    }
    cJSON_AddItemToArray(comps, c);
  }
  cJSON_AddStringToObject(o, "Version", "0.4-cutawayd");
  cJSON_AddStringToObject(o, "ApiVersion", DKD_API_VERSION);
  cJSON_AddStringToObject(o, "MinAPIVersion", DKD_MIN_API_VERSION);
  cJSON_AddStringToObject(o, "GitCommit", "cutaway");
  cJSON_AddStringToObject(o, "GoVersion", "none (C)");
  cJSON_AddStringToObject(o, "Os", "linux");
  cJSON_AddStringToObject(o, "Arch", "amd64");
  cJSON_AddStringToObject(o, "KernelVersion", kv);
  cJSON_AddStringToObject(o, "BuildTime", __DATE__);
  httpd_reply_json(req, 200, o);
}

static void
os_pretty_name(char *out, size_t len)
{
  char *text = NULL;
  size_t n;
  snprintf(out, len, "Linux");
  if (cut_read_file("/etc/os-release", 1 << 16, &text, &n, NULL) < 0)
    return;
  const char *p = strstr(text, "PRETTY_NAME=\"");
  if (p) {
    p += 13;
    snprintf(out, len, "%.*s", (int)strcspn(p, "\"\n"), p);
  }
  free(text);
}

static int
cgroup_version(void)
{
  return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? 2 : 1;
}

static void
add_counts(dkd *d, cJSON *o)
{
  int all = 0, running = 0, paused = 0, stopped = 0;
  pthread_mutex_lock(&d->lock);
  for (dkd_container *k = d->containers; k; k = k->next) {
    if (k->removed || k->creating)
      continue;
    all++;
    running += k->state == DKD_RUNNING;
    paused += k->state == DKD_PAUSED;
    stopped += k->state != DKD_RUNNING && k->state != DKD_PAUSED;
  }
  pthread_mutex_unlock(&d->lock);
  cJSON_AddNumberToObject(o, "Containers", all);
  cJSON_AddNumberToObject(o, "ContainersRunning", running);
  cJSON_AddNumberToObject(o, "ContainersPaused", paused);
  cJSON_AddNumberToObject(o, "ContainersStopped", stopped);
  cJSON *imgs = NULL;
  cut_err err;
  int n = 0;
  if (dkd_ctd(d, "GET", "/v1/images", NULL, NULL, &imgs, &err) == 0)
    n = cJSON_GetArraySize(cJSON_GetObjectItem(imgs, "images"));
  cJSON_Delete(imgs);
  cJSON_AddNumberToObject(o, "Images", n);
}

void
dkd_h_info(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *o = cJSON_CreateObject();
  char host[256] = "cutaway", kv[128], osn[128];
  gethostname(host, sizeof host);
  kernel_version(kv, sizeof kv);
  os_pretty_name(osn, sizeof osn);
  cJSON_AddStringToObject(o, "ID", "cutawayd");
  add_counts(d, o);
  cJSON_AddStringToObject(o, "Driver", "overlayfs");
  cJSON *ds = cJSON_AddArrayToObject(o, "DriverStatus");
  cJSON *pair = cJSON_CreateArray();
  cJSON_AddItemToArray(pair, cJSON_CreateString("Snapshotter"));
  cJSON_AddItemToArray(pair, cJSON_CreateString("cutaway-containerd overlayfs"));
  cJSON_AddItemToArray(ds, pair);
  cJSON_AddStringToObject(o, "LoggingDriver", "json-file");
  cJSON_AddStringToObject(o, "CgroupDriver", "cgroupfs");
  cJSON_AddStringToObject(o, "CgroupVersion", cgroup_version() == 2 ? "2" : "1");
  cJSON *plugins = cJSON_AddObjectToObject(o, "Plugins");
  cJSON *vol = cJSON_AddArrayToObject(plugins, "Volume");
  cJSON_AddItemToArray(vol, cJSON_CreateString("local"));
  cJSON *net = cJSON_AddArrayToObject(plugins, "Network");
  const char *nets[] = {"bridge", "host", "null"};
  for (int i = 0; i < 3; i++)
    cJSON_AddItemToArray(net, cJSON_CreateString(nets[i]));
  cJSON_AddItemToArray(cJSON_AddArrayToObject(plugins, "Log"), cJSON_CreateString("json-file"));
  cJSON *swarm = cJSON_AddObjectToObject(o, "Swarm");
  cJSON_AddStringToObject(swarm, "LocalNodeState", "inactive");
  cJSON_AddBoolToObject(swarm, "ControlAvailable", false);
  cJSON *rts = cJSON_AddObjectToObject(o, "Runtimes");
  cJSON_AddStringToObject(cJSON_AddObjectToObject(rts, "cutaway-runc"), "path", "cutaway-runc");
  cJSON_AddStringToObject(o, "DefaultRuntime", "cutaway-runc");
  cJSON *sec = cJSON_AddArrayToObject(o, "SecurityOptions");
  cJSON_AddItemToArray(sec, cJSON_CreateString("name=seccomp,profile=default"));
  cJSON_AddStringToObject(o, "KernelVersion", kv);
  cJSON_AddStringToObject(o, "OperatingSystem", osn);
  cJSON_AddStringToObject(o, "OSType", "linux");
  cJSON_AddStringToObject(o, "Architecture", "x86_64");
  cJSON_AddNumberToObject(o, "NCPU", get_nprocs());
  struct sysinfo si;
  if (sysinfo(&si) == 0)
    cJSON_AddNumberToObject(o, "MemTotal", (double)si.totalram * si.mem_unit);
  cJSON_AddStringToObject(o, "Name", host);
  cJSON_AddStringToObject(o, "DockerRootDir", d->root);
  cJSON_AddStringToObject(o, "ServerVersion", "0.4-cutawayd");
  cJSON *rc = cJSON_AddObjectToObject(o, "RegistryConfig");
  cJSON *cidrs = cJSON_AddArrayToObject(rc, "InsecureRegistryCIDRs");
  cJSON_AddItemToArray(cidrs, cJSON_CreateString("127.0.0.0/8"));
  cJSON_AddObjectToObject(rc, "IndexConfigs");
  cJSON_AddArrayToObject(rc, "Mirrors");
  cJSON_AddBoolToObject(o, "LiveRestoreEnabled", true);
  cJSON_AddBoolToObject(o, "ExperimentalBuild", false);
  cJSON_AddArrayToObject(o, "Warnings");
  httpd_reply_json(req, 200, o);
}

/* GET /images/{name*} is inspect only when it ends in /json. */
static void
h_images_get(httpd_req *req, void *ctx)
{
  const char *name = httpd_param(req, "name");
  size_t n = name ? strlen(name) : 0;
  if (n > 5 && strcmp(name + n - 5, "/json") == 0)
    dkd_h_images_inspect(req, ctx);
  else
    httpd_reply_error(req, 404, "page not found");
}

static const httpd_route routes[] = {
    {"HEAD", "/_ping", dkd_h_ping},
    {"GET", "/_ping", dkd_h_ping},
    {"GET", "/version", dkd_h_version},
    {"GET", "/info", dkd_h_info},
    {"GET", "/events", dkd_h_events},
    {"POST", "/auth", dkd_h_auth},
    {"GET", "/images/json", dkd_h_images_list},
    {"POST", "/images/create", dkd_h_images_create},
    {"GET", "/images/{name*}", h_images_get},
    {"DELETE", "/images/{name*}", dkd_h_images_delete},
    {"POST", "/containers/create", dkd_h_containers_create},
    {"GET", "/containers/json", dkd_h_containers_list},
    {"GET", "/containers/{id}/json", dkd_h_containers_inspect},
    {"DELETE", "/containers/{id}", dkd_h_containers_delete},
    {"POST", "/containers/{id}/start", dkd_h_containers_start},
    {"POST", "/containers/{id}/stop", dkd_h_containers_stop},
    {"POST", "/containers/{id}/restart", dkd_h_containers_restart},
    {"POST", "/containers/{id}/kill", dkd_h_containers_kill},
    {"POST", "/containers/{id}/wait", dkd_h_containers_wait},
    {"POST", "/containers/{id}/attach", dkd_h_containers_attach},
    {"POST", "/containers/{id}/resize", dkd_h_containers_resize},
    {"POST", "/containers/{id}/pause", dkd_h_containers_pause},
    {"POST", "/containers/{id}/unpause", dkd_h_containers_unpause},
    {"GET", "/containers/{id}/top", dkd_h_containers_top},
    {"GET", "/containers/{id}/stats", dkd_h_containers_stats},
    {"GET", "/containers/{id}/logs", dkd_h_containers_logs},
    {"POST", "/containers/{id}/exec", dkd_h_exec_create},
    {"POST", "/exec/{id}/start", dkd_h_exec_start},
    {"POST", "/exec/{id}/resize", dkd_h_exec_resize},
    {"GET", "/exec/{id}/json", dkd_h_exec_inspect},
    {"GET", "/volumes", dkd_h_volumes_list},
    {"POST", "/volumes/create", dkd_h_volumes_create},
    {"GET", "/volumes/{name}", dkd_h_volumes_inspect},
    {"DELETE", "/volumes/{name}", dkd_h_volumes_delete},
    {"GET", "/networks", dkd_h_networks_list},
    {"POST", "/networks/create", dkd_h_networks_create},
    {"GET", "/networks/{id}", dkd_h_networks_inspect},
    {"DELETE", "/networks/{id}", dkd_h_networks_delete},
};

/* Docker's "page not found" for anything else (the CLI's type-less inspect
 * needs a 404 from every object kind it tries). */
static void
not_found(httpd_req *req, void *ctx)
{
  httpd_reply_error(req, 404, "page not found");
}

int
dkd_serve(dkd *d, cut_err *err)
{
  static const char *const headers[] = {"Api-Version", DKD_API_VERSION, "Docker-Experimental",
                                        "false",       "Ostype",        "linux",
                                        "Server",      DKD_SERVER,      NULL};
  httpd_opts o = {.socket_path = d->host,
                  .routes = routes,
                  .nroutes = sizeof routes / sizeof routes[0],
                  .ctx = d,
                  .max_body = 4 << 20,
                  .not_found = not_found,
                  .allow_upgrade = true,
                  .strip_api_version = true,
                  .default_headers = headers};
  return httpd_start(&o, &d->srv, err);
}
