package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;
import io.dynoplane.provisioner.IsolationPlane.DynoPolicy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToIntFunction;

import static io.dynoplane.provisioner.IsolationPlane.TC_ACT_SHOT;
import static io.dynoplane.provisioner.IsolationPlane.TC_ACT_UNSPEC;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Packet fixtures in, tc action and verdict counter out: bpf_prog_test_run on the real dyno_from
 * and dyno_to. Test runs give the skb loopback's ifindex (1), so the dyno under test is registered
 * under ifindex 1. They run inside a scratch namespace of this test's own (lo forwarding on, a dummy
 * link 10.99.0.1/24 with a default route) so that bpf_fib_lookup answers as on a dyno's veth.
 */
class IsolationGuardTest {
    private static final int LO = 1;
    private static final String NS = "dpt" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 8);
    private static final int HOST_LOCAL = Subnet.parse("10.99.0.1"); // an address of the (scratch) host
    private static final int INTERNET = Subnet.parse("198.51.100.7");
    private static final int ETH_IP = 0x0800;
    private static final int TCP = 6, UDP = 17, ICMP = 1;
    private static final int FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

    private final Subnet self = new Subnet(Subnet.parse("172.16.0.0"));
    private final Subnet other = new Subnet(Subnet.parse("172.16.0.4"));
    private final Subnet space7a = new Subnet(Subnet.parse("172.16.0.8"));
    private final Subnet space7b = new Subnet(Subnet.parse("172.16.0.12"));
    private final Subnet space8 = new Subnet(Subnet.parse("172.16.0.16"));
    private IsolationPlane plane;

    @BeforeAll
    static void scratchNamespace() throws Exception {
        sh("ip netns add " + NS);
        sh("ip -n " + NS + " link set lo up");
        sh("ip netns exec " + NS + " sh -c 'echo 1 > /proc/sys/net/ipv4/conf/lo/forwarding'");
        sh("ip -n " + NS + " link add d0 type veth peer name d1");
        sh("ip -n " + NS + " link set d1 up");
        sh("ip -n " + NS + " addr add 10.99.0.1/24 dev d0");
        sh("ip -n " + NS + " link set d0 up");
        sh("ip -n " + NS + " route add default via 10.99.0.2");
    }

    @AfterAll
    static void removeScratchNamespace() throws Exception {
        sh("ip netns del " + NS);
    }

    @BeforeEach
    void load() {
        plane = IsolationPlane.load();
        plane.admit(policy(self, 5000, 0, false, LO));
        plane.admit(policy(other, 5000, 0, false, 1_000_001));
        plane.admit(policy(space7a, 5000, 7, false, 1_000_002));
        plane.admit(policy(space7b, 5000, 7, false, 1_000_003));
        plane.admit(policy(space8, 5000, 8, false, 1_000_004));
    }

    @AfterEach
    void close() { plane.close(); }

    // ---- Frames either way ------------------------------------------------------------------------------------------

    @Test
    void arpPassesBothWays() {
        byte[] arp = frame(self.dynoMac(), 0x0806, new byte[28]);
        expect(plane::fromDyno, arp, TC_ACT_UNSPEC, self, Verdict.PASS_ARP);
        expect(plane::toDyno, arp, TC_ACT_UNSPEC, self, Verdict.PASS_ARP);
    }

    @Test
    void ipv6IsDroppedBothWays() {
        byte[] v6 = frame(self.dynoMac(), 0x86dd, new byte[48]);
        expect(plane::fromDyno, v6, TC_ACT_SHOT, self, Verdict.DROP_IPV6);
        expect(plane::toDyno, v6, TC_ACT_SHOT, self, Verdict.DROP_IPV6);
    }

    @Test
    void vlanTaggedFramesAreDropped() {
        byte[] inner = ipv4(self.dynoAddress(), INTERNET, UDP, 5, 0, udp(40000, 53));
        byte[] dot1q = ByteBuffer.allocate(4 + inner.length).putShort((short) 0x0005).putShort((short) ETH_IP).put(inner).array();
        byte[] qinq = ByteBuffer.allocate(8 + inner.length).putShort((short) 0x0005).putShort((short) 0x8100)
                .putShort((short) 0x0006).putShort((short) ETH_IP).put(inner).array();
        expect(plane::fromDyno, frame(self.dynoMac(), 0x8100, dot1q), TC_ACT_SHOT, self, Verdict.DROP_VLAN);
        expect(plane::fromDyno, frame(self.dynoMac(), 0x88a8, qinq), TC_ACT_SHOT, self, Verdict.DROP_VLAN);
        expect(plane::toDyno, frame(self.dynoMac(), 0x8100, dot1q), TC_ACT_SHOT, self, Verdict.DROP_VLAN);
        expect(plane::toDyno, frame(self.dynoMac(), 0x88a8, qinq), TC_ACT_SHOT, self, Verdict.DROP_VLAN);
    }

    @Test
    void otherEthertypesAreDropped() {
        byte[] lldp = frame(self.dynoMac(), 0x88cc, new byte[46]);
        expect(plane::fromDyno, lldp, TC_ACT_SHOT, self, Verdict.DROP_ETHERTYPE);
        expect(plane::toDyno, lldp, TC_ACT_SHOT, self, Verdict.DROP_ETHERTYPE);
    }

    @Test
    void truncatedAndMalformedHeadersAreDropped() {
        byte[] full = ipv4(self.dynoAddress(), INTERNET, TCP, 5, 0, tcp(40000, 443, SYN));
        plane.allowEgress("198.51.100.0/24"); // so that only the malformation can drop these
        // TCP header cut short, or missing. (Frames shorter than Ethernet + 20 bytes of IPv4 the kernel's
        // bpf_prog_test_run refuses with EINVAL on 6.18, so a truncated base IP header is covered by ihl below.)
        for (int cut : new int[] {20, 20 + 10, 20 + 19}) {
            byte[] truncated = frame(self.dynoMac(), ETH_IP, java.util.Arrays.copyOf(full, cut));
            expect(plane::fromDyno, truncated, TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
            expect(plane::toDyno, truncated, TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        }
        // UDP and ICMP headers cut short.
        byte[] shortUdp = ipv4(self.dynoAddress(), INTERNET, UDP, 5, 0, new byte[7]);
        byte[] shortIcmp = ipv4(self.dynoAddress(), INTERNET, ICMP, 5, 0, new byte[7]);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, shortUdp), TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, shortIcmp), TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        // ihl 15 announced, 20 bytes of header present.
        byte[] shortOptions = full.clone();
        shortOptions[0] = 0x4f;
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, java.util.Arrays.copyOf(shortOptions, 40)), TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        // ihl < 5, and an IPv6 version nibble under the IPv4 ethertype.
        byte[] tinyIhl = full.clone();
        tinyIhl[0] = 0x44;
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, tinyIhl), TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        byte[] version6 = full.clone();
        version6[0] = 0x65;
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, version6), TC_ACT_SHOT, self, Verdict.DROP_MALFORMED);
        // The untouched packet passes: the drops above were for the malformation.
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, full), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
    }

    @Test
    void fragmentsFirstAndLaterAreDroppedBothWays() {
        plane.allowEgress("198.51.100.0/24");
        byte[] first = frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, UDP, 5, 0x2000, udp(40000, 53)));
        byte[] later = frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, UDP, 5, 185, new byte[16]));
        byte[] last = frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, UDP, 5, 0x2000 | 185, new byte[16]));
        for (byte[] fragment : new byte[][] {first, later, last}) {
            expect(plane::fromDyno, fragment, TC_ACT_SHOT, self, Verdict.DROP_FRAGMENT);
        }
        byte[] inFirst = frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), UDP, 5, 0x2000, udp(53, 40000)));
        byte[] inLater = frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), UDP, 5, 185, new byte[16]));
        expect(plane::toDyno, inFirst, TC_ACT_SHOT, self, Verdict.DROP_FRAGMENT);
        expect(plane::toDyno, inLater, TC_ACT_SHOT, self, Verdict.DROP_FRAGMENT);
    }

    /** Options are filled with bytes that would read as other ports: the rules must see the ports at ihl*4. */
    @ParameterizedTest
    @ValueSource(ints = {6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
    void ipOptionsAreSkippedToTheRealL4Header(int ihl) {
        plane.allowEgress("198.51.100.0/24");
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, UDP, ihl, 0, udp(40000, 53))),
                TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), UDP, ihl, 0, udp(53, 40000))),
                TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), UDP, ihl, 0, udp(53, 40001))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.hostAddress(), self.dynoAddress(), TCP, ihl, 0, tcp(33000, 5000, SYN))),
                TC_ACT_UNSPEC, self, Verdict.PASS_ROUTER);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.hostAddress(), self.dynoAddress(), TCP, ihl, 0, tcp(33000, 5001, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
    }

    // ---- dyno_from ----------------------------------------------------------------------------------------------

    @Test
    void spoofedSourceAddressOrMacIsDropped() {
        plane.allowEgress("198.51.100.0/24");
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(other.dynoAddress(), INTERNET, UDP, 5, 0, udp(40000, 53))),
                TC_ACT_SHOT, self, Verdict.DROP_SPOOF);
        expect(plane::fromDyno, frame(other.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, UDP, 5, 0, udp(40000, 53))),
                TC_ACT_SHOT, self, Verdict.DROP_SPOOF);
    }

    @Test
    void commonRuntimeDynosCannotReachOtherDynos() {
        byte[][] l4s = {tcp(40000, 5000, SYN), udp(40000, 5000), icmp(8, 42)};
        int[] protos = {TCP, UDP, ICMP};
        for (int i = 0; i < protos.length; i++) {
            int proto = protos[i];
            byte[] l4 = l4s[i];
            expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), other.dynoAddress(), proto, 5, 0, l4)),
                    TC_ACT_SHOT, self, Verdict.DROP_TO_DYNO);
            expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), space7a.dynoAddress(), proto, 5, 0, l4)),
                    TC_ACT_SHOT, self, Verdict.DROP_TO_DYNO);
        }
    }

    @Test
    void theHostServesNothingToDynos() {
        for (int host : new int[] {self.hostAddress(), other.hostAddress(), Subnet.parse("172.16.255.1"), HOST_LOCAL, Subnet.parse("127.0.0.1")}) {
            expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), host, TCP, 5, 0, tcp(40000, 22, SYN))),
                    TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        }
        // Even with the host's address in the egress list.
        plane.allowEgress("10.99.0.0/24");
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), HOST_LOCAL, UDP, 5, 0, udp(40000, 53))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
    }

    @Test
    void hairpinReachesOnlyTheRoutersListenersAndTheirRepliesReturn() {
        int dyno = self.dynoAddress();
        byte[] syn = frame(self.dynoMac(), ETH_IP, ipv4(dyno, HOST_LOCAL, TCP, 5, 0, tcp(40000, 8080, SYN)));
        // Not a listener yet: dropped, nothing tracked.
        expect(plane::fromDyno, syn, TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        plane.allowHairpin(new java.net.InetSocketAddress("10.99.0.1", 8080));
        expect(plane::fromDyno, syn, TC_ACT_UNSPEC, self, Verdict.PASS_HAIRPIN);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(HOST_LOCAL, dyno, TCP, 5, 0, tcp(8080, 40000, SYN | ACK))),
                TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, HOST_LOCAL, TCP, 5, 0, tcp(40000, 8080, ACK))),
                TC_ACT_UNSPEC, self, Verdict.PASS_HAIRPIN);
        assertThat(plane.flowCount()).isEqualTo(1);
        // Another host port, another host address, UDP to the listener's port: all still dropped.
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, HOST_LOCAL, TCP, 5, 0, tcp(40001, 22, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, Subnet.parse("127.0.0.1"), TCP, 5, 0, tcp(40002, 8080, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, HOST_LOCAL, UDP, 5, 0, udp(40003, 8080))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        // The host does not open connections to the dyno through the hairpin.
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(HOST_LOCAL, dyno, TCP, 5, 0, tcp(8080, 40009, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        // A wildcard listener opens the port on every local address; denying it closes it again.
        plane.allowHairpin(new java.net.InetSocketAddress("0.0.0.0", 9090));
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, Subnet.parse("127.0.0.1"), TCP, 5, 0, tcp(40004, 9090, SYN))),
                TC_ACT_UNSPEC, self, Verdict.PASS_HAIRPIN);
        // Never by the dyno's gateway (the dyno range), wildcard or not.
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, self.hostAddress(), TCP, 5, 0, tcp(40005, 9090, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        assertThat(plane.denyHairpin(new java.net.InetSocketAddress("10.99.0.1", 8080))).isTrue();
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, HOST_LOCAL, TCP, 5, 0, tcp(40000, 8080, ACK))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
    }

    @Test
    void routerConnectionsPassBothWaysOnceLetIn() {
        int gw = self.hostAddress(), dyno = self.dynoAddress();
        // Before the router's SYN, the dyno's segment to the gateway is not a reply.
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, gw, TCP, 5, 0, tcp(5000, 33000, SYN | ACK))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, TCP, 5, 0, tcp(33000, 5000, SYN))),
                TC_ACT_UNSPEC, self, Verdict.PASS_ROUTER);
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, gw, TCP, 5, 0, tcp(5000, 33000, SYN | ACK))),
                TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, TCP, 5, 0, tcp(33000, 5000, ACK))),
                TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        // Another source port of the gateway's is another flow.
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, gw, TCP, 5, 0, tcp(5000, 33001, ACK))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        assertThat(plane.flowCount()).isEqualTo(1);
    }

    @Test
    void egressOnlyToListedCidrsAndRepliesReturn() {
        byte[] out = frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, TCP, 5, 0, tcp(40000, 443, SYN)));
        byte[] back = frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), TCP, 5, 0, tcp(443, 40000, SYN | ACK)));
        expect(plane::fromDyno, out, TC_ACT_SHOT, self, Verdict.DROP_NO_EGRESS);
        expect(plane::toDyno, back, TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        plane.allowEgress("198.51.100.0/24");
        expect(plane::fromDyno, out, TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, back, TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        // A narrower list; 198.51.100.7 is no longer in it.
        assertThat(plane.denyEgress("198.51.100.0/24")).isTrue();
        plane.allowEgress("198.51.100.128/25");
        expect(plane::fromDyno, out, TC_ACT_SHOT, self, Verdict.DROP_NO_EGRESS);
    }

    @Test
    void echoRepliesReturnOnlyForTheDynosOwnEchoId() {
        plane.allowEgress("198.51.100.0/24");
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), INTERNET, ICMP, 5, 0, icmp(8, 77))),
                TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), ICMP, 5, 0, icmp(0, 77))),
                TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), ICMP, 5, 0, icmp(0, 78))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, self.dynoAddress(), ICMP, 5, 0, icmp(8, 77))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
    }

    @Test
    void spaceMembersReachEachOtherOnAnyPortOthersDoNot() {
        plane.admit(policy(space7a, 5000, 7, false, LO)); // ifindex 1 now guards space7a
        expect(plane::fromDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.dynoAddress(), space7b.dynoAddress(), TCP, 5, 0, tcp(40000, 9999, SYN))),
                TC_ACT_UNSPEC, space7a, Verdict.PASS_SPACE);
        expect(plane::fromDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.dynoAddress(), space7b.dynoAddress(), UDP, 5, 0, udp(40000, 1))),
                TC_ACT_UNSPEC, space7a, Verdict.PASS_SPACE);
        expect(plane::fromDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.dynoAddress(), space8.dynoAddress(), TCP, 5, 0, tcp(40000, 5000, SYN))),
                TC_ACT_SHOT, space7a, Verdict.DROP_TO_DYNO);
        expect(plane::fromDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.dynoAddress(), self.dynoAddress(), TCP, 5, 0, tcp(40000, 5000, SYN))),
                TC_ACT_SHOT, space7a, Verdict.DROP_TO_DYNO);
        // Inbound: from its space on any port; from another space or the Common Runtime, not even to $PORT.
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7b.dynoAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(40000, 9999, SYN))),
                TC_ACT_UNSPEC, space7a, Verdict.PASS_SPACE);
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space8.dynoAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(40000, 5000, SYN))),
                TC_ACT_SHOT, space7a, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(40000, 5000, SYN))),
                TC_ACT_SHOT, space7a, Verdict.DROP_INBOUND);
        // A space dyno's web $PORT is still open to the router (the app is not internal).
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.hostAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(33000, 5000, SYN))),
                TC_ACT_UNSPEC, space7a, Verdict.PASS_ROUTER);
    }

    // ---- dyno_to ------------------------------------------------------------------------------------------------

    @Test
    void onlyTheRoutersNewConnectionsToPortAreLetIn() {
        int gw = self.hostAddress(), dyno = self.dynoAddress();
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, TCP, 5, 0, tcp(33000, 5001, SYN))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, TCP, 5, 0, tcp(33000, 5000, SYN | ACK))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, UDP, 5, 0, udp(33000, 5000))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(other.hostAddress(), dyno, TCP, 5, 0, tcp(33000, 5000, SYN))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(HOST_LOCAL, dyno, TCP, 5, 0, tcp(33000, 5000, SYN))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(other.dynoAddress(), dyno, TCP, 5, 0, tcp(33000, 5000, SYN))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, ICMP, 5, 0, icmp(8, 1))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, other.dynoAddress(), TCP, 5, 0, tcp(33000, 5000, SYN))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, TCP, 5, 0, tcp(33000, 5000, SYN))), TC_ACT_UNSPEC, self, Verdict.PASS_ROUTER);
    }

    @Test
    void workersAcceptNothingNew() {
        plane.admit(policy(self, 0, 0, false, LO));
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.hostAddress(), self.dynoAddress(), TCP, 5, 0, tcp(33000, 5000, SYN))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
    }

    @Test
    void internalAppsAcceptOnlyTheirSpace() {
        plane.admit(policy(space7a, 5000, 7, true, LO));
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7a.hostAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(33000, 5000, SYN))),
                TC_ACT_SHOT, space7a, Verdict.DROP_INBOUND);
        expect(plane::toDyno, frame(space7a.dynoMac(), ETH_IP, ipv4(space7b.dynoAddress(), space7a.dynoAddress(), TCP, 5, 0, tcp(40000, 5000, SYN))),
                TC_ACT_UNSPEC, space7a, Verdict.PASS_SPACE);
    }

    @Test
    void anUnregisteredInterfaceDropsEverythingButCountsIt() {
        plane.forgetIfindex(LO);
        byte[] arp = frame(self.dynoMac(), 0x0806, new byte[28]);
        long before = plane.count(0, Verdict.DROP_UNGUARDED);
        assertThat(run(plane::fromDyno, arp)).isEqualTo(TC_ACT_SHOT);
        assertThat(run(plane::toDyno, arp)).isEqualTo(TC_ACT_SHOT);
        assertThat(plane.count(0, Verdict.DROP_UNGUARDED)).isEqualTo(before + 2);
    }

    @Test
    void aForgottenDynoIsNoLongerKnownNorCounted() {
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(self.dynoAddress(), other.dynoAddress(), UDP, 5, 0, udp(1, 2))),
                TC_ACT_SHOT, self, Verdict.DROP_TO_DYNO);
        plane.forget(other);
        plane.forget(policy(self, 5000, 0, false, LO));
        assertThat(plane.counts(self.dynoId()).values()).allMatch(c -> c == 0);
        assertThat(run(plane::fromDyno, frame(self.dynoMac(), 0x0806, new byte[28]))).isEqualTo(TC_ACT_SHOT);
    }

    // ---- Flow lifetime ------------------------------------------------------------------------------------------

    @Test
    void aRstFromTheRemoteEndsTheFlowAndARstStartsNone() {
        plane.allowEgress("198.51.100.0/24");
        int dyno = self.dynoAddress();
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, SYN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, ACK), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        // The RST itself reaches the dyno; nothing of the flow after it does.
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, RST | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, FIN | ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        assertThat(plane.flowEntries()).isZero();
        // A RST the dyno sends passes (egress is allowed) but opens nothing.
        expect(plane::fromDyno, segment(dyno, INTERNET, 40001, 443, RST), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40001, ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        assertThat(plane.flowEntries()).isZero();
    }

    @Test
    void aRstFromTheDynoEndsTheRoutersConnection() {
        int gw = self.hostAddress(), dyno = self.dynoAddress();
        expect(plane::toDyno, segment(gw, dyno, 33000, 5000, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_ROUTER);
        expect(plane::fromDyno, segment(dyno, gw, 5000, 33000, SYN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, segment(gw, dyno, 33000, 5000, ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::fromDyno, segment(dyno, gw, 5000, 33000, RST), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, segment(gw, dyno, 33000, 5000, ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::fromDyno, segment(dyno, gw, 5000, 33000, ACK), TC_ACT_SHOT, self, Verdict.DROP_TO_HOST);
        assertThat(plane.flowCount()).isZero();
    }

    /** The closing timeout is cut to 1 ns: a flow in that state is dead by its next packet, one in any other is not. */
    @Test
    void aFinFromBothSidesPutsTheFlowOnTheClosingTimeout() {
        plane.allowEgress("198.51.100.0/24");
        plane.flowTimeout(FlowTimeout.TCP_CLOSING, Duration.ofNanos(1));
        int dyno = self.dynoAddress();
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, SYN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, ACK), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        // Half-closed by the dyno: the remote may still send (established timeout).
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, FIN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        assertThat(plane.flowCount()).isEqualTo(1);
        // The remote's FIN closes it; past the closing timeout, the flow is gone.
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, FIN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        assertThat(plane.flowCount()).isZero();
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        assertThat(plane.flowEntries()).isZero();
    }

    /** Timeouts cut to 1 ns one state at a time: expiry follows the flow's state and removes it for good. */
    @Test
    void aFlowIdleLongerThanTheTimeoutOfItsStateIsRefusedAndRemoved() {
        plane.allowEgress("198.51.100.0/24");
        int dyno = self.dynoAddress();
        byte[] replyA = datagram(INTERNET, dyno, 53, 40000), replyB = datagram(INTERNET, dyno, 53, 40001);
        expect(plane::fromDyno, datagram(dyno, INTERNET, 40001, 53), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, replyB, TC_ACT_UNSPEC, self, Verdict.PASS_REPLY); // B has seen both ways
        plane.flowTimeout(FlowTimeout.UDP, Duration.ofNanos(1));
        expect(plane::fromDyno, datagram(dyno, INTERNET, 40000, 53), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, replyA, TC_ACT_SHOT, self, Verdict.DROP_INBOUND); // unanswered A expired
        expect(plane::toDyno, replyB, TC_ACT_UNSPEC, self, Verdict.PASS_REPLY); // answered B did not
        plane.flowTimeout(FlowTimeout.UDP_REPLIED, Duration.ofNanos(1));
        expect(plane::toDyno, replyB, TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        assertThat(plane.flowEntries()).isZero();
        // Removed, not just skipped: the flow does not come back with a longer timeout.
        plane.flowTimeout(FlowTimeout.UDP_REPLIED, Duration.ofMinutes(2));
        expect(plane::toDyno, replyB, TC_ACT_SHOT, self, Verdict.DROP_INBOUND);

        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, ipv4(dyno, INTERNET, ICMP, 5, 0, icmp(8, 77))), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        assertThat(plane.flowCount()).isEqualTo(2);
        plane.flowTimeout(FlowTimeout.ICMP, Duration.ofNanos(1));
        plane.flowTimeout(FlowTimeout.TCP_OPENING, Duration.ofNanos(1));
        assertThat(plane.flowCount()).isZero();
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, dyno, ICMP, 5, 0, icmp(0, 77))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, SYN | ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        // The dyno's next packet starts the flow afresh (under the timeout of its new state).
        plane.flowTimeout(FlowTimeout.TCP_OPENING, Duration.ofMinutes(2));
        expect(plane::fromDyno, segment(dyno, INTERNET, 40000, 443, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, SYN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
    }

    /** Real time: replies every 100 ms keep a flow with a 1.5 s timeout alive for 3 s (last_seen refreshed); 2 s of silence end it. */
    @Test
    void packetsKeepAFlowAliveSilenceEndsIt() throws InterruptedException {
        plane.allowEgress("198.51.100.0/24");
        plane.flowTimeout(FlowTimeout.UDP, Duration.ofMillis(1500));
        plane.flowTimeout(FlowTimeout.UDP_REPLIED, Duration.ofMillis(1500));
        int dyno = self.dynoAddress();
        expect(plane::fromDyno, datagram(dyno, INTERNET, 40000, 53), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < end) {
            expect(plane::toDyno, datagram(INTERNET, dyno, 53, 40000), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
            Thread.sleep(100);
        }
        Thread.sleep(2000);
        expect(plane::toDyno, datagram(INTERNET, dyno, 53, 40000), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
    }

    @Test
    void aForgottenDynosFlowsAreStaleForTheNextDynoAtItsAddressWithoutAScan() {
        plane.allowEgress("198.51.100.0/24");
        int dyno = self.dynoAddress();
        byte[] syn = ipv4(dyno, INTERNET, TCP, 5, 0, tcp(40000, 443, SYN));
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, syn), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, SYN | ACK), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::fromDyno, datagram(dyno, INTERNET, 40000, 53), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        assertThat(plane.flowCount()).isEqualTo(2);

        plane.forget(policy(self, 5000, 0, false, LO));
        assertThat(plane.flowEntries()).as("forget leaves the conntrack table alone").isEqualTo(2);
        assertThat(plane.flowCount()).as("but its flows are no longer live").isZero();
        plane.admit(policy(self, 5000, 0, false, LO)); // the next dyno on this /30

        // Nothing of the old dyno's flows reaches the new one, not even an ICMP error quoting them.
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, dyno, ICMP, 5, 0, icmpError(3, 4, syn))),
                TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, segment(INTERNET, dyno, 443, 40000, ACK), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        expect(plane::toDyno, datagram(INTERNET, dyno, 53, 40000), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        assertThat(plane.flowEntries()).as("stale entries go when met").isZero();
        // The new dyno's own flows work, on the very same tuple.
        expect(plane::fromDyno, datagram(dyno, INTERNET, 40000, 53), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        expect(plane::toDyno, datagram(INTERNET, dyno, 53, 40000), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        assertThat(plane.flowCount()).isEqualTo(1);
    }

    // ---- ICMP errors ------------------------------------------------------------------------------------------

    @Test
    void icmpErrorsQuotingALiveFlowOfTheDynosPassOthersDoNot() {
        plane.allowEgress("198.51.100.0/24");
        int dyno = self.dynoAddress(), hop = Subnet.parse("198.51.100.1"); // a router on the path
        byte[] syn = ipv4(dyno, INTERNET, TCP, 5, 0, tcp(40000, 443, SYN));
        byte[] query = ipv4(dyno, INTERNET, UDP, 5, 0, udp(40000, 53));
        byte[] echo = ipv4(dyno, INTERNET, ICMP, 5, 0, icmp(8, 77));
        for (byte[] packet : new byte[][] {syn, query, echo}) {
            expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, packet), TC_ACT_UNSPEC, self, Verdict.PASS_EGRESS);
        }
        int before = plane.flowCount();

        // Frag-needed (PMTU discovery), other unreachables, time exceeded; from the remote or a hop; IP options either side.
        for (byte[] error : new byte[][] {
                icmpError(3, 4, syn), icmpError(3, 3, query), icmpError(3, 1, echo), icmpError(11, 0, syn),
                icmpError(3, 4, Arrays.copyOf(syn, 28)), // just the 8 bytes of L4 the RFC asks for
                icmpError(3, 4, ipv4(dyno, INTERNET, TCP, 9, 0, tcp(40000, 443, SYN)))}) {
            expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(hop, dyno, ICMP, 5, 0, error)), TC_ACT_UNSPEC, self, Verdict.PASS_ICMP_ERROR);
            expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(INTERNET, dyno, ICMP, 7, 0, error)), TC_ACT_UNSPEC, self, Verdict.PASS_ICMP_ERROR);
        }

        // Quoting what the dyno never sent, or not quoting enough, or not an error the guard lets in.
        for (byte[] error : new byte[][] {
                icmpError(3, 4, ipv4(dyno, INTERNET, TCP, 5, 0, tcp(40001, 443, SYN))),      // another port of the dyno's
                icmpError(3, 4, ipv4(dyno, INTERNET, TCP, 5, 0, tcp(40000, 444, SYN))),      // another remote port
                icmpError(3, 4, ipv4(dyno, INTERNET + 1, TCP, 5, 0, tcp(40000, 443, SYN))),  // another remote
                icmpError(3, 4, ipv4(dyno, INTERNET, UDP, 5, 0, tcp(40000, 443, SYN))),      // another protocol
                icmpError(3, 4, ipv4(other.dynoAddress(), INTERNET, TCP, 5, 0, tcp(40000, 443, SYN))), // another dyno's
                icmpError(3, 1, ipv4(dyno, INTERNET, ICMP, 5, 0, icmp(8, 78))),              // another echo id
                icmpError(3, 1, ipv4(dyno, INTERNET, ICMP, 5, 0, icmp(0, 77))),              // an echo reply
                icmpError(3, 4, Arrays.copyOf(syn, 27)),                                     // 7 bytes of L4
                icmpError(3, 4, ipv4(dyno, INTERNET, TCP, 5, 0x2000, tcp(40000, 443, SYN))), // a fragment
                icmpError(5, 1, syn),                                                       // redirect
                icmpError(12, 0, syn)}) {                                                   // parameter problem
            expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(hop, dyno, ICMP, 5, 0, error)), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
        }
        // The errors neither started, refreshed away nor ended anything.
        assertThat(plane.flowCount()).isEqualTo(before);

        // Once the flow has expired, its errors are dropped too.
        plane.flowTimeout(FlowTimeout.TCP_OPENING, Duration.ofNanos(1));
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(hop, dyno, ICMP, 5, 0, icmpError(3, 4, syn))), TC_ACT_SHOT, self, Verdict.DROP_INBOUND);
    }

    @Test
    void icmpErrorsAboutTheDynosRepliesToTheRouterPass() {
        int gw = self.hostAddress(), dyno = self.dynoAddress();
        expect(plane::toDyno, segment(gw, dyno, 33000, 5000, SYN), TC_ACT_UNSPEC, self, Verdict.PASS_ROUTER);
        byte[] synAck = ipv4(dyno, gw, TCP, 5, 0, tcp(5000, 33000, SYN | ACK));
        expect(plane::fromDyno, frame(self.dynoMac(), ETH_IP, synAck), TC_ACT_UNSPEC, self, Verdict.PASS_REPLY);
        expect(plane::toDyno, frame(self.dynoMac(), ETH_IP, ipv4(gw, dyno, ICMP, 5, 0, icmpError(3, 4, synAck))), TC_ACT_UNSPEC, self, Verdict.PASS_ICMP_ERROR);
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private void expect(ToIntFunction<byte[]> program, byte[] frame, int action, Subnet dyno, Verdict reason) {
        long before = plane.count(dyno.dynoId(), reason);
        assertThat(run(program, frame)).as("action for %s", reason).isEqualTo(action);
        assertThat(plane.count(dyno.dynoId(), reason)).as("count of %s", reason).isEqualTo(before + 1);
    }

    private static int run(ToIntFunction<byte[]> program, byte[] frame) {
        return NetworkNamespaces.inside(NS, () -> program.applyAsInt(frame));
    }

    private static DynoPolicy policy(Subnet subnet, int port, int space, boolean internal, int ifindex) {
        return new DynoPolicy(subnet.dynoId(), subnet, subnet.dynoMac(), port, space, internal, ifindex);
    }

    private static byte[] frame(byte[] srcMac, int etherType, byte[] payload) {
        return ByteBuffer.allocate(14 + payload.length).put(new byte[] {2, 0, 0, 0, 0, 1}).put(srcMac)
                .putShort((short) etherType).put(payload).array();
    }

    /** IPv4 header of {@code ihl} words (options: bytes that would read as ports 0x0101), checksum zero, then L4. */
    private static byte[] ipv4(int src, int dst, int proto, int ihl, int fragOff, byte[] l4) {
        int header = ihl * 4;
        ByteBuffer b = ByteBuffer.allocate(header + l4.length);
        b.put((byte) (0x40 | ihl)).put((byte) 0).putShort((short) (header + l4.length)).putShort((short) 0).putShort((short) fragOff)
                .put((byte) 64).put((byte) proto).putShort((short) 0).putInt(src).putInt(dst);
        for (int i = 20; i < header; i++) b.put((byte) 1); // NOPs
        return b.put(l4).array();
    }

    private static byte[] tcp(int sport, int dport, int flags) {
        return ByteBuffer.allocate(20).putShort((short) sport).putShort((short) dport).putInt(1).putInt(0)
                .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putInt(0).array();
    }

    private static byte[] udp(int sport, int dport) {
        return ByteBuffer.allocate(8).putShort((short) sport).putShort((short) dport).putShort((short) 8).putShort((short) 0).array();
    }

    /** A TCP segment in a frame from the dyno's MAC (the guard checks it only on dyno_from). */
    private byte[] segment(int src, int dst, int sport, int dport, int flags) {
        return frame(self.dynoMac(), ETH_IP, ipv4(src, dst, TCP, 5, 0, tcp(sport, dport, flags)));
    }

    private byte[] datagram(int src, int dst, int sport, int dport) {
        return frame(self.dynoMac(), ETH_IP, ipv4(src, dst, UDP, 5, 0, udp(sport, dport)));
    }

    /** ICMP error of {@code type} and {@code code} (next-hop MTU 1400, as frag-needed has it) quoting {@code quoted}. */
    private static byte[] icmpError(int type, int code, byte[] quoted) {
        return ByteBuffer.allocate(8 + quoted.length).put((byte) type).put((byte) code).putShort((short) 0)
                .putShort((short) 0).putShort((short) 1400).put(quoted).array();
    }

    private static byte[] icmp(int type, int id) {
        return ByteBuffer.allocate(8).put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) 1).array();
    }

    private static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(command + ": " + out);
    }
}
