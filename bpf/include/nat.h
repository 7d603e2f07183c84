/* Definitions shared between the NAT egress programs (bpf/src/nat.bpf.c) and the Java control plane
 * (io.dynoplane.provisioner.NatTable, NatCounter). Keep the layouts in sync. */
#ifndef DYNOPLANE_NAT_H
#define DYNOPLANE_NAT_H

#include <linux/types.h>

/* Why the NAT translated, passed or dropped a packet, or what it did to the flow table; one per-CPU
 * counter each. Ordinals match io.dynoplane.provisioner.NatCounter. */
enum nat_counter {
	NAT_TRANSLATED_OUT = 0,   /* dyno -> internet packet rewritten to the outbound address and port */
	NAT_TRANSLATED_IN = 1,    /* reply rewritten back to the dyno */
	NAT_ICMP_ERROR_IN = 2,    /* ICMP error quoting a translated packet, rewritten back (outer, inner, checksums) */
	NAT_FLOW_CREATED = 3,     /* a flow got a port (both entries written) */
	NAT_FLOW_RELEASED = 4,    /* the datapath deleted a flow (expired, or its port reclaimed) */
	NAT_EXPIRED = 5,          /* a flow found idle past its timeout on lookup: treated as absent */
	NAT_PORT_COLLISION = 6,   /* a port candidate was taken by a live flow: retried with another */
	NAT_ALLOC_FAILED = 7,     /* no free port after NAT_PORT_TRIES candidates: packet dropped */
	NAT_TABLE_FULL = 8,       /* the flow maps are full: packet dropped, no flow evicted */
	NAT_DYNO_CAP = 9,         /* the dyno has per_dyno_cap flows already: packet dropped */
	NAT_INCONSISTENT = 10,    /* the two directions' entries disagree (one missing): dropped, never passed as is */
	NAT_FRAGMENT = 11,        /* IPv4 fragment from a dyno: no ports on later fragments, dropped */
	NAT_MALFORMED = 12,       /* truncated or invalid IPv4/L4 header from a dyno: dropped */
	NAT_UNSUPPORTED = 13,     /* from a dyno, a protocol or ICMP type the NAT cannot translate: dropped */
	NAT_NO_SPACE_ADDRESS = 14,/* the dyno's space has no outbound address: dropped (never the common one) */
	NAT_PASS = 15,            /* not the NAT's: not from the dyno range, or no flow of its (host's own traffic) */
	NAT_REWRITE_FAILED = 16,  /* a checksum or store helper failed: dropped */
	NAT_EXPIRED_IN = 17,      /* reply to a flow that had expired: dropped, the flow deleted */
	NAT_COUNTER_MAX,
};

/* Idle timeouts: nat_config.timeout_ns[]. */
enum nat_timeout {
	NAT_T_TCP_ESTABLISHED = 0, /* TCP answered, not closing */
	NAT_T_TCP_CLOSING = 1,     /* TCP unanswered (SYN only), FIN both ways, or RST */
	NAT_T_UDP = 2,
	NAT_T_ICMP = 3,            /* ICMP echo */
	NAT_T_MAX,
};

#define NAT_MAX_SPACE_ADDRS 8
#define NAT_PORT_TRIES 16

/* A flow key. nat_out: proto, dyno addr, remote, dyno port, remote port. nat_in: proto, outbound addr,
 * remote, outbound port, remote port. ICMP echo: port = echo id, remote_port = 0. 16 bytes. */
struct nat_key {
	__u8 proto;
	__u8 pad[3];
	__be32 addr;
	__be32 remote;
	__be16 port;
	__be16 remote_port;
};

/* nat_out value: where the flow leaves from, and what it has seen. 16 bytes. */
struct nat_entry {
	__be32 nat_addr;
	__be16 nat_port;
	__u8 state;        /* NAT_S_* */
	__u8 pad;
	__u64 last_seen_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
};

#define NAT_S_REPLIED  0x01 /* a packet came back */
#define NAT_S_FIN_OUT  0x02
#define NAT_S_FIN_IN   0x04
#define NAT_S_RST      0x08

#define NAT_RST_TIMEOUT_NS (10ull * 1000000000ull) /* a reset flow's timeout, at most (conntrack's CLOSE) */

/* config[0], written by Java before the programs are attached. 56 bytes. */
struct nat_config {
	__be32 outbound;     /* common runtime's outbound address */
	__be32 dyno_net;     /* dyno range, network order */
	__be32 dyno_mask;
	__u32 port_low;      /* host order, inclusive */
	__u32 port_high;
	__u32 per_dyno_cap;
	__u64 timeout_ns[NAT_T_MAX];
};

/* space_addrs value: a space's stable outbound addresses. 36 bytes. */
struct nat_space {
	__u32 count; /* 1..NAT_MAX_SPACE_ADDRS */
	__be32 addrs[NAT_MAX_SPACE_ADDRS];
};

/* dyno_flows value: flows the datapath created and released for a dyno, only ever incremented
 * (atomically). In use = created - released - dyno_swept (the Java sweeper's deletions, its own map). */
struct nat_dyno_flows {
	__u64 created;
	__u64 released;
};

#endif
