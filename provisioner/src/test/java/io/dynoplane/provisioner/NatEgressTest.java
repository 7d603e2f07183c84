package io.dynoplane.provisioner;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.NetworkNamespaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

import static io.dynoplane.provisioner.NatTopology.HOST;
import static io.dynoplane.provisioner.NatTopology.REMOTE;
import static io.dynoplane.provisioner.NatTopology.SPACE_ADDRESSES;
import static io.dynoplane.provisioner.NatTopology.TCP_PORT;
import static io.dynoplane.provisioner.NatTopology.UDP_PORT;
import static io.dynoplane.provisioner.NatTopology.udpExchange;
import static org.assertj.core.api.Assertions.assertThat;

/** Real traffic through the BPF NAT on the uplink of a test-made host namespace; see {@link NatTopology}. */
class NatEgressTest {
    private static final long MIB_100 = 100L << 20;
    private static NatTopology topo;
    private NatTable nat;

    @BeforeAll
    static void topology() {
        topo = new NatTopology(3);
    }

    @AfterAll
    static void tearDown() {
        if (topo != null) topo.close();
    }

    @BeforeEach
    void clearPeers() {
        topo.udpPeers.clear();
    }

    @AfterEach
    void detach() {
        if (nat != null) {
            System.out.println("nat counts: " + nonZero(nat.counts()) + ", flows in use " + nat.flowsInUse());
            nat.close();
            nat = null;
        }
    }

    private NatTable attach(NatTable.Config config) {
        nat = NetworkNamespaces.inside(topo.host, () -> NatTable.attach(Libbpf.ifindex(topo.uplink), HOST, "172.16.0.0/12", config));
        return nat;
    }

    @Test
    void tcpUdpAndPingLeaveAsTheHostAndTheirRepliesComeBack() throws Exception {
        // Without the NAT nothing comes back (the internet has no route to the dyno range): the test can fail.
        try (DatagramSocket u = topo.udpSocket(0, 0)) {
            assertThat(udpExchange(u, UDP_PORT, "before", 700)).isNull();
        }
        assertThat(topo.ping(0, 1)).isNotZero();
        topo.udpPeers.clear();

        attach(NatTable.Config.defaults());
        assertThat(topo.tcpPeer(0)).startsWith(HOST + ":");
        try (DatagramSocket u = topo.udpSocket(0, 0)) {
            assertThat(udpExchange(u, UDP_PORT, "hello", 2_000)).startsWith(HOST + ":").endsWith(" hello");
        }
        assertThat(topo.ping(0, 3)).isZero();
        assertThat(topo.udpPeers).isNotEmpty().allSatisfy(p -> assertThat(p).startsWith(HOST + ":"));
        assertThat(nat.count(NatCounter.TRANSLATED_OUT)).isGreaterThanOrEqualTo(6);
        assertThat(nat.count(NatCounter.TRANSLATED_IN)).isGreaterThanOrEqualTo(6);
        assertThat(nat.count(NatCounter.FLOW_CREATED)).isGreaterThanOrEqualTo(3); // TCP, UDP, ICMP echo
        assertThat(nat.flowsInUse()).isGreaterThanOrEqualTo(3);
        System.out.println("flow maps take " + nat.mapMemoryBytes() + " bytes for " + nat.config().maxFlows() + " flows");
        assertThat(nat.mapMemoryBytes()).isGreaterThan((long) nat.config().maxFlows() * 32);

        // A forgotten dyno's flows are gone from the table.
        int before = nat.flowsInUse();
        nat.forgetDyno(topo.dynoAddresses.get(0));
        assertThat(nat.flowsInUse()).isLessThanOrEqualTo(before - 3);
    }

    @Test
    void twoDynosWithTheSameSourcePortToTheSameRemoteBothWork() throws Exception {
        attach(NatTable.Config.defaults());
        try (Socket a = topo.connect(0, 40000); Socket b = topo.connect(1, 40000)) {
            String pa = NatTopology.command(a, "peer"), pb = NatTopology.command(b, "peer");
            System.out.println("same source port 40000: responder saw " + pa + " and " + pb);
            assertThat(pa).startsWith(HOST + ":");
            assertThat(pb).startsWith(HOST + ":");
            assertThat(pa).isNotEqualTo(pb);
            assertThat(List.of(pa, pb)).contains(HOST + ":40000"); // the first keeps its port
        }
        try (DatagramSocket a = topo.udpSocket(0, 40001); DatagramSocket b = topo.udpSocket(1, 40001)) {
            String ra = udpExchange(a, UDP_PORT, "a", 2_000), rb = udpExchange(b, UDP_PORT, "b", 2_000);
            assertThat(ra).startsWith(HOST + ":").endsWith(" a");
            assertThat(rb).startsWith(HOST + ":").endsWith(" b");
            assertThat(ra.split(" ")[0]).isNotEqualTo(rb.split(" ")[0]);
        }
        assertThat(nat.count(NatCounter.PORT_COLLISION)).isGreaterThanOrEqualTo(2);
    }

