package io.dynoplane.provisioner;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * PLACEHOLDER: the API of the BPF SNAT that is being written in another branch, so that {@code bench nat} compiles
 * before it is merged. Every method throws; the integrator drops this file (and NatCounter.java) for the real ones.
 */
public final class NatTable implements AutoCloseable {
    private static final String NOT_YET = "NAT datapath not merged yet";

    private NatTable() {}

    public record Config(int maxFlows, int perDynoCap, int portLow, int portHigh,
                         Duration tcpEstablished, Duration tcpClosing, Duration udp, Duration icmp) {
        public static Config defaults() { throw new UnsupportedOperationException(NOT_YET); }
    }

    /** Loads the NAT programs and attaches them to the uplink (ifindex in the calling thread's netns), SNATing dynoRange traffic to `outbound`. */
    public static NatTable attach(int uplinkIfindex, String outbound, String dynoRange, Config config) {
        throw new UnsupportedOperationException(NOT_YET);
    }

    public void spaceOutbound(int spaceId, List<String> addresses) { throw new UnsupportedOperationException(NOT_YET); }

    public void dynoSpace(String dynoAddress, int spaceId) { throw new UnsupportedOperationException(NOT_YET); }

    public void forgetDyno(String dynoAddress) { throw new UnsupportedOperationException(NOT_YET); }

    public int flowsInUse() { throw new UnsupportedOperationException(NOT_YET); }

    public Map<NatCounter, Long> counts() { throw new UnsupportedOperationException(NOT_YET); }

    public long mapMemoryBytes() { throw new UnsupportedOperationException(NOT_YET); }

    @Override
    public void close() { throw new UnsupportedOperationException(NOT_YET); }
}
