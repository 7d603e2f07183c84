// SPDX-License-Identifier: GPL-2.0
/* The edge: XDP on the host's uplink, the first filter every packet from outside meets.
 * Order: dyno range -> blocklist -> (TCP to a router listener) space trust -> SYN rate -> pass.
 * Non-IPv4 frames (ARP, IPv6, VLAN-tagged) pass untouched: see Edge.java for why. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "edge.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edge_cidr_key);
	__type(value, __u32);
} blocklist SEC(".maps");

/* Listener of a private space's router -> space id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct edge_listener_key);
	__type(value, __u32);
} space_listeners SEC(".maps");

/* The public router's listeners (anyone not blocklisted; SYN-rate limited) -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct edge_listener_key);
	__type(value, __u32);
} public_listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct edge_trust_key);
	__type(value, __u32);
} trusted SEC(".maps");

/* Source address -> the token bucket as GCRA: the theoretical arrival time (ns) of its next SYN. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, __be32);
	__type(value, __u64);
} syn_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct edge_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EDGE_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int verdict(__u32 reason, int action)
{
	__u64 *packets = bpf_map_lookup_elem(&counters, &reason);

	if (packets)
		*packets += 1; /* per-CPU: no other writer */
	return action;
}

/* Space id of a listener (exact address first, then any address), or -1 for a public listener, or 0 for none. */
static __always_inline long listener(__be32 daddr, __be16 dport, __u32 *space_id)
{
	struct edge_listener_key key = { .addr = daddr, .port = dport, .pad = 0 };
	__u32 *space = bpf_map_lookup_elem(&space_listeners, &key);

	if (!space) {
		key.addr = 0;
		space = bpf_map_lookup_elem(&space_listeners, &key);
	}
	if (space) {
		*space_id = *space;
		return 1;
	}
	key.addr = daddr;
	if (bpf_map_lookup_elem(&public_listeners, &key))
		return -1;
	key.addr = 0;
	if (bpf_map_lookup_elem(&public_listeners, &key))
		return -1;
	return 0;
}

/* GCRA: allow while the source's theoretical arrival time is within burst intervals of now. */
static __always_inline int syn_allowed(__be32 saddr)
{
	__u32 zero = 0;
	struct edge_config *cfg = bpf_map_lookup_elem(&config, &zero);

	if (!cfg || cfg->syn_rate == 0)
		return 1;
	__u64 interval = 1000000000ULL / cfg->syn_rate;
	__u64 now = bpf_ktime_get_ns();
	__u64 *tat = bpf_map_lookup_elem(&syn_buckets, &saddr);
	__u64 next = now + interval;

	if (tat) {
		next = (*tat > now ? *tat : now) + interval;
		if (next - now > cfg->syn_burst * interval)
			return 0;
		*tat = next; /* racy across CPUs: a source may get a few extra through, never fewer */
		return 1;
	}
	if (cfg->syn_burst == 0)
		return 0;
	bpf_map_update_elem(&syn_buckets, &saddr, &next, BPF_ANY);
	return 1;
}

SEC("xdp")
int edge_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return verdict(EDGE_MALFORMED, XDP_DROP); /* a runt the stack would drop anyway */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(EDGE_PASS, XDP_PASS);

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return verdict(EDGE_MALFORMED, XDP_DROP);

	if ((bpf_ntohl(ip->daddr) & EDGE_DYNO_MASK) == EDGE_DYNO_NET)
		return verdict(EDGE_TO_DYNO_RANGE, XDP_DROP);

	struct edge_cidr_key source = { .prefixlen = 32, .addr = ip->saddr };
	if (bpf_map_lookup_elem(&blocklist, &source))
		return verdict(EDGE_BLOCKLISTED, XDP_DROP);

	/* Only TCP reaches the router; a non-first fragment has no ports and passes: without its first
	 * fragment (judged below) it never reassembles. */
	if (ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x1fff)))
		return verdict(EDGE_PASS, XDP_PASS);

	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return verdict(EDGE_MALFORMED, XDP_DROP);

	__u32 space_id = 0;
	long kind = listener(ip->daddr, tcp->dest, &space_id);
	if (kind == 0)
		return verdict(EDGE_PASS, XDP_PASS);

	if (kind > 0) {
		struct edge_trust_key trust = { .prefixlen = 64, .space_id = space_id, .addr = ip->saddr };
		if (!bpf_map_lookup_elem(&trusted, &trust))
			return verdict(EDGE_UNTRUSTED, XDP_DROP);
	}

	if (tcp->syn && !tcp->ack && !syn_allowed(ip->saddr))
		return verdict(EDGE_SYN_RATE, XDP_DROP);

	return verdict(EDGE_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
