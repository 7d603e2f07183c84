package io.dynoplane.provisioner;

import java.util.Locale;

/** What the NAT did to a packet or to its flow table; ordinals match {@code enum nat_counter} in bpf/include/nat.h. */
public enum NatCounter {
    TRANSLATED_OUT,
    TRANSLATED_IN,
    ICMP_ERROR_IN,
    FLOW_CREATED,
    FLOW_RELEASED,
    EXPIRED,
    PORT_COLLISION,
    ALLOC_FAILED,
    TABLE_FULL,
    DYNO_CAP,
    INCONSISTENT,
    FRAGMENT,
    MALFORMED,
    UNSUPPORTED,
    NO_SPACE_ADDRESS,
    PASS,
    REWRITE_FAILED,
    EXPIRED_IN;

    public String label() { return name().toLowerCase(Locale.ROOT); }
}
