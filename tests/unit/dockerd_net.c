/* dockerd_net.c: cutawayd's container networking (stages/4-dockerd/dkd_net.c).
 *
 * First the pure IPAM and MAC logic, then, as root, the real thing on this
 * host's kernel: a bridge, two network namespaces, a veth pair into each,
 * and traffic proving it works, as `docker run` on the default bridge would
 * have it:
 *   - a TCP listener in namespace A answers a client in namespace B (bridged)
 *     and a client on the host (through the bridge's own address);
 *   - in A, eth0 has the address and Docker's MAC, and a UDP connect to an
 *     address outside the subnet finds a route (the default route; a UDP
 *     connect sends no packet, so no traffic leaves the host);
 *   - failures (missing bridge, name taken, eth0 taken, not a namespace)
 *     give one clear line and leave no veth behind;
 *   - every kernel step is in the trace, all in one trace.
 * Everything made here is named cutaway-t*, veth* or lives under
 * /tmp/cutaway-test.net*, and is removed at exit, also after a failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/tap.h"
#include "stages/4-dockerd/dkd_net.h"
#include "trace.h"

/* ---- pure logic ------------------------------------------------------- */

static void
test_ipam(void)
{
  char out[DKD_NET_ADDR_LEN];
  cut_err err;
  tap_ok(dkd_net_ipam_next("172.30.0.0/16", NULL, 0, out, sizeof out, &err) == 0,
         "ipam: empty subnet");
  tap_is_str(out, "172.30.0.2", "... first address is .2 (after the gateway)");

  const char *used[] = {"172.30.0.2", "172.30.0.3/16", "172.30.0.5", "10.0.0.2", "172.30.0.3"};
  tap_ok(dkd_net_ipam_next("172.30.0.0/16", used, 5, out, sizeof out, &err) == 0,
         "ipam: with used addresses (and duplicates, and foreign ones)");
  tap_is_str(out, "172.30.0.4", "... skips the used ones");

  const char *unsorted[] = {"192.168.7.4", "192.168.7.2", "192.168.7.3"};
  tap_ok(dkd_net_ipam_next("192.168.7.0/24", unsorted, 3, out, sizeof out, &err) == 0 &&
             strcmp(out, "192.168.7.5") == 0,
         "ipam: used list in any order (got %s)", out);

  const char *full[] = {"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"};
  tap_ok(dkd_net_ipam_next("10.9.0.0/29", full, 5, out, sizeof out, &err) < 0,
         "ipam: full /29 (.2-.6 used, .7 is broadcast) is an error");
  tap_ok(strstr(err.msg, "no free address") != NULL, "... saying so: %s", err.msg);
  tap_ok(dkd_net_ipam_next("10.9.0.0/29", full, 4, out, sizeof out, &err) == 0 &&
             strcmp(out, "10.9.0.6") == 0,
         "ipam: last host of a /29 is .6 (got %s)", out);
  tap_ok(dkd_net_ipam_next("10.9.0.0/30", NULL, 0, out, sizeof out, &err) == 0 &&
             strcmp(out, "10.9.0.2") == 0,
         "ipam: a /30 has one host address");

  static const char *bad[] = {"172.30.0.0",     "172.30.0.0/33", "172.30.0/16",  "172.30.0.0/",
                              "172.30.0.0/+16", "bogus/8",       "172.30.0.1/16"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.msg[0] = '\0';
    tap_ok(dkd_net_ipam_next(bad[i], NULL, 0, out, sizeof out, &err) < 0 && err.msg[0],
           "ipam: bad subnet %s: %s", bad[i], err.msg);
  }
  tap_ok(dkd_net_ipam_next("10.9.0.0/31", NULL, 0, out, sizeof out, &err) < 0,
         "ipam: /31 is too small: %s", err.msg);
  const char *junk[] = {"10.1.0.9", "not-an-ip"};
  tap_ok(dkd_net_ipam_next("10.1.0.0/16", junk, 2, out, sizeof out, &err) < 0 &&
             strstr(err.msg, "not-an-ip"),
         "ipam: a bad used entry is an error: %s", err.msg);
}

