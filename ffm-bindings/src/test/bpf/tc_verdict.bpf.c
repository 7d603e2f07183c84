// Drops IPv4 UDP to port 9 (discard), passes everything else, and counts each verdict.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define DISCARD_PORT 9

// Key: the verdict itself (TC_ACT_OK = 0, TC_ACT_SHOT = 2); value: packets given that verdict.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

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
int tc_verdict(struct __sk_buff *skb)
{
	__u32 verdict = is_udp_to_discard(skb) ? TC_ACT_SHOT : TC_ACT_OK;
	__u64 *count = bpf_map_lookup_elem(&verdicts, &verdict);

	if (count)
		__sync_fetch_and_add(count, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
