package io.dynoplane.router;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.dynoplane.router.RouterCapacityTest.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link Router#drain(Duration)}: graceful stop with a deadline, on real loopback sockets. */
@ExtendWith(NoLeaks.class)
class RouterDrainTest {
    private static final String SLOW = "GET /slow HTTP/1.1\r\nHost: app.localhost\r\n\r\n";

    private static CompletableFuture<RawHttp.Response> sendAsync(RawHttp client, String request, ExecutorService threads) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return client.send(request);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, threads);
    }

    @Test
    void anInFlightRequestFinishesWhileNewConnectionsAreRefused() throws Exception {
        try (TestBackend dyno = TestBackend.start("slow");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS);
            router.publish(RouteTable.empty().with("app.localhost", new AppRoute("app", List.of(dyno.backend("web.1")))));
            int port = router.port();
            try (RawHttp busy = new RawHttp(port)) {
                CountDownLatch release = dyno.holdRequests();
                CompletableFuture<RawHttp.Response> inFlight = sendAsync(busy, SLOW, threads);
                assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();

                CompletableFuture<Void> draining = CompletableFuture.runAsync(
                        () -> router.drain(Duration.ofSeconds(10)), threads);
                // While the drain waits on the in-flight request, the port no longer accepts.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                boolean refused = false;
                while (!refused && System.nanoTime() < deadline) {
                    try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                        Thread.sleep(10); // accepted: the drain has not closed the listener yet
                    } catch (ConnectException e) {
                        refused = true;
                    } catch (SocketException e) {
                        // Reset during connect: the handshake landed in the backlog of a listener that then
                        // closed, which turns the unaccepted connection away with a RST. Refused as well.
                        refused = e.getMessage() != null && e.getMessage().contains("reset");
                        if (!refused) throw e;
                    }
                }
                assertThat(refused).as("new connections refused once the drain started").isTrue();
                assertThat(draining).as("still waiting for the in-flight request").isNotDone();

                release.countDown();
                RawHttp.Response response = inFlight.get(5, TimeUnit.SECONDS);
                assertThat(response.statusLine()).endsWith("200 OK");
                assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
                draining.get(5, TimeUnit.SECONDS);
                router.close(); // idempotent
            }
        }
    }

    @Test
    void requestsStillInFlightAtTheDeadlineAreCutOff() throws Exception {
        try (TestBackend dyno = TestBackend.start("stuck");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS);
            router.publish(RouteTable.empty().with("app.localhost", new AppRoute("app", List.of(dyno.backend("web.1")))));
            try (RawHttp busy = new RawHttp(router.port())) {
                CountDownLatch release = dyno.holdRequests();
                CompletableFuture<RawHttp.Response> inFlight = sendAsync(busy, SLOW, threads);
                assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();

                long start = System.nanoTime();
                router.drain(Duration.ofMillis(500));
                long tookMillis = (System.nanoTime() - start) / 1_000_000;
                assertThat(tookMillis).isBetween(400L, 4_000L);
                assertThat(inFlight).failsWithin(5, TimeUnit.SECONDS); // connection closed, no response
                release.countDown();
            }
        }
    }
}
