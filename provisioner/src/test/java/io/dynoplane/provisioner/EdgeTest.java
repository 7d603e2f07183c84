package io.dynoplane.provisioner;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Arrays;

import static io.dynoplane.provisioner.EdgeFrames.ACK;
import static io.dynoplane.provisioner.EdgeFrames.SYN;
import static io.dynoplane.provisioner.EdgeFrames.tcp;
import static io.dynoplane.provisioner.EdgeFrames.udp;
import static org.assertj.core.api.Assertions.assertThat;

/** Frames in, XDP action and reason counter out: bpf_prog_test_run on the real edge_filter, one fresh load per test. */
class EdgeTest {
    private static final int XDP_DROP = 1, XDP_PASS = 2;
    private static final String ROUTER = "203.0.113.1";
    private static final int PUBLIC_PORT = 8080, SPACE_PORT = 8443, SPACE = 7;

    private Edge edge;

    @BeforeEach
    void load() {
        edge = Edge.load();
        edge.publicListener(new InetSocketAddress(ROUTER, PUBLIC_PORT));
        edge.spaceListener(new InetSocketAddress(ROUTER, SPACE_PORT), SPACE);
        edge.trust(SPACE, "10.20.0.0/16");
    }

    @AfterEach
    void close() { edge.close(); }

    @Test
    void dropsAnythingAddressedToTheDynoRange() {
        assertThat(edge.verdictOf(udp("203.0.113.2", "172.16.0.2", 5000))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(tcp("203.0.113.2", "172.31.255.254", 80, SYN))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(udp("203.0.113.2", "172.32.0.1", 5000))).isEqualTo(XDP_PASS); // just outside /12
        assertThat(edge.count(EdgeReason.TO_DYNO_RANGE)).isEqualTo(2);
        assertThat(edge.count(EdgeReason.PASS)).isEqualTo(1);
    }

    @Test
    void dropsBlocklistedSourcesUntilUnblocked() {
        edge.block("198.51.100.0/24");
        assertThat(edge.verdictOf(tcp("198.51.100.7", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(udp("198.51.100.200", ROUTER, 53))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(tcp("198.51.101.7", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.count(EdgeReason.BLOCKLISTED)).isEqualTo(2);

        assertThat(edge.unblock("198.51.100.0/24")).isTrue();
        assertThat(edge.verdictOf(tcp("198.51.100.7", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS);
    }

    @Test
    void aSpaceListenerTakesOnlyItsTrustedSources() {
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, SPACE_PORT, ACK))).isEqualTo(XDP_DROP); // not only SYNs
        assertThat(edge.verdictOf(tcp("10.20.3.4", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.count(EdgeReason.UNTRUSTED)).isEqualTo(2);

        // Trust is per space: another space's trusted CIDR does not open this one.
        edge.trust(SPACE + 1, "203.0.113.0/24");
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_DROP);
        edge.trust(SPACE, "203.0.113.9");
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.distrust(SPACE, "203.0.113.9")).isTrue();
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_DROP);
    }

    @Test
    void aWildcardSpaceListenerCoversEveryLocalAddress() {
        edge.spaceListener(new InetSocketAddress("0.0.0.0", 9443), SPACE);
        assertThat(edge.verdictOf(tcp("203.0.113.9", "203.0.113.77", 9443, SYN))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(tcp("10.20.0.1", "203.0.113.77", 9443, SYN))).isEqualTo(XDP_PASS);
    }

    @Test
    void thePublicListenerAndOtherTrafficPass() {
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.verdictOf(tcp("203.0.113.9", ROUTER, 22, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.verdictOf(udp("203.0.113.9", ROUTER, SPACE_PORT))).isEqualTo(XDP_PASS); // UDP: no listener
        assertThat(edge.count(EdgeReason.PASS)).isEqualTo(3);
    }

    @Test
    void arpAndIpv6Pass() {
        assertThat(edge.verdictOf(EdgeFrames.arp())).isEqualTo(XDP_PASS);
        assertThat(edge.verdictOf(EdgeFrames.ipv6())).isEqualTo(XDP_PASS);
        assertThat(edge.count(EdgeReason.PASS)).isEqualTo(2);
    }

    @Test
    void synsOverTheSourcesRateAreDroppedOthersSourcesAndAcksAreNot() {
        edge.synRate(1, 3); // one a second, three at once: the fourth within the run is over
        for (int i = 0; i < 3; i++) assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS);
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_DROP);
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, SPACE_PORT, SYN))).isEqualTo(XDP_DROP); // untrusted first
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, PUBLIC_PORT, ACK))).isEqualTo(XDP_PASS); // established
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, PUBLIC_PORT, SYN | ACK))).isEqualTo(XDP_PASS);
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, 22, SYN))).isEqualTo(XDP_PASS); // not a router listener
        assertThat(edge.verdictOf(tcp("203.0.113.4", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS); // another source
        assertThat(edge.count(EdgeReason.SYN_RATE)).isEqualTo(1);
        assertThat(edge.count(EdgeReason.UNTRUSTED)).isEqualTo(1);

        edge.synRate(0, 0); // off
        assertThat(edge.verdictOf(tcp("203.0.113.3", ROUTER, PUBLIC_PORT, SYN))).isEqualTo(XDP_PASS);
    }

    @Test
    void truncatedFramesAreDroppedAsMalformedOrPassedWhenNotIpv4() {
        byte[] tcp = tcp("203.0.113.9", ROUTER, PUBLIC_PORT, SYN);
        // bpf_prog_test_run refuses frames shorter than an Ethernet header, so the runt branch is not reachable here.
        assertThat(edge.verdictOf(Arrays.copyOf(tcp, 14 + 19))).isEqualTo(XDP_DROP);     // IPv4 header cut
        assertThat(edge.verdictOf(Arrays.copyOf(tcp, 14 + 20 + 19))).isEqualTo(XDP_DROP); // TCP header cut
        byte[] badIhl = tcp.clone();
        badIhl[14] = 0x44;                                                                  // IHL 4 < 5
        assertThat(edge.verdictOf(badIhl)).isEqualTo(XDP_DROP);
        assertThat(edge.count(EdgeReason.MALFORMED)).isEqualTo(3);

        // A cut UDP datagram is the stack's business (it drops it); only the IPv4 header is the edge's.
        assertThat(edge.verdictOf(Arrays.copyOf(udp("203.0.113.9", ROUTER, 53), 14 + 20 + 4))).isEqualTo(XDP_PASS);
        // A cut frame to the dyno range is still dropped for that.
        assertThat(edge.verdictOf(Arrays.copyOf(udp("203.0.113.9", "172.16.0.2", 53), 14 + 20))).isEqualTo(XDP_DROP);
        assertThat(edge.count(EdgeReason.TO_DYNO_RANGE)).isEqualTo(1);
    }

    @Test
    void rejectsWhatIsNotAnIpv4Cidr() {
        for (String bad : new String[] {"1.2.3.4/33", "1.2.3", "1.2.3.256", "::1", "a.b.c.d"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> edge.block(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
