package io.dynoplane.router;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The router's Prometheus metrics: requests by app/status/code, latency (total and router-added) as
 * summaries built from HdrHistogram, open client connections, dyno connections (open and idle in the
 * pools) and requests in flight per app. Event loops only touch the lock-free Recorders, the counters
 * and atomic gauges' sources; folding intervals into the cumulative histograms happens on the scraper's
 * thread.
 */
final class RouterMetrics {
    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999, 1.0};
    private static final int DIGITS = 3;

    private static final String LATENCY = "dynoplane_router_latency_seconds";

    private final Counter requests;
    private final Counter headTimeouts;
    private final Collector latency;
    private final GaugeWithCallback clientConnections;
    private final GaugeWithCallback poolConnections;
    private final GaugeWithCallback inFlight;
    private final Recorder totalRecorder = new Recorder(DIGITS);
    private final Recorder routerRecorder = new Recorder(DIGITS);
    // Guarded by this: cumulative since start, plus recycled interval holders.
    private final Histogram total = new Histogram(DIGITS);
    private final Histogram routerAdded = new Histogram(DIGITS);
    private Histogram totalInterval;
    private Histogram routerInterval;
    // Where the gauges read from; set once by the router before registration.
    private volatile Sources sources = new Sources(() -> 0, () -> 0, () -> 0, Map::of);

    /** What the gauges report, read on the scraper's thread. */
    record Sources(IntSupplier clientConnections, IntSupplier dynoConnectionsOpen, IntSupplier dynoConnectionsIdle,
                   Supplier<Map<String, Integer>> inFlightByApp) {
    }

    RouterMetrics() {
        requests = Counter.builder()
                .name("dynoplane_router_requests_total")
                .help("HTTP requests answered by the router")
                .labelNames("app", "status", "code")
                .withoutExemplars() // no tracing lookups on the event loop
                .build();
        headTimeouts = Counter.builder()
                .name("dynoplane_router_head_timeouts_total")
                .help("Client connections closed for not sending a request head in time (slowloris)")
                .withoutExemplars()
                .build();
        latency = new Collector() {
            @Override
            public MetricSnapshot collect() {
                return latencySummary();
            }

            @Override
            public String getPrometheusName() {
                return LATENCY;
            }
        };
        clientConnections = GaugeWithCallback.builder()
                .name("dynoplane_router_client_connections")
                .help("Client connections open (keep-alive, busy or tunnelling)")
                .callback(callback -> callback.call(sources.clientConnections().getAsInt()))
                .build();
        poolConnections = GaugeWithCallback.builder()
                .name("dynoplane_router_pool_connections")
                .help("Connections to dynos; state=open (idle, in use or tunnelling) or idle (pooled, keep-alive)")
                .labelNames("state")
                .callback(callback -> {
                    callback.call(sources.dynoConnectionsOpen().getAsInt(), "open");
                    callback.call(sources.dynoConnectionsIdle().getAsInt(), "idle");
                })
                .build();
        inFlight = GaugeWithCallback.builder()
                .name("dynoplane_router_in_flight")
                .help("Requests in the router per app, queued or being served (capped at 200 per web dyno: H11)")
                .labelNames("app")
                .callback(callback -> sources.inFlightByApp().get().forEach((app, n) -> callback.call(n, app)))
                .build();
    }

    void observe(Sources sources) {
        this.sources = sources;
    }

    private List<Collector> collectors() {
        return List.of(requests, headTimeouts, latency, clientConnections, poolConnections, inFlight);
    }

    void register(PrometheusRegistry registry) {
        List<Collector> done = new ArrayList<>();
        try {
            for (Collector c : collectors()) {
                registry.register(c);
                done.add(c);
            }
        } catch (RuntimeException e) {
            done.forEach(registry::unregister); // all or nothing
            throw e;
        }
    }

    void unregister(PrometheusRegistry registry) {
        collectors().forEach(registry::unregister);
    }

    /** Both latency histograms as one Prometheus summary, label kind=total|router. */
    private SummarySnapshot latencySummary() {
        LatencySnapshot s = snapshot();
        return SummarySnapshot.builder()
                .name(LATENCY)
                .help("Latency of proxied requests since start; kind=total (arrival to response written) or "
                        + "router (total minus the dyno's service time); from HdrHistogram")
                .dataPoint(summaryPoint("total", s.total()))
                .dataPoint(summaryPoint("router", s.routerAdded()))
                .build();
    }

    private static SummarySnapshot.SummaryDataPointSnapshot summaryPoint(String kind, Histogram micros) {
        List<Quantile> quantiles = new ArrayList<>(QUANTILES.length);
        for (double q : QUANTILES) {
            quantiles.add(new Quantile(q, seconds(micros, q)));
        }
        long count = micros.getTotalCount();
        return SummarySnapshot.SummaryDataPointSnapshot.builder()
                .quantiles(Quantiles.of(quantiles))
                .count(count)
                .sum(count == 0 ? 0 : micros.getMean() * count / 1e6)
                .labels(Labels.of("kind", kind))
                .build();
    }

    /** Called once per finished request, on its event loop. */
    void record(RequestRecord rec) {
        requestCounter(rec).inc();
        long totalNanos = rec.totalNanos();
        // Only answers from a dyno: router-made errors have no service time to subtract.
        if (rec.error == null && rec.serviceNanos >= 0 && totalNanos >= 0) {
            totalRecorder.recordValue(TimeUnit.NANOSECONDS.toMicros(totalNanos));
            routerRecorder.recordValue(TimeUnit.NANOSECONDS.toMicros(Math.max(0, totalNanos - rec.serviceNanos)));
        }
    }

    /**
     * The request counter's data point for an app's dyno-answered responses, by status, looked up once: a label lookup
     * builds an array and a list per request. The same labels always give the same data point, so a race that fills a
     * slot twice is harmless. Only responses without an error code: those are nearly all of them.
     */
    private final Map<String, AtomicReferenceArray<CounterDataPoint>> answeredByApp = new ConcurrentHashMap<>();

    private CounterDataPoint requestCounter(RequestRecord rec) {
        String app = rec.app == null ? "" : rec.app;
        String code = rec.error == null || rec.error.code() == null ? "" : rec.error.code();
        if (!code.isEmpty() || rec.status < 0 || rec.status >= STATUS_LABELS.length) {
            return requests.labelValues(app, statusLabel(rec.status), code);
        }
        AtomicReferenceArray<CounterDataPoint> byStatus =
                answeredByApp.computeIfAbsent(app, a -> new AtomicReferenceArray<>(STATUS_LABELS.length));
        CounterDataPoint point = byStatus.getAcquire(rec.status);
        if (point == null) {
            point = requests.labelValues(app, statusLabel(rec.status), "");
            byStatus.setRelease(rec.status, point);
        }
        return point;
    }

    private static final String[] STATUS_LABELS = new String[600];

    static {
        for (int i = 0; i < STATUS_LABELS.length; i++) {
            STATUS_LABELS[i] = Integer.toString(i);
        }
    }

    /** The status as a label value, without a new string per request. */
    private static String statusLabel(int status) {
        return status >= 0 && status < STATUS_LABELS.length ? STATUS_LABELS[status] : Integer.toString(status);
    }

    /** One client connection closed by {@link HeadTimeout}; on its event loop. */
    void headTimedOut() {
        headTimeouts.inc();
    }

    long headTimeouts() {
        return (long) headTimeouts.get();
    }

    synchronized LatencySnapshot snapshot() {
        totalInterval = totalRecorder.getIntervalHistogram(totalInterval);
        routerInterval = routerRecorder.getIntervalHistogram(routerInterval);
        total.add(totalInterval);
        routerAdded.add(routerInterval);
        return new LatencySnapshot(total.copy(), routerAdded.copy());
    }

    private static double seconds(Histogram micros, double quantile) {
        if (micros.getTotalCount() == 0) {
            return 0;
        }
        long value = quantile >= 1.0 ? micros.getMaxValue() : micros.getValueAtPercentile(quantile * 100);
        return value / 1e6;
    }
}
