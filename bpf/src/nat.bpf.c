// SPDX-License-Identifier: GPL-2.0
/* NAT egress: SNAT of the dyno range on the host's uplink, in BPF.
 * nat_egress (tc egress of the uplink): a dyno's packet leaves from the outbound address (its space's, or
 * the common runtime's) and a port allocated per (proto, remote, remote port).
 * nat_ingress (tc ingress of the uplink): replies, and ICMP errors quoting a translated packet, go back.
 * A flow is two entries: nat_out (dyno side -> outbound address and port, state, last seen) and nat_in
 * (outbound side -> dyno side). They are written and deleted together; when they disagree the packet is
 * dropped and counted, never passed untranslated. Expiry is checked on every lookup; the flow maps are
 * plain hashes so that nothing evicts a live flow behind the counters' back: a full table refuses new
 * flows (counted), and expired flows are reclaimed on lookup, on port collision, or by the Java sweeper.
 * Pass is TC_ACT_UNSPEC (tcx: next), so other programs on the uplink still run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nat.h"

#define E2BIG 7
#define ENOMEM 12
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define IP_CSUM_OFF (ETH_HLEN + 10)
#define IP_SRC_OFF (ETH_HLEN + 12)
#define IP_DST_OFF (ETH_HLEN + 16)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_config);
} nat_config SEC(".maps");

/* max_entries of both flow maps is set from NatTable.Config before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct nat_key);
	__type(value, struct nat_entry);
} nat_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct nat_key);
	__type(value, struct nat_key);
} nat_in SEC(".maps");

/* Dyno address -> space id (absent or 0: common runtime). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, __u32);
} dyno_space SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct nat_space);
} space_addrs SEC(".maps");

/* Dyno address -> flows created / released by the datapath (per-dyno cap). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, struct nat_dyno_flows);
} dyno_flows SEC(".maps");

/* Dyno address -> flows the Java sweeper deleted; written by Java only (single writer). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, __u64);
} dyno_swept SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NAT_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nat_counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *n = bpf_map_lookup_elem(&nat_counters, &counter);

	if (n)
		*n += 1; /* per-CPU: no other writer */
}

static __always_inline int verdict(__u32 counter, int action)
{
	count(counter);
	return action;
}

struct nat_pkt {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;  /* ICMP echo: the id */
	__be16 dport;  /* ICMP: 0 */
	__u32 l4_off;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
};

enum { P_IPV4, P_OTHER, P_FRAGMENT, P_MALFORMED };

/* Reads through bpf_skb_load_bytes: works on non-linear skbs (GRO/GSO) without pulling. */
static __always_inline int parse(struct __sk_buff *skb, struct nat_pkt *p)
{
	struct iphdr ip;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return P_OTHER;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return P_MALFORMED;
	if (ip.version != 4 || ip.ihl < 5)
		return P_MALFORMED;
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->proto = ip.protocol;
	p->l4_off = ETH_HLEN + ip.ihl * 4;
	if (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return P_FRAGMENT;

	__u8 l4[14];
	switch (ip.protocol) {
	case IPPROTO_TCP:
		if (bpf_skb_load_bytes(skb, p->l4_off, l4, 14))
			return P_MALFORMED;
		p->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, p->l4_off, l4, 4))
			return P_MALFORMED;
		break;
	case IPPROTO_ICMP:
		if (bpf_skb_load_bytes(skb, p->l4_off, l4, 8))
			return P_MALFORMED;
		p->icmp_type = l4[0];
		p->sport = *(__be16 *)&l4[4];
		p->dport = 0;
		return P_IPV4;
	default:
		return P_IPV4;
	}
	p->sport = *(__be16 *)&l4[0];
	p->dport = *(__be16 *)&l4[2];
	return P_IPV4;
}

static __always_inline int key_eq(const struct nat_key *a, const struct nat_key *b)
{
	return a->proto == b->proto && a->addr == b->addr && a->remote == b->remote && a->port == b->port &&
	       a->remote_port == b->remote_port;
}

