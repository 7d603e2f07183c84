package io.dynoplane.provisioner;

/**
 * Why the isolation guard passed or dropped a packet; ordinals match {@code enum dyno_verdict} in
 * bpf/include/dynoplane.h. Counted per dyno id and reason.
 */
public enum Verdict {
    /** ARP, either way. */
    PASS_ARP,
    /** Reply or continuation of a tracked flow (the router's connection, the dyno's egress, a space peer's). */
    PASS_REPLY,
    /** Between two dynos of the same private space. */
    PASS_SPACE,
    /** From the dyno to a destination in the egress CIDRs. */
    PASS_EGRESS,
    /** The router (the dyno's gateway) opening a TCP connection to a web dyno's $PORT. */
    PASS_ROUTER,
    DROP_IPV6,
    DROP_VLAN,
    /** Any other non-IPv4 ethertype. */
    DROP_ETHERTYPE,
    /** Truncated Ethernet, IPv4 or L4 header; IP version or ihl wrong. */
    DROP_MALFORMED,
    /** IPv4 fragments, first and later ones. */
    DROP_FRAGMENT,
    /** Source address or MAC is not the dyno's. */
    DROP_SPOOF,
    /** To another dyno outside the sender's private space. */
    DROP_TO_DYNO,
    /** To a host address, not a reply on a connection the router opened. */
    DROP_TO_HOST,
    /** Out of the dyno range to a destination not in the egress CIDRs. */
    DROP_NO_EGRESS,
    /** New inbound traffic the dyno does not accept. */
    DROP_INBOUND,
    /** The interface has no dyno registered (fail closed); counted under dyno id 0. */
    DROP_UNGUARDED,
    /** ICMP destination unreachable (frag-needed among them) or time exceeded, quoting a live flow of the dyno's. */
    PASS_ICMP_ERROR,
    /** From the dyno to a router listener on a host address (TCP; hairpin: apps call each other by URL). */
    PASS_HAIRPIN;

    public boolean passes() { return name().startsWith("PASS_"); }

    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
}
