package io.dynoplane.plane.logs;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;

/**
 * The drains' counters at scrape time: {@code dynoplane_log_drain_lines_total{app,drain,outcome=sent|dropped}},
 * {@code dynoplane_log_drain_errors_total{app,drain}} and {@code dynoplane_log_drain_queued{app,drain}}.
 */
public final class LogDrainMetrics implements MultiCollector {
    private final LogDrains drains;

    public LogDrainMetrics(LogDrains drains) { this.drains = drains; }

    @Override
    public MetricSnapshots collect() {
        CounterSnapshot.Builder lines = CounterSnapshot.builder().name("dynoplane_log_drain_lines")
                .help("Log lines per drain: sent to the peer, or dropped (queue full, or every try failed)");
        CounterSnapshot.Builder errors = CounterSnapshot.builder().name("dynoplane_log_drain_errors")
                .help("Failed connects, writes and POSTs per drain");
        GaugeSnapshot.Builder queued = GaugeSnapshot.builder().name("dynoplane_log_drain_queued")
                .help("Log lines waiting in a drain's queue");
        for (DrainStatus d : drains.all()) {
            Labels drain = Labels.of("app", d.app(), "drain", d.token());
            lines.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(drain.add("outcome", "sent")).value(d.sent()).build());
            lines.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(drain.add("outcome", "dropped")).value(d.dropped()).build());
            errors.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(drain).value(d.errors()).build());
            queued.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(drain).value(d.queued()).build());
        }
        return new MetricSnapshots(lines.build(), errors.build(), queued.build());
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of("dynoplane_log_drain_lines", "dynoplane_log_drain_errors", "dynoplane_log_drain_queued");
    }
}