/* The nat_in key of a flow: its outbound side as the remote sees it. */
static __always_inline struct nat_key in_key(const struct nat_key *out, __be32 nat_addr, __be16 nat_port)
{
	struct nat_key in = {
		.proto = out->proto, .addr = nat_addr, .remote = out->remote,
		.port = nat_port, .remote_port = out->remote_port,
	};
	return in;
}

static __always_inline int expired(const struct nat_config *cfg, __u8 proto, const struct nat_entry *e, __u64 now)
{
	__u64 timeout;

	if (proto == IPPROTO_TCP) {
		__u8 s = e->state;
		int closing = !(s & NAT_S_REPLIED) || (s & NAT_S_RST) ||
			      (s & (NAT_S_FIN_OUT | NAT_S_FIN_IN)) == (NAT_S_FIN_OUT | NAT_S_FIN_IN);
		timeout = closing ? cfg->timeout_ns[NAT_T_TCP_CLOSING] : cfg->timeout_ns[NAT_T_TCP_ESTABLISHED];
		/* A reset connection has nothing left to wait for but a lost RST's retransmission: held as long
		 * as conntrack's CLOSE state (10 s), not a TIME_WAIT, or fast clients fill the table. */
		if ((s & NAT_S_RST) && timeout > NAT_RST_TIMEOUT_NS)
			timeout = NAT_RST_TIMEOUT_NS;
	} else if (proto == IPPROTO_UDP) {
		timeout = cfg->timeout_ns[NAT_T_UDP];
	} else {
		timeout = cfg->timeout_ns[NAT_T_ICMP];
	}
	/* another CPU may have stamped last_seen after we read now */
	return now > e->last_seen_ns && now - e->last_seen_ns > timeout;
}

/* Deletes a flow's two entries (the nat_in one only if it still points back here). Counted once, by
 * whoever's delete of nat_out succeeds (this or the Java sweeper). e is a copy, not a map pointer. */
static __always_inline void release(const struct nat_key *key, const struct nat_entry *e)
{
	struct nat_key in = in_key(key, e->nat_addr, e->nat_port);
	struct nat_key *back = bpf_map_lookup_elem(&nat_in, &in);

	if (back && key_eq(back, key))
		bpf_map_delete_elem(&nat_in, &in);
	if (bpf_map_delete_elem(&nat_out, key) == 0) {
		count(NAT_FLOW_RELEASED);
		struct nat_dyno_flows *df = bpf_map_lookup_elem(&dyno_flows, &key->addr);
		if (df)
			__sync_fetch_and_add(&df->released, 1);
	}
}

/* A port candidate is taken (in exists): frees it if its holder is expired or dangling. 1 = freed. */
static __always_inline int reclaim(const struct nat_config *cfg, const struct nat_key *in, __u64 now)
{
	struct nat_key *back = bpf_map_lookup_elem(&nat_in, in);

	if (!back)
		return 1; /* gone meanwhile */
	struct nat_key orig = *back;
	struct nat_entry *o = bpf_map_lookup_elem(&nat_out, &orig);
	if (o && o->nat_addr == in->addr && o->nat_port == in->port) {
		if (!expired(cfg, orig.proto, o, now))
			return 0;
		struct nat_entry copy = *o;
		count(NAT_EXPIRED);
		release(&orig, &copy);
		return 1;
	}
	/* Points to no flow (its nat_out went, or moved to another port): the port is free. */
	bpf_map_delete_elem(&nat_in, in);
	return 1;
}

/* Finds a free port on e->nat_addr for key and writes the nat_in entry. 0, or the counter to drop with.
 * The dyno's own source port first (port preservation), then random candidates. */
static __always_inline int allocate_port(const struct nat_config *cfg, const struct nat_key *key,
					 struct nat_entry *e, __u64 now)
{
	__u32 low = cfg->port_low, high = cfg->port_high;

