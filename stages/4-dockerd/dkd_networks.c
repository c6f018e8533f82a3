/* dkd_networks.c: Docker's three built-in networks and a container's place
 * in them (dockerd's libnetwork with the bridge, host and null drivers).
 *
 *   bridge (NetworkMode "default"/"bridge"): a network namespace of the
 *          container's own (EXEC_ROOT/netns/<id>), a veth pair whose host
 *          end is on the daemon's bridge (--bridge, cutaway0) and whose
 *          other end is the container's eth0 with the next free address of
 *          --bip's subnet and a default route via the bridge (dkd_net.c does
 *          the netlink); containerd is told to join that namespace
 *   host:  no network namespace (containerd's host_network)
 *   none:  a namespace with only lo (containerd's default)
 *   container:<name>: the namespace of another running container
 *
 * Simplified: the address is taken at create and kept until the container is
 * removed (dockerd takes it at start and gives it back at stop); there is no
 * NAT and no port publishing, and user-defined networks are refused. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dkd.h"
#include "dkd_net.h"
#include "fileutil.h"
#include "fnv.h"
#include "trace.h"

/* IPAM and the bridge: one container at a time. */
static pthread_mutex_t net_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *
mode_of(const dkd_container *k)
{
  const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(k->host_config, "NetworkMode"));
  return m && *m ? m : "default";
}

static bool
is_bridge_mode(const char *m)
{
  return strcmp(m, "default") == 0 || strcmp(m, "bridge") == 0;
}

/* "172.30.0.1/16" -> "172.30.0.0/16" and "172.30.0.1", 16. */
static int
bridge_subnet(const dkd *d, char *subnet, size_t slen, char *gw, size_t glen, int *prefix,
              cut_err *err)
{
  unsigned addr;
  if (dkd_net_parse_cidr(d->bridge_cidr, &addr, prefix, err) < 0)
    return -1;
  unsigned mask = *prefix ? ~0u << (32 - *prefix) : 0, net = addr & mask;
  snprintf(subnet, slen, "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
           net & 255, *prefix);
  snprintf(gw, glen, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
  return 0;
}

/* The addresses in use on the bridge (d->lock held). */
static size_t
used_addresses(dkd *d, const char **used, size_t max)
{
  size_t n = 0;
  for (dkd_container *k = d->containers; k && n < max; k = k->next)
    if (!k->removed && k->ip[0])
      used[n++] = k->ip;
  return n;
}

static int
join_bridge(dkd *d, dkd_container *k, cut_err *err)
{
  char subnet[40], gw[20], cidr[40];
  int prefix;
  if (bridge_subnet(d, subnet, sizeof subnet, gw, sizeof gw, &prefix, err) < 0)
    return -1;
  snprintf(k->netns, sizeof k->netns, "%s/netns/%s", d->exec_root, k->id);
  snprintf(k->veth, sizeof k->veth, "veth%.8s", k->id);
  char dir[DKD_DIR_MAX + 16];
  snprintf(dir, sizeof dir, "%s/netns", d->exec_root);
  if (cut_mkdir_p(dir, 0700, err) < 0)
    return -1;
  pthread_mutex_lock(&net_lock);
  const char *used[1024];
  pthread_mutex_lock(&d->lock);
  size_t n = used_addresses(d, used, 1024);
  char ip[20];
  int r = dkd_net_ipam_next(subnet, used, n, ip, sizeof ip, err);
  if (r == 0)
    snprintf(k->ip, sizeof k->ip, "%s", ip); /* taken: the next create skips it */
  pthread_mutex_unlock(&d->lock);
  snprintf(cidr, sizeof cidr, "%s/%d", ip, prefix);
  if (r == 0)
    r = dkd_net_bridge_ensure(d->bridge, d->bridge_cidr, err);
  if (r == 0)
    r = dkd_net_netns_create(k->netns, err);
  if (r == 0 && dkd_net_attach(d->bridge, k->netns, k->veth, cidr, gw, NULL, err) < 0) {
    cut_err e;
    dkd_net_netns_delete(k->netns, &e);
    r = -1;
  }
  pthread_mutex_unlock(&net_lock);
  if (r < 0)
    k->netns[0] = k->veth[0] = k->ip[0] = '\0';
  return r;
}

/* container:<name>: the namespace of that container's process. */
static int
join_container(dkd *d, const char *ref, cJSON *opts, cut_err *err)
{
  pthread_mutex_lock(&d->lock);
  dkd_container *o = dkd_container_find(d, ref, NULL);
  int pid = o && o->state == DKD_RUNNING ? o->pid : 0;
  pthread_mutex_unlock(&d->lock);
  if (pid <= 0)
    return cut_error(err, o ? EINVAL : ENOENT, "network container:%s: %s", ref,
                     o ? "the container is not running" : "no such container");
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  cJSON_AddStringToObject(opts, "netns", path);
  return 0;
}

int
dkd_network_setup(dkd *d, dkd_container *k, cJSON *opts, cut_err *err)
{
  const char *m = mode_of(k);
  if (strcmp(m, "host") == 0) {
    cJSON_AddBoolToObject(opts, "host_network", true);
    return 0;
  }
  if (strcmp(m, "none") == 0 || (is_bridge_mode(m) && d->bridge[0] == '\0'))
    return 0;
  if (strncmp(m, "container:", 10) == 0)
    return join_container(d, m + 10, opts, err);
  if (!is_bridge_mode(m))
    return cut_error(err, ENOENT, "network %s not found", m);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.Join", TA_STR("network", "bridge"),
              TA_STR("bridge", d->bridge), TA_STR("container", k->id));
  int r = join_bridge(d, k, err);
  trace_end(&sp, r < 0 ? err : NULL, TA_STR("ip", k->ip), TA_STR("veth", k->veth));
  if (r == 0)
    cJSON_AddStringToObject(opts, "netns", k->netns);
  return r < 0 ? cut_wrap(err, "bridge network") : 0;
}

