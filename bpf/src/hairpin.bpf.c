// SPDX-License-Identifier: GPL-2.0
/* Hairpin, what the router sees: a dyno that calls an app through the router's public address (its
 * connection passes the guard as VERDICT_PASS_HAIRPIN) arrives from its 172.16/12 address, not NATed (the
 * packets never cross the uplink). These cgroup/getpeername4 and getpeername6 programs, attached to the cgroup2 of the
 * plane's process, rewrite the peer address getpeername() and accept() report for such a connection
 * to the dyno's NAT outbound address, as if it had come in from outside; the port stays the dyno's.
 *
 * Rewritten only when all hold: TCP; the socket's local port is a router port (hairpin_ports); its
 * local address is not in the dyno range (a dyno's own server, whose peer is its gateway, is left
 * alone); the peer is in the dyno range. Every other socket of the cgroup (which may be the root: every
 * process) is left as the kernel reports it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dynoplane.h"

#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif

/* Router listening ports, host order -> unused u8. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} hairpin_ports SEC(".maps");

/* Dyno address -> its outbound address (both __be32), for dynos that leave from another address than the
 * default (a private space's). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, __be32);
} hairpin_nat SEC(".maps");

/* [0]: the common runtime's outbound address (__be32); 0 = rewrite nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __be32);
} hairpin_default SEC(".maps");

static __always_inline int in_dyno_range(__be32 addr)
{
	return (bpf_ntohl(addr) & DYNO_MASK) == DYNO_NET;
}

/* The outbound address to report for a connection on socket sk from dyno-range peer `peer`, or 0 to leave it. */
static __always_inline __be32 rewrite(struct bpf_sock *sk, __be32 peer)
{
	__u32 port = sk->src_port; /* host order */
	if (!bpf_map_lookup_elem(&hairpin_ports, &port))
		return 0;
	if (in_dyno_range(sk->src_ip4)) /* for an IPv4-mapped connection on an IPv6 socket too */
		return 0;
	if (!in_dyno_range(peer))
		return 0;

	__be32 *outbound = bpf_map_lookup_elem(&hairpin_nat, &peer);
	if (!outbound) {
		__u32 zero = 0;
		outbound = bpf_map_lookup_elem(&hairpin_default, &zero);
	}
	return outbound ? *outbound : 0;
}

SEC("cgroup/getpeername4")
int hairpin_peer(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk || ctx->protocol != IPPROTO_TCP)
		return 1;
	__be32 outbound = rewrite(sk, ctx->user_ip4);
	if (outbound)
		ctx->user_ip4 = outbound;
	return 1;
}

/* Dual-stack listeners (Netty's native transports open AF_INET6 sockets): an IPv4 client is reported as
 * ::ffff:a.b.c.d, through the IPv6 hook. */
SEC("cgroup/getpeername6")
int hairpin_peer6(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk || ctx->protocol != IPPROTO_TCP)
		return 1;
	if (ctx->user_ip6[0] != 0 || ctx->user_ip6[1] != 0 || ctx->user_ip6[2] != bpf_htonl(0xffff))
		return 1;
	__be32 outbound = rewrite(sk, ctx->user_ip6[3]);
	if (outbound)
		ctx->user_ip6[3] = outbound;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
