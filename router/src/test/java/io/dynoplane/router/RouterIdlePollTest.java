package io.dynoplane.router;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A loop with an idle poll ({@link RouterConfig#idlePoll()}), seen from the kernel: whether it sleeps (its thread's
 * voluntary context switches) and what CPU it burns ({@code schedstat}) when requests come in short or long gaps.
 */
@ExtendWith(NoLeaks.class)
class RouterIdlePollTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration MAX_POLL = Duration.ofMillis(1);
    private static final String REQUEST = "GET /p HTTP/1.1\r\nHost: app.localhost\r\n\r\n";

    @Test
    void requestsInShortGapsFindTheLoopAwake() throws Exception {
        long gap = TimeUnit.MICROSECONDS.toNanos(200);
        long sleeping = sleepsOver(Duration.ZERO, 300, gap).switches;
        long polling = sleepsOver(MAX_POLL, 300, gap).switches;
        assertThat(sleeping).as("a loop without an idle poll sleeps in every gap").isGreaterThanOrEqualTo(300);
        // Not none: a gap can outlast the window when the client's own core is busy (about 80 of 300 here, 490 without).
        assertThat(polling).as("a polling loop's sleeps over 200 us gaps, against %d without", sleeping)
                .isLessThan(sleeping * 6 / 10);
    }

    @Test
    void requestsInLongGapsLetTheLoopStopPolling() throws Exception {
        // Gaps of 3 ms, three times the window's maximum: polling through them would be waste, so the window shrinks
        // to nothing. A loop that always polled its maximum would burn at least 1 ms of CPU a request (300 ms).
        Sample sample = sleepsOver(MAX_POLL, 300, TimeUnit.MILLISECONDS.toNanos(3));
        assertThat(sample.cpuNanos).as("the loop's CPU over 300 requests 3 ms apart").isLessThan(TimeUnit.MILLISECONDS.toNanos(150));
        assertThat(sample.switches).as("and it slept between them").isGreaterThanOrEqualTo(300);
    }

    @Test
    void aPollingLoopStillRunsItsTimers() throws Exception {
        RouterLimits shortIdle = RouterLimits.DEFAULTS.withIdleTimeouts(Duration.ofMillis(200), Duration.ofMillis(200))
                .withDrainTimeout(Duration.ofSeconds(1));
        try (TestBackend dyno = TestBackend.start("p");
             Router router = Router.start(config(MAX_POLL), null, Transport.select(), shortIdle);
             RawHttp client = new RawHttp(routeAppTo(router, dyno))) {
            assertThat(client.send(REQUEST).body()).contains("backend=p");
            assertThat(client.closedByPeer()).as("the idle timeout, a scheduled task, closed the connection").isTrue();
        }
    }

    @Test
    void anIdlePollOverAMillisecondIsRefused() {
        assertThatThrownBy(() -> config(Duration.ofMillis(2))).hasMessageContaining("idlePoll");
        assertThatThrownBy(() -> config(Duration.ofNanos(-1))).hasMessageContaining("idlePoll");
    }

    private record Sample(long switches, long cpuNanos) {}

    /** The router loop's voluntary context switches and CPU while one client sends {@code requests}, {@code gapNanos} apart. */
    private static Sample sleepsOver(Duration idlePoll, int requests, long gapNanos) throws Exception {
        Set<String> before = EventLoopThreads.list().keySet();
        try (TestBackend dyno = TestBackend.start("p");
             Router router = Router.start(config(idlePoll));
             RawHttp client = new RawHttp(routeAppTo(router, dyno))) {
            Map<String, Path> loops = new HashMap<>(EventLoopThreads.list());
            loops.keySet().removeAll(before);
            assertThat(loops).as("the router's one event loop").hasSize(1);
            Path loop = loops.values().iterator().next();
            for (int i = 0; i < 200; i++) { // past the connection's set-up and the window's first growth
                assertThat(client.send(REQUEST).body()).contains("backend=p");
            }
            long switches = voluntarySwitches(loop), cpu = cpuNanos(loop);
            for (int i = 0; i < requests; i++) {
                LockSupport.parkNanos(gapNanos);
                assertThat(client.send(REQUEST).body()).contains("backend=p");
            }
            return new Sample(voluntarySwitches(loop) - switches, cpuNanos(loop) - cpu);
        }
    }

    private static RouterConfig config(Duration idlePoll) {
        return new RouterConfig(new InetSocketAddress(LOOPBACK, 0), "test-router", 1).withIdlePoll(idlePoll);
    }

    private static int routeAppTo(Router router, TestBackend dyno) {
        router.publish(RouteTable.empty().with("app.localhost", new AppRoute("app", List.of(dyno.backend("web.1")))));
        return router.port();
    }

    private static long voluntarySwitches(Path task) throws IOException {
        return Files.readAllLines(task.resolve("status")).stream().filter(l -> l.startsWith("voluntary_ctxt_switches:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).strip())).findFirst().orElseThrow();
    }

    /** Time on a CPU: schedstat's first field, in nanoseconds. */
    private static long cpuNanos(Path task) throws IOException {
        return Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[0]);
    }
}
