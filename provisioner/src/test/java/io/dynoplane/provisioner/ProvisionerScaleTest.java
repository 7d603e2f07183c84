package io.dynoplane.provisioner;

import io.dynoplane.ffm.RtNetlink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** 300 dynos on one host, past ifindex 255: each addressed, routed and reachable; then nothing left. */
class ProvisionerScaleTest {
    private static final int DYNOS = 300;
    private static final int PORT = 9; // $PORT, on which nothing listens

    @Test
    @Timeout(300)
    void provisions300DynosAndTearsAllDown() throws Exception {
        try (ProvisionerFixture fixture = new ProvisionerFixture(21);
             IsolationPlane isolation = IsolationPlane.load();
             Provisioner provisioner = new Provisioner(fixture.config(), isolation);
             ExecutorService workers = Executors.newFixedThreadPool(4)) {
            List<Future<Dyno>> pending = new ArrayList<>();
            for (int i = 1; i <= DYNOS; i++) {
                DynoSpec spec = fixture.web(i, PORT);
                pending.add(workers.submit(() -> provisioner.provision(spec, line -> {})));
            }
            List<Dyno> dynos = new ArrayList<>();
            for (Future<Dyno> f : pending) dynos.add(f.get());

            assertThat(dynos.stream().map(Dyno::subnet).distinct()).hasSize(DYNOS);
            assertThat(fixture.journaledLeases()).hasSize(DYNOS);
            try (RtNetlink rtnl = RtNetlink.open()) {
                assertThat(dynos.stream().mapToInt(d -> rtnl.linkIndex(d.hostVeth())).max().orElseThrow()).isGreaterThan(255);
            }

            // Address and default route inside each namespace, as the kernel reports them.
            // Read through /proc/PID/net of a process in each namespace: this run's dynos only, no fork per dyno.
            for (Dyno d : dynos) {
                long pid = d.process().pid();
                assertThat(localAddresses(pid)).as(d.netns().name()).contains(d.address());
                assertThat(routes(pid)).as(d.netns().name())
                        .contains("eth0 " + Subnet.dotted(d.subnet().network()) + "/" + "255.255.255.252 via 0.0.0.0")
                        .contains("eth0 0.0.0.0/0.0.0.0 via " + Subnet.dotted(d.subnet().hostAddress()));
            }
            // Reachable from the host side: a connect to $PORT, closed, comes back refused (the guard let
            // the SYN in, the dyno's kernel answered with RST and the guard let that out) instead of timing out.
            for (Dyno d : dynos) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(d.subnet().dynoInet(), PORT), 2000);
                    fail("nothing listens on port " + PORT + " in " + d.netns().name());
                } catch (ConnectException refused) {
                    assertThat(refused).hasMessageContaining("refused");
                } catch (SocketTimeoutException e) {
                    fail(d.netns().name() + " at " + d.address() + " is not reachable from the host");
                }
            }

            List<Long> pids = dynos.stream().flatMap(d -> d.netns().processes().stream()).map(ProcessHandle::pid).toList();
            assertThat(pids).hasSizeGreaterThanOrEqualTo(DYNOS);
            List<Future<?>> teardowns = new ArrayList<>();
            for (Dyno d : dynos) teardowns.add(workers.submit(() -> provisioner.teardown(d, Duration.ofSeconds(5))));
            for (Future<?> f : teardowns) f.get();

            assertThat(fixture.namespaces()).isEmpty();
            assertThat(fixture.veths()).isEmpty();
            assertThat(fixture.mounts()).isEmpty();
            assertThat(provisioner.leases()).isEmpty();
            assertThat(fixture.journaledLeases()).isEmpty();
            assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty());
            SandboxLeftovers.assertNoneFor(fixture.app);
        }
    }

    /** The namespace's IPv4 routes as "iface dst/mask via gateway", from /proc/PID/net/route (little-endian hex). */
    private static List<String> routes(long pid) throws IOException {
        List<String> routes = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "route"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8 || f[0].equals("Iface")) continue;
            routes.add(f[0] + " " + hex(f[1]) + "/" + hex(f[7]) + " via " + hex(f[2]));
        }
        return routes;
    }

    /** The namespace's local IPv4 addresses, from /proc/PID/net/fib_trie ("|-- A" followed by "/32 host LOCAL"). */
    private static List<String> localAddresses(long pid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", "fib_trie"));
        List<String> local = new ArrayList<>();
        for (int i = 0; i + 1 < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.startsWith("|-- ") && lines.get(i + 1).contains("/32 host LOCAL")) local.add(line.substring(4));
        }
        return local;
    }

    private static String hex(String littleEndian) {
        return Subnet.dotted(Integer.reverseBytes((int) Long.parseLong(littleEndian, 16)));
    }
}
