package io.dynoplane.plane;

import io.dynoplane.ffm.NetworkNamespaces;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DynoMetrics scraped in the text format, for a "web" dyno that is a namespace the test made with a python3 listener
 * (backlog 128, never accepts) and K connections waiting in its accept queue, and a "worker" dyno without a port.
 */
class DynoMetricsTest {
    private static final int PORT = 5000;
    private static final String LISTENER = """
            import socket, sys
            s = socket.socket()
            s.bind(('0.0.0.0', int(sys.argv[1])))
            s.listen(int(sys.argv[2]))
            print('listening', flush=True)
            sys.stdin.read()
            """;
    private static final String CLIENTS = """
            import socket, sys
            held = [socket.create_connection(('127.0.0.1', int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
            print('connected', flush=True)
            sys.stdin.read()
            """;

    private final String ns = "dp-dmtest-web-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    private final Path pin = NetworkNamespaces.RUN_DIR.resolve(ns);
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void cleanUp() throws InterruptedException {
        killAll();
        NetworkNamespaces.delete(ns);
    }

    @Test
    void memoryForEveryDynoAndTheAcceptQueueOfWebDynos() throws Exception {
        makeNamespace();
        listen(128);
        AtomicReference<List<DynoMetrics.Probe>> probes = new AtomicReference<>(List.of(
                new DynoMetrics.Probe("shop", "web.1", "web", pin, PORT, () -> 123_456_789L),
                new DynoMetrics.Probe("shop", "worker.1", "worker", pin, null, () -> 42L),
                new DynoMetrics.Probe("shop", "web.2", "web", pin.resolveSibling(ns + "-never"), PORT, () -> { throw new IllegalStateException("stopped"); })));
        PrometheusRegistry registry = new PrometheusRegistry();
        try (DynoMetrics metrics = new DynoMetrics(probes::get)) {
            registry.register(metrics);

            String idle = scrape(registry);
            assertThat(idle).contains("dynoplane_dyno_memory_bytes{app=\"shop\",dyno=\"web.1\",type=\"web\"} 1.23456789E8\n")
                    .contains("dynoplane_dyno_memory_bytes{app=\"shop\",dyno=\"worker.1\",type=\"worker\"} 42.0\n")
                    .contains("dynoplane_dyno_listen_queue{app=\"shop\",dyno=\"web.1\"} 0.0\n")
                    .contains("dynoplane_dyno_listen_backlog{app=\"shop\",dyno=\"web.1\"} 128.0\n")
                    // no port, no queue; an unreadable dyno is left out, the scrape goes on
                    .doesNotContain("dyno=\"worker.1\"}").doesNotContain("web.2");
            assertThat(sockDiagSocketsIn(ns)).isEqualTo(1);

            int k = 4;
            start("connected", "python3", "-c", CLIENTS, Integer.toString(PORT), Integer.toString(k));
            String expected = "dynoplane_dyno_listen_queue{app=\"shop\",dyno=\"web.1\"} " + k + ".0\n";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            String busy = scrape(registry);
            while (!busy.contains(expected) && System.nanoTime() < deadline) busy = scrape(registry);
            assertThat(busy).contains(expected).contains("dynoplane_dyno_listen_backlog{app=\"shop\",dyno=\"web.1\"} 128.0\n");
            assertThat(sockDiagSocketsIn(ns)).as("one reader per namespace, reused by every scrape").isEqualTo(1);

            // the dyno restarts under the same name: a new namespace at the same pin, a listener with another backlog
            killAll();
            NetworkNamespaces.delete(ns);
            makeNamespace();
            listen(64);
            assertThat(scrape(registry)).contains("dynoplane_dyno_listen_queue{app=\"shop\",dyno=\"web.1\"} 0.0\n")
                    .contains("dynoplane_dyno_listen_backlog{app=\"shop\",dyno=\"web.1\"} 64.0\n");

            // the dynos go: their reader is closed, and no longer holds the namespace
            probes.set(List.of());
            assertThat(scrape(registry)).doesNotContain("shop");
            assertThat(metrics.openReaders()).isEmpty();
            assertThat(sockDiagSocketsIn(ns)).isZero();
        }
    }

    private void makeNamespace() {
        NetworkNamespaces.create(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
    }

    private void listen(int backlog) throws IOException {
        start("listening", "python3", "-c", LISTENER, Integer.toString(PORT), Integer.toString(backlog));
    }

    private static String scrape(PrometheusRegistry registry) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    /** User NETLINK_SOCK_DIAG sockets (protocol 4; port id 0 is the kernel's own) in the namespace, as its /proc/net/netlink lists them. */
    private static long sockDiagSocketsIn(String ns) {
        return run("ip", "netns", "exec", ns, "cat", "/proc/net/netlink").lines().skip(1)
                .map(line -> line.trim().split("\\s+"))
                .filter(f -> f.length > 2 && f[1].equals("4") && !f[2].equals("0"))
                .count();
    }

    private void start(String ready, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as(String.join(" ", command)).isEqualTo(ready);
    }

    private void killAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        processes.clear();
    }

    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", command) + ": " + out);
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
