/* Shared definitions between the BPF guard (guard.bpf.c) and the Java control plane
 * (io.dynoplane.provisioner.IsolationPlane, Verdict). Keep the layouts in sync. */
#ifndef DYNOPLANE_H
#define DYNOPLANE_H

#include <linux/types.h>

/* The dyno range every per-dyno /30 is carved from: 172.16.0.0/12. */
#define DYNO_NET  0xac100000u /* host order */
#define DYNO_MASK 0xfff00000u

/* Why the guard passed or dropped a packet; one counter per (dyno id, reason).
 * Ordinals match io.dynoplane.provisioner.Verdict. */
enum dyno_verdict {
	VERDICT_PASS_ARP = 0,       /* ARP, either way */
	VERDICT_PASS_REPLY = 1,     /* reply/continuation of a tracked flow (router's, dyno's egress, space) */
	VERDICT_PASS_SPACE = 2,     /* between two dynos of the same (non-zero) private space */
	VERDICT_PASS_EGRESS = 3,    /* dyno -> a destination in egress_cidrs */
	VERDICT_PASS_ROUTER = 4,    /* router (dyno's gateway) opens a TCP connection to the web dyno's $PORT */
	VERDICT_DROP_IPV6 = 5,      /* dynos have no IPv6 */
	VERDICT_DROP_VLAN = 6,      /* 802.1Q / 802.1ad tagged (in the frame or in skb metadata) */
	VERDICT_DROP_ETHERTYPE = 7, /* any other non-IPv4 ethertype */
	VERDICT_DROP_MALFORMED = 8, /* truncated Ethernet/IP/L4 header, bad version or ihl */
	VERDICT_DROP_FRAGMENT = 9,  /* IPv4 fragment, first or not: L4 cannot be judged on all of them */
	VERDICT_DROP_SPOOF = 10,    /* source IP or MAC is not the dyno's */
	VERDICT_DROP_TO_DYNO = 11,  /* to another dyno, not of the same private space */
	VERDICT_DROP_TO_HOST = 12,  /* to a host address, not a reply to the router */
	VERDICT_DROP_NO_EGRESS = 13,/* leaves the dyno range to a destination not in egress_cidrs */
	VERDICT_DROP_INBOUND = 14,  /* new inbound the dyno does not accept */
	VERDICT_DROP_UNGUARDED = 15,/* the interface has no dyno in dyno_by_ifindex (fail closed) */
	VERDICT_MAX,
};

#define DYNO_F_INTERNAL 0x1 /* internal app: web dynos accept only their space, never the router */

/* Value of `dynos`, keyed by the dyno's address (__be32). 24 bytes. */
struct dyno_info {
	__u32 id;        /* counter key; the Java side uses the /30's network >> 2 */
	__u32 space_id;  /* 0 = common runtime */
	__u16 port;      /* web $PORT, host order; 0 = accepts no new inbound */
	__u8 flags;      /* DYNO_F_* */
	__u8 pad;
	__u8 mac[6];     /* the dyno's eth0 MAC */
	__u8 pad2[2];
	__be32 gateway;  /* host side of the /30 (.1): the router's source address */
};

/* Conntrack key, from the dyno's point of view. For ICMP echo, dyno_port is the echo id, remote_port 0. 16 bytes. */
struct flow_key {
	__u8 proto;
	__u8 pad[3];
	__be32 dyno;
	__be32 remote;
	__be16 dyno_port;
	__be16 remote_port;
};

enum flow_initiator {
	FLOW_DYNO = 1,   /* the dyno's own outbound (egress) */
	FLOW_ROUTER = 2, /* the router's connection to $PORT */
	FLOW_SPACE = 3,  /* a same-space dyno's */
};

struct flow_value {
	__u32 initiator;
	__u32 pad;
	__u64 last_seen_ns;
};

/* Key of the verdict counters (values: per-CPU __u64 packets). */
struct verdict_key {
	__u32 dyno_id;
	__u32 reason;
};

/* Key of egress_cidrs (LPM trie): prefix length, then the address in network order. */
struct cidr_key {
	__u32 prefixlen;
	__be32 addr;
};

#endif
