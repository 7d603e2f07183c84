/* Definitions shared between the edge XDP program (bpf/src/edge.bpf.c) and the Java control plane
 * (io.dynoplane.provisioner.Edge, EdgeReason). Keep the layouts here in sync with those classes. */
#ifndef DYNOPLANE_EDGE_H
#define DYNOPLANE_EDGE_H

#include <linux/types.h>

/* The dyno range; nothing from outside may address it directly: 172.16.0.0/12 (host order). */
#define EDGE_DYNO_NET  0xac100000u
#define EDGE_DYNO_MASK 0xfff00000u

/* Why the edge let a packet through or dropped it; one per-CPU counter each. Ordinals match EdgeReason. */
enum edge_reason {
	EDGE_PASS = 0,          /* not for the edge to judge, or allowed */
	EDGE_TO_DYNO_RANGE = 1, /* destination in 172.16.0.0/12: dynos are reached only through the router */
	EDGE_BLOCKLISTED = 2,   /* source in the blocklist */
	EDGE_UNTRUSTED = 3,     /* TCP to a private space's listener from a source that space does not trust */
	EDGE_SYN_RATE = 4,      /* new connection (SYN, no ACK) to a router listener over the source's rate */
	EDGE_MALFORMED = 5,     /* IPv4 header (or TCP header of a first fragment) cut short or invalid */
	EDGE_REASON_MAX,
};

/* Blocklist key (LPM_TRIE): prefixlen 0..32 over addr. */
struct edge_cidr_key {
	__u32 prefixlen;
	__be32 addr;
};

/* A router listener (space_listeners, public_listeners): addr 0 is any local address. */
struct edge_listener_key {
	__be32 addr;
	__be16 port;
	__u16 pad; /* always 0 */
};

/* Trusted sources of a space (LPM_TRIE): prefixlen = 32 (the whole space id) + the CIDR's prefix.
 * space_id is compared as bytes; the control plane writes it in host order, so does the program. */
struct edge_trust_key {
	__u32 prefixlen;
	__u32 space_id;
	__be32 addr;
};

/* config[0]: SYN rate per source; rate 0 turns the limit off. */
struct edge_config {
	__u64 syn_rate;  /* new connections per second per source address */
	__u64 syn_burst; /* how many may come at once */
};

#endif
