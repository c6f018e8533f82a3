/* dkd_net.c: container networking for cutawayd (see dkd_net.h).
 *
 * Mirrors libnetwork's bridge driver (moby/libnetwork/drivers/bridge) and its
 * sandbox code (libnetwork/osl), which talk to the kernel through the
 * vishvananda/netlink Go package: every change here is one rtnetlink message
 * on a NETLINK_ROUTE socket, built and parsed with libmnl.
 *
 *   bridge:  RTM_NEWLINK kind=bridge, RTM_NEWADDR, RTM_NEWLINK (IFF_UP)
 *   netns:   unshare(CLONE_NEWNET) in a helper thread, bind mount of its
 *            /proc/self/task/<tid>/ns/net, `lo` up
 *   attach:  RTM_NEWLINK kind=veth (with its peer), RTM_NEWLINK master+up,
 *            RTM_NEWLINK IFLA_NET_NS_FD (the peer changes namespace), then,
 *            on a socket opened inside the namespace: rename to eth0 + MAC,
 *            RTM_NEWADDR, up, RTM_NEWROUTE default via the gateway
 *
 * A netlink socket belongs to the network namespace it was created in, so to
 * configure eth0 inside the container's namespace a short-lived thread
 * setns()es into it, opens a socket there and hands it back: the calling
 * thread never leaves the host namespace. */
#include "dkd_net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

/* ---- pure helpers: names, addresses ------------------------------------ */

/* The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/',
 * ':' or whitespace.  Checked up front for a clearer message than EINVAL. */
static int
check_ifname(const char *what, const char *name, cut_err *err)
{
  if (name == NULL || name[0] == '\0')
    return cut_error(err, EINVAL, "%s: empty interface name", what);
  if (strlen(name) > DKD_NET_IFNAME_MAX)
    return cut_error(err, EINVAL, "%s %s: interface names are at most %d characters", what, name,
                     DKD_NET_IFNAME_MAX);
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strpbrk(name, "/: \t\n") != NULL)
    return cut_error(err, EINVAL, "%s %s: invalid interface name", what, name);
  return 0;
}

