package io.dynoplane.plane;

import io.dynoplane.ffm.RtNetlink;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.provisioner.Verdict;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hairpin (issue 5): a dyno calls another app through the router's public address, as apps on Heroku call each
 * other by URL. The router listens on every address; the uplink is a veth of this test's own (198.18.N.1/24, far
 * end in a namespace standing for the internet) and NATs to its address. From app B's dyno, a request to
 * http://198.18.N.1:port/ with A's Host reaches A's dyno, and the router logs the client as the NAT address, never
 * the dyno's 172.x one. Any other port on the host stays closed to the dyno (DROP_TO_HOST moves).
 */
class PlaneHairpinTest {
    @Test
    void aDynoReachesAnotherAppThroughTheRoutersPublicAddressSeenAsItsNatAddress() throws Exception {
        String uplink = "dph" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        String internet = uplink + "-inet";
        String net = "198.18." + ThreadLocalRandom.current().nextInt(256);
        String uplinkAddress = net + ".1";
        Path state = Files.createTempDirectory(uplink);
        Path release = Files.createTempDirectory(uplink + "-app");
        for (String file : List.of("Procfile", "server.py")) Files.copy(Path.of("../examples/hello", file), release.resolve(file));
        List<String> logs = new CopyOnWriteArrayList<>();
        try {
            run("ip", "netns", "add", internet);
            run("ip", "link", "add", uplink, "type", "veth", "peer", "name", "eth0", "netns", internet);
            run("ip", "addr", "add", uplinkAddress + "/24", "dev", uplink);
            run("ip", "link", "set", uplink, "up");
            run("ip", "-n", internet, "addr", "add", net + ".2/24", "dev", "eth0");
            run("ip", "-n", internet, "link", "set", "eth0", "up");

            Plane.Config config = new Plane.Config(new InetSocketAddress("0.0.0.0", 0), new InetSocketAddress("127.0.0.1", 0), "localhost",
                    new ProvisionerConfig("172.31." + ThreadLocalRandom.current().nextInt(256) + ".0/24", state),
                    5000, Duration.ofSeconds(60), Duration.ofSeconds(30), line -> logs.add(line.toString()));
            Plane plane = Plane.start(config);
            String cgroup;
            try {
                plane.guardUplink(uplink, List.of(net + ".0/24"));
                assertThat(logs).anyMatch(l -> l.contains("Hairpin: dynos reach the router on 0.0.0.0:" + plane.router().port()));
                cgroup = logs.stream().filter(l -> l.contains("Hairpin:")).findFirst().orElseThrow().replaceAll(".*on cgroup (\\S+)\\)$", "$1");
                assertThat(run("bpftool", "cgroup", "show", cgroup)).contains("hairpin_peer ").contains("hairpin_peer6");
                String appA = uplink + "a", appB = uplink + "b";
                Dyno a = plane.deploy(appA, release, 1).getFirst();
                Dyno b = plane.deploy(appB, release, 1).getFirst();
                int port = plane.router().port();

                String response = run("ip", "netns", "exec", b.netns().name(), "python3", "-c", """
                        import http.client, sys
                        c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
                        c.request('GET', '/', headers={'Host': sys.argv[3]})
                        r = c.getresponse()
                        print(r.status, r.read().decode().strip())
                        """, uplinkAddress, Integer.toString(port), plane.hostOf(appA));
                assertThat(response.strip()).isEqualTo("200 Hello from web.1");
                assertThat(plane.isolation().count(b.id(), Verdict.PASS_HAIRPIN)).isPositive();

                String line = awaitLog(logs, "host=" + plane.hostOf(appA));
                System.out.println("hairpin from " + b.address() + ": " + line);
                assertThat(line).contains("fwd=\"" + uplinkAddress + "\"").contains("status=200").doesNotContain("fwd=\"172.");
                assertThat(a.id()).isNotEqualTo(b.id());

                // Any other port of the host: the SYN is dropped (connect times out), counted as DROP_TO_HOST.
                long dropped = plane.isolation().count(b.id(), Verdict.DROP_TO_HOST);
                String other = run("ip", "netns", "exec", b.netns().name(), "python3", "-c", """
                        import socket, sys
                        try:
                            socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print('connected')
                        except OSError as e:
                            print('refused', type(e).__name__)
                        """, uplinkAddress, Integer.toString(plane.adminPort()));
                assertThat(other).startsWith("refused");
                assertThat(plane.isolation().count(b.id(), Verdict.DROP_TO_HOST)).isGreaterThan(dropped);
            } finally {
                plane.close();
            }
            assertThat(run("bpftool", "cgroup", "show", cgroup)).doesNotContain("hairpin_peer");
        } finally {
            try (RtNetlink rtnl = RtNetlink.open()) {
                if (rtnl.findLink(uplink).isPresent()) rtnl.deleteLink(uplink);
            }
            new ProcessBuilder("ip", "netns", "delete", internet).start().waitFor();
            for (Path dir : List.of(state, release)) {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static String awaitLog(List<String> logs, String needle) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            for (String l : logs) if (l.contains("router") && l.contains(needle)) return l;
            Thread.sleep(20);
        }
        throw new AssertionError("no router log line with " + needle + " in " + logs);
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }
}
