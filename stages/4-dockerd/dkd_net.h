/* dkd_net.h: container networking for cutawayd, the default "bridge" network.
 *
 * Mirrors what dockerd's libnetwork bridge driver does for `docker run` on the
 * default network: a Linux bridge on the host (docker0 there), one network
 * namespace per container, a veth pair per container with one end enslaved to
 * the bridge and the other moved into the container's namespace as eth0, an
 * address from the bridge's subnet, and a default route via the bridge.
 *
 * Everything is said to the kernel in rtnetlink messages (libmnl), never by
 * running `ip`; every message is a TRACE_SYSCALL span ("netlink.newlink",
 * "netlink.setns", "netlink.newaddr", "netlink.newroute", ...).  NAT and port
 * publishing are not done (see docs/stages/4-dockerd-network.md).
 *
 * All functions follow the error idiom: <0 and `err` filled, one line naming
 * the step and the object ("create veth veth1234abcd: File exists"). */
#ifndef CUTAWAY_DKD_NET_H
#define CUTAWAY_DKD_NET_H

#include <stddef.h>

#include "error.h"

/* Linux interface names are at most IFNAMSIZ-1 = 15 characters. */
#define DKD_NET_IFNAME_MAX 15
/* "255.255.255.255" + NUL, and "aa:bb:cc:dd:ee:ff" + NUL. */
#define DKD_NET_ADDR_LEN 16
#define DKD_NET_MAC_LEN 18

/* Create (if missing) the bridge `name` with the address `gateway_cidr`
 * ("172.30.0.1/16") and bring it up.  Idempotent; a link of that name that is
 * not a bridge is an error. */
int dkd_net_bridge_ensure(const char *name, const char *gateway_cidr, cut_err *err);

/* Delete the bridge `name`; absent is fine, a non-bridge link is refused. */
int dkd_net_bridge_delete(const char *name, cut_err *err);

/* A new network namespace kept alive by a bind mount at `path` (what
 * `ip netns add` does): a helper thread unshares CLONE_NEWNET, bind-mounts
 * /proc/self/task/<tid>/ns/net onto a new empty file at `path` and brings
 * `lo` up.  The parent directory must exist; `path` must not. */
int dkd_net_netns_create(const char *path, cut_err *err);

/* Unmount and remove the file at `path` (absent is fine).  The namespace is
 * freed by the kernel once nothing else (a process, an open fd) holds it. */
int dkd_net_netns_delete(const char *path, cut_err *err);

/* Connect the namespace at `netns_path` to `bridge`: a veth pair whose host
 * end `host_if` (<= 15 chars, e.g. "veth" + 8 hex) is enslaved to the bridge
 * and up; the peer is moved into the namespace, renamed eth0, given
 * `addr_cidr` ("172.30.0.5/16") and the MAC `mac` (NULL: 02:42 + the IPv4
 * bytes, as Docker derives it), brought up, and given a default route via
 * `gateway` ("172.30.0.1"; NULL: no route).  On failure nothing is left. */
int dkd_net_attach(const char *bridge, const char *netns_path, const char *host_if,
                   const char *addr_cidr, const char *gateway, const char *mac, cut_err *err);

/* Delete the host end `host_if`; its peer (the container's eth0) goes with
 * it.  Absent is fine; a link of that name that is not a veth is refused. */
int dkd_net_detach(const char *host_if, cut_err *err);

/* IPAM: the lowest free host address in `subnet_cidr` ("172.30.0.0/16"),
 * skipping the network address, the gateway (network + 1), the broadcast
 * address and every address in used[0..n) (each "a.b.c.d" or "a.b.c.d/len").
 * Writes the bare address ("172.30.0.2") to `out`.  Pure function. */
int dkd_net_ipam_next(const char *subnet_cidr, const char *const *used, size_t n, char *out,
                      size_t out_len, cut_err *err);

/* Docker's MAC for an IPv4 address: 02:42:ac:1e:00:05 for 172.30.0.5
 * ("a.b.c.d" or "a.b.c.d/len").  Pure function. */
int dkd_net_mac_from_ip(const char *ip, char out[DKD_NET_MAC_LEN], cut_err *err);

/* Parse "a.b.c.d/len" (len 0..32) into an address in host byte order and a
 * prefix length.  Pure function. */
int dkd_net_parse_cidr(const char *cidr, unsigned *addr, int *prefix, cut_err *err);

#endif
