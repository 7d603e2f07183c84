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
            Map<String, String> addrs = perNamespace("ip", "-4", "-o", "addr", "show", "dev", "eth0");
            Map<String, String> routes = perNamespace("ip", "-4", "route", "show", "default");
            for (Dyno d : dynos) {
                assertThat(addrs.get(d.netns().name())).as(d.netns().name()).contains("inet " + d.subnet().dynoCidr());
                assertThat(routes.get(d.netns().name())).as(d.netns().name()).contains("default via " + Subnet.dotted(d.subnet().hostAddress()) + " dev eth0");
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

    /** Runs a command in every namespace ({@code ip -all netns exec}) and returns each one's output by name. */
    private static Map<String, String> perNamespace(String... command) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "-all", "netns", "exec"));
        argv.addAll(List.of(command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<String, String> byNetns = new HashMap<>();
        String current = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("netns: ")) {
                current = line.substring(7).strip();
                byNetns.put(current, "");
            } else if (current != null) {
                byNetns.merge(current, line + "\n", String::concat);
            }
        }
        return byNetns;
    }
}