static void
test_mac(void)
{
  char mac[DKD_NET_MAC_LEN];
  cut_err err;
  tap_ok(dkd_net_mac_from_ip("172.30.0.5", mac, &err) == 0 && strcmp(mac, "02:42:ac:1e:00:05") == 0,
         "mac: 172.30.0.5 -> %s (Docker's 02:42 + address)", mac);
  tap_ok(dkd_net_mac_from_ip("10.250.3.17/24", mac, &err) == 0 &&
             strcmp(mac, "02:42:0a:fa:03:11") == 0,
         "mac: from a CIDR too (%s)", mac);
  tap_ok(dkd_net_mac_from_ip("300.1.1.1", mac, &err) < 0, "mac: bad address: %s", err.msg);
}

/* ---- the real thing ---------------------------------------------------- */

static struct {
  char dir[64];
  char trace[128];
  char bridge[16], bridge_missing[16];
  char ns[3][128];
  char ifs[4][16];
  char subnet[32], gateway[16], gateway_cidr[32];
  char addr[2][16], cidr[2][32];
  pid_t kids[4];
} T = {.kids = {-1, -1, -1, -1}};

static void
cleanup(void)
{
  cut_err err;
  for (int i = 0; i < 4; i++)
    if (T.kids[i] > 0) {
      kill(T.kids[i], SIGKILL);
      waitpid(T.kids[i], NULL, 0);
      T.kids[i] = -1;
    }
  for (int i = 0; i < 4; i++)
    if (T.ifs[i][0] && dkd_net_detach(T.ifs[i], &err) < 0)
      printf("# cleanup: %s\n", err.msg);
  for (int i = 0; i < 3; i++)
    if (T.ns[i][0] && dkd_net_netns_delete(T.ns[i], &err) < 0)
      printf("# cleanup: %s\n", err.msg);
  if (T.bridge[0] && dkd_net_bridge_delete(T.bridge, &err) < 0)
    printf("# cleanup: %s\n", err.msg);
  if (T.dir[0] && cut_rm_rf(T.dir, &err) < 0)
    printf("# cleanup: %s\n", err.msg);
  T.dir[0] = '\0';
}

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
  stop_signal = sig;
}

static void
rand_hex(char *out, size_t nhex)
{
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
    memset(b, 0x5a, sizeof b);
  for (size_t i = 0; i < nhex; i++)
    out[i] = "0123456789abcdef"[(b[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
  out[nhex] = '\0';
}

/* A step expected to succeed; on failure its error line is the diagnostic
 * (printed after the call: tap_ok's own arguments have no set order). */
#define expect_ok(cond, err, ...)                                                                  \
  do {                                                                                             \
    cut_err_clear(&(err));                                                                         \
    if (!tap_ok((cond), __VA_ARGS__))                                                              \
      tap_diag("%s", (err).msg);                                                                   \
  } while (0)

static bool
link_exists(const char *name)
{
  return if_nametoindex(name) != 0;
}

static bool
mounted(const char *path)
{
  char *data = NULL;
  size_t len = 0;
  cut_err err;
  if (cut_read_file("/proc/self/mountinfo", 1 << 22, &data, &len, &err) < 0)
    return false;
  char needle[160];
  snprintf(needle, sizeof needle, " %s ", path);
  bool found = strstr(data, needle) != NULL;
  free(data);
  return found;
}

/* IPv4 addresses of `ifname` in the current namespace, space separated. */
static void
addrs_of(const char *ifname, char *out, size_t len)
{
  struct ifaddrs *ifa = NULL;
  out[0] = '\0';
  if (getifaddrs(&ifa) < 0)
    return;
  for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
    if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET || strcmp(p->ifa_name, ifname) != 0)
      continue;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, a, sizeof a);
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%s", used ? " " : "", a);
  }
  freeifaddrs(ifa);
}

static int
enter_netns(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = setns(fd, CLONE_NEWNET);
  close(fd);
  return r;
}

