// SPDX-License-Identifier: GPL-2.0
/* The isolation plane: Common Runtime and Private Spaces rules for every dyno, on the host side of
 * its veth. dyno_from runs on tc ingress (what the dyno sends), dyno_to on tc egress (what is sent
 * to it). Policy is map entries (maps.h); adding a dyno never touches a program. Every lookup on
 * the path is an exact-match hash (or one LPM for egress), so the cost per packet does not grow
 * with the number of dynos. Pass is TC_ACT_UNSPEC: other filters still run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dynoplane.h"
#include "maps.h"
#include "parse.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#define REFRESH_NS 1000000000ull /* refresh a flow's last_seen at most once a second */

static __always_inline int verdict(__u32 dyno_id, __u32 reason, int action)
{
	struct verdict_key key = { .dyno_id = dyno_id, .reason = reason };
	__u64 one = 1, *packets = bpf_map_lookup_elem(&verdicts, &key);

	if (packets)
		*packets += 1; /* per-CPU value */
	else
		bpf_map_update_elem(&verdicts, &key, &one, BPF_NOEXIST);
	return action;
}

#define PASS(id, reason) verdict(id, reason, TC_ACT_UNSPEC)
#define DROP(id, reason) verdict(id, reason, TC_ACT_SHOT)

static __always_inline void track(struct flow_key *key, __u32 initiator)
{
	__u64 now = bpf_ktime_get_ns();
	struct flow_value *flow = bpf_map_lookup_elem(&flows, key);

	if (flow) {
		if (now - flow->last_seen_ns > REFRESH_NS)
			flow->last_seen_ns = now;
		return;
	}
	struct flow_value value = { .initiator = initiator, .last_seen_ns = now };
	bpf_map_update_elem(&flows, key, &value, BPF_NOEXIST);
}

static __always_inline struct flow_value *tracked(struct flow_key *key)
{
	struct flow_value *flow = bpf_map_lookup_elem(&flows, key);

	if (flow) {
		__u64 now = bpf_ktime_get_ns();
		if (now - flow->last_seen_ns > REFRESH_NS)
			flow->last_seen_ns = now;
	}
	return flow;
}

static __always_inline int same_mac(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b && *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/* The dyno this interface guards, or NULL. */
static __always_inline struct dyno_info *guarded(struct __sk_buff *skb, __be32 *addr)
{
	__u32 ifindex = skb->ifindex;
	__be32 *a = bpf_map_lookup_elem(&dyno_by_ifindex, &ifindex);

	if (!a)
		return NULL;
	*addr = *a;
	return bpf_map_lookup_elem(&dynos, a);
}

/* Is daddr an address of this host (local, broadcast, multicast) as the kernel would route it? */
static __always_inline int host_local(struct __sk_buff *skb, struct packet *p)
{
	struct bpf_fib_lookup fib = {
		.family = AF_INET,
		.l4_protocol = p->proto,
		.sport = p->sport,
		.dport = p->dport,
		.tot_len = p->tot_len,
		.ifindex = skb->ifindex,
		.ipv4_src = p->saddr,
		.ipv4_dst = p->daddr,
	};
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);

	/* NOT_FWDED: local/broadcast/multicast or no route. FWD_DISABLED: the kernel would only deliver it
	 * locally. Either way not egress. */
	return rc == BPF_FIB_LKUP_RET_NOT_FWDED || rc == BPF_FIB_LKUP_RET_FWD_DISABLED || rc < 0;
}

