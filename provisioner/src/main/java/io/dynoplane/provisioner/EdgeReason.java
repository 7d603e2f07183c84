package io.dynoplane.provisioner;

import java.util.Locale;

/** Why the edge passed or dropped a packet; ordinals match {@code enum edge_reason} in bpf/include/edge.h. */
public enum EdgeReason {
    PASS,
    TO_DYNO_RANGE,
    BLOCKLISTED,
    UNTRUSTED,
    SYN_RATE,
    MALFORMED;

    public String label() { return name().toLowerCase(Locale.ROOT); }
}