	if (low == 0 || high < low || high > 65535)
		return NAT_ALLOC_FAILED;
	__u32 range = high - low + 1;
	__u32 want = bpf_ntohs(key->port);
	struct nat_key in = in_key(key, e->nat_addr, 0);

	for (int i = 0; i < NAT_PORT_TRIES; i++) {
		__u32 port = (i == 0 && want >= low && want <= high) ? want : low + bpf_get_prandom_u32() % range;
		in.port = bpf_htons((__u16)port);
		long err = bpf_map_update_elem(&nat_in, &in, key, BPF_NOEXIST);
		if (err == -E2BIG || err == -ENOMEM)
			return NAT_TABLE_FULL;
		if (err && reclaim(cfg, &in, now))
			err = bpf_map_update_elem(&nat_in, &in, key, BPF_NOEXIST);
		if (err == 0) {
			e->nat_port = in.port;
			return 0;
		}
		count(NAT_PORT_COLLISION);
	}
	return NAT_ALLOC_FAILED;
}

/* The dyno's outbound address: its space's (picked by a hash of the dyno address: stable), else the
 * common runtime's. 0, or NAT_NO_SPACE_ADDRESS. */
static __always_inline int outbound_of(const struct nat_config *cfg, __be32 dyno, __be32 *addr)
{
	__u32 *space = bpf_map_lookup_elem(&dyno_space, &dyno);

	if (!space || *space == 0) {
		*addr = cfg->outbound;
		return 0;
	}
	struct nat_space *s = bpf_map_lookup_elem(&space_addrs, space);
	if (!s || s->count == 0 || s->count > NAT_MAX_SPACE_ADDRS)
		return NAT_NO_SPACE_ADDRESS;
	__u32 h = bpf_ntohl(dyno) * 2654435761u;
	__u32 i = (h >> 16) % s->count;
	asm volatile("" : "+r"(i)); /* keep the mask below: clang knows i < count <= 8, the verifier does not */
	*addr = s->addrs[i & (NAT_MAX_SPACE_ADDRS - 1)];
	return 0;
}

/* A new flow: per-dyno cap, port, both entries. 0 with *out set, or the counter to drop with. */
static __always_inline int create(const struct nat_config *cfg, const struct nat_key *key, __u64 now,
				  struct nat_entry *out)
{
	struct nat_entry e = { .last_seen_ns = now };
	int r = outbound_of(cfg, key->addr, &e.nat_addr);

	if (r)
		return r;
	struct nat_dyno_flows *df = bpf_map_lookup_elem(&dyno_flows, &key->addr);
	if (!df) {
		struct nat_dyno_flows zero = {};
		bpf_map_update_elem(&dyno_flows, &key->addr, &zero, BPF_NOEXIST);
		df = bpf_map_lookup_elem(&dyno_flows, &key->addr);
		if (!df)
			return NAT_TABLE_FULL;
	}
	__u64 swept = 0;
	__u64 *s = bpf_map_lookup_elem(&dyno_swept, &key->addr);
	if (s)
		swept = *s;
	/* Concurrent creations on other CPUs may overshoot the cap by a flow or two: a bound, not a quota. */
	if ((__s64)(df->created - df->released - swept) >= (__s64)cfg->per_dyno_cap)
		return NAT_DYNO_CAP;

	r = allocate_port(cfg, key, &e, now);
	if (r)
		return r;
	if (bpf_map_update_elem(&nat_out, key, &e, BPF_NOEXIST)) {
		/* Another CPU created this flow meanwhile (use its entry), or nat_out is full. */
		struct nat_key in = in_key(key, e.nat_addr, e.nat_port);
		bpf_map_delete_elem(&nat_in, &in);
		struct nat_entry *other = bpf_map_lookup_elem(&nat_out, key);
		if (!other)
			return NAT_TABLE_FULL;
		*out = *other;
		return 0;
	}
	__sync_fetch_and_add(&df->created, 1);
	count(NAT_FLOW_CREATED);
	*out = e;
	return 0;
}

