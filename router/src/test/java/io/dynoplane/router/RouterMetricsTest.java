package io.dynoplane.router;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.dynoplane.router.RouterCapacityTest.config;
import static org.assertj.core.api.Assertions.assertThat;

/** The router's gauges and latency summaries, scraped from the registry. */
@ExtendWith(NoLeaks.class)
class RouterMetricsTest {
    /**
     * The registry scraped into lines like the text format's: {@code name{k="v",...} value}, labels in
     * name order, summaries as {@code name{...,quantile="q"}}, {@code name_count{...}}, {@code name_sum{...}}.
     */
    private static String scrape(PrometheusRegistry registry) {
        StringBuilder text = new StringBuilder();
        for (MetricSnapshot metric : registry.scrape()) {
            String name = metric.getMetadata().getPrometheusName();
            for (DataPointSnapshot point : metric.getDataPoints()) {
                String labels = labels(point.getLabels(), null);
                switch (point) {
                    case GaugeSnapshot.GaugeDataPointSnapshot g -> line(text, name + labels, g.getValue());
                    case CounterSnapshot.CounterDataPointSnapshot c -> line(text, name + "_total" + labels, c.getValue());
                    case SummarySnapshot.SummaryDataPointSnapshot sp -> {
                        for (Quantile q : sp.getQuantiles()) {
                            line(text, name + labels(point.getLabels(), q.getQuantile()), q.getValue());
                        }
                        line(text, name + "_count" + labels, sp.getCount());
                        line(text, name + "_sum" + labels, sp.getSum());
                    }
                    default -> { }
                }
            }
        }
        return text.toString();
    }

    private static String labels(Labels labels, Double quantile) {
        StringJoiner joined = new StringJoiner(",", "{", "}").setEmptyValue("");
        labels.forEach(l -> joined.add(l.getName() + "=\"" + l.getValue() + "\""));
        if (quantile != null) {
            joined.add("quantile=\"" + quantile + "\"");
        }
        return joined.toString();
    }

    private static void line(StringBuilder text, String series, double value) {
        text.append(series).append(' ')
                .append(value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value)).append('\n');
    }

    /** Scrapes until {@code done} holds (gauges follow the event loops a moment later). */
    private static String scrapeUntil(PrometheusRegistry registry, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String text = scrape(registry);
        while (!done.test(text) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            text = scrape(registry);
        }
        return text;
    }

    @Test
    void gaugesFollowConnectionsPoolAndInFlightRequests() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        try (TestBackend dyno = TestBackend.start("one");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             Router router = Router.start(config(), registry, Transport.select(), RouterLimits.DEFAULTS)) {
            router.publish(RouteTable.empty().with("m.localhost", new AppRoute("m", List.of(dyno.backend("web.1")))));
            try (RawHttp client = new RawHttp(router.port())) {
                CountDownLatch release = dyno.holdRequests();
                CompletableFuture<RawHttp.Response> pending = CompletableFuture.supplyAsync(() -> {
                    try {
                        return client.send("GET /held HTTP/1.1\r\nHost: m.localhost\r\n\r\n");
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, threads);
                assertThat(dyno.arrived().await(5, TimeUnit.SECONDS)).isTrue();

                String busy = scrapeUntil(registry, t -> t.contains("dynoplane_router_in_flight{app=\"m\"} 1"));
                assertThat(busy)
                        .contains("dynoplane_router_in_flight{app=\"m\"} 1")
                        .contains("dynoplane_router_client_connections 1")
                        .contains("dynoplane_router_pool_connections{state=\"open\"} 1")
                        .contains("dynoplane_router_pool_connections{state=\"idle\"} 0");

                release.countDown();
                assertThat(pending.get(5, TimeUnit.SECONDS).statusLine()).endsWith("200 OK");
                String after = scrapeUntil(registry, t -> t.contains("dynoplane_router_in_flight{app=\"m\"} 0")
                        && t.contains("dynoplane_router_pool_connections{state=\"idle\"} 1"));
                assertThat(after)
                        .contains("dynoplane_router_in_flight{app=\"m\"} 0")
                        .contains("dynoplane_router_pool_connections{state=\"open\"} 1")
                        .contains("dynoplane_router_pool_connections{state=\"idle\"} 1")
                        .containsPattern("dynoplane_router_latency_seconds\\{kind=\"total\",quantile=\"0.99\"\\} [0-9.eE-]+")
                        .containsPattern("dynoplane_router_latency_seconds_count\\{kind=\"total\"\\} 1\\b")
                        .containsPattern("dynoplane_router_latency_seconds_count\\{kind=\"router\"\\} 1\\b")
                        .contains("dynoplane_router_latency_seconds_sum{kind=\"total\"}");
            }
            String closed = scrapeUntil(registry, t -> t.contains("dynoplane_router_client_connections 0"));
            assertThat(closed).contains("dynoplane_router_client_connections 0");
        }
    }
}