void
dkd_network_teardown(dkd *d, dkd_container *k)
{
  if (k->netns[0] == '\0')
    return;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.Leave", TA_STR("veth", k->veth),
              TA_STR("container", k->id));
  cut_err err;
  int r = dkd_net_detach(k->veth, &err);
  if (r == 0)
    r = dkd_net_netns_delete(k->netns, &err);
  trace_end(&sp, r < 0 ? &err : NULL);
  pthread_mutex_lock(&d->lock);
  k->netns[0] = k->veth[0] = k->ip[0] = '\0';
  pthread_mutex_unlock(&d->lock);
}

/* A stable 64-hex id per built-in network name. */
static void
network_id(const char *name, char out[65])
{
  uint64_t h = cut_fnv1a(CUT_FNV_START, name, strlen(name));
  for (int i = 0; i < 4; i++, h = h * 6364136223846793005ULL + 1442695040888963407ULL)
    snprintf(out + 16 * i, 17, "%016llx", (unsigned long long)h);
}

cJSON *
dkd_network_settings(dkd *d, const dkd_container *k)
{
  cJSON *ns = cJSON_CreateObject(), *nets = cJSON_CreateObject();
  const char *m = mode_of(k);
  const char *name = is_bridge_mode(m) ? (d->bridge[0] ? "bridge" : "none") : m;
  cJSON *ep = cJSON_CreateObject();
  char id[65], gw[20] = "", subnet[40];
  int prefix = 0;
  network_id(name, id);
  cut_err err;
  if (k->ip[0])
    bridge_subnet(d, subnet, sizeof subnet, gw, sizeof gw, &prefix, &err);
  char mac[DKD_NET_MAC_LEN] = "";
  if (k->ip[0])
    dkd_net_mac_from_ip(k->ip, mac, &err);
  cJSON_AddStringToObject(ep, "NetworkID", id);
  cJSON_AddStringToObject(ep, "IPAddress", k->ip);
  cJSON_AddNumberToObject(ep, "IPPrefixLen", prefix);
  cJSON_AddStringToObject(ep, "Gateway", gw);
  cJSON_AddStringToObject(ep, "MacAddress", mac);
  cJSON_AddItemToObject(nets, name, ep);
  cJSON_AddItemToObject(ns, "Networks", nets);
  cJSON_AddStringToObject(ns, "Bridge", k->ip[0] ? d->bridge : "");
  cJSON_AddStringToObject(ns, "SandboxKey", k->netns);
  cJSON_AddStringToObject(ns, "IPAddress", k->ip);
  cJSON_AddNumberToObject(ns, "IPPrefixLen", prefix);
  cJSON_AddStringToObject(ns, "Gateway", gw);
  cJSON_AddStringToObject(ns, "MacAddress", mac);
  cJSON_AddItemToObject(ns, "Ports", dkd_ports_json(k, false));
  return ns;
}

/* ---- /networks ---- */

