// For tcx: drops IPv4 UDP to port 9 (discard) and hands every other packet on, counting both.
//
// Under tcx a program's verdict decides whether anything behind it runs. TCX_NEXT (-1) passes the packet to the
// next tcx program and then to the clsact qdisc's filters; TCX_PASS (0, = TC_ACT_OK) and TCX_DROP (2, = TC_ACT_SHOT)
// end it there. So a program that must coexist with other filters says NEXT, never OK, for what it lets through.
// enum tcx_action_base is UAPI since 6.6 and the build's headers may be older: the values are spelled out here.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define DISCARD_PORT 9

#define VERDICT_NEXT (-1) /* TCX_NEXT */
#define VERDICT_DROP 2    /* TCX_DROP */

// Key 0: packets handed on (TCX_NEXT); key 1: packets dropped (TCX_DROP).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tcx_counts SEC(".maps");

static __always_inline int is_udp_to_discard(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
		return 0;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return 0;
	return udp->dest == bpf_htons(DISCARD_PORT);
}

SEC("tc")
int tcx_verdict(struct __sk_buff *skb)
{
	__u32 key = is_udp_to_discard(skb) ? 1 : 0;
	__u64 *count = bpf_map_lookup_elem(&tcx_counts, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return key ? VERDICT_DROP : VERDICT_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