static uint32_t
prefix_mask(int prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* "a.b.c.d" only, into host byte order. */
static int
parse_ipv4(const char *text, uint32_t *addr)
{
  struct in_addr in;
  if (inet_pton(AF_INET, text, &in) != 1)
    return -1;
  *addr = ntohl(in.s_addr);
  return 0;
}

static void
format_ipv4(uint32_t addr, char out[DKD_NET_ADDR_LEN])
{
  struct in_addr in = {.s_addr = htonl(addr)};
  inet_ntop(AF_INET, &in, out, DKD_NET_ADDR_LEN);
}

int
dkd_net_parse_cidr(const char *cidr, unsigned *addr, int *prefix, cut_err *err)
{
  const char *slash = cidr ? strchr(cidr, '/') : NULL;
  char host[DKD_NET_ADDR_LEN];
  if (slash == NULL || (size_t)(slash - cidr) >= sizeof host)
    return cut_error(err, EINVAL, "CIDR %s: want a.b.c.d/len", cidr ? cidr : "(null)");
  memcpy(host, cidr, (size_t)(slash - cidr));
  host[slash - cidr] = '\0';
  uint32_t a;
  if (parse_ipv4(host, &a) < 0)
    return cut_error(err, EINVAL, "CIDR %s: %s is not an IPv4 address", cidr, host);
  /* Digits only: strtol would accept " 16", "+16" or "16abc". */
  const char *p = slash + 1;
  if (p[0] == '\0' || strlen(p) > 2 || strspn(p, "0123456789") != strlen(p))
    return cut_error(err, EINVAL, "CIDR %s: bad prefix length", cidr);
  int len = atoi(p);
  if (len > 32)
    return cut_error(err, EINVAL, "CIDR %s: prefix length above 32", cidr);
  *addr = a;
  *prefix = len;
  return 0;
}

/* An entry of IPAM's `used` list: "a.b.c.d" or "a.b.c.d/len". */
static int
parse_addr_or_cidr(const char *text, uint32_t *addr, cut_err *err)
{
  int prefix;
  if (text != NULL && strchr(text, '/') != NULL)
    return dkd_net_parse_cidr(text, addr, &prefix, err);
  if (text == NULL || parse_ipv4(text, addr) < 0)
    return cut_error(err, EINVAL, "address %s: not an IPv4 address", text ? text : "(null)");
  return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int
dkd_net_ipam_next(const char *subnet_cidr, const char *const *used, size_t n, char *out,
                  size_t out_len, cut_err *err)
{
  uint32_t addr;
  int prefix;
  if (dkd_net_parse_cidr(subnet_cidr, &addr, &prefix, err) < 0)
    return cut_wrap(err, "subnet");
  uint32_t mask = prefix_mask(prefix);
  if (addr & ~mask)
    return cut_error(err, EINVAL, "subnet %s: host bits set", subnet_cidr);
  /* /31 and /32 have no room for a gateway plus a container. */
  if (prefix > 30)
    return cut_error(err, EINVAL, "subnet %s: too small for a gateway and a host", subnet_cidr);
  if (out_len < DKD_NET_ADDR_LEN)
    return cut_error(err, EINVAL, "subnet %s: output buffer too small", subnet_cidr);
  uint32_t first = addr + 2, last = (addr | ~mask) - 1; /* after .1, before broadcast */

  /* Sort the used addresses that fall in range, then walk up from `first`:
   * O(n log n) whatever the subnet's size. */
  uint32_t *taken = n ? calloc(n, sizeof *taken) : NULL;
  if (n && taken == NULL)
    return cut_error(err, ENOMEM, "subnet %s", subnet_cidr);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    if (parse_addr_or_cidr(used[i], &u, err) < 0) {
      free(taken);
      return cut_wrap(err, "used");
    }
    if (u >= first && u <= last)
      taken[k++] = u;
  }
  if (k > 0)
    qsort(taken, k, sizeof *taken, cmp_u32);
  uint64_t cand = first;
  for (size_t i = 0; i < k && taken[i] <= cand; i++)
    if (taken[i] == cand)
      cand++;
  free(taken);
  if (cand > last)
    return cut_error(err, ENOSPC, "subnet %s: no free address", subnet_cidr);
  format_ipv4((uint32_t)cand, out);
  return 0;
}

int
dkd_net_mac_from_ip(const char *ip, char out[DKD_NET_MAC_LEN], cut_err *err)
{
  uint32_t a;
  if (parse_addr_or_cidr(ip, &a, err) < 0)
    return -1;
  /* 02 = locally administered unicast; 42 is Docker's habit; then the IPv4
   * bytes, so the MAC is unique wherever the address is. */
  snprintf(out, DKD_NET_MAC_LEN, "02:42:%02x:%02x:%02x:%02x", a >> 24, (a >> 16) & 0xff,
           (a >> 8) & 0xff, a & 0xff);
  return 0;
}

static int
parse_mac(const char *text, unsigned char mac[6], cut_err *err)
{
  /* Exactly six pairs of hex digits separated by ':' (sscanf alone would
   * also take spaces and single digits). */
  bool ok = strlen(text) == 17;
  for (int i = 0; ok && i < 17; i++)
    ok = i % 3 == 2 ? text[i] == ':' : isxdigit((unsigned char)text[i]) != 0;
  if (!ok || sscanf(text, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
                    &mac[4], &mac[5]) != 6)
    return cut_error(err, EINVAL, "MAC %s: want aa:bb:cc:dd:ee:ff", text);
  if (mac[0] & 1) /* the I/G bit: a group address cannot name one interface */
    return cut_error(err, EINVAL, "MAC %s: multicast address", text);
  return 0;
}

/* ---- the netlink conversation ------------------------------------------ */

/* Requests are small; replies to RTM_GETLINK carry every attribute of a
 * link, which stays well under this even for a bridge. */
#define NL_REQ_MAX 1024
#define NL_RECV_MAX 32768
#define NL_EXT_MAX 256

typedef struct nl_sock {
  struct mnl_socket *mnl;
  unsigned portid;
  unsigned seq;
} nl_sock;

/* Open a NETLINK_ROUTE socket in the calling thread's network namespace. */
static int
nl_open(nl_sock *s, cut_err *err)
{
  s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s->mnl == NULL)
    return cut_error(err, errno, "open rtnetlink socket");
  if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    mnl_socket_close(s->mnl);
    s->mnl = NULL;
    return cut_error(err, e, "bind rtnetlink socket");
  }
  /* EXT_ACK: the kernel explains a refusal in words ("Unknown device
   * type"); CAP_ACK: it does not echo our whole request back in each ack. */
  int one = 1;
  mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof one);
  s->portid = mnl_socket_get_portid(s->mnl);
  s->seq = (unsigned)time(NULL);
  return 0;
}

