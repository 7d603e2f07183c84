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
#define ICMP_DEST_UNREACH 3   /* frag-needed (code 4) among them: PMTU discovery */
#define ICMP_TIME_EXCEEDED 11
/* Ethernet + IPv4 with options + ICMP header + the quoted IPv4 header with options + 8 bytes of its L4. */
#define MAX_ICMP_ERROR_HEADERS (14 + 60 + 8 + 60 + 8)
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
	__u16 l4_off;     /* offset of the L4 header in the frame: 14 + ihl * 4 */
};

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
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
	p->l4_off = sizeof(*eth) + ihl;
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

/* The flow an ICMP error (p: parsed by parse(), an ICMP packet) quotes, as the quoted packet's sender
 * keyed it: dyno = quoted source, remote = quoted destination, ports from the first 8 bytes of the
 * quoted L4 header (for a quoted echo request, its id). Returns 0, or -1 when the quote is truncated,
 * not IPv4, a fragment, or an ICMP message other than an echo request. May pull data: callers re-read
 * nothing of the packet afterwards but p. */
static __always_inline int parse_icmp_error(struct __sk_buff *skb, const struct packet *p, struct flow_key *key)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (data + MAX_ICMP_ERROR_HEADERS > data_end && skb->len > data_end - data) {
		bpf_skb_pull_data(skb, skb->len < MAX_ICMP_ERROR_HEADERS ? skb->len : MAX_ICMP_ERROR_HEADERS);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}

	__u32 off = p->l4_off;
	if (off > sizeof(struct ethhdr) + 60)
		return -1;
	struct iphdr *inner = data + off + sizeof(struct icmp_echo); /* the ICMP error header is 8 bytes too */
	if ((void *)(inner + 1) > data_end)
		return -1;
	if (inner->version != 4 || inner->ihl < 5)
		return -1;
	if (inner->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return -1; /* the guard lets no fragment leave a dyno */
	__u32 ihl = inner->ihl * 4;
	__u8 *l4 = (void *)inner + ihl;
	if ((void *)(l4 + 8) > data_end)
		return -1;

	key->proto = inner->protocol;
	key->dyno = inner->saddr;
	key->remote = inner->daddr;
	switch (inner->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		key->dyno_port = *(__be16 *)l4;
		key->remote_port = *(__be16 *)(l4 + 2);
		break;
	case IPPROTO_ICMP:
		if (l4[0] != ICMP_ECHO)
			return -1;
		key->dyno_port = *(__be16 *)(l4 + 4);
		key->remote_port = 0;
		break;
	default:
		key->dyno_port = 0;
		key->remote_port = 0;
		break;
	}
	return 0;
}

#endif
