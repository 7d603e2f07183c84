package io.dynoplane.router;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.TimeUnit;

/**
 * Request counter and latency histograms. Event loops only touch the lock-free Recorders and the
 * counter; folding intervals into the cumulative histograms happens on the reader's thread.
 */
final class RouterMetrics {
    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999, 1.0};
    private static final int DIGITS = 3;

    private final Counter requests;
    private final Counter headTimeouts;
    private final GaugeWithCallback latency;
    private final Recorder totalRecorder = new Recorder(DIGITS);
    private final Recorder routerRecorder = new Recorder(DIGITS);
    // Guarded by this: cumulative since start, plus recycled interval holders.
    private final Histogram total = new Histogram(DIGITS);
    private final Histogram routerAdded = new Histogram(DIGITS);
    private Histogram totalInterval;
    private Histogram routerInterval;

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
        latency = GaugeWithCallback.builder()
                .name("dynoplane_router_latency_seconds")
                .help("Latency quantiles of proxied requests since start; kind=total|router (router-added)")
                .labelNames("kind", "quantile")
                .callback(callback -> {
                    LatencySnapshot s = snapshot();
                    for (double q : QUANTILES) {
                        String label = Double.toString(q);
                        callback.call(seconds(s.total(), q), "total", label);
                        callback.call(seconds(s.routerAdded(), q), "router", label);
                    }
                })
                .build();
    }

    void register(PrometheusRegistry registry) {
        registry.register(requests);
        try {
            registry.register(headTimeouts);
            try {
                registry.register(latency);
            } catch (RuntimeException e) {
                registry.unregister(headTimeouts);
                throw e;
            }
        } catch (RuntimeException e) {
            registry.unregister(requests);
            throw e;
        }
    }

    void unregister(PrometheusRegistry registry) {
        registry.unregister(requests);
        registry.unregister(headTimeouts);
        registry.unregister(latency);
    }

    /** Called once per finished request, on its event loop. */
    void record(RequestRecord rec) {
        String code = rec.error == null || rec.error.code() == null ? "" : rec.error.code();
        requests.labelValues(rec.app == null ? "" : rec.app, Integer.toString(rec.status), code).inc();
        long totalNanos = rec.totalNanos();
        // Only answers from a dyno: router-made errors have no service time to subtract.
        if (rec.error == null && rec.serviceNanos >= 0 && totalNanos >= 0) {
            totalRecorder.recordValue(TimeUnit.NANOSECONDS.toMicros(totalNanos));
            routerRecorder.recordValue(TimeUnit.NANOSECONDS.toMicros(Math.max(0, totalNanos - rec.serviceNanos)));
        }
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