static void
nl_close(nl_sock *s)
{
  if (s->mnl)
    mnl_socket_close(s->mnl);
  s->mnl = NULL;
}

typedef int (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

static int
nl_ext_attr(const struct nlattr *a, void *data)
{
  if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
    snprintf(data, NL_EXT_MAX, "%s", mnl_attr_get_str(a));
  return MNL_CB_OK;
}

/* The kernel's answer to a request with NLM_F_ACK: error 0 is success,
 * otherwise -errno, optionally followed by extended-ack attributes. */
static int
nl_read_ack(const struct nlmsghdr *nlh, char ext[NL_EXT_MAX])
{
  const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *e)) {
    errno = EBADMSG;
    return -1;
  }
  if (e->error == 0)
    return 0;
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
    /* The attributes follow our request's header (and its payload unless
     * the kernel capped the echo). */
    unsigned off = sizeof *e;
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
      off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
    if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
      mnl_attr_parse(nlh, off, nl_ext_attr, ext);
  }
  errno = e->error < 0 ? -e->error : e->error;
  return -1;
}

/* Send one request and read until its ack.  Replies (type >= NLMSG_MIN_TYPE)
 * go to on_reply.  Returns 0, or -1 with errno set and the kernel's
 * extended-ack text, if it gave one, in ext. */
static int
nl_talk(nl_sock *s, struct nlmsghdr *req, nl_reply_fn on_reply, void *data, char ext[NL_EXT_MAX])
{
  ext[0] = '\0';
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req->nlmsg_seq = ++s->seq;
  if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) < 0)
    return -1;
  char *buf = malloc(NL_RECV_MAX); /* malloc is 8-aligned, as nlmsghdr needs */
  if (buf == NULL)
    return -1;
  int r = 1;
  while (r == 1) {
    ssize_t n = mnl_socket_recvfrom(s->mnl, buf, NL_RECV_MAX);
    if (n < 0)
      r = -1;
    int left = n < 0 ? 0 : (int)n;
    for (const struct nlmsghdr *nlh = (const void *)buf; r == 1 && mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      /* Leftovers of an earlier request (one whose reply was abandoned)
       * carry another sequence number: not ours, skip them. */
      if (!mnl_nlmsg_seq_ok(nlh, req->nlmsg_seq) || !mnl_nlmsg_portid_ok(nlh, s->portid))
        continue;
      if (nlh->nlmsg_type == NLMSG_ERROR)
        r = nl_read_ack(nlh, ext);
      else if (nlh->nlmsg_type == NLMSG_DONE)
        r = 0;
      else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_reply && on_reply(nlh, data) < 0)
        r = -1;
    }
  }
  int e = errno;
  free(buf);
  errno = e;
  return r;
}

/* One traced request: `sp` was begun by the caller with the message's
 * attributes; it ends here.  Returns 0; 1 when the kernel answered
 * `ok_errno` (a state we accept, e.g. EEXIST when ensuring); or -1 with err
 * = "<what>[: <kernel's explanation>]: <strerror>". */
static int __attribute__((format(printf, 8, 9)))
nl_call(nl_sock *s, trace_span *sp, struct nlmsghdr *req, nl_reply_fn on_reply, void *data,
        int ok_errno, cut_err *err, const char *fmt, ...)
{
  char ext[NL_EXT_MAX];
  if (nl_talk(s, req, on_reply, data, ext) == 0) {
    trace_end(sp, NULL);
    return 0;
  }
  int e = errno;
  if (ok_errno != 0 && e == ok_errno) {
    trace_end(sp, NULL, TA_STR("tolerated", strerror(e)));
    return 1;
  }
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (ext[0])
    cut_error(err, e, "%s: %s", what, ext);
  else
    cut_error(err, e, "%s", what);
  trace_end(sp, err);
  return -1;
}