    @Test
    void tenThousandPacketsAndHundredMibTransfersWithNoChecksumError() throws Exception {
        attach(NatTable.Config.defaults());
        Map<String, Map<String, Long>> before = new HashMap<>();
        for (String ns : topo.namespaces()) before.put(ns, NatTopology.csumErrors(ns));

        long created = nat.count(NatCounter.FLOW_CREATED);
        int answered = 0;
        try (DatagramSocket u = topo.udpSocket(1, 0)) {
            for (int i = 0; i < 10_000; i++) {
                String r = udpExchange(u, UDP_PORT, "p" + i, 1_000);
                if (r != null && r.endsWith(" p" + i)) answered++;
                else if (i - answered > 20) break; // broken: fail now, not after 10,000 timeouts
            }
        }
        assertThat(answered).isEqualTo(10_000);
        assertThat(nat.count(NatCounter.FLOW_CREATED) - created).as("one flow for 10,000 datagrams").isEqualTo(1);

        upload(0); // CHECKSUM_PARTIAL + TSO/GSO from dyno 0
        upload(1); // software checksums from dyno 1, verified by the internet's stack
        download(0); // software checksums from the internet, verified by dyno 0's stack

        for (String ns : topo.namespaces()) {
            assertThat(NatTopology.csumErrors(ns)).as("checksum errors in " + ns).isEqualTo(before.get(ns));
        }
        assertThat(nat.count(NatCounter.REWRITE_FAILED)).isZero();
    }

    private void upload(int dyno) throws IOException {
        long start = System.nanoTime();
        CRC32 crc = new CRC32();
        String reply;
        try (Socket s = topo.connect(dyno, 0)) {
            OutputStream out = s.getOutputStream();
            out.write("sink\n".getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[1 << 16];
            for (long sent = 0; sent < MIB_100; sent += buf.length) {
                NatTopology.payload(sent, buf, buf.length);
                crc.update(buf);
                out.write(buf);
            }
            s.shutdownOutput();
            reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
        System.out.printf("100 MiB up from dyno %d in %d ms: %s%n", dyno, (System.nanoTime() - start) / 1_000_000, reply);
        String[] f = reply.split(" ");
        assertThat(f[0]).startsWith(HOST + ":");
        assertThat(Long.parseLong(f[1])).isEqualTo(MIB_100);
        assertThat(Long.parseLong(f[2])).isEqualTo(crc.getValue());
    }

    private void download(int dyno) throws IOException {
        long start = System.nanoTime();
        long got = 0;
        boolean intact = true;
        try (Socket s = topo.connect(dyno, 0)) {
            s.getOutputStream().write(("source " + MIB_100 + "\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1 << 16], expected = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                NatTopology.payload(got, expected, n);
                if (intact && !java.util.Arrays.equals(buf, 0, n, expected, 0, n)) intact = false;
                got += n;
            }
        }
        System.out.printf("100 MiB down to dyno %d in %d ms%n", dyno, (System.nanoTime() - start) / 1_000_000);
        assertThat(got).isEqualTo(MIB_100);
        assertThat(intact).as("content intact").isTrue();
    }

    @Test
    void portUnreachableFromTheInternetReachesTheDynosConnectedSocket() throws Exception {
        attach(NatTable.Config.defaults());
        boolean refused = false;
        try (DatagramSocket u = topo.udpSocket(0, 0)) {
            u.connect(new InetSocketAddress(REMOTE, NatTopology.CLOSED_UDP_PORT));
            u.setSoTimeout(1_500);
            for (int attempt = 0; attempt < 3 && !refused; attempt++) { // ICMP errors are rate limited
                byte[] b = "anyone?".getBytes(StandardCharsets.UTF_8);
                u.send(new DatagramPacket(b, b.length));
                try {
                    u.receive(new DatagramPacket(new byte[64], 64));
                } catch (PortUnreachableException e) {
                    refused = true;
                } catch (SocketTimeoutException e) {
                    // try again
                }
            }
        }
        assertThat(refused).as("ECONNREFUSED on the dyno's connected socket").isTrue();
        assertThat(nat.count(NatCounter.ICMP_ERROR_IN)).isGreaterThanOrEqualTo(1);
        assertThat(NatTopology.csumErrors(topo.dynos.get(0)).get("IcmpInCsumErrors")).isZero();
    }

    @Test
    void capFullTableAndExpiryWithASmallTable() throws Exception {
        // 4 flows, 3 per dyno, 2 ports, 3 s UDP timeout (refusals are waited for 400 ms each).
        attach(new NatTable.Config(4, 3, 40000, 40001, Duration.ofSeconds(3), Duration.ofSeconds(3),
                Duration.ofSeconds(3), Duration.ofSeconds(3)));
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            // Per-dyno cap: dyno 0's fourth flow is refused.
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                DatagramSocket s = topo.udpSocket(0, 0);
                sockets.add(s);
                replies.add(udpExchange(s, UDP_PORT + i, "cap" + i, i < 3 ? 1_000 : 400));
            }
            assertThat(replies.subList(0, 3)).allSatisfy(r -> assertThat(r).startsWith(HOST + ":"));
            assertThat(replies.get(3)).isNull();
            assertThat(nat.count(NatCounter.DYNO_CAP)).isGreaterThanOrEqualTo(1);

            // Full table: dyno 1's first flow takes the last slot, its second is refused; no flow was evicted.
            DatagramSocket d1a = topo.udpSocket(1, 0), d1b = topo.udpSocket(1, 0);
            sockets.add(d1a);
            sockets.add(d1b);
            assertThat(udpExchange(d1a, UDP_PORT, "last", 700)).startsWith(HOST + ":");
            assertThat(udpExchange(d1b, UDP_PORT + 1, "full", 400)).isNull();
            assertThat(nat.count(NatCounter.TABLE_FULL)).isGreaterThanOrEqualTo(1);
            assertThat(nat.flowsInUse()).isEqualTo(4);
            assertThat(udpExchange(sockets.get(0), UDP_PORT, "still", 700)).as("a live flow survives a full table").endsWith(" still");
            assertThat(topo.udpPeers).hasSize(5).allSatisfy(p -> assertThat(p).startsWith(HOST + ":"));

            // Expiry: once idle past the UDP timeout, the flows are gone and their slots and ports come back.
            waitForFlows(0, Duration.ofSeconds(8));

            // Port exhaustion: two ports to one remote endpoint; the third flow finds no port...
            List<String> peers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                DatagramSocket s = topo.udpSocket(2, 0);
                sockets.add(s);
                String r = udpExchange(s, UDP_PORT, "port" + i, 700);
                assertThat(r).startsWith(HOST + ":");
                peers.add(r.split(" ")[0]);
            }
            assertThat(peers).containsExactlyInAnyOrder(HOST + ":40000", HOST + ":40001");
            DatagramSocket third = topo.udpSocket(2, 0);
            sockets.add(third);
            assertThat(udpExchange(third, UDP_PORT, "third", 400)).isNull();
            assertThat(nat.count(NatCounter.ALLOC_FAILED)).isGreaterThanOrEqualTo(1);
            // ...until the others have been idle past the timeout: then it reuses one of their ports.
            Thread.sleep(3_300);
            String r = udpExchange(third, UDP_PORT, "reused", 1_000);
            assertThat(r).isNotNull().endsWith(" reused");
            assertThat(r.split(" ")[0]).isIn(HOST + ":40000", HOST + ":40001");
            assertThat(topo.udpPeers).noneMatch(p -> p.startsWith("172."));
        } finally {
            for (DatagramSocket s : sockets) s.close();
        }
    }

