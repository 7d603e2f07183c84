package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** The hub and the drains wired as the plane wires them: one accept feeds the buffer, the tails and the drains. */
class LogDrainTest {
    private static final DrainSettings SETTINGS = new DrainSettings(1_000, 500, Duration.ofSeconds(1), 3,
            Duration.ofMillis(20), Duration.ofSeconds(5), null);

    @Test
    void aLineAcceptedOnceIsKeptAndDrainedAndCounted() throws Exception {
        try (LogDrains drains = new LogDrains(SETTINGS, Duration.ofSeconds(5));
             SyslogListener listener = new SyslogListener()) {
            LogHub hub = new LogHub(drains::accept);
            PrometheusRegistry registry = new PrometheusRegistry();
            registry.register(new LogDrainMetrics(drains));
            DrainStatus drain = drains.add("shop", listener.url("syslog+tcp"));

            hub.accept("shop", LogLine.heroku("web.1", "State changed from starting to up"));
            hub.accept("shop", LogLine.app("web.1", "listening on 5000"));

            try (SyslogListener.Connection peer = listener.accept()) {
                assertThat(peer.readFrame()).endsWith(" heroku web.1 - - State changed from starting to up");
                assertThat(peer.readFrame()).endsWith(" app web.1 - - listening on 5000");
            }
            assertThat(hub.recent("shop", LogFilter.ALL, 10)).hasSize(2);

            // the count follows the write the peer just read, on the drain's thread: no event to await, so poll briefly
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (drains.list("shop").getFirst().sent() < 2 && System.nanoTime() < until) LockSupport.parkNanos(1_000_000);
            MetricSnapshots scraped = registry.scrape();
            Labels labels = Labels.of("app", "shop", "drain", drain.token());
            assertThat(counter(scraped, "dynoplane_log_drain_lines", labels.add("outcome", "sent"))).isEqualTo(2);
            assertThat(counter(scraped, "dynoplane_log_drain_lines", labels.add("outcome", "dropped"))).isZero();
            assertThat(counter(scraped, "dynoplane_log_drain_errors", labels)).isZero();
            assertThat(gauge(scraped, "dynoplane_log_drain_queued", labels)).isZero();

            hub.forget("shop");
            drains.forget("shop");
            assertThat(drains.list("shop")).isEmpty();
            assertThat(registry.scrape().stream().mapToInt(m -> m.getDataPoints().size()).sum()).isZero();
        }
    }

    private static double counter(MetricSnapshots snapshots, String name, Labels labels) {
        return ((CounterSnapshot) find(snapshots, name)).getDataPoints().stream()
                .filter(p -> p.getLabels().equals(labels)).findFirst().orElseThrow().getValue();
    }

    private static double gauge(MetricSnapshots snapshots, String name, Labels labels) {
        return ((GaugeSnapshot) find(snapshots, name)).getDataPoints().stream()
                .filter(p -> p.getLabels().equals(labels)).findFirst().orElseThrow().getValue();
    }

    private static MetricSnapshot find(MetricSnapshots snapshots, String name) {
        return snapshots.stream().filter(m -> m.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }
}
