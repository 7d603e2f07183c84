package io.dynoplane.router;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starting, stopping, the epoll fallback and the timeout/retry paths, each on its own router. */
@ExtendWith(NoLeaks.class)
class RouterLifecycleTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static RouterConfig config() {
        return new RouterConfig(new InetSocketAddress(LOOPBACK, 0), "test-router", 1);
    }

    @Test
    void portInUseFailsNamingTheAddress() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress address = new InetSocketAddress(LOOPBACK, taken.getLocalPort());
            assertThatThrownBy(() -> Router.start(new RouterConfig(address, "r", 1)))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                    .hasCauseInstanceOf(BindException.class);
        }
    }

    @Test
    void metricsNamesAreHeldUntilClose() {
        PrometheusRegistry registry = new PrometheusRegistry();
        try (Router first = Router.start(config(), registry)) {
            assertThat(first.port()).isPositive();
            assertThatThrownBy(() -> Router.start(config(), registry))
                    .as("a second router can't claim the same names").isInstanceOf(RuntimeException.class);
        }
        try (Router second = Router.start(config(), registry)) {
            assertThat(registry.scrape().stream().map(m -> m.getMetadata().getName()))
                    .contains("dynoplane_router_requests", "dynoplane_router_latency_seconds");
        }
    }

    @Test
    void epollFallbackServesRequests() throws IOException {
        try (TestBackend dyno = TestBackend.start("e");
             Router router = Router.start(config(), null, Transport.EPOLL, RouterLimits.DEFAULTS)) {
            assertThat(router.transportName()).isEqualTo("epoll");
            try (RawHttp client = new RawHttp(routeAppTo(router, dyno))) {
                assertThat(client.send("GET /e HTTP/1.1\r\nHost: app.localhost\r\n\r\n").body()).contains("backend=e");
            }
        }
    }

    @Test
    void ioCpusPinEveryEventLoopAndNothingElse() throws Exception {
        int lastCpu = Runtime.getRuntime().availableProcessors() - 1;
        Set<String> before = routerThreads().keySet();
        try (TestBackend dyno = TestBackend.start("p");
             Router router = Router.start(new RouterConfig(new InetSocketAddress(LOOPBACK, 0), "test-router", 2, null, List.of(lastCpu)))) {
            try (RawHttp client = new RawHttp(routeAppTo(router, dyno))) {
                assertThat(client.send("GET /p HTTP/1.1\r\nHost: app.localhost\r\n\r\n").body()).contains("backend=p");
            }
            Map<String, String> started = new HashMap<>(routerThreads());
            started.keySet().removeAll(before);
            assertThat(started).as("the router's two event loops, as the kernel sees them").hasSize(2);
            assertThat(started.values()).containsOnly(Integer.toString(lastCpu));
            assertThat(cpusAllowed(Path.of("/proc/thread-self/status"))).as("the test's own thread").isNotEqualTo(Integer.toString(lastCpu));
        }
    }

    @Test
    void ioCpusTheMachineLacksFailNamingTheCpuAndLeaveNoLoop() throws Exception {
        Set<String> before = routerThreads().keySet();
        assertThatThrownBy(() -> Router.start(new RouterConfig(new InetSocketAddress(LOOPBACK, 0), "test-router", 1, null, List.of(4000))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CPU 4000")
                .hasMessageContaining("EINVAL");
        // The group's termination future completes just before its thread exits; /proc is the only witness of the exit.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Set<String> after;
        while (true) {
            after = new HashSet<>(routerThreads().keySet());
            after.removeAll(before);
            if (after.isEmpty() || System.nanoTime() > deadline) break;
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertThat(after).as("event loop threads left running").isEmpty();
        assertThatThrownBy(() -> new RouterConfig(new InetSocketAddress(LOOPBACK, 0), "r", 1, null, List.of(-1)))
                .hasMessageContaining("ioCpus");
    }

    /** This JVM's router event loop threads (tid → Cpus_allowed_list), from /proc. */
    private static Map<String, String> routerThreads() throws IOException {
        Map<String, String> threads = new HashMap<>();
        for (Map.Entry<String, Path> loop : EventLoopThreads.list().entrySet()) {
            try {
                threads.put(loop.getKey(), cpusAllowed(loop.getValue().resolve("status")));
            } catch (java.nio.file.NoSuchFileException exited) {
                // a thread that ended while we listed
            }
        }
        return threads;
    }

    private static String cpusAllowed(Path status) throws IOException {
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElseThrow();
    }

    /** Routes app.localhost to {@code dyno}; returns the router's port. */
    private static int routeAppTo(Router router, TestBackend dyno) {
        router.publish(RouteTable.empty().with("app.localhost", new AppRoute("app", List.of(dyno.backend("web.1")))));
        return router.port();
    }

    @Test
    void closeFinishesInFlightRequestsAndStopsAccepting() throws Exception {
        // Own threads: the common pool may have a single worker on a small machine.
        try (TestBackend dyno = TestBackend.start("slow");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Router router = Router.start(config());
            int port = routeAppTo(router, dyno);
            try (RawHttp idle = new RawHttp(port); RawHttp busy = new RawHttp(port)) {
                assertThat(idle.send("GET /warm HTTP/1.1\r\nHost: app.localhost\r\n\r\n").statusLine()).endsWith("200 OK");

                CountDownLatch release = dyno.holdRequests();
                CompletableFuture<RawHttp.Response> inFlight = CompletableFuture.supplyAsync(() -> {
                    try {
                        return busy.send("GET /slow HTTP/1.1\r\nHost: app.localhost\r\n\r\n");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, threads);
                assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();

                CompletableFuture<Void> closing = CompletableFuture.runAsync(router::close, threads);
                assertThat(idle.closedByPeer()).as("idle keep-alive connection closed on drain").isTrue();
                release.countDown();
                RawHttp.Response response = inFlight.get(5, TimeUnit.SECONDS);
                assertThat(response.statusLine()).endsWith("200 OK");
                assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
                closing.get(5, TimeUnit.SECONDS);
            }
            assertThatThrownBy(() -> new Socket(LOOPBACK, port).close()).isInstanceOf(ConnectException.class);
        }
    }

    @Test
    void slowDynoGets503H12() throws Exception {
        RouterLimits quick = RouterLimits.DEFAULTS.withResponseTimeout(Duration.ofMillis(300))
                .withDrainTimeout(Duration.ofSeconds(1));
        try (ServerSocket silent = new ServerSocket(0, 50, LOOPBACK);
             Router router = Router.start(config(), null, Transport.select(), quick)) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = silent.accept()) {
                    s.getInputStream().readAllBytes(); // read and never answer, until the router hangs up
                } catch (IOException ignored) {
                    // test over
                }
            });
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("slow.localhost", new AppRoute("slow",
                    List.of(new Backend("web.3", (InetSocketAddress) silent.getLocalSocketAddress())))));
            try (RawHttp client = new RawHttp(router.port())) {
                RawHttp.Response response = client.send("GET / HTTP/1.1\r\nHost: slow.localhost\r\n\r\n");
                assertThat(response.statusLine()).isEqualTo("HTTP/1.1 503 Service Unavailable");
                assertThat(logs.await("code=H12")).contains("dyno=web.3", "status=503");
            }
        }
    }

    @Test
    void idleConnectionsAreClosedOnBothSides() throws Exception {
        RouterLimits shortIdle = RouterLimits.DEFAULTS.withResponseTimeout(Duration.ofSeconds(5))
                .withIdleTimeouts(Duration.ofMillis(200), Duration.ofMillis(200)).withDrainTimeout(Duration.ofSeconds(1));
        CountDownLatch dynoSawClose = new CountDownLatch(1);
        try (ServerSocket dyno = new ServerSocket(0, 50, LOOPBACK);
             Router router = Router.start(config(), null, Transport.select(), shortIdle)) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = dyno.accept()) {
                    OneShotDyno.readHead(s.getInputStream());
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    if (s.getInputStream().read() == -1) {
                        dynoSawClose.countDown(); // the router closed its pooled connection
                    }
                } catch (IOException ignored) {
                    // test over
                }
            });
            router.publish(RouteTable.empty().with("idle.localhost",
                    new AppRoute("idle", List.of(new Backend("web.1", (InetSocketAddress) dyno.getLocalSocketAddress())))));
            try (RawHttp client = new RawHttp(router.port())) {
                assertThat(client.send("GET / HTTP/1.1\r\nHost: idle.localhost\r\n\r\n").body()).isEqualTo("ok");
                assertThat(client.closedByPeer()).as("idle keep-alive client connection closed").isTrue();
            }
            assertThat(dynoSawClose.await(5, TimeUnit.SECONDS)).as("idle pooled dyno connection closed").isTrue();
        }
    }

    /**
     * A dyno that answers one request per connection and then, when a second request arrives on it,
     * hangs up without answering: the race between pooling and a dyno's keep-alive timeout.
     */
    private static final class OneShotDyno implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        final AtomicInteger connections = new AtomicInteger();

        OneShotDyno() throws IOException {
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> serveOnce(s));
                    } catch (IOException ignored) {
                        // closed
                    }
                }
            });
        }

        private static void serveOnce(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                readHead(in);
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                readHead(in); // the next request: hang up on it
            } catch (IOException ignored) {
                // peer gone
            }
        }

        static void readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                head.write(b);
                if (head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    return;
                }
            }
            throw new IOException("eof");
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void idempotentRequestIsRetriedOnceWhenAPooledConnectionDies() throws Exception {
        try (OneShotDyno dyno = new OneShotDyno(); Router router = Router.start(config())) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("oneshot.localhost",
                    new AppRoute("oneshot", List.of(new Backend("web.1", dyno.address())))));
            try (RawHttp client = new RawHttp(router.port())) {
                assertThat(client.send("GET /a HTTP/1.1\r\nHost: oneshot.localhost\r\n\r\n").body()).isEqualTo("ok");
                // Goes out on the pooled connection, which the dyno drops; retried on a new one.
                assertThat(client.send("GET /b HTTP/1.1\r\nHost: oneshot.localhost\r\n\r\n").body()).isEqualTo("ok");
                assertThat(dyno.connections.get()).isEqualTo(2);
                // Not idempotent: the dyno may have acted on it, so no retry.
                RawHttp.Response post = client.send(
                        "POST /c HTTP/1.1\r\nHost: oneshot.localhost\r\nContent-Length: 1\r\n\r\nx");
                assertThat(post.statusLine()).startsWith("HTTP/1.1 503");
                assertThat(logs.await("path=\"/c\"")).startsWith("at=error code=H13");
            }
        }
    }
}