static void
set_timeouts(int fd)
{
  /* Not an assertion: only so that a broken network fails instead of hanging. */
  struct timeval tv = {.tv_sec = 20};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static struct sockaddr_in
sockaddr_of(const char *ip, int port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

/* Connect, send `c`, expect c+1 back.  Writes the local address used. */
static int
exchange(const char *ip, int port, char c, char *local, size_t local_len)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  set_timeouts(fd);
  struct sockaddr_in sa = sockaddr_of(ip, port), me;
  socklen_t melen = sizeof me;
  char got = 0;
  int r = -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, &c, 1) == 1 &&
      read(fd, &got, 1) == 1 && got == c + 1)
    r = 0;
  if (local && getsockname(fd, (struct sockaddr *)&me, &melen) == 0)
    inet_ntop(AF_INET, &me.sin_addr, local, (socklen_t)local_len);
  close(fd);
  return r;
}

/* A child in namespace `ns` listening on ip:<ephemeral>; it answers
 * `accepts` clients (one byte in, that byte + 1 out).  Returns the port. */
static int
start_listener(int slot, const char *ns, const char *ip, int accepts)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    alarm(60); /* never outlive a stuck test */
    if (enter_netns(ns) < 0)
      _exit(2);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = sockaddr_of(ip, 0);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
      _exit(3);
    int port = ntohs(sa.sin_port);
    if (write(p[1], &port, sizeof port) != sizeof port)
      _exit(4);
    close(p[1]);
    for (int i = 0; i < accepts; i++) {
      int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
      char b;
      if (c < 0)
        _exit(5);
      set_timeouts(c);
      if (read(c, &b, 1) != 1)
        _exit(6);
      b++;
      if (write(c, &b, 1) != 1)
        _exit(7);
      close(c);
    }
    _exit(0);
  }
  close(p[1]);
  T.kids[slot] = pid;
  int port = -1;
  if (pid < 0 || read(p[0], &port, sizeof port) != sizeof port)
    port = -1;
  close(p[0]);
  return port;
}

static int
wait_kid(int slot)
{
  int st = 0;
  if (T.kids[slot] <= 0 || waitpid(T.kids[slot], &st, 0) < 0)
    return -1;
  T.kids[slot] = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run `fn` in a child inside namespace `ns`; its text answer comes back. */
static int
in_netns(const char *ns, void (*fn)(const void *arg, char *out, size_t len), const void *arg,
         char *out, size_t len)
{
  int p[2];
  out[0] = '\0';
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    alarm(60);
    char buf[1024] = "";
    if (enter_netns(ns) < 0)
      snprintf(buf, sizeof buf, "setns: %s", strerror(errno));
    else
      fn(arg, buf, sizeof buf);
    ssize_t w = write(p[1], buf, strlen(buf));
    _exit(w < 0);
  }
  close(p[1]);
  T.kids[3] = pid;
  ssize_t n = pid < 0 ? -1 : read(p[0], out, len - 1);
  out[n > 0 ? n : 0] = '\0';
  close(p[0]);
  return wait_kid(3);
}

/* In a namespace: "<links> | <eth0 MAC> | <eth0 addresses> | <route source>". */
static void
describe_netns(const void *arg, char *out, size_t len)
{
  struct if_nameindex *names = if_nameindex();
  char links[256] = "";
  for (struct if_nameindex *p = names; p && p->if_index; p++) {
    size_t used = strlen(links);
    snprintf(links + used, sizeof links - used, "%s%s", used ? "," : "", p->if_name);
  }
  if (names)
    if_freenameindex(names);

  char mac[32] = "none";
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "eth0");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
    unsigned char *m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  }
  if (fd >= 0)
    close(fd);

  char addrs[128];
  addrs_of("eth0", addrs, sizeof addrs);

  /* 198.51.100.1 (TEST-NET-2) is outside the subnet: only the default route
   * reaches it.  connect() on UDP picks a route and a source, sends nothing. */
  char src[64] = "no-route";
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in far = sockaddr_of("198.51.100.1", 9), me;
  socklen_t melen = sizeof me;
  if (fd >= 0 && connect(fd, (struct sockaddr *)&far, sizeof far) == 0 &&
      getsockname(fd, (struct sockaddr *)&me, &melen) == 0)
    inet_ntop(AF_INET, &me.sin_addr, src, sizeof src);
  else
    snprintf(src, sizeof src, "%s", strerror(errno));
  if (fd >= 0)
    close(fd);
  snprintf(out, len, "%s | %s | %s | %s", links, mac, addrs, src);
}

