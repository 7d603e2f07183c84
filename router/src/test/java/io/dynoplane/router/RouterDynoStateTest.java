package io.dynoplane.router;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.dynoplane.router.RouterCapacityTest.config;
import static io.dynoplane.router.RouterCapacityTest.get;
import static org.assertj.core.api.Assertions.assertThat;

/** How the state of an app's dynos shapes routing: quarantine and retry, on real loopback sockets. */
@ExtendWith(NoLeaks.class)
class RouterDynoStateTest {
    private HttpClient http;
    private InetSocketAddress dead;   // nothing listens: connections are refused
    private InetSocketAddress dead2;

    @BeforeEach
    void setUp() throws IOException {
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        dead = closedPort();
        dead2 = closedPort();
    }

    @AfterEach
    void closeClient() {
        http.close();
    }

    private static InetSocketAddress closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return (InetSocketAddress) probe.getLocalSocketAddress();
        }
    }

    private HttpResponse<String> send(Router router, String host, String path) throws Exception {
        return http.send(get(router, host, path), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRefusingDynoIsQuarantinedAndRequestsGoToTheLiveOne() throws Exception {
        RouterLimits limits = RouterLimits.DEFAULTS.withQuarantine(Duration.ofSeconds(30));
        try (TestBackend live = TestBackend.start("live");
             Router router = Router.start(config(), null, Transport.select(), limits)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("mixed.localhost", new AppRoute("mixed",
                    List.of(new Backend("web.1", dead), live.backend("web.2")))));
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> response = send(router, "mixed.localhost", "/r" + i);
                assertThat(response.statusCode()).as("request %d", i).isEqualTo(200);
                assertThat(response.headers().firstValue("X-Backend")).hasValue("live");
                assertThat(logs.await("path=\"/r" + i + "\"")).contains("dyno=web.2").doesNotContain("code=");
            }
            assertThat(live.requests()).isEqualTo(20);
            assertThat(router.quarantined(dead)).isTrue();
            assertThat(router.quarantined(live.address())).isFalse();
        }
    }

    @Test
    void quarantineIsBrief() throws Exception {
        RouterLimits limits = RouterLimits.DEFAULTS.withQuarantine(Duration.ofMillis(200));
        try (TestBackend live = TestBackend.start("live");
             Router router = Router.start(config(), null, Transport.select(), limits)) {
            router.publish(RouteTable.empty().with("mixed.localhost", new AppRoute("mixed",
                    List.of(new Backend("web.1", dead), live.backend("web.2")))));
            for (int i = 0; i < 20 && !router.quarantined(dead); i++) {
                assertThat(send(router, "mixed.localhost", "/").statusCode()).isEqualTo(200);
            }
            assertThat(router.quarantined(dead)).isTrue();
            Thread.sleep(400);
            assertThat(router.quarantined(dead)).isFalse();
        }
    }

    @Test
    void whenEveryDynoRefusesTheAnswerIs503H21AfterTryingEach() throws Exception {
        try (Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("dead.localhost", new AppRoute("dead",
                    List.of(new Backend("web.1", dead), new Backend("web.2", dead2)))));
            HttpResponse<String> response = send(router, "dead.localhost", "/all-dead");
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(logs.await("path=\"/all-dead\"")).contains("code=H21");
            assertThat(router.quarantined(dead)).isTrue();
            assertThat(router.quarantined(dead2)).isTrue();
        }
    }

    /**
     * A listener whose accept queue is full (never accepting): Linux drops further SYNs, so connecting
     * to it times out. Returns null if the queue cannot be filled here (then the test is skipped).
     */
    private static InetSocketAddress blackHole(ServerSocket listener, List<java.net.Socket> fillers) throws IOException {
        for (int i = 0; i < 16; i++) {
            java.net.Socket s = new java.net.Socket();
            try {
                s.connect(listener.getLocalSocketAddress(), 200);
                fillers.add(s);
            } catch (java.net.SocketTimeoutException full) {
                s.close();
                return (InetSocketAddress) listener.getLocalSocketAddress();
            }
        }
        return null;
    }

    @Test
    void aDynoThatTimesOutIsPassedOverLikeARefusingOne() throws Exception {
        RouterLimits limits = RouterLimits.DEFAULTS.withConnectTimeout(Duration.ofMillis(300))
                .withQuarantine(Duration.ofSeconds(30));
        List<java.net.Socket> fillers = new java.util.ArrayList<>();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             TestBackend live = TestBackend.start("live");
             Router router = Router.start(config(), null, Transport.select(), limits)) {
            InetSocketAddress hole = blackHole(listener, fillers);
            org.junit.jupiter.api.Assumptions.assumeTrue(hole != null, "accept queue never filled");
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty()
                    .with("slow.localhost", new AppRoute("slow", List.of(new Backend("web.1", hole), live.backend("web.2"))))
                    .with("hole.localhost", new AppRoute("hole", List.of(new Backend("web.1", hole)))));
            for (int i = 0; i < 10; i++) {
                assertThat(send(router, "slow.localhost", "/t" + i).statusCode()).as("request %d", i).isEqualTo(200);
            }
            assertThat(router.quarantined(hole)).isTrue();
            HttpResponse<String> alone = send(router, "hole.localhost", "/alone");
            assertThat(alone.statusCode()).isEqualTo(503);
            assertThat(logs.await("path=\"/alone\"")).contains("code=H19");
        } finally {
            for (java.net.Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void anAppInMaintenanceGets503H80WithTheMaintenancePage() throws Exception {
        try (TestBackend live = TestBackend.start("live");
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("maint.localhost",
                    new AppRoute("maint", List.of(live.backend("web.1")), true)));
            HttpResponse<String> response = send(router, "maint.localhost", "/m");
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.body()).contains("Offline for Maintenance", "undergoing maintenance");
            assertThat(logs.await("path=\"/m\"")).contains("code=H80", "desc=\"Maintenance mode\"");
            assertThat(live.requests()).isZero();
        }
    }

    @Test
    void anAppWhoseDynosAllCrashedGets503H10() throws Exception {
        try (TestBackend live = TestBackend.start("live");
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("crashed.localhost", new AppRoute("crashed", List.of(
                    new Backend("web.1", live.address(), Backend.State.CRASHED),
                    new Backend("web.2", dead, Backend.State.CRASHED)))));
            HttpResponse<String> response = send(router, "crashed.localhost", "/c");
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.body()).contains("App crashed", "H10");
            assertThat(logs.await("path=\"/c\"")).contains("code=H10", "desc=\"App crashed\"");
            assertThat(live.requests()).isZero();
        }
    }

    @Test
    void aRequestQueuedForABootingAppGets503H20WhenTheBootWaitRunsOut() throws Exception {
        RouterLimits limits = RouterLimits.DEFAULTS.withBootWait(Duration.ofMillis(400));
        try (TestBackend booting = TestBackend.start("booting");
             Router router = Router.start(config(), null, Transport.select(), limits)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("boot.localhost", new AppRoute("boot", List.of(
                    new Backend("web.1", booting.address(), Backend.State.STARTING)))));
            long start = System.nanoTime();
            HttpResponse<String> response = send(router, "boot.localhost", "/b");
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.body()).contains("App boot timeout");
            assertThat(waitedMillis).isGreaterThanOrEqualTo(400);
            assertThat(logs.await("path=\"/b\"")).contains("code=H20", "desc=\"App boot timeout\"");
            assertThat(booting.requests()).isZero();
        }
    }

    @Test
    void aRequestQueuedForABootingAppGoesOutWithItsBodyOnceADynoIsUp() throws Exception {
        try (TestBackend dyno = TestBackend.start("dyno");
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS)) {
            router.publish(RouteTable.empty().with("boot.localhost", new AppRoute("boot", List.of(
                    new Backend("web.1", dyno.address(), Backend.State.STARTING),
                    new Backend("web.2", dead, Backend.State.CRASHED)))));
            java.util.concurrent.CompletableFuture<HttpResponse<String>> pending = http.sendAsync(
                    java.net.http.HttpRequest.newBuilder(get(router, "boot.localhost", "/queued").uri())
                            .header("Host", "boot.localhost")
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("x".repeat(5000)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            RouterCapacityTest.awaitInFlight(router, "boot", 1);
            Thread.sleep(300);
            assertThat(pending).isNotDone();
            assertThat(dyno.requests()).isZero();
            // A publish that leaves the app booting: it looks, and goes on waiting.
            router.publish(router.routes().with("other.localhost", new AppRoute("other", List.of())));
            Thread.sleep(200);
            assertThat(pending).isNotDone();
            router.publish(RouteTable.empty().with("boot.localhost", new AppRoute("boot", List.of(
                    new Backend("web.1", dyno.address(), Backend.State.UP),
                    new Backend("web.2", dead, Backend.State.CRASHED)))));
            HttpResponse<String> response = pending.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("method=POST", "body-bytes=5000");
        }
    }
}
