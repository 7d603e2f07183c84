// SPDX-License-Identifier: GPL-2.0
/* Per-dyno isolation, on tc ingress of the host side of each dyno's veth (so: every packet the
 * dyno sends). Policy lives in maps; adding a dyno updates dyno_addrs, never this program. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dynoplane.h"

/* Dyno-side address (network order) -> dyno id, for every dyno on this host. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, __u32);
} dyno_addrs SEC(".maps");

/* (host veth ifindex, verdict) -> packets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536 * VERDICT_MAX);
	__type(key, struct verdict_key);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, __u32 verdict, int action)
{
	struct verdict_key key = { .ifindex = skb->ifindex, .verdict = verdict };
	__u64 one = 1, *packets = bpf_map_lookup_elem(&verdicts, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	else
		bpf_map_update_elem(&verdicts, &key, &one, BPF_NOEXIST);
	return action;
}

SEC("tc")
int dyno_egress_guard(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(skb, VERDICT_PASS, TC_ACT_OK);

	if (bpf_map_lookup_elem(&dyno_addrs, &ip->daddr))
		return count(skb, VERDICT_DROP_TO_DYNO, TC_ACT_SHOT);

	if ((bpf_ntohl(ip->daddr) & DYNO_MASK) != DYNO_NET)
		return count(skb, VERDICT_DROP_NO_EGRESS, TC_ACT_SHOT);

	return count(skb, VERDICT_PASS, TC_ACT_OK);
}

char LICENSE[] SEC("license") = "GPL";
