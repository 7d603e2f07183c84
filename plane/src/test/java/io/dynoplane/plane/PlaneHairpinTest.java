package io.dynoplane.plane;

import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.provisioner.Verdict;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import static io.dynoplane.plane.TestUplink.run;
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
        List<String> logs = new CopyOnWriteArrayList<>();
        try (TestUplink up = TestUplink.create("dph")) {
            String uplink = up.name, uplinkAddress = up.address(), net = up.cidr();
            Plane.Config config = new Plane.Config(new InetSocketAddress("0.0.0.0", 0), new InetSocketAddress("127.0.0.1", 0), "localhost",
                    new ProvisionerConfig("172.31." + ThreadLocalRandom.current().nextInt(256) + ".0/24", up.state),
                    io.dynoplane.plane.manager.ManagerConfig.defaults(), line -> logs.add(line.toString()), (app, line) -> logs.add(line.toString()), java.util.List.of());
            Plane plane = Plane.start(config);
            String cgroup;
            try {
                plane.guardUplink(uplink, List.of(net));
                assertThat(logs).anyMatch(l -> l.contains("Hairpin: dynos reach the router on 0.0.0.0:" + plane.router().port()));
                cgroup = logs.stream().filter(l -> l.contains("Hairpin:")).findFirst().orElseThrow().replaceAll(".*on cgroup (\\S+)\\)$", "$1");
                assertThat(run("bpftool", "cgroup", "show", cgroup)).contains("hairpin_peer ").contains("hairpin_peer6");
                String appA = uplink + "a", appB = uplink + "b";
                Dyno a = plane.deploy(appA, up.release, 1).getFirst();
                Dyno b = plane.deploy(appB, up.release, 1).getFirst();
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
}