SEC("tc")
int dyno_from(struct __sk_buff *skb)
{
	__be32 addr;
	struct dyno_info *self = guarded(skb, &addr);
	if (!self)
		return DROP(0, VERDICT_DROP_UNGUARDED);
	__u32 id = self->id;

	struct packet p = {};
	int parsed = parse(skb, &p);
	if (parsed == VERDICT_PASS_ARP)
		return PASS(id, VERDICT_PASS_ARP);
	if (parsed != PARSED_IPV4)
		return DROP(id, parsed);

	if (p.saddr != addr || !same_mac(p.src_mac, self->mac))
		return DROP(id, VERDICT_DROP_SPOOF);

	/* Echo replies and ICMP errors the dyno sends start nothing. */
	int starts = p.proto != IPPROTO_ICMP || p.icmp_type == ICMP_ECHO;
	struct flow_key key = {
		.proto = p.proto, .dyno = p.saddr, .remote = p.daddr,
		.dyno_port = p.sport, .remote_port = p.dport,
	};

	struct dyno_info *peer = bpf_map_lookup_elem(&dynos, &p.daddr);
	if (peer) {
		if (self->space_id != 0 && peer->space_id == self->space_id) {
			if (starts)
				track(&key, FLOW_SPACE);
			return PASS(id, VERDICT_PASS_SPACE);
		}
		return DROP(id, VERDICT_DROP_TO_DYNO);
	}

	if ((bpf_ntohl(p.daddr) & DYNO_MASK) == DYNO_NET || host_local(skb, &p)) {
		/* The host serves nothing to dynos: only replies on connections the router opened. */
		struct flow_value *flow = p.proto == IPPROTO_TCP ? tracked(&key) : NULL;
		if (flow && flow->initiator == FLOW_ROUTER)
			return PASS(id, VERDICT_PASS_REPLY);
		return DROP(id, VERDICT_DROP_TO_HOST);
	}

	struct cidr_key cidr = { .prefixlen = 32, .addr = p.daddr };
	if (!bpf_map_lookup_elem(&egress_cidrs, &cidr))
		return DROP(id, VERDICT_DROP_NO_EGRESS);
	if (starts)
		track(&key, FLOW_DYNO);
	return PASS(id, VERDICT_PASS_EGRESS);
}

SEC("tc")
int dyno_to(struct __sk_buff *skb)
{
	__be32 addr;
	struct dyno_info *self = guarded(skb, &addr);
	if (!self)
		return DROP(0, VERDICT_DROP_UNGUARDED);
	__u32 id = self->id;

	struct packet p = {};
	int parsed = parse(skb, &p);
	if (parsed == VERDICT_PASS_ARP)
		return PASS(id, VERDICT_PASS_ARP);
	if (parsed != PARSED_IPV4)
		return DROP(id, parsed);

	if (p.daddr != addr)
		return DROP(id, VERDICT_DROP_INBOUND);

	/* Only echo replies among ICMP continue a flow (an inbound echo request never does). */
	if (p.proto != IPPROTO_ICMP || p.icmp_type == ICMP_ECHOREPLY) {
		struct flow_key key = {
			.proto = p.proto, .dyno = p.daddr, .remote = p.saddr,
			.dyno_port = p.dport, .remote_port = p.sport,
		};
		if (p.proto == IPPROTO_ICMP) { /* the echo id sits in sport: it is the dyno's */
			key.dyno_port = p.sport;
			key.remote_port = 0;
		}
		if (tracked(&key))
			return PASS(id, VERDICT_PASS_REPLY);
	}

	struct dyno_info *peer = bpf_map_lookup_elem(&dynos, &p.saddr);
	if (peer && self->space_id != 0 && peer->space_id == self->space_id)
		return PASS(id, VERDICT_PASS_SPACE);

	if (p.proto == IPPROTO_TCP && (p.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	    p.saddr == self->gateway && self->port != 0 && bpf_ntohs(p.dport) == self->port &&
	    !(self->flags & DYNO_F_INTERNAL)) {
		struct flow_key key = {
			.proto = p.proto, .dyno = p.daddr, .remote = p.saddr,
			.dyno_port = p.dport, .remote_port = p.sport,
		};
		track(&key, FLOW_ROUTER);
		return PASS(id, VERDICT_PASS_ROUTER);
	}
	return DROP(id, VERDICT_DROP_INBOUND);
}

char LICENSE[] SEC("license") = "GPL";