/* ---- links --------------------------------------------------------------- */

typedef struct link_info {
  int index;
  unsigned flags;
  char kind[32]; /* IFLA_INFO_KIND: "bridge", "veth", "" for a plain device */
} link_info;

static struct nlmsghdr *
link_msg(char *buf, uint16_t type, uint16_t flags, int index)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return nlh;
}

static int
linkinfo_attr(const struct nlattr *a, void *data)
{
  link_info *li = data;
  if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
    snprintf(li->kind, sizeof li->kind, "%.*s",
             (int)strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)), mnl_attr_get_str(a));
  return MNL_CB_OK;
}

static int
link_attr(const struct nlattr *a, void *data)
{
  if (mnl_attr_get_type(a) == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
    mnl_attr_parse_nested(a, linkinfo_attr, data);
  return MNL_CB_OK;
}

static int
link_reply(const struct nlmsghdr *nlh, void *data)
{
  link_info *li = data;
  if (nlh->nlmsg_type != RTM_NEWLINK)
    return 0;
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  li->index = ifi->ifi_index;
  li->flags = ifi->ifi_flags;
  mnl_attr_parse(nlh, sizeof *ifi, link_attr, li);
  return 0;
}

/* RTM_GETLINK by name.  Returns 0 (found, *li filled), 1 (no such link) or
 * -1.  "Absent" is an answer here, not a failure: the span ends ok. */
static int
link_get(nl_sock *s, const char *name, link_info *li, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  memset(li, 0, sizeof *li);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.getlink", TA_STR("name", name));
  int r = nl_call(s, &sp, nlh, link_reply, li, ENODEV, err, "look up link %s", name);
  return r;
}

/* A link that must exist and be of `kind`. */
static int
link_find(nl_sock *s, const char *kind, const char *name, link_info *li, cut_err *err)
{
  int r = link_get(s, name, li, err);
  if (r < 0)
    return r;
  if (r == 1)
    return cut_error(err, ENODEV, "find %s %s", kind, name);
  if (strcmp(li->kind, kind) != 0)
    return cut_error(err, EINVAL, "find %s %s: it is a %s link, not a %s", kind, name,
                     li->kind[0] ? li->kind : "plain", kind);
  return 0;
}

static int
link_create_bridge(nl_sock *s, const char *name, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  /* CREATE|EXCL: fail rather than silently reuse a link of that name. */
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.newlink", TA_STR("kind", "bridge"),
              TA_STR("name", name));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "create bridge %s", name);
}

/* Both ends of a veth pair in one message: the peer is described by a
 * nested ifinfomsg + attributes inside IFLA_INFO_DATA/VETH_INFO_PEER.  With
 * ns_fd >= 0 the peer is born in that namespace, under its final name and
 * MAC: moving a link between namespaces afterwards (RTM_NEWLINK with
 * IFLA_NET_NS_FD) waits for an RCU grace period, ~15 ms here. */
static int
link_create_veth(nl_sock *s, const char *name, const char *peer, int ns_fd,
                 const unsigned char *peer_mac, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *peer_ifi);
  peer_ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
  if (peer_mac)
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
  if (ns_fd >= 0)
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)ns_fd);
  mnl_attr_nest_end(nlh, peer_attr);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.newlink", TA_STR("kind", "veth"), TA_STR("name", name),
              TA_STR("peer", peer), TA_BOOL("peer_in_netns", ns_fd >= 0));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "create veth %s with peer %s", name, peer);
}

/* RTM_NEWLINK without NLM_F_CREATE changes an existing link (what
 * `ip link set` sends): IFF_UP in ifi_change selects the flag to change. */
static int
link_set_up(nl_sock *s, const link_info *li, const char *name, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, li->index);
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = IFF_UP;
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.setlink", TA_STR("name", name), TA_BOOL("up", true));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "bring %s up", name);
}

/* Enslave to the bridge (IFLA_MASTER) and bring up, in one message. */
static int
link_set_master_up(nl_sock *s, const link_info *li, const char *name, const link_info *master,
                   const char *master_name, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, li->index);
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = IFF_UP;
  mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master->index);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.setlink", TA_STR("name", name),
              TA_STR("master", master_name), TA_BOOL("up", true));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "attach %s to bridge %s", name, master_name);
}

