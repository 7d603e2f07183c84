package io.dynoplane.provisioner;

import com.sun.net.httpserver.HttpServer;
import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.NetworkNamespaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.dynoplane.provisioner.Commands.quietly;
import static io.dynoplane.provisioner.Commands.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real packets through the edge on a veth "uplink". Everything lives in namespaces this class creates; nothing is added
 * to the root namespace:
 * <pre>
 *   internet ns                         host ns                              dyno ns
 *   203.0.113.2,.3,.4/24  ---veth---  203.0.113.1/24 (uplink, XDP)
 *   198.51.100.7/32                     172.16.X.1/30   ---veth---   172.16.X.2/30
 *   route 172.16.X.0/30 via .1          forwarding on; router HTTP on 203.0.113.1:8080
 * </pre>
 */
class EdgeTrafficTest {
    private static final String ROUTER = "203.0.113.1";
    private static final int ROUTER_PORT = 8080;
    private static final String PYTHON = "/usr/bin/python3";

    private static String hex, internet, host, dyno, uplink, dynoAddress;
    private static HttpServer router;
    private Edge edge;

    @BeforeAll
    static void topology() {
        byte[] random = new byte[3];
        ThreadLocalRandom.current().nextBytes(random);
        hex = HexFormat.of().formatHex(random);
        internet = "dpt-" + hex + "-i";
        host = "dpt-" + hex + "-h";
        dyno = "dpt-" + hex + "-d";
        uplink = "dpe" + hex + "u";
        String outside = "dpe" + hex + "i", hostToDyno = "dpe" + hex + "h", dynoSide = "dpe" + hex + "d";
        int x = ThreadLocalRandom.current().nextInt(256);
        dynoAddress = "172.16." + x + ".2";
        try {
            for (String ns : List.of(internet, host, dyno)) {
                sh("ip", "netns", "add", ns);
                sh("ip", "-n", ns, "link", "set", "lo", "up");
            }
            sh("ip", "link", "add", outside, "netns", internet, "type", "veth", "peer", "name", uplink, "netns", host);
            sh("ip", "link", "add", hostToDyno, "netns", host, "type", "veth", "peer", "name", dynoSide, "netns", dyno);
            for (String a : List.of("203.0.113.2/24", "203.0.113.3/24", "203.0.113.4/24", "198.51.100.7/32")) {
                sh("ip", "-n", internet, "addr", "add", a, "dev", outside);
            }
            sh("ip", "-n", internet, "link", "set", outside, "up");
            sh("ip", "-n", internet, "route", "add", "172.16." + x + ".0/30", "via", ROUTER);
            sh("ip", "-n", host, "addr", "add", ROUTER + "/24", "dev", uplink);
            sh("ip", "-n", host, "link", "set", uplink, "up");
            sh("ip", "-n", host, "addr", "add", "172.16." + x + ".1/30", "dev", hostToDyno);
            sh("ip", "-n", host, "link", "set", hostToDyno, "up");
            sh("ip", "-n", host, "route", "add", "198.51.100.0/24", "via", "203.0.113.2"); // replies can reach the blocklisted source
            sh("ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1"); // the host ns only
            sh("ip", "-n", dyno, "addr", "add", dynoAddress + "/30", "dev", dynoSide);
            sh("ip", "-n", dyno, "link", "set", dynoSide, "up");
            sh("ip", "-n", dyno, "route", "add", "default", "via", "172.16." + x + ".1");
            router = NetworkNamespaces.inside(host, () -> {
                HttpServer server = HttpServer.create(new InetSocketAddress(ROUTER, ROUTER_PORT), 1024);
                server.createContext("/", exchange -> {
                    byte[] body = "router\n".getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, body.length);
                    try (var out = exchange.getResponseBody()) { out.write(body); }
                });
                server.start(); // its dispatcher thread lives in the host ns, which is where it serves
                return server;
            });
        } catch (RuntimeException | Error e) {
            tearDownTopology();
            throw e;
        }
    }

    @AfterAll
    static void tearDownTopology() {
        try {
            if (router != null) router.stop(0);
        } finally {
            for (String ns : new String[] {internet, host, dyno}) {
                if (ns != null) quietly("ip", "netns", "del", ns); // takes its veth ends, and so the pairs, with it
            }
        }
    }

    @AfterEach
    void detach() {
        if (edge != null) {
            Edge e = edge;
            edge = null;
            NetworkNamespaces.inside(host, () -> { e.close(); return null; });
        }
    }

    private void attachEdge() {
        edge = NetworkNamespaces.inside(host, () -> Edge.attach(Libbpf.ifindex(uplink)));
        assertThat(sh("ip", "-n", host, "link", "show", uplink)).contains(edge.mode() == Edge.Mode.NATIVE ? "xdp " : "xdpgeneric");
        System.out.println("edge attached in " + edge.mode() + " mode");
        edge.publicListener(new InetSocketAddress(ROUTER, ROUTER_PORT));
    }

    @Test
    void aPacketFromTheInternetAddressedToADynoNeverReachesIt() throws Exception {
        try (DatagramSocket dynoSocket = NetworkNamespaces.inside(dyno, () -> new DatagramSocket(new InetSocketAddress(dynoAddress, 0)));
             ServerSocket dynoListener = NetworkNamespaces.inside(dyno, () -> new ServerSocket(0, 50, InetAddress.getByName(dynoAddress)))) {
            dynoSocket.setSoTimeout(2_000);
            // Without the edge the topology does deliver it (so the test can fail).
            sendUdp("203.0.113.2", dynoAddress, dynoSocket.getLocalPort(), "before");
            DatagramPacket got = new DatagramPacket(new byte[64], 64);
            dynoSocket.receive(got);
            assertThat(new String(got.getData(), 0, got.getLength(), StandardCharsets.UTF_8)).isEqualTo("before");
            assertThat(connects("203.0.113.2", dynoAddress, dynoListener.getLocalPort(), 2_000)).isTrue();

            attachEdge();
            long before = edge.count(EdgeReason.TO_DYNO_RANGE);
            for (int i = 0; i < 5; i++) sendUdp("203.0.113.2", dynoAddress, dynoSocket.getLocalPort(), "after " + i);
            assertThat(connects("203.0.113.2", dynoAddress, dynoListener.getLocalPort(), 500)).isFalse();
            dynoSocket.setSoTimeout(500);
            assertThatThrownBy(() -> dynoSocket.receive(new DatagramPacket(new byte[64], 64))).isInstanceOf(SocketTimeoutException.class);
            assertThat(edge.count(EdgeReason.TO_DYNO_RANGE) - before).isGreaterThanOrEqualTo(6); // 5 datagrams + at least 1 SYN
        }
    }

    @Test
    void aBlocklistedSourceGetsNothingWhileOthersConnect() {
        attachEdge();
        edge.block("198.51.100.0/24");
        assertThat(connects("198.51.100.7", ROUTER, ROUTER_PORT, 700)).isFalse();
        assertThat(edge.count(EdgeReason.BLOCKLISTED)).isGreaterThanOrEqualTo(1);
        assertThat(httpGet("203.0.113.2")).startsWith("HTTP/1.1 200");

        // The same source is served once unblocked: it was the edge that stopped it.
        assertThat(edge.unblock("198.51.100.0/24")).isTrue();
        assertThat(httpGet("198.51.100.7")).startsWith("HTTP/1.1 200");
    }

    @Test
    void aSpaceListenerServesOnlyTheSpacesTrustedSources() {
        attachEdge();
        InetSocketAddress listener = new InetSocketAddress(ROUTER, ROUTER_PORT);
        edge.removePublicListener(listener);
        edge.spaceListener(listener, 42);
        edge.trust(42, "203.0.113.4/32");
        edge.trust(43, "203.0.113.2/32"); // another space's trust opens nothing here
        assertThat(connects("203.0.113.2", ROUTER, ROUTER_PORT, 700)).isFalse();
        assertThat(edge.count(EdgeReason.UNTRUSTED)).isGreaterThanOrEqualTo(1);
        assertThat(httpGet("203.0.113.4")).startsWith("HTTP/1.1 200");
    }

    @Test
    void aSynFloodFromOneSourceDoesNotStopAnothersRequests() throws Exception {
        attachEdge();
        edge.synRate(50, 50);
        Path script = Files.createTempFile("dpt-synflood", ".py");
        Process flood = null;
        try {
            Files.writeString(script, SYN_FLOOD);
            flood = new ProcessBuilder("ip", "netns", "exec", internet, PYTHON, script.toString(),
                    "203.0.113.3", ROUTER, String.valueOf(ROUTER_PORT), "200000", "2.0").redirectErrorStream(true).start();
            flood.getOutputStream().close();
            BufferedReader out = new BufferedReader(new InputStreamReader(flood.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("flooding"); // the first SYNs are out
            long floodedBefore = edge.count(EdgeReason.SYN_RATE);

            List<String> statuses = new ArrayList<>();
            for (int i = 0; i < 20; i++) statuses.add(httpGet("203.0.113.4"));
            boolean floodStillRunning = flood.isAlive();
            long synRateDuringRequests = edge.count(EdgeReason.SYN_RATE) - floodedBefore;

            assertThat(flood.waitFor(10, TimeUnit.SECONDS)).isTrue();
            String summary = out.readLine();
            System.out.println("syn flood: " + summary + "; still running when B's 20 requests were done: " + floodStillRunning
                    + "; syn_rate drops meanwhile " + synRateDuringRequests + "; counts " + edge.counts());
            assertThat(synRateDuringRequests).as("A's SYNs were being dropped while B was served").isPositive();
            assertThat(statuses).hasSize(20).allSatisfy(s -> assertThat(s).startsWith("HTTP/1.1 200"));
            int sent = Integer.parseInt(summary.split(" ")[1]);
            assertThat(sent).isGreaterThan(1000);
            // At 50/s, burst 50, over at most ~2 s, A gets at most ~150 SYNs through; the rest were dropped as syn_rate.
            assertThat(edge.count(EdgeReason.SYN_RATE)).isGreaterThanOrEqualTo(sent - 200L);
        } finally {
            if (flood != null && flood.isAlive()) {
                flood.destroyForcibly();
                flood.waitFor(5, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(script);
        }
    }

    /** Raw SYNs (IP_HDRINCL) from one source with random ports; stops at a packet count or a time, whichever first. */
    private static final String SYN_FLOOD = """
            import random, socket, struct, sys, time
            src, dst, dport, limit, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
            def csum(b):
                if len(b) % 2: b += b'\\0'
                s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
                while s >> 16: s = (s & 0xffff) + (s >> 16)
                return ~s & 0xffff
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            sa, da = socket.inet_aton(src), socket.inet_aton(dst)
            def syn():
                tcp = struct.pack('!HHIIBBHHH', random.randint(1024, 65535), dport, random.getrandbits(32), 0, 0x50, 0x02, 64240, 0, 0)
                tcp = tcp[:16] + struct.pack('!H', csum(sa + da + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
                ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 0, 0x4000, 64, 6, 0, sa, da)
                return ip + tcp
            sent, start = 0, time.monotonic()
            for _ in range(100):
                s.sendto(syn(), (dst, 0)); sent += 1
            print('flooding', flush=True)
            while sent < limit and time.monotonic() - start < seconds:
                for _ in range(200):
                    try:
                        s.sendto(syn(), (dst, 0)); sent += 1
                    except OSError:
                        pass
                time.sleep(0.001)
            print('sent %d in %.2fs' % (sent, time.monotonic() - start), flush=True)
            """;

    // ---- Clients in the internet namespace, bound to one of its source addresses ---------------------------------

    private void sendUdp(String source, String destination, int port, String text) {
        NetworkNamespaces.inside(internet, () -> {
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(source, 0))) {
                byte[] b = text.getBytes(StandardCharsets.UTF_8);
                socket.send(new DatagramPacket(b, b.length, new InetSocketAddress(destination, port)));
            }
            return null;
        });
    }

    private static boolean connects(String source, String destination, int port, int timeoutMillis) {
        return NetworkNamespaces.inside(internet, () -> {
            try (Socket socket = new Socket()) {
                socket.bind(new InetSocketAddress(source, 0));
                socket.connect(new InetSocketAddress(destination, port), timeoutMillis);
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            }
        });
    }

    /** One HTTP/1.0 GET to the router from {@code source}; the status line. */
    private static String httpGet(String source) {
        return NetworkNamespaces.inside(internet, () -> {
            try (Socket socket = new Socket()) {
                socket.bind(new InetSocketAddress(source, 0));
                socket.connect(new InetSocketAddress(ROUTER, ROUTER_PORT), 3_000);
                socket.setSoTimeout(3_000);
                socket.getOutputStream().write("GET / HTTP/1.0\r\nHost: router\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            }
        });
    }
}
