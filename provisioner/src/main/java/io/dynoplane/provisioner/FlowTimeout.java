package io.dynoplane.provisioner;

import java.time.Duration;

/**
 * Idle timeouts of the guard's tracked flows, by state; ordinals match {@code enum flow_timeout},
 * defaults the {@code FLOW_TIMEOUT_*_S} of bpf/include/dynoplane.h. The datapath enforces them: a flow
 * idle for longer is treated as absent (removed or replaced when next looked up). A TCP RST from
 * either side ends a flow at once.
 */
public enum FlowTimeout {
    /** TCP seen one way only: a SYN not answered yet. */
    TCP_OPENING(Duration.ofSeconds(120)),
    /** TCP seen both ways and not closed by both sides (a half-closed connection stays here). */
    TCP_ESTABLISHED(Duration.ofHours(1)),
    /** TCP after a FIN from both sides (conntrack's TIME_WAIT). */
    TCP_CLOSING(Duration.ofSeconds(120)),
    /** UDP (and protocols without ports) seen one way only. */
    UDP(Duration.ofSeconds(30)),
    /** UDP (and protocols without ports) seen both ways. */
    UDP_REPLIED(Duration.ofSeconds(120)),
    /** ICMP echo. */
    ICMP(Duration.ofSeconds(30));

    private final Duration defaultTimeout;

    FlowTimeout(Duration defaultTimeout) { this.defaultTimeout = defaultTimeout; }

    /** The timeout the guard applies while {@code flow_timeouts} holds 0 for this state. */
    public Duration defaultTimeout() { return defaultTimeout; }

    static final int TCP = 6, ICMP_PROTO = 1;
    static final int S_DYNO = 0x01, S_REMOTE = 0x02, S_FIN_DYNO = 0x04, S_FIN_REMOTE = 0x08;

    /** The state a flow of {@code proto} with {@code FLOW_S_*} bits {@code state} is in, as flow_timeout_ns() decides. */
    static FlowTimeout of(int proto, int state) {
        boolean bothWays = (state & (S_DYNO | S_REMOTE)) == (S_DYNO | S_REMOTE);
        if (proto == TCP) {
            if ((state & (S_FIN_DYNO | S_FIN_REMOTE)) == (S_FIN_DYNO | S_FIN_REMOTE)) return TCP_CLOSING;
            return bothWays ? TCP_ESTABLISHED : TCP_OPENING;
        }
        if (proto == ICMP_PROTO) return ICMP;
        return bothWays ? UDP_REPLIED : UDP;
    }
}