static int
link_delete(nl_sock *s, const link_info *li, const char *name, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, li->index);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.dellink", TA_STR("name", name),
              TA_STR("kind", li->kind));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "delete %s %s", li->kind, name);
}

/* Delete link `name` if it exists and is of `kind` (absent is fine). */
static int
link_delete_kind(nl_sock *s, const char *kind, const char *name, cut_err *err)
{
  link_info li;
  int r = link_get(s, name, &li, err);
  if (r != 0)
    return r < 0 ? r : 0;
  if (strcmp(li.kind, kind) != 0)
    return cut_error(err, EINVAL, "delete %s %s: it is a %s link, not a %s", kind, name,
                     li.kind[0] ? li.kind : "plain", kind);
  return link_delete(s, &li, name, err);
}

/* ---- addresses and routes ------------------------------------------------ */

/* RTM_NEWADDR: IFA_LOCAL is the interface's own address; IFA_ADDRESS the
 * peer address, equal to it on a broadcast link; IFA_BROADCAST what
 * `ip addr add ... brd +` would compute (the Go netlink package does too). */
static int
addr_add(nl_sock *s, const link_info *li, const char *ifname, uint32_t addr, int prefix,
         int ok_errno, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)li->index;
  uint32_t be = htonl(addr);
  mnl_attr_put_u32(nlh, IFA_LOCAL, be);
  mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
  if (prefix < 31)
    mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~prefix_mask(prefix)));
  char text[DKD_NET_ADDR_LEN + 4];
  char host[DKD_NET_ADDR_LEN];
  format_ipv4(addr, host);
  snprintf(text, sizeof text, "%s/%d", host, prefix);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.newaddr", TA_STR("dev", ifname),
              TA_STR("address", text));
  return nl_call(s, &sp, nlh, NULL, NULL, ok_errno, err, "add address %s to %s", text, ifname);
}

/* RTM_NEWROUTE for 0.0.0.0/0 in the main table via the gateway, out of
 * `ifname`: what `ip route add default via G dev eth0` sends. */
static int
route_add_default(nl_sock *s, const link_info *li, const char *ifname, uint32_t gateway,
                  const char *gateway_text, cut_err *err)
{
  char buf[NL_REQ_MAX] __attribute__((aligned(8)));
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0; /* the default route */
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT; /* "added by an admin tool", as ip route does */
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
  mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)li->index);
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "netlink.newroute", TA_STR("dst", "default"),
              TA_STR("via", gateway_text), TA_STR("dev", ifname));
  return nl_call(s, &sp, nlh, NULL, NULL, 0, err, "add default route via %s", gateway_text);
}

/* ---- helper threads ------------------------------------------------------ */

/* Spans nest per thread, so a helper thread starts its spans under the
 * caller's current span by passing its W3C traceparent across. */
typedef struct thread_ctx {
  char traceparent[TRACEPARENT_LEN];
  bool has_parent;
} thread_ctx;

static void
thread_ctx_capture(thread_ctx *c)
{
  c->has_parent = trace_traceparent(NULL, c->traceparent);
}

static void
thread_span_begin(const thread_ctx *c, trace_span *sp, enum trace_kind kind, const char *name,
                  const trace_attr *attrs, size_t n)
{
  if (c->has_parent)
    trace_begin_remote_a(sp, kind, name, c->traceparent, attrs, n);
  else
    trace_begin_a(sp, kind, name, attrs, n);
}

static int
run_thread(void *(*fn)(void *), void *arg, cut_err *err)
{
  pthread_t t;
  int r = pthread_create(&t, NULL, fn, arg);
  if (r != 0)
    return cut_error(err, r, "start helper thread");
  pthread_join(t, NULL);
  return 0;
}

/* Open a rtnetlink socket inside the namespace `ns_fd`. */
typedef struct ns_socket_job {
  thread_ctx ctx;
  int ns_fd;
  const char *ns_path;
  nl_sock sock;
  cut_err err;
  int rc;
} ns_socket_job;