typedef struct peer_job {
  const char *ip;
  int port;
} peer_job;

static void
client_job(const void *arg, char *out, size_t len)
{
  const peer_job *j = arg;
  char local[INET_ADDRSTRLEN] = "";
  int r = exchange(j->ip, j->port, 'b', local, sizeof local);
  snprintf(out, len, "%s from %s", r == 0 ? "ok" : strerror(errno), local);
}

/* ---- trace checks ------------------------------------------------------ */

static char *trace_text;

/* A line of the trace with `"name":"<name>"` and every one of `needles`. */
static bool
trace_has(const char *name, const char *n1, const char *n2)
{
  char key[128];
  snprintf(key, sizeof key, "\"name\":\"%s\"", name);
  for (char *line = trace_text; line && *line;) {
    char *end = strchr(line, '\n');
    size_t l = end ? (size_t)(end - line) : strlen(line);
    char save = line[l];
    line[l] = '\0';
    bool hit = strstr(line, key) && (!n1 || strstr(line, n1)) && (!n2 || strstr(line, n2));
    line[l] = save;
    if (hit)
      return true;
    line = end ? end + 1 : NULL;
  }
  return false;
}

/* Every event carries the same trace id (the helper threads joined it). */
static bool
trace_one_id(int *events)
{
  char first[40] = "";
  *events = 0;
  for (char *p = trace_text; p && (p = strstr(p, "\"trace\":\"")); p += 9) {
    char id[40];
    snprintf(id, sizeof id, "%.32s", p + 9);
    if (!first[0])
      snprintf(first, sizeof first, "%s", id);
    if (strcmp(first, id) != 0)
      return false;
    (*events)++;
  }
  return *events > 0;
}

/* ---- scenario ---------------------------------------------------------- */

static void
setup_names(void)
{
  char hex[16];
  rand_hex(hex, 6);
  snprintf(T.bridge, sizeof T.bridge, "cutaway-t%.6s", hex);
  rand_hex(hex, 6);
  snprintf(T.bridge_missing, sizeof T.bridge_missing, "cutaway-n%.6s", hex);
  for (int i = 0; i < 4; i++) {
    rand_hex(hex, 8);
    snprintf(T.ifs[i], sizeof T.ifs[i], "veth%.8s", hex);
  }
  for (int i = 0; i < 3; i++)
    snprintf(T.ns[i], sizeof T.ns[i], "%s/ns%c", T.dir, 'a' + i);
  /* A random /24 in 10.250.0.0/16: unlikely to meet another test's. */
  unsigned char r;
  if (getrandom(&r, 1, 0) != 1)
    r = 77;
  snprintf(T.subnet, sizeof T.subnet, "10.250.%u.0/24", r);
  snprintf(T.gateway, sizeof T.gateway, "10.250.%u.1", r);
  snprintf(T.gateway_cidr, sizeof T.gateway_cidr, "%s/24", T.gateway);
}

static void
test_bridge(void)
{
  cut_err err = {0};
  expect_ok(dkd_net_bridge_ensure(T.bridge, T.gateway_cidr, &err) == 0, err, "bridge %s %s created",
            T.bridge, T.gateway_cidr);
  expect_ok(dkd_net_bridge_ensure(T.bridge, T.gateway_cidr, &err) == 0, err,
            "ensuring it again is fine (idempotent)");
  char addrs[128];
  addrs_of(T.bridge, addrs, sizeof addrs);
  tap_is_str(addrs, T.gateway, "the bridge has the gateway address, once");
  char path[128], flags[32] = "";
  snprintf(path, sizeof path, "/sys/class/net/%s/flags", T.bridge);
  char *data = NULL;
  size_t len;
  if (cut_read_file(path, 64, &data, &len, &err) == 0)
    snprintf(flags, sizeof flags, "%s", data);
  free(data);
  flags[strcspn(flags, "\n")] = '\0';
  tap_ok(strtoul(flags, NULL, 16) & IFF_UP, "the bridge is up (flags %s)", flags);
}

