package io.dynoplane.plane;

import io.dynoplane.ffm.RtNetlink;
import io.dynoplane.provisioner.EdgeReason;
import io.dynoplane.provisioner.ProvisionerConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plane puts the XDP edge on its uplink: a frame from outside addressed to the dyno range is
 * dropped there and counted (also on /metrics), and closing the plane detaches it. The "uplink" is
 * a veth pair of this test's own with no addresses; the frame is written onto its far end.
 */
class PlaneUplinkTest {
    @Test
    void edgeOnTheUplinkDropsTrafficToTheDynoRangeAndGoesWithThePlane() throws Exception {
        String uplink = "dpt" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        Path state = Files.createTempDirectory(uplink);
        try (RtNetlink rtnl = RtNetlink.open()) {
            rtnl.createVethPair(uplink, uplink + "o");
            rtnl.setLinkUp(rtnl.linkIndex(uplink));
            rtnl.setLinkUp(rtnl.linkIndex(uplink + "o"));
            Plane plane = Plane.start(Plane.Config.defaults(0, line -> {})
                    .withProvisioner(new ProvisionerConfig("172.31." + ThreadLocalRandom.current().nextInt(256) + ".0/24", state)));
            try {
                var edge = plane.guardUplink(uplink);
                assertThat(run("ip", "-d", "link", "show", "dev", uplink)).contains("xdp");

                // An Ethernet + IPv4 + UDP frame from "the internet" to a dyno address, onto the wire's far end.
                String mac = Files.readString(Path.of("/sys/class/net", uplink, "address")).strip();
                run("python3", "-c", """
                        import socket, struct, sys
                        ifname, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
                        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 0, 0, 64, 17, 0,
                                         socket.inet_aton('203.0.113.9'), socket.inet_aton('172.16.0.2'))
                        frame = mac + bytes.fromhex('020000000009') + b'\\x08\\x00' + ip + struct.pack('!HHHH', 40000, 5000, 8, 0)
                        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                        s.bind((ifname, 0))
                        for _ in range(3): s.send(frame)
                        """, uplink + "o", mac);
                assertThat(edge.count(EdgeReason.TO_DYNO_RANGE)).isEqualTo(3);
                String metrics = new String(URI.create("http://127.0.0.1:" + plane.adminPort() + "/metrics").toURL().openStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(metrics).contains("dynoplane_edge_packets_total{verdict=\"to_dyno_range\"} 3.0");
            } finally {
                plane.close();
            }
            assertThat(run("ip", "-d", "link", "show", "dev", uplink)).doesNotContain("xdp");
        } finally {
            try (RtNetlink rtnl = RtNetlink.open()) {
                rtnl.deleteLink(uplink);
            }
            Files.deleteIfExists(state.resolve("leases"));
            Files.deleteIfExists(state);
        }
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }
}