/* Rewrites one address and one port (src: source side, else destination) with their checksums:
 * TCP/UDP checksums cover the addresses through the pseudo-header (BPF_F_PSEUDO_HDR, which also keeps
 * CHECKSUM_PARTIAL skbs right: only the pseudo-header seed changes), a UDP checksum of 0 stays 0
 * (BPF_F_MARK_MANGLED_0); ICMP has no pseudo-header, its echo id is the port. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct nat_pkt *p, int src,
				   __be32 from_addr, __be32 to_addr, __be16 from_port, __be16 to_port)
{
	__u32 csum_off, port_off;
	__u64 mangled0 = 0;

	switch (p->proto) {
	case IPPROTO_TCP:
		csum_off = p->l4_off + 16;
		port_off = p->l4_off + (src ? 0 : 2);
		break;
	case IPPROTO_UDP:
		csum_off = p->l4_off + 6;
		port_off = p->l4_off + (src ? 0 : 2);
		mangled0 = BPF_F_MARK_MANGLED_0;
		break;
	default: /* ICMP echo */
		csum_off = p->l4_off + 2;
		port_off = p->l4_off + 4;
		break;
	}
	if (p->proto != IPPROTO_ICMP &&
	    bpf_l4_csum_replace(skb, csum_off, from_addr, to_addr, BPF_F_PSEUDO_HDR | mangled0 | 4))
		return -1;
	if (from_port != to_port && bpf_l4_csum_replace(skb, csum_off, from_port, to_port, mangled0 | 2))
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from_addr, to_addr, 4))
		return -1;
	if (bpf_skb_store_bytes(skb, src ? IP_SRC_OFF : IP_DST_OFF, &to_addr, 4, 0))
		return -1;
	if (from_port != to_port && bpf_skb_store_bytes(skb, port_off, &to_port, 2, 0))
		return -1;
	return 0;
}

static __always_inline struct nat_config *config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nat_config, &zero);
}