static void
test_netns(void)
{
  cut_err err = {0};
  for (int i = 0; i < 3; i++)
    expect_ok(dkd_net_netns_create(T.ns[i], &err) == 0 && mounted(T.ns[i]), err, "netns %s created",
              T.ns[i]);
  tap_ok(dkd_net_netns_create(T.ns[0], &err) < 0 && err.errnum == EEXIST,
         "creating it again fails: %s", err.msg);
  tap_ok(mounted(T.ns[0]), "... and leaves the existing one in place");
  char desc[1024];
  in_netns(T.ns[0], describe_netns, NULL, desc, sizeof desc);
  tap_ok(strncmp(desc, "lo |", 4) == 0, "a new netns has only lo: %s", desc);
}

static void
test_attach(void)
{
  cut_err err = {0};
  for (int i = 0; i < 2; i++) {
    const char *used[] = {T.addr[0]};
    dkd_net_ipam_next(T.subnet, used, (size_t)i, T.addr[i], sizeof T.addr[i], &err);
    snprintf(T.cidr[i], sizeof T.cidr[i], "%s/24", T.addr[i]);
    expect_ok(dkd_net_attach(T.bridge, T.ns[i], T.ifs[i], T.cidr[i], T.gateway, NULL, &err) == 0,
              err, "attach %s (%s) via %s", T.ns[i], T.cidr[i], T.ifs[i]);
  }
  char link[160], target[160] = "";
  snprintf(link, sizeof link, "/sys/class/net/%s/master", T.ifs[0]);
  ssize_t n = readlink(link, target, sizeof target - 1);
  target[n > 0 ? n : 0] = '\0';
  tap_ok(strrchr(target, '/') && strcmp(strrchr(target, '/') + 1, T.bridge) == 0,
         "the host end %s is a port of %s (%s)", T.ifs[0], T.bridge, target);

  char desc[1024], want[256], mac[DKD_NET_MAC_LEN];
  dkd_net_mac_from_ip(T.addr[0], mac, &err);
  in_netns(T.ns[0], describe_netns, NULL, desc, sizeof desc);
  snprintf(want, sizeof want, "lo,eth0 | %s | %s | %s", mac, T.addr[0], T.addr[0]);
  tap_is_str(desc, want, "inside: lo and eth0, Docker's MAC, the address, a default route");
}

static void
test_traffic(void)
{
  int port = start_listener(0, T.ns[0], T.addr[0], 2);
  tap_ok(port > 0, "listener in netns A on %s:%d", T.addr[0], port);
  peer_job job = {.ip = T.addr[0], .port = port};
  char answer[256], want[128];
  in_netns(T.ns[1], client_job, &job, answer, sizeof answer);
  snprintf(want, sizeof want, "ok from %s", T.addr[1]);
  tap_is_str(answer, want, "netns B (%s) exchanged a byte with netns A over the bridge", T.addr[1]);

  char local[INET_ADDRSTRLEN] = "";
  int r = exchange(T.addr[0], port, 'h', local, sizeof local);
  tap_ok(r == 0, "the host exchanged a byte with netns A (%s)", r ? strerror(errno) : "ok");
  tap_is_str(local, T.gateway, "... from the bridge's address");
  tap_is_int(wait_kid(0), 0, "the listener served both and exited cleanly");
}

