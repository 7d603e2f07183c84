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
#define REFRESH_NS 1000000000ull /* refresh a flow's last_seen at most once a second (map write avoidance) */

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

/* Idle timeout of the flow in its state: flow_timeouts, else the default. */
static __always_inline __u64 flow_timeout_ns(const struct flow_key *key, const struct flow_value *flow)
{
	__u32 kind;
	__u64 seconds;
	int both_ways = (flow->state & (FLOW_S_DYNO | FLOW_S_REMOTE)) == (FLOW_S_DYNO | FLOW_S_REMOTE);

	if (key->proto == IPPROTO_TCP) {
		if ((flow->state & (FLOW_S_FIN_DYNO | FLOW_S_FIN_REMOTE)) == (FLOW_S_FIN_DYNO | FLOW_S_FIN_REMOTE)) {
			kind = FLOW_T_TCP_CLOSING;
			seconds = FLOW_TIMEOUT_TCP_CLOSING_S;
		} else if (both_ways) {
			kind = FLOW_T_TCP_ESTABLISHED;
			seconds = FLOW_TIMEOUT_TCP_ESTABLISHED_S;
		} else {
			kind = FLOW_T_TCP_OPENING;
			seconds = FLOW_TIMEOUT_TCP_OPENING_S;
		}
	} else if (key->proto == IPPROTO_ICMP) {
		kind = FLOW_T_ICMP;
		seconds = FLOW_TIMEOUT_ICMP_S;
	} else if (both_ways) {
		kind = FLOW_T_UDP_REPLIED;
		seconds = FLOW_TIMEOUT_UDP_REPLIED_S;
	} else {
		kind = FLOW_T_UDP;
		seconds = FLOW_TIMEOUT_UDP_S;
	}
	__u64 *configured = bpf_map_lookup_elem(&flow_timeouts, &kind);
	if (configured && *configured)
		return *configured;
	return seconds * 1000000000ull;
}

/* Idle for longer than timeout? Signed: another CPU may have just stored a last_seen later than now. */
static __always_inline int idle_longer(const struct flow_value *flow, __u64 now, __u64 timeout)
{
	return (__s64)(now - flow->last_seen_ns) > (__s64)timeout;
}

/* A flow of another generation (the address was forgotten and admitted again) or past its timeout
 * is no flow: the datapath enforces expiry itself; nothing has to sweep the table. */
static __always_inline int flow_live(const struct flow_key *key, const struct flow_value *flow, __u32 gen, __u64 now)
{
	return flow->gen == gen && !idle_longer(flow, now, flow_timeout_ns(key, flow));
}

#define FROM_DYNO 0
#define TO_DYNO 1

/*
 * One packet of key's flow (key from the dyno's point of view), going `dir`. If the flow is live:
 * records what the packet shows (direction, FIN), refreshes last_seen (at most once a second, or a
 * sixteenth of the timeout if shorter, unless the state changed), ends the flow on a TCP RST (after
 * letting that RST through), and returns its initiator. Otherwise removes a stale entry and returns 0,
 * or, when `start` is non-zero and the packet is no RST, starts the flow with that initiator and
 * returns it.
 */