SEC("tc")
int nat_egress(struct __sk_buff *skb)
{
	struct nat_config *cfg = config();
	struct nat_pkt p = {};
	int r = parse(skb, &p);

	if (!cfg || r == P_OTHER)
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	if (r == P_MALFORMED)
		return verdict(NAT_MALFORMED, TC_ACT_SHOT); /* cannot tell it is not a dyno's */
	if ((p.saddr & cfg->dyno_mask) != cfg->dyno_net)
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	if (r == P_FRAGMENT)
		return verdict(NAT_FRAGMENT, TC_ACT_SHOT);
	if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP && !(p.proto == IPPROTO_ICMP && p.icmp_type == ICMP_ECHO))
		return verdict(NAT_UNSUPPORTED, TC_ACT_SHOT); /* would leave with the dyno's address */

	struct nat_key key = { .proto = p.proto, .addr = p.saddr, .remote = p.daddr, .port = p.sport, .remote_port = p.dport };
	__u64 now = bpf_ktime_get_ns();
	struct nat_entry flow;
	struct nat_entry *e = bpf_map_lookup_elem(&nat_out, &key);

	if (e) {
		struct nat_key in = in_key(&key, e->nat_addr, e->nat_port);
		struct nat_key *back = bpf_map_lookup_elem(&nat_in, &in);
		int stale = expired(cfg, key.proto, e, now);
		if (stale || !back || !key_eq(back, &key)) {
			struct nat_entry copy = *e;
			release(&key, &copy);
			if (!stale)
				return verdict(NAT_INCONSISTENT, TC_ACT_SHOT); /* next packet starts afresh */
			count(NAT_EXPIRED);
			e = NULL;
		}
	}
	if (e) {
		__u8 state = e->state;
		if (p.proto == IPPROTO_TCP) {
			if ((p.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
				state = 0; /* a new connection on a closing tuple */
			if (p.tcp_flags & TCP_FIN)
				state |= NAT_S_FIN_OUT;
			if (p.tcp_flags & TCP_RST)
				state |= NAT_S_RST;
		}
		e->state = state;
		e->last_seen_ns = now;
		flow = *e;
	} else {
		r = create(cfg, &key, now, &flow);
		if (r)
			return verdict(r, TC_ACT_SHOT);
	}
	if (rewrite(skb, &p, 1, p.saddr, flow.nat_addr, p.sport, flow.nat_port))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	return verdict(NAT_TRANSLATED_OUT, TC_ACT_UNSPEC);
}

/* An ICMP error to an outbound address quoting a packet the NAT translated: the outer destination, the
 * quoted source address and port (or echo id) go back to the dyno's; the quoted IP and L4 checksums and
 * the ICMP checksum follow every changed word. */
static __always_inline int icmp_error_in(struct __sk_buff *skb, const struct nat_config *cfg, const struct nat_pkt *p)
{
	__u32 off = p->l4_off + 8;
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.version != 4 || ip.ihl < 5 ||
	    (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	__u32 l4 = off + ip.ihl * 4;
	__u8 q[8];
	if (bpf_skb_load_bytes(skb, l4, q, 8))
		return verdict(NAT_PASS, TC_ACT_UNSPEC);

	struct nat_key in = { .proto = ip.protocol, .addr = ip.saddr, .remote = ip.daddr };
	__u32 port_off, csum_off;
	switch (ip.protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		in.port = *(__be16 *)&q[0];
		in.remote_port = *(__be16 *)&q[2];
		port_off = l4;
		csum_off = l4 + (ip.protocol == IPPROTO_TCP ? 16 : 6);
		break;
	case IPPROTO_ICMP:
		if (q[0] != ICMP_ECHO)
			return verdict(NAT_PASS, TC_ACT_UNSPEC);
		in.port = *(__be16 *)&q[4];
		port_off = l4 + 4;
		csum_off = l4 + 2;
		break;
	default:
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	}
	struct nat_key *back = bpf_map_lookup_elem(&nat_in, &in);
	if (!back)
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	struct nat_key orig = *back;
	struct nat_entry *e = bpf_map_lookup_elem(&nat_out, &orig);
	if (!e || e->nat_addr != in.addr || e->nat_port != in.port)
		return verdict(NAT_INCONSISTENT, TC_ACT_SHOT);
	if (expired(cfg, orig.proto, e, bpf_ktime_get_ns()))
		return verdict(NAT_EXPIRED_IN, TC_ACT_SHOT);

	__u32 icmp_csum = p->l4_off + 2;
	__sum16 old_ipc, new_ipc, old_l4c = 0, new_l4c = 0;
	/* The quoted L4 checksum may be cut off (TCP's is at byte 16); then only the rest changes. */
	int has_l4c = bpf_skb_load_bytes(skb, csum_off, &old_l4c, 2) == 0 &&
		      !(ip.protocol == IPPROTO_UDP && old_l4c == 0);
	if (bpf_skb_load_bytes(skb, off + 10, &old_ipc, 2))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);

	/* Outer header: destination (the ICMP checksum has no pseudo-header). */
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, p->daddr, orig.addr, 4) ||
	    bpf_skb_store_bytes(skb, IP_DST_OFF, &orig.addr, 4, 0))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	/* Quoted header: source address and its checksum. */
	if (bpf_l3_csum_replace(skb, off + 10, in.addr, orig.addr, 4) ||
	    bpf_skb_load_bytes(skb, off + 10, &new_ipc, 2) ||
	    bpf_skb_store_bytes(skb, off + 12, &orig.addr, 4, 0))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	/* Quoted L4: port or echo id, and its checksum (pseudo-header source for TCP/UDP, done by hand:
	 * the skb's own checksum state is the ICMP packet's, not the quoted one's). */
	if (has_l4c) {
		__u64 m0 = ip.protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
		if (ip.protocol != IPPROTO_ICMP && bpf_l4_csum_replace(skb, csum_off, in.addr, orig.addr, m0 | 4))
			return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
		if (bpf_l4_csum_replace(skb, csum_off, in.port, orig.port, m0 | 2) ||
		    bpf_skb_load_bytes(skb, csum_off, &new_l4c, 2))
			return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	}
	if (bpf_skb_store_bytes(skb, port_off, &orig.port, 2, 0))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	/* The ICMP checksum covers all of the quote: every word changed above. */
	if (bpf_l4_csum_replace(skb, icmp_csum, in.addr, orig.addr, 4) ||
	    bpf_l4_csum_replace(skb, icmp_csum, old_ipc, new_ipc, 2) ||
	    bpf_l4_csum_replace(skb, icmp_csum, in.port, orig.port, 2) ||
	    (has_l4c && bpf_l4_csum_replace(skb, icmp_csum, old_l4c, new_l4c, 2)))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	return verdict(NAT_ICMP_ERROR_IN, TC_ACT_UNSPEC);
}