static void *
ns_socket_thread(void *arg)
{
  ns_socket_job *job = arg;
  trace_span sp;
  const trace_attr attrs[] = {TA_STR("nstype", "CLONE_NEWNET"), TA_STR("path", job->ns_path)};
  thread_span_begin(&job->ctx, &sp, TRACE_SYSCALL, "setns", attrs, 2);
  /* Only this thread changes namespace; the socket stays bound to the
   * namespace it is created in after the thread is gone. */
  if (trace_end_sys(&sp, setns(job->ns_fd, CLONE_NEWNET)) < 0) {
    job->rc = cut_error(&job->err, errno, "setns %s", job->ns_path);
    return NULL;
  }
  job->rc = nl_open(&job->sock, &job->err);
  return NULL;
}

static int
nl_open_in_netns(nl_sock *s, int ns_fd, const char *ns_path, cut_err *err)
{
  ns_socket_job job = {.ns_fd = ns_fd, .ns_path = ns_path, .rc = -1};
  thread_ctx_capture(&job.ctx);
  if (run_thread(ns_socket_thread, &job, err) < 0)
    return -1;
  if (job.rc < 0) {
    if (err)
      *err = job.err;
    return -1;
  }
  *s = job.sock;
  return 0;
}

/* ---- bridge -------------------------------------------------------------- */

int
dkd_net_bridge_ensure(const char *name, const char *gateway_cidr, cut_err *err)
{
  uint32_t gw;
  int prefix;
  if (check_ifname("bridge", name, err) < 0)
    return -1;
  if (dkd_net_parse_cidr(gateway_cidr, &gw, &prefix, err) < 0)
    return cut_wrap(err, "bridge %s", name);
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.bridgeEnsure", TA_STR("name", name),
              TA_STR("gateway", gateway_cidr));
  nl_sock s = {0};
  link_info br;
  bool created = false;
  int r = nl_open(&s, err);
  if (r == 0)
    r = link_get(&s, name, &br, err);
  if (r == 1) { /* absent: create it */
    r = link_create_bridge(&s, name, err);
    created = r == 0;
    if (r == 0)
      r = link_get(&s, name, &br, err);
    if (r == 1)
      r = cut_error(err, ENODEV, "bridge %s vanished after creation", name);
  }
  if (r == 0 && strcmp(br.kind, "bridge") != 0)
    r = cut_error(err, EEXIST, "bridge %s: a %s link of that name exists", name,
                  br.kind[0] ? br.kind : "plain");
  if (r == 0)
    r = addr_add(&s, &br, name, gw, prefix, EEXIST, err);
  if (r >= 0)
    r = link_set_up(&s, &br, name, err);
  if (r < 0 && created) { /* leave nothing behind */
    cut_err ignored;
    link_delete_kind(&s, "bridge", name, &ignored);
  }
  nl_close(&s);
  return trace_end_rc(&sp, r < 0 ? -1 : 0, err);
}

int
dkd_net_bridge_delete(const char *name, cut_err *err)
{
  if (check_ifname("bridge", name, err) < 0)
    return -1;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.bridgeDelete", TA_STR("name", name));
  nl_sock s = {0};
  int r = nl_open(&s, err);
  if (r == 0)
    r = link_delete_kind(&s, "bridge", name, err);
  nl_close(&s);
  return trace_end_rc(&sp, r, err);
}

/* ---- network namespaces -------------------------------------------------- */

typedef struct netns_job {
  thread_ctx ctx;
  const char *path;
  cut_err err;
  int rc;
} netns_job;

/* In the helper thread: a new namespace for this thread only, pinned by a
 * bind mount (a namespace lives as long as a process, an fd or a mount of
 * its nsfs file refers to it), then lo up as `ip netns add` leaves it. */
static int
netns_populate(const char *path, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "unshare", TA_STR("flags", "CLONE_NEWNET"));
  if (trace_end_sys(&sp, unshare(CLONE_NEWNET)) < 0)
    return cut_error(err, errno, "unshare CLONE_NEWNET");
  char src[64];
  snprintf(src, sizeof src, "/proc/self/task/%d/ns/net", (int)gettid());
  trace_begin(&sp, TRACE_SYSCALL, "mount", TA_STR("source", src), TA_STR("target", path),
              TA_STR("flags", "MS_BIND"));
  if (trace_end_sys(&sp, mount(src, path, NULL, MS_BIND, NULL)) < 0)
    return cut_error(err, errno, "bind mount %s on %s", src, path);
  nl_sock s = {0};
  link_info lo;
  int r = nl_open(&s, err); /* opened after unshare: a socket in the new namespace */
  if (r == 0)
    r = link_get(&s, "lo", &lo, err);
  if (r == 1)
    r = cut_error(err, ENODEV, "find lo in %s", path);
  if (r == 0)
    r = link_set_up(&s, &lo, "lo", err);
  nl_close(&s);
  return r;
}