    private void waitForFlows(int expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (nat.flowsInUse() != expected && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(nat.flowsInUse()).isEqualTo(expected);
    }

    @Test
    void aSpacesDynosLeaveFromOneOfItsAddressesStably() throws Exception {
        attach(NatTable.Config.defaults());
        nat.spaceOutbound(7, SPACE_ADDRESSES);
        nat.dynoSpace(topo.dynoAddresses.get(1), 7);
        nat.dynoSpace(topo.dynoAddresses.get(2), 7);
        for (int dyno : new int[] {1, 2}) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 5; i++) seen.add(topo.tcpPeer(dyno).split(":")[0]);
            try (DatagramSocket u = topo.udpSocket(dyno, 0)) {
                seen.add(udpExchange(u, UDP_PORT, "space", 2_000).split(":")[0]);
            }
            System.out.println("dyno " + dyno + " of space 7 seen as " + seen);
            assertThat(seen).hasSize(1);
            assertThat(SPACE_ADDRESSES).containsAll(seen);
        }
        assertThat(topo.tcpPeer(0)).startsWith(HOST + ":"); // common runtime

        // A space without addresses gets no egress, never the common runtime's address.
        nat.spaceOutbound(7, List.of());
        try (DatagramSocket u = topo.udpSocket(1, 0)) {
            assertThat(udpExchange(u, UDP_PORT, "nowhere", 700)).isNull();
        }
        assertThat(nat.count(NatCounter.NO_SPACE_ADDRESS)).isGreaterThanOrEqualTo(1);
        nat.dynoSpace(topo.dynoAddresses.get(1), 0);
        assertThat(topo.tcpPeer(1)).startsWith(HOST + ":");
    }

    private static Map<NatCounter, Long> nonZero(Map<NatCounter, Long> counts) {
        Map<NatCounter, Long> m = new java.util.EnumMap<>(NatCounter.class);
        counts.forEach((k, v) -> { if (v != 0) m.put(k, v); });
        return m;
    }
}