static void
test_failures(void)
{
  cut_err err;
  tap_ok(dkd_net_attach(T.bridge_missing, T.ns[2], T.ifs[2], T.cidr[1], T.gateway, NULL, &err) <
                 0 &&
             strstr(err.msg, T.bridge_missing) && strstr(err.msg, "No such device"),
         "attach to a missing bridge fails: %s", err.msg);
  tap_ok(!link_exists(T.ifs[2]), "... and leaves no veth");

  tap_ok(dkd_net_attach(T.bridge, T.ns[2], T.ifs[0], T.cidr[1], NULL, NULL, &err) < 0 &&
             err.errnum == EEXIST && strstr(err.msg, "create veth"),
         "attach with a host name in use fails: %s", err.msg);
  tap_ok(link_exists(T.ifs[0]), "... and leaves the existing veth alone");

  /* eth0 exists in A: the pair is refused whole, nothing is created. */
  tap_ok(dkd_net_attach(T.bridge, T.ns[0], T.ifs[3], T.cidr[1], NULL, NULL, &err) < 0 &&
             err.errnum == EEXIST && strstr(err.msg, "eth0"),
         "attach a second time into netns A fails (eth0 is there): %s", err.msg);
  tap_ok(!link_exists(T.ifs[3]), "... its host end is gone");
  char desc[1024];
  in_netns(T.ns[0], describe_netns, NULL, desc, sizeof desc);
  tap_ok(strncmp(desc, "lo,eth0 |", 9) == 0, "... and so is its peer: %s", desc);

  /* Fails last (a gateway off the subnet cannot be a next hop): the kernel
   * explains why in an extended ack, and the rollback empties netns C. */
  tap_ok(dkd_net_attach(T.bridge, T.ns[2], T.ifs[3], T.cidr[1], "10.251.0.1", NULL, &err) < 0 &&
             strstr(err.msg, "default route via 10.251.0.1"),
         "attach with an unreachable gateway fails at the route: %s", err.msg);
  in_netns(T.ns[2], describe_netns, NULL, desc, sizeof desc);
  tap_ok(!link_exists(T.ifs[3]) && strncmp(desc, "lo |", 4) == 0,
         "... host end and eth0 are gone: %s", desc);
  tap_ok(dkd_net_attach(T.bridge, T.trace, T.ifs[3], T.cidr[1], NULL, NULL, &err) < 0 &&
             strstr(err.msg, "not a network namespace") && !link_exists(T.ifs[3]),
         "attach into a plain file fails, no veth: %s", err.msg);
  tap_ok(dkd_net_attach(T.bridge, T.ns[2], "veth-name-too-long", T.cidr[1], NULL, NULL, &err) < 0,
         "an interface name above 15 characters is refused: %s", err.msg);
  tap_ok(dkd_net_attach(T.bridge, T.ns[2], T.ifs[3], T.cidr[1], NULL, "01:00:5e:00:00:01", &err) <
             0,
         "a multicast MAC is refused: %s", err.msg);
  tap_ok(dkd_net_bridge_ensure(T.ifs[0], T.gateway_cidr, &err) < 0 && strstr(err.msg, "veth"),
         "ensuring a bridge over a veth's name fails: %s", err.msg);
  tap_ok(dkd_net_bridge_delete(T.ifs[0], &err) < 0 && link_exists(T.ifs[0]),
         "deleting a veth as a bridge is refused: %s", err.msg);
}

static void
test_teardown(void)
{
  cut_err err = {0};
  for (int i = 0; i < 2; i++)
    expect_ok(dkd_net_detach(T.ifs[i], &err) == 0 && !link_exists(T.ifs[i]), err, "detach %s",
              T.ifs[i]);
  expect_ok(dkd_net_detach(T.ifs[0], &err) == 0, err, "detaching again is fine (absent)");
  for (int i = 0; i < 3; i++)
    expect_ok(dkd_net_netns_delete(T.ns[i], &err) == 0 && !mounted(T.ns[i]) &&
                  access(T.ns[i], F_OK) < 0,
              err, "netns %s unmounted and removed", T.ns[i]);
  expect_ok(dkd_net_netns_delete(T.ns[0], &err) == 0, err, "deleting it again is fine (absent)");
  expect_ok(dkd_net_bridge_delete(T.bridge, &err) == 0 && !link_exists(T.bridge), err,
            "bridge %s deleted", T.bridge);
  expect_ok(dkd_net_bridge_delete(T.bridge, &err) == 0, err, "deleting it again is fine (absent)");
}