static void *
netns_thread(void *arg)
{
  netns_job *job = arg;
  trace_span sp;
  const trace_attr attrs[] = {TA_STR("path", job->path), TA_INT("tid", gettid())};
  thread_span_begin(&job->ctx, &sp, TRACE_INTERNAL, "network.netnsThread", attrs, 2);
  job->rc = netns_populate(job->path, &job->err);
  trace_end_rc(&sp, job->rc, &job->err);
  return NULL;
}

/* Undo a bind mount and its mount point; absent or not mounted is fine. */
static int
netns_remove(const char *path, cut_err *err)
{
  trace_span sp;
  trace_begin(&sp, TRACE_SYSCALL, "umount2", TA_STR("target", path), TA_STR("flags", "MNT_DETACH"));
  if (umount2(path, MNT_DETACH) < 0) {
    int e = errno;
    /* EINVAL: not a mount point (a half-made namespace); ENOENT: gone. */
    if (e != EINVAL && e != ENOENT) {
      cut_error(err, e, "unmount netns %s", path);
      trace_end(&sp, err);
      return -1;
    }
    trace_end(&sp, NULL, TA_BOOL("mounted", false));
  } else {
    trace_end(&sp, NULL);
  }
  if (unlink(path) < 0 && errno != ENOENT)
    return cut_error(err, errno, "remove netns file %s", path);
  return 0;
}

int
dkd_net_netns_create(const char *path, cut_err *err)
{
  if (path == NULL || path[0] != '/')
    return cut_error(err, EINVAL, "create netns %s: want an absolute path", path ? path : "(null)");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.netnsCreate", TA_STR("path", path));
  /* The mount point: an empty file (nsfs files are bind-mounted on files).
   * O_EXCL: never adopt whatever is already there. */
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) {
    cut_error(err, errno, "create netns file %s", path);
    return trace_end_rc(&sp, -1, err);
  }
  close(fd);
  netns_job job = {.path = path, .rc = -1};
  thread_ctx_capture(&job.ctx);
  int r = run_thread(netns_thread, &job, err);
  if (r == 0 && job.rc < 0) {
    if (err)
      *err = job.err;
    cut_wrap(err, "create netns %s", path);
    r = -1;
  }
  if (r < 0) {
    cut_err ignored;
    netns_remove(path, &ignored);
  }
  return trace_end_rc(&sp, r, err);
}

int
dkd_net_netns_delete(const char *path, cut_err *err)
{
  if (path == NULL || path[0] != '/')
    return cut_error(err, EINVAL, "delete netns %s: want an absolute path", path ? path : "(null)");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.netnsDelete", TA_STR("path", path));
  return trace_end_rc(&sp, netns_remove(path, err), err);
}

/* ---- attach / detach ----------------------------------------------------- */

/* Open the namespace file and make sure it is one: NS_GET_NSTYPE answers
 * only on nsfs files, with the CLONE_NEW* flag of the namespace's type. */
static int
netns_open(const char *path, cut_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cut_error(err, errno, "open netns %s", path);
  if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    close(fd);
    return cut_error(err, EINVAL, "open netns %s: not a network namespace", path);
  }
  return fd;
}

typedef struct attach_req {
  const char *bridge, *netns_path, *host_if, *addr_cidr, *gateway_text;
  uint32_t addr, gateway;
  int prefix;
  unsigned char mac[6];
  char mac_text[DKD_NET_MAC_LEN];
} attach_req;