SEC("tc")
int nat_ingress(struct __sk_buff *skb)
{
	struct nat_config *cfg = config();
	struct nat_pkt p = {};
	int r = parse(skb, &p);

	/* Whatever is not a translated flow's is the host's: passed as is (the host stack judges it). */
	if (!cfg || r != P_IPV4)
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	if (p.proto == IPPROTO_ICMP) {
		if (p.icmp_type == ICMP_DEST_UNREACH || p.icmp_type == ICMP_TIME_EXCEEDED)
			return icmp_error_in(skb, cfg, &p);
		if (p.icmp_type != ICMP_ECHOREPLY)
			return verdict(NAT_PASS, TC_ACT_UNSPEC);
	} else if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP) {
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	}

	struct nat_key in = { .proto = p.proto, .addr = p.daddr, .remote = p.saddr, .port = p.dport, .remote_port = p.sport };
	if (p.proto == IPPROTO_ICMP) {
		in.port = p.sport; /* echo id */
		in.remote_port = 0;
	}
	struct nat_key *back = bpf_map_lookup_elem(&nat_in, &in);
	if (!back)
		return verdict(NAT_PASS, TC_ACT_UNSPEC);
	struct nat_key orig = *back;
	struct nat_entry *e = bpf_map_lookup_elem(&nat_out, &orig);
	if (!e || e->nat_addr != in.addr || e->nat_port != in.port) {
		bpf_map_delete_elem(&nat_in, &in); /* dangling: its flow is gone */
		return verdict(NAT_INCONSISTENT, TC_ACT_SHOT);
	}
	__u64 now = bpf_ktime_get_ns();
	if (expired(cfg, orig.proto, e, now)) {
		struct nat_entry copy = *e;
		release(&orig, &copy);
		return verdict(NAT_EXPIRED_IN, TC_ACT_SHOT);
	}
	__u8 state = e->state | NAT_S_REPLIED;
	if (p.proto == IPPROTO_TCP) {
		if (p.tcp_flags & TCP_FIN)
			state |= NAT_S_FIN_IN;
		if (p.tcp_flags & TCP_RST)
			state |= NAT_S_RST;
	}
	e->state = state;
	e->last_seen_ns = now;

	/* the reply's destination port (ICMP: its echo id, parsed into sport) goes back to the dyno's */
	__be16 from_port = p.proto == IPPROTO_ICMP ? p.sport : p.dport;
	if (rewrite(skb, &p, 0, p.daddr, orig.addr, from_port, orig.port))
		return verdict(NAT_REWRITE_FAILED, TC_ACT_SHOT);
	return verdict(NAT_TRANSLATED_IN, TC_ACT_UNSPEC);
}

char LICENSE[] SEC("license") = "GPL";
