package io.dynoplane.router;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-app in-flight cap (H11), on real loopback sockets. */
@ExtendWith(NoLeaks.class)
class RouterCapacityTest {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void closeClient() {
        http.close();
    }

    static RouterConfig config() {
        return new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "test-router", 1);
    }

    static HttpRequest get(Router router, String host, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path))
                .timeout(Duration.ofSeconds(10)).header("Host", host).build();
    }

    @Test
    void requestsBeyondTheInFlightCapGet503H11() throws Exception {
        RouterLimits capOne = RouterLimits.DEFAULTS.withInFlightPerDyno(1);
        try (TestBackend dyno = TestBackend.start("one");
             Router router = Router.start(config(), null, Transport.select(), capOne)) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("cap.localhost", new AppRoute("cap", List.of(dyno.backend("web.1")))));

            CountDownLatch release = dyno.holdRequests();
            CompletableFuture<HttpResponse<String>> first =
                    http.sendAsync(get(router, "cap.localhost", "/slow"), HttpResponse.BodyHandlers.ofString());
            assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();

            HttpResponse<String> second = http.send(get(router, "cap.localhost", "/over"),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(second.statusCode()).isEqualTo(503);
            assertThat(second.body()).contains("Backlog too deep");
            assertThat(logs.await("path=\"/over\"")).contains("code=H11", "desc=\"Backlog too deep\"");

            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            // The slot is free again once the first request is over.
            assertThat(http.send(get(router, "cap.localhost", "/after"), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
            awaitInFlight(router, "cap", 0); // counted off once the response is written
        }
    }

    @Test
    void theCapScalesWithTheNumberOfWebDynos() throws Exception {
        RouterLimits capOne = RouterLimits.DEFAULTS.withInFlightPerDyno(1);
        try (TestBackend dyno = TestBackend.start("one");
             Router router = Router.start(config(), null, Transport.select(), capOne)) {
            // Two dynos (both the same server, so one hold catches whichever is picked): cap 2.
            router.publish(RouteTable.empty().with("cap.localhost",
                    new AppRoute("cap", List.of(dyno.backend("web.1"), dyno.backend("web.2")))));
            CountDownLatch release = dyno.holdRequests();
            CompletableFuture<HttpResponse<String>> first =
                    http.sendAsync(get(router, "cap.localhost", "/1"), HttpResponse.BodyHandlers.ofString());
            assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();
            // The JDK server handles one exchange at a time, so the second waits inside the dyno.
            CompletableFuture<HttpResponse<String>> second =
                    http.sendAsync(get(router, "cap.localhost", "/2"), HttpResponse.BodyHandlers.ofString());
            awaitInFlight(router, "cap", 2);
            HttpResponse<String> third = http.send(get(router, "cap.localhost", "/3"),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(third.statusCode()).isEqualTo(503);
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(second.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
    }

    static void awaitInFlight(Router router, String app, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (router.inFlight().getOrDefault(app, 0) != n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("in-flight for " + app + " never reached " + n + ": " + router.inFlight());
            }
            Thread.sleep(10);
        }
    }
}
