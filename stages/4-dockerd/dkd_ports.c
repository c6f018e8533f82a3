/* dkd_ports.c: published ports (`docker run -p 8080:80`), the way dockerd's
 * userland proxy (docker-proxy) carries them.
 *
 * dockerd publishes a port twice: an iptables DNAT rule rewrites packets
 * for HOST:8080 to CONTAINER:80, and, for the cases NAT cannot serve
 * (connections from the host itself to 127.0.0.1), a docker-proxy process
 * listens on HOST:8080 and copies each connection to CONTAINER:80.
 * cutawayd does only the second, in threads of its own: one listening
 * socket per binding, and per accepted connection a thread that connects to
 * the container's bridge address and copies bytes both ways until either
 * side is done.  No NAT rule is needed (nor libnftnl), at the price of the
 * proxy's copies and of the container seeing connections come from the
 * bridge's address, not the client's (as with docker-proxy).
 *
 * Ports are bound when the container starts and released when it stops, as
 * dockerd does; TCP only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dkd.h"
#include "thread.h"
#include "trace.h"

struct dkd_port {
  char host_ip[64];
  int host_port; /* the bound port (chosen by the kernel when 0 was asked) */
  int container_port;
  int listen_fd;
  char container_ip[20];
  pthread_t thread;
  struct dkd_port *next;
};

/* "80/tcp" -> 80; -1 for another protocol or a bad number. */
static int
parse_port_key(const char *key, cut_err *err)
{
  char *end;
  long p = strtol(key, &end, 10);
  if (end == key || p < 1 || p > 65535 || (*end && strcmp(end, "/tcp") != 0))
    return cut_error(err, EINVAL, "port %s: only TCP ports 1-65535 can be published", key);
  return (int)p;
}

int
dkd_ports_check(const cJSON *hc, const char *mode, cut_err *err)
{
  const cJSON *pb = cJSON_GetObjectItem(hc, "PortBindings"), *it;
  if (!cJSON_IsObject(pb) || pb->child == NULL)
    return 0;
  if (strcmp(mode, "default") != 0 && strcmp(mode, "bridge") != 0)
    return cut_error(err, EINVAL, "port publishing needs the bridge network (not --network %s)",
                     mode);
  cJSON_ArrayForEach(it, pb)
  {
    if (parse_port_key(it->string, err) < 0)
      return -1;
    const cJSON *b;
    cJSON_ArrayForEach(b, it)
    {
      const char *hp = cJSON_GetStringValue(cJSON_GetObjectItem(b, "HostPort"));
      const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(b, "HostIp"));
      struct in_addr a;
      char *end;
      long p = hp && *hp ? strtol(hp, &end, 10) : 0;
      if (hp && *hp && (*end || p < 0 || p > 65535))
        return cut_error(err, EINVAL, "host port \"%s\": not a port number", hp);
      if (ip && *ip && inet_pton(AF_INET, ip, &a) != 1)
        return cut_error(err, EINVAL, "host address \"%s\": only IPv4 addresses", ip);
    }
  }
  return 0;
}

/* ---- the proxy ---- */

struct conn_pair {
  int client, upstream;
};

/* Copy both ways until both directions are done; a half-close is passed on
 * (shutdown(SHUT_WR)), as a TCP proxy must for protocols that rely on it. */
static void *
copy_thread(void *arg)
{
  struct conn_pair *c = arg;
  int fds[2] = {c->client, c->upstream};
  bool open_[2] = {true, true};
  char buf[32 * 1024];
  while (open_[0] || open_[1]) {
    struct pollfd p[2] = {{.fd = open_[0] ? fds[0] : -1, .events = POLLIN},
                          {.fd = open_[1] ? fds[1] : -1, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = recv(fds[i], buf, sizeof buf, 0);
      if (n <= 0) {
        open_[i] = false;
        shutdown(fds[1 - i], SHUT_WR);
        continue;
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = send(fds[1 - i], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          open_[0] = open_[1] = false;
          break;
        }
        off += w;
      }
    }
  }
  close(c->client);
  close(c->upstream);
  free(c);
  return NULL;
}

static int
connect_container(const struct dkd_port *pt)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pt->container_port)};
  inet_pton(AF_INET, pt->container_ip, &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static void *
accept_thread(void *arg)
{
  struct dkd_port *pt = arg;
  for (;;) {
    int c = accept4(pt->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      break; /* the listener was shut down: the container stopped */
    }
    int up = connect_container(pt);
    trace_event("portproxy.connection", TA_INT("host_port", pt->host_port),
                TA_STR("container", pt->container_ip), TA_INT("container_port", pt->container_port),
                TA_BOOL("connected", up >= 0));
    if (up < 0) {
      close(c);
      continue;
    }
    struct conn_pair *cp = malloc(sizeof *cp);
    *cp = (struct conn_pair){.client = c, .upstream = up};
    if (cut_thread_detached(copy_thread, cp, 0) < 0) {
      close(c);
      close(up);
      free(cp);
    }
  }
  return NULL;
}

static int
listen_on(struct dkd_port *pt, cut_err *err)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pt->host_port)};
  inet_pton(AF_INET, pt->host_ip, &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0)
    return cut_error(err, errno, "socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "bind", TA_STR("address", pt->host_ip),
              TA_INT("port", pt->host_port));
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
    int e = errno;
    close(fd);
    cut_error(err, e, "publish %s:%d", pt->host_ip, pt->host_port);
    trace_end(&sp, err);
    return -1;
  }
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  pt->host_port = ntohs(sa.sin_port);
  trace_end(&sp, NULL, TA_INT("bound_port", pt->host_port));
  pt->listen_fd = fd;
  return 0;
}