static void
test_trace(void)
{
  size_t len;
  cut_err err;
  if (cut_read_file(T.trace, 1 << 24, &trace_text, &len, &err) < 0) {
    tap_ok(0, "read the trace: %s", err.msg);
    return;
  }
  tap_ok(trace_has("netlink.newlink", "\"kind\":\"bridge\"", T.bridge), "trace: newlink bridge");
  tap_ok(trace_has("netlink.newlink", "\"kind\":\"veth\"", T.ifs[0]), "trace: newlink veth");
  tap_ok(trace_has("unshare", "CLONE_NEWNET", NULL), "trace: unshare CLONE_NEWNET");
  tap_ok(trace_has("mount", "MS_BIND", T.ns[0]), "trace: mount (bind) of the netns");
  tap_ok(trace_has("netlink.newlink", "\"peer_in_netns\":true", T.ifs[0]),
         "trace: the peer is created inside the netns");
  tap_ok(trace_has("setns", "CLONE_NEWNET", T.ns[1]), "trace: setns to configure inside");
  tap_ok(trace_has("netlink.newaddr", T.cidr[0], NULL), "trace: newaddr %s", T.cidr[0]);
  tap_ok(trace_has("netlink.newroute", T.gateway, NULL), "trace: newroute via %s", T.gateway);
  tap_ok(trace_has("network.attach", "\"status\":\"error\"", "No such device"),
         "trace: the failed attach ends in error");
  int events = 0;
  bool one = trace_one_id(&events);
  tap_ok(one, "trace: all %d events in one trace (threads joined it)", events);
  free(trace_text);
}

/* Everything that touches the kernel runs in a child process (its own
 * process group, with the helpers it forks); this parent waits for it and
 * then always cleans up, whether the child passed, failed, crashed or the
 * run was interrupted. */
static int
run_supervised(void (*body)(void))
{
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    body();
    fflush(stdout);
    _exit(tap_done());
  }
  if (pid < 0)
    return printf("Bail out! fork: %s\n", strerror(errno)), 1;
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waitpid returns */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    if (stop_signal) {
      kill(-pid, SIGKILL); /* the child's process group: it and its helpers */
      kill(pid, SIGKILL);
    }
  kill(-pid, SIGKILL); /* helpers a crashed child left behind */
  cleanup();
  if (stop_signal)
    return 128 + stop_signal;
  if (!WIFEXITED(st)) {
    printf("Bail out! the test process died of signal %d\n", WTERMSIG(st));
    return 1;
  }
  return WEXITSTATUS(st);
}

static void
real_tests(void)
{
  trace_init("cutaway-test", "dockerd_net");
  trace_span root;
  trace_begin(&root, TRACE_INTERNAL, "test.dockerd_net");
  test_bridge();
  test_netns();
  test_attach();
  test_traffic();
  test_failures();
  test_teardown();
  trace_end(&root, NULL);
  test_trace();
}

int
main(void)
{
  test_ipam();
  test_mac();
  if (geteuid() != 0) {
    tap_skip("bridges, veths and namespaces need root");
    return tap_done();
  }
  snprintf(T.dir, sizeof T.dir, "/tmp/cutaway-test.netXXXXXX");
  if (mkdtemp(T.dir) == NULL)
    return printf("Bail out! mkdtemp: %s\n", strerror(errno)), 1;
  snprintf(T.trace, sizeof T.trace, "%s/trace.jsonl", T.dir);
  setenv("CUTAWAY_TRACE", T.trace, 1);
  unsetenv("TRACEPARENT");
  setup_names();
  tap_diag("bridge %s, subnet %s, dir %s", T.bridge, T.subnet, T.dir);
  return run_supervised(real_tests);
}