static __always_inline __u32 flow_packet(struct flow_key *key, __u32 gen, int dir, __u8 tcp_flags, __u32 start)
{
	__u64 now = bpf_ktime_get_ns();
	int tcp = key->proto == IPPROTO_TCP;
	__u8 seen = dir == FROM_DYNO ? FLOW_S_DYNO : FLOW_S_REMOTE;

	if (tcp && (tcp_flags & TCP_FLAG_FIN))
		seen |= dir == FROM_DYNO ? FLOW_S_FIN_DYNO : FLOW_S_FIN_REMOTE;
	int rst = tcp && (tcp_flags & TCP_FLAG_RST);

	struct flow_value *flow = bpf_map_lookup_elem(&flows, key);
	if (flow && flow->gen == gen) {
		__u64 timeout = flow_timeout_ns(key, flow);
		if (!idle_longer(flow, now, timeout)) {
			__u32 initiator = flow->initiator;
			if (rst) {
				bpf_map_delete_elem(&flows, key);
				return initiator;
			}
			/* A new connection on the tuple of one that was closing (TIME_WAIT reuse) starts afresh. */
			if (tcp && (tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
			    (flow->state & (FLOW_S_FIN_DYNO | FLOW_S_FIN_REMOTE))) {
				flow->state = seen;
				flow->last_seen_ns = now;
				return initiator;
			}
			__u64 refresh = timeout >> 4;
			if (refresh > REFRESH_NS)
				refresh = REFRESH_NS;
			if ((flow->state & seen) != seen) {
				flow->state |= seen; /* a lost race only delays a state change to the next packet */
				flow->last_seen_ns = now;
			} else if (idle_longer(flow, now, refresh)) {
				flow->last_seen_ns = now;
			}
			return initiator;
		}
	}
	if (!start || rst) {
		if (flow)
			bpf_map_delete_elem(&flows, key);
		return 0;
	}
	struct flow_value value = { .initiator = start, .state = seen, .gen = gen, .last_seen_ns = now };
	bpf_map_update_elem(&flows, key, &value, BPF_ANY); /* replaces a stale entry */
	return start;
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

/* Is (daddr, dport) a router listener: on that address, or on every local address (0)? */
static __always_inline int router_listener(__be32 daddr, __be16 dport)
{
	struct listener_key key = { .addr = daddr, .port = dport };

	if (bpf_map_lookup_elem(&router_listeners, &key))
		return 1;
	key.addr = 0;
	return bpf_map_lookup_elem(&router_listeners, &key) != NULL;
}

SEC("tc")
int dyno_from(struct __sk_buff *skb)
{
	__be32 addr;
	struct dyno_info *self = guarded(skb, &addr);
	if (!self)
		return DROP(0, VERDICT_DROP_UNGUARDED);
	__u32 id = self->id, gen = self->gen;

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
				flow_packet(&key, gen, FROM_DYNO, p.tcp_flags, FLOW_SPACE);
			return PASS(id, VERDICT_PASS_SPACE);
		}
		return DROP(id, VERDICT_DROP_TO_DYNO);
	}

	if ((bpf_ntohl(p.daddr) & DYNO_MASK) == DYNO_NET || host_local(skb, &p)) {
		/* The host serves dynos nothing but the router's listeners (hairpin); otherwise only replies on
		 * connections the router opened pass. */
		if (p.proto == IPPROTO_TCP) {
			/* Only through the router's public addresses: by a dyno gateway (in the dyno range) the
			 * router would see the dyno's own address, which the hairpin must never show. */
			int listener = (bpf_ntohl(p.daddr) & DYNO_MASK) != DYNO_NET && router_listener(p.daddr, p.dport);
			__u32 initiator = flow_packet(&key, gen, FROM_DYNO, p.tcp_flags, listener ? FLOW_HAIRPIN : 0);
			if (initiator == FLOW_ROUTER)
				return PASS(id, VERDICT_PASS_REPLY);
			if (initiator == FLOW_HAIRPIN && listener)
				return PASS(id, VERDICT_PASS_HAIRPIN);
		}
		return DROP(id, VERDICT_DROP_TO_HOST);
	}

	struct cidr_key cidr = { .prefixlen = 32, .addr = p.daddr };
	if (!bpf_map_lookup_elem(&egress_cidrs, &cidr))
		return DROP(id, VERDICT_DROP_NO_EGRESS);
	if (starts)
		flow_packet(&key, gen, FROM_DYNO, p.tcp_flags, FLOW_DYNO);
	return PASS(id, VERDICT_PASS_EGRESS);
}

SEC("tc")
int dyno_to(struct __sk_buff *skb)
{
	__be32 addr;
	struct dyno_info *self = guarded(skb, &addr);
	if (!self)
		return DROP(0, VERDICT_DROP_UNGUARDED);
	__u32 id = self->id, gen = self->gen;

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
		if (flow_packet(&key, gen, TO_DYNO, p.tcp_flags, 0))
			return PASS(id, VERDICT_PASS_REPLY);
	}

	/* An ICMP error about a packet of a live flow of the dyno's (frag-needed: PMTU discovery). It
	 * neither refreshes nor changes the flow. */
	if (p.proto == IPPROTO_ICMP && (p.icmp_type == ICMP_DEST_UNREACH || p.icmp_type == ICMP_TIME_EXCEEDED)) {
		struct flow_key quoted = {};
		if (parse_icmp_error(skb, &p, &quoted) == 0 && quoted.dyno == addr) {
			struct flow_value *flow = bpf_map_lookup_elem(&flows, &quoted);
			if (flow && flow_live(&quoted, flow, gen, bpf_ktime_get_ns()))
				return PASS(id, VERDICT_PASS_ICMP_ERROR);
		}
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
		flow_packet(&key, gen, TO_DYNO, p.tcp_flags, FLOW_ROUTER);
		return PASS(id, VERDICT_PASS_ROUTER);
	}
	return DROP(id, VERDICT_DROP_INBOUND);
}

char LICENSE[] SEC("license") = "GPL";