static void
stop_one(struct dkd_port *pt)
{
  shutdown(pt->listen_fd, SHUT_RDWR); /* wakes accept() */
  pthread_join(pt->thread, NULL);
  close(pt->listen_fd);
}

/* Bind every port of HostConfig.PortBindings for a started container. */
int
dkd_ports_start(dkd *d, dkd_container *k, cut_err *err)
{
  const cJSON *pb = cJSON_GetObjectItem(k->host_config, "PortBindings"), *it, *b;
  if (!cJSON_IsObject(pb) || pb->child == NULL)
    return 0;
  if (k->ip[0] == '\0')
    return cut_error(err, EINVAL, "port publishing needs the bridge network");
  struct dkd_port *list = NULL;
  int r = 0;
  cJSON_ArrayForEach(it, pb)
  {
    int cport = parse_port_key(it->string, err);
    cJSON_ArrayForEach(b, it)
    {
      if (r < 0 || cport < 0) {
        r = -1;
        break;
      }
      const char *hp = cJSON_GetStringValue(cJSON_GetObjectItem(b, "HostPort"));
      const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(b, "HostIp"));
      struct dkd_port *pt = calloc(1, sizeof *pt);
      pt->listen_fd = -1;
      snprintf(pt->host_ip, sizeof pt->host_ip, "%s", ip && *ip ? ip : "0.0.0.0");
      snprintf(pt->container_ip, sizeof pt->container_ip, "%s", k->ip);
      pt->host_port = hp && *hp ? atoi(hp) : 0;
      pt->container_port = cport;
      if (listen_on(pt, err) < 0 || pthread_create(&pt->thread, NULL, accept_thread, pt) != 0) {
        if (pt->listen_fd >= 0)
          close(pt->listen_fd);
        free(pt);
        r = -1;
        break;
      }
      pt->next = list;
      list = pt;
    }
    if (r < 0)
      break;
  }
  pthread_mutex_lock(&d->lock);
  k->ports = list;
  pthread_mutex_unlock(&d->lock);
  if (r < 0)
    dkd_ports_stop(d, k);
  return r;
}

void
dkd_ports_stop(dkd *d, dkd_container *k)
{
  pthread_mutex_lock(&d->lock);
  struct dkd_port *list = k->ports;
  k->ports = NULL;
  pthread_mutex_unlock(&d->lock);
  while (list) {
    struct dkd_port *next = list->next;
    stop_one(list);
    free(list);
    list = next;
  }
}

/* NetworkSettings.Ports ({"80/tcp":[{"HostIp","HostPort"}]}) or, for
 * /containers/json, Ports ([{"IP","PrivatePort","PublicPort","Type"}])
 * (d->lock held). */
cJSON *
dkd_ports_json(const dkd_container *k, bool summary)
{
  cJSON *o = summary ? cJSON_CreateArray() : cJSON_CreateObject();
  for (const struct dkd_port *pt = k->ports; pt; pt = pt->next) {
    if (summary) {
      cJSON *p = cJSON_CreateObject();
      cJSON_AddStringToObject(p, "IP", pt->host_ip);
      cJSON_AddNumberToObject(p, "PrivatePort", pt->container_port);
      cJSON_AddNumberToObject(p, "PublicPort", pt->host_port);
      cJSON_AddStringToObject(p, "Type", "tcp");
      cJSON_AddItemToArray(o, p);
      continue;
    }
    char key[16], port[8];
    snprintf(key, sizeof key, "%d/tcp", pt->container_port);
    snprintf(port, sizeof port, "%d", pt->host_port);
    cJSON *arr = cJSON_GetObjectItem(o, key);
    if (arr == NULL)
      arr = cJSON_AddArrayToObject(o, key);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "HostIp", pt->host_ip);
    cJSON_AddStringToObject(b, "HostPort", port);
    cJSON_AddItemToArray(arr, b);
  }
  return o;
}
