/* Header parsing for the guard: Ethernet, IPv4 (options honoured: L4 at ihl*4), TCP/UDP/ICMP. */
#ifndef DYNOPLANE_PARSE_H
#define DYNOPLANE_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dynoplane.h"

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff
/* Ethernet + largest IPv4 header + TCP header without options: all the guard ever reads. */
#define MAX_HEADERS (14 + 60 + 20)

#define PARSED_IPV4 (-1)

/* linux/icmp.h drags in libc headers; the guard needs only this much of ICMP. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmp_echo {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct packet {
	__u8 src_mac[6];
	__u8 proto;
	__u8 tcp_flags;   /* TCP: byte 13 of the header (CWR..FIN) */
	__u8 icmp_type;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;     /* ICMP echo / echo reply: the echo id */
	__be16 dport;     /* ICMP: 0 */
	__u16 tot_len;
};

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/* Parses the frame into p. Returns PARSED_IPV4, VERDICT_PASS_ARP, or the drop reason. */
static __always_inline int parse(struct __sk_buff *skb, struct packet *p)
{
	void *data, *data_end;

	/* A tag the driver took out of the frame (veth offloads 802.1Q) is still a tag. */
	if (skb->vlan_present)
		return VERDICT_DROP_VLAN;

	/* Headers of locally built skbs are linear; make sure of it when they are not. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + MAX_HEADERS > data_end && skb->len > data_end - data)
		bpf_skb_pull_data(skb, skb->len < MAX_HEADERS ? skb->len : MAX_HEADERS);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return VERDICT_DROP_MALFORMED;
	__builtin_memcpy(p->src_mac, eth->h_source, ETH_ALEN);

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		break;
	case bpf_htons(ETH_P_ARP):
		return VERDICT_PASS_ARP;
	case bpf_htons(ETH_P_IPV6):
		return VERDICT_DROP_IPV6;
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return VERDICT_DROP_VLAN;
	default:
		return VERDICT_DROP_ETHERTYPE;
	}

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return VERDICT_DROP_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return VERDICT_DROP_MALFORMED;
	__u32 ihl = ip->ihl * 4;
	if ((void *)ip + ihl > data_end)
		return VERDICT_DROP_MALFORMED;
	p->tot_len = bpf_ntohs(ip->tot_len);
	if (p->tot_len < ihl)
		return VERDICT_DROP_MALFORMED;
	/* Fragments, the first included: later ones carry no ports, so no rule could judge them. */
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return VERDICT_DROP_FRAGMENT;

	p->proto = ip->protocol;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;

	void *l4 = (void *)ip + ihl;
	switch (ip->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return VERDICT_DROP_MALFORMED;
		p->sport = tcp->source;
		p->dport = tcp->dest;
		p->tcp_flags = ((__u8 *)tcp)[13];
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return VERDICT_DROP_MALFORMED;
		p->sport = udp->source;
		p->dport = udp->dest;
		break;
	}
	case IPPROTO_ICMP: {
		struct icmp_echo *icmp = l4;
		if ((void *)(icmp + 1) > data_end)
			return VERDICT_DROP_MALFORMED;
		p->icmp_type = icmp->type;
		if (icmp->type == ICMP_ECHO || icmp->type == ICMP_ECHOREPLY)
			p->sport = icmp->id;
		break;
	}
	default:
		break; /* other protocols: tracked by addresses alone */
	}
	return PARSED_IPV4;
}

#endif