static cJSON *
network_json(dkd *d, const char *name, bool with_containers)
{
  cJSON *o = cJSON_CreateObject();
  char id[65];
  network_id(name, id);
  const char *driver = strcmp(name, "none") == 0 ? "null" : name;
  cJSON_AddStringToObject(o, "Name", name);
  cJSON_AddStringToObject(o, "Id", id);
  cJSON_AddStringToObject(o, "Created", "0001-01-01T00:00:00Z");
  cJSON_AddStringToObject(o, "Scope", "local");
  cJSON_AddStringToObject(o, "Driver", driver);
  cJSON_AddBoolToObject(o, "EnableIPv6", false);
  cJSON *ipam = cJSON_AddObjectToObject(o, "IPAM");
  cJSON_AddStringToObject(ipam, "Driver", "default");
  cJSON *cfg = cJSON_AddArrayToObject(ipam, "Config");
  if (strcmp(name, "bridge") == 0) {
    char subnet[40], gw[20];
    int prefix;
    cut_err err;
    if (bridge_subnet(d, subnet, sizeof subnet, gw, sizeof gw, &prefix, &err) == 0) {
      cJSON *c = cJSON_CreateObject();
      cJSON_AddStringToObject(c, "Subnet", subnet);
      cJSON_AddStringToObject(c, "Gateway", gw);
      cJSON_AddItemToArray(cfg, c);
    }
  }
  cJSON_AddBoolToObject(o, "Internal", false);
  cJSON_AddBoolToObject(o, "Attachable", false);
  cJSON_AddBoolToObject(o, "Ingress", false);
  cJSON_AddBoolToObject(o, "ConfigOnly", false);
  cJSON *cs = cJSON_AddObjectToObject(o, "Containers");
  if (with_containers && strcmp(name, "bridge") == 0) {
    pthread_mutex_lock(&d->lock);
    for (dkd_container *k = d->containers; k; k = k->next) {
      if (k->removed || k->ip[0] == '\0')
        continue;
      cJSON *c = cJSON_CreateObject();
      cJSON_AddStringToObject(c, "Name", k->name + 1);
      char a[40], subnet[40], gw[20];
      int prefix = 0;
      cut_err err;
      bridge_subnet(d, subnet, sizeof subnet, gw, sizeof gw, &prefix, &err);
      snprintf(a, sizeof a, "%s/%d", k->ip, prefix);
      cJSON_AddStringToObject(c, "IPv4Address", a);
      cJSON_AddItemToObject(cs, k->id, c);
    }
    pthread_mutex_unlock(&d->lock);
  }
  cJSON *opts = cJSON_AddObjectToObject(o, "Options");
  if (strcmp(name, "bridge") == 0)
    cJSON_AddStringToObject(opts, "com.docker.network.bridge.name", d->bridge);
  cJSON_AddObjectToObject(o, "Labels");
  return o;
}

static const char *
builtin_named(dkd *d, const char *ref)
{
  const char *names[] = {"bridge", "host", "none"};
  for (int i = 0; i < 3; i++) {
    if (i == 0 && d->bridge[0] == '\0')
      continue;
    char id[65];
    network_id(names[i], id);
    if (strcmp(ref, names[i]) == 0 || (strlen(ref) >= 3 && strncmp(id, ref, strlen(ref)) == 0))
      return names[i];
  }
  return NULL;
}

void
dkd_h_networks_list(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  cJSON *a = cJSON_CreateArray();
  const char *names[] = {"bridge", "host", "none"};
  for (int i = 0; i < 3; i++)
    if (i > 0 || d->bridge[0])
      cJSON_AddItemToArray(a, network_json(d, names[i], false));
  httpd_reply_json(req, 200, a);
}

void
dkd_h_networks_inspect(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = builtin_named(d, httpd_param(req, "id"));
  if (name == NULL) {
    httpd_reply_error(req, 404, "network %s not found", httpd_param(req, "id"));
    return;
  }
  httpd_reply_json(req, 200, network_json(d, name, true));
}

void
dkd_h_networks_create(httpd_req *req, void *ctx)
{
  httpd_reply_error(req, 400,
                    "user-defined networks are not supported by cutawayd (bridge, host and none "
                    "are built in)");
}

void
dkd_h_networks_delete(httpd_req *req, void *ctx)
{
  dkd *d = ctx;
  const char *name = builtin_named(d, httpd_param(req, "id"));
  if (name)
    httpd_reply_error(req, 403, "%s is a pre-defined network and cannot be removed", name);
  else
    httpd_reply_error(req, 404, "network %s not found", httpd_param(req, "id"));
}
