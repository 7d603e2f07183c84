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
	VERDICT_PASS_ICMP_ERROR = 16,/* ICMP dest unreachable / time exceeded quoting a live flow of the dyno's */
	VERDICT_PASS_HAIRPIN = 17,  /* dyno -> a router listener on a host address (TCP): apps call each other by URL */
	VERDICT_MAX,
};

#define DYNO_F_INTERNAL 0x1 /* internal app: web dynos accept only their space, never the router */

/* Value of `dynos`, keyed by the dyno's address (__be32). 28 bytes. */
struct dyno_info {
	__u32 id;        /* counter key; the Java side uses the /30's network >> 2 */
	__u32 space_id;  /* 0 = common runtime */
	__u16 port;      /* web $PORT, host order; 0 = accepts no new inbound */
	__u8 flags;      /* DYNO_F_* */
	__u8 pad;
	__u8 mac[6];     /* the dyno's eth0 MAC */
	__u8 pad2[2];
	__be32 gateway;  /* host side of the /30 (.1): the router's source address */
	__u32 gen;       /* generation: new on every admit; flows of another generation are stale */
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
	FLOW_HAIRPIN = 4,/* the dyno's connection to a router listener on a host address */
};

/* What a flow has seen (flow_value.state). A TCP RST from either side ends the flow (the entry is deleted). */
#define FLOW_S_DYNO       0x01 /* a packet from the dyno */
#define FLOW_S_REMOTE     0x02 /* a packet to the dyno */
#define FLOW_S_FIN_DYNO   0x04 /* TCP FIN from the dyno */
#define FLOW_S_FIN_REMOTE 0x08 /* TCP FIN to the dyno */

/* Value of `flows`. 16 bytes. A flow is live while gen is its dyno's current dyno_info.gen and it has
 * been idle (now - last_seen_ns, bpf_ktime_get_ns) no longer than the timeout of its state; otherwise
 * the datapath treats it as absent (deletes or replaces it on lookup). */
struct flow_value {
	__u8 initiator;   /* enum flow_initiator */
	__u8 state;       /* FLOW_S_* */
	__u16 pad;
	__u32 gen;        /* the dyno's dyno_info.gen when the flow started */
	__u64 last_seen_ns;
};

/* Idle timeouts by flow state: key of `flow_timeouts` (value: ns, 0 = the default below).
 * Ordinals match io.dynoplane.provisioner.FlowTimeout. */
enum flow_timeout {
	FLOW_T_TCP_OPENING = 0,     /* TCP seen one way only (SYN unanswered) */
	FLOW_T_TCP_ESTABLISHED = 1, /* TCP seen both ways, not FIN from both sides (half-closed stays here) */
	FLOW_T_TCP_CLOSING = 2,     /* TCP FIN seen from both sides */
	FLOW_T_UDP = 3,             /* UDP (and other protocols) seen one way only */
	FLOW_T_UDP_REPLIED = 4,     /* UDP (and other protocols) seen both ways */
	FLOW_T_ICMP = 5,            /* ICMP echo */
	FLOW_T_MAX,
};

/* Defaults, seconds. Conntrack's spirit (syn_sent 120, time_wait 120, udp 30 / stream 120, icmp 30),
 * established much shorter than its 5 days: an idle hour, then the dyno's next packet re-tracks it. */
#define FLOW_TIMEOUT_TCP_OPENING_S     120
#define FLOW_TIMEOUT_TCP_ESTABLISHED_S 3600
#define FLOW_TIMEOUT_TCP_CLOSING_S     120
#define FLOW_TIMEOUT_UDP_S             30
#define FLOW_TIMEOUT_UDP_REPLIED_S     120
#define FLOW_TIMEOUT_ICMP_S            30

/* Key of the verdict counters (values: per-CPU __u64 packets). */
struct verdict_key {
	__u32 dyno_id;
	__u32 reason;
};

/* Key of router_listeners: a host address the router listens on (0 = every local address) and its
 * TCP port, both network order. 8 bytes. */
struct listener_key {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

/* Key of egress_cidrs (LPM trie): prefix length, then the address in network order. */
struct cidr_key {
	__u32 prefixlen;
	__be32 addr;
};

#endif
