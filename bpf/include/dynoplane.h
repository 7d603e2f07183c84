/* Shared definitions between the BPF programs and the Java control plane.
 * Keep the layouts here in sync with io.dynoplane.provisioner.IsolationMaps. */
#ifndef DYNOPLANE_H
#define DYNOPLANE_H

#include <linux/types.h>

/* The dyno range every per-dyno /30 is carved from: 172.16.0.0/12. */
#define DYNO_NET  0xac100000u /* host order */
#define DYNO_MASK 0xfff00000u

/* Verdicts of the per-dyno isolation program, one counter each. */
enum dyno_verdict {
	VERDICT_PASS = 0,          /* to the dyno's own gateway (router replies), ARP, ... */
	VERDICT_DROP_TO_DYNO = 1,  /* destination is another dyno */
	VERDICT_DROP_NO_EGRESS = 2,/* leaves the dyno range; no NAT egress yet, so never let a 172.16/12 source out */
	VERDICT_MAX,
};

/* Key of the verdict counters: which dyno interface (host side), which verdict. */
struct verdict_key {
	__u32 ifindex;
	__u32 verdict;
};

#endif