static int
attach_check(attach_req *a, const char *mac, cut_err *err)
{
  if (check_ifname("bridge", a->bridge, err) < 0 || check_ifname("veth", a->host_if, err) < 0)
    return -1;
  if (a->netns_path == NULL || a->netns_path[0] != '/')
    return cut_error(err, EINVAL, "netns %s: want an absolute path",
                     a->netns_path ? a->netns_path : "(null)");
  if (dkd_net_parse_cidr(a->addr_cidr, &a->addr, &a->prefix, err) < 0)
    return -1;
  if (a->gateway_text && parse_ipv4(a->gateway_text, &a->gateway) < 0)
    return cut_error(err, EINVAL, "gateway %s: not an IPv4 address", a->gateway_text);
  if (mac == NULL && dkd_net_mac_from_ip(a->addr_cidr, a->mac_text, err) < 0)
    return -1;
  if (mac != NULL)
    snprintf(a->mac_text, sizeof a->mac_text, "%s", mac);
  return parse_mac(a->mac_text, a->mac, err);
}

/* Inside the namespace: eth0 with its MAC and address, up, default route. */
static int
attach_inside(const attach_req *a, int ns_fd, const char *peer, cut_err *err)
{
  nl_sock in = {0};
  link_info li;
  if (nl_open_in_netns(&in, ns_fd, a->netns_path, err) < 0)
    return -1;
  /* The peer was born here as eth0 with its MAC (link_create_veth). */
  int r = link_find(&in, "veth", peer, &li, err);
  if (r == 0)
    r = addr_add(&in, &li, "eth0", a->addr, a->prefix, 0, err);
  if (r == 0)
    r = link_set_up(&in, &li, "eth0", err);
  if (r == 0 && a->gateway_text)
    r = route_add_default(&in, &li, "eth0", a->gateway, a->gateway_text, err);
  nl_close(&in);
  return r;
}

/* On the host: the pair, the host end on the bridge, the peer moved out. */
static int
attach_steps(nl_sock *host, const attach_req *a, int ns_fd, bool *created, cut_err *err)
{
  link_info br, hl;
  if (link_find(host, "bridge", a->bridge, &br, err) < 0)
    return -1;
  if (link_create_veth(host, a->host_if, "eth0", ns_fd, a->mac, err) < 0)
    return -1;
  *created = true;
  if (link_find(host, "veth", a->host_if, &hl, err) < 0)
    return -1;
  if (link_set_master_up(host, &hl, a->host_if, &br, a->bridge, err) < 0)
    return -1;
  return attach_inside(a, ns_fd, "eth0", err);
}

int
dkd_net_attach(const char *bridge, const char *netns_path, const char *host_if,
               const char *addr_cidr, const char *gateway, const char *mac, cut_err *err)
{
  attach_req a = {.bridge = bridge,
                  .netns_path = netns_path,
                  .host_if = host_if,
                  .addr_cidr = addr_cidr,
                  .gateway_text = gateway};
  if (attach_check(&a, mac, err) < 0)
    return cut_wrap(err, "attach %s", host_if ? host_if : "(null)");
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.attach", TA_STR("bridge", bridge),
              TA_STR("netns", netns_path), TA_STR("host_if", host_if), TA_STR("address", addr_cidr),
              TA_STR("mac", a.mac_text));
  nl_sock host = {0};
  bool created = false;
  int ns_fd = netns_open(netns_path, err);
  int r = ns_fd < 0 ? -1 : nl_open(&host, err);
  if (r == 0)
    r = attach_steps(&host, &a, ns_fd, &created, err);
  if (r < 0 && created) {
    /* Deleting one end of a veth pair deletes the other, wherever it is. */
    cut_err ignored;
    link_delete_kind(&host, "veth", host_if, &ignored);
  }
  if (r < 0)
    cut_wrap(err, "attach %s", host_if);
  nl_close(&host);
  if (ns_fd >= 0)
    close(ns_fd);
  return trace_end_rc(&sp, r, err);
}

int
dkd_net_detach(const char *host_if, cut_err *err)
{
  if (check_ifname("veth", host_if, err) < 0)
    return -1;
  trace_span sp;
  trace_begin(&sp, TRACE_INTERNAL, "network.detach", TA_STR("host_if", host_if));
  nl_sock s = {0};
  int r = nl_open(&s, err);
  if (r == 0)
    r = link_delete_kind(&s, "veth", host_if, err);
  nl_close(&s);
  return trace_end_rc(&sp, r, err);
}
