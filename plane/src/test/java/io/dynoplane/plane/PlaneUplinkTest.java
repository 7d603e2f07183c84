package io.dynoplane.plane;

import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.EdgeReason;
import io.dynoplane.provisioner.NatCounter;
import io.dynoplane.provisioner.ProvisionerConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static io.dynoplane.plane.TestUplink.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plane's uplink carries the XDP edge and the BPF NAT. The "uplink" is a veth of this test's own
 * (198.18.N.1/24) whose far end lives in a namespace standing for the internet (198.18.N.2/24, with no
 * route back to the dyno pool): a dyno's connection there arrives from the uplink's address and its
 * replies come back; a frame from there addressed to the dyno range is dropped by the edge and counted
 * (also on /metrics); closing the plane detaches both.
 */
class PlaneUplinkTest {
    @Test
    void theUplinkNatsDynoEgressDropsTrafficToTheDynoRangeAndGoesWithThePlane() throws Exception {
        Process responder = null;
        try (TestUplink up = TestUplink.create("dpt")) {
            String uplink = up.name, internet = up.internet;
            // Answers each connection with the address it came from.
            responder = new ProcessBuilder("ip", "netns", "exec", internet, "python3", "-c", """
                    import socket
                    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(('0.0.0.0', 7000)); s.listen(8); print('listening', flush=True)
                    while True:
                        c, peer = s.accept(); c.sendall((peer[0] + '\\n').encode()); c.close()
                    """).redirectErrorStream(true).start();
            assertThat(new String(responder.getInputStream().readNBytes(9), StandardCharsets.UTF_8)).isEqualTo("listening");

            Plane plane = Plane.start(Plane.Config.defaults(0, line -> {})
                    .withProvisioner(new ProvisionerConfig("172.31." + ThreadLocalRandom.current().nextInt(256) + ".0/24", up.state)));
            try {
                var edge = plane.guardUplink(uplink, List.of(up.cidr()));
                assertThat(run("ip", "-d", "link", "show", "dev", uplink)).contains("xdp");
                Dyno web = plane.deploy(uplink, up.release, 1).getFirst();

                // Egress: the internet sees the uplink's address, never the dyno's; the reply comes back.
                String seen = run("ip", "netns", "exec", web.netns().name(), "python3", "-c",
                        "import socket; c = socket.create_connection(('" + up.internetAddress() + "', 7000), timeout=5); print(c.recv(64).decode().strip())");
                assertThat(seen.strip()).isEqualTo(up.address());
                assertThat(plane.nat().orElseThrow().count(NatCounter.FLOW_CREATED)).isEqualTo(1);

                // An Ethernet + IPv4 + UDP frame from "the internet" to a dyno address, onto the wire's far end.
                String mac = Files.readString(Path.of("/sys/class/net", uplink, "address")).strip();
                run("ip", "netns", "exec", internet, "python3", "-c", """
                        import socket, struct, sys
                        ifname, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
                        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 0, 0, 64, 17, 0,
                                         socket.inet_aton('203.0.113.9'), socket.inet_aton('172.16.0.2'))
                        frame = mac + bytes.fromhex('020000000009') + b'\\x08\\x00' + ip + struct.pack('!HHHH', 40000, 5000, 8, 0)
                        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                        s.bind((ifname, 0))
                        for _ in range(3): s.send(frame)
                        """, "eth0", mac);
                assertThat(edge.count(EdgeReason.TO_DYNO_RANGE)).isEqualTo(3);
                String metrics = new String(URI.create("http://127.0.0.1:" + plane.adminPort() + "/metrics").toURL().openStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(metrics).contains("dynoplane_edge_packets_total{verdict=\"to_dyno_range\"} 3.0")
                        .contains("dynoplane_nat_events_total{event=\"flow_created\"} 1.0");
            } finally {
                plane.close();
            }
            String link = run("ip", "-d", "link", "show", "dev", uplink);
            assertThat(link).doesNotContain("xdp");
            assertThat(run("bpftool", "net", "show", "dev", uplink)).doesNotContain("nat_");
        } finally {
            if (responder != null) {
                responder.destroyForcibly();
                responder.waitFor();
            }
        }
    }
}
