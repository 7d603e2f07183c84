package io.dynoplane.plane;

import io.dynoplane.provisioner.Verdict;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code dynoplane_isolation_packets_total{app,dyno,verdict}}: the guard's verdict counters, read
 * from the BPF map at scrape time (the kernel counts; nothing is copied on the datapath).
 */
final class IsolationMetrics implements Collector {
    /** One dyno's counters as the plane sees them now. */
    record DynoCounts(String app, String dyno, Map<Verdict, Long> counts) {}

    private final Supplier<Iterable<DynoCounts>> source;

    IsolationMetrics(Supplier<Iterable<DynoCounts>> source) { this.source = source; }

    @Override
    public MetricSnapshot collect() {
        CounterSnapshot.Builder snapshot = CounterSnapshot.builder()
                .name("dynoplane_isolation_packets")
                .help("Packets the per-dyno isolation guard gave each verdict, from the BPF verdicts map");
        for (DynoCounts d : source.get()) {
            d.counts().forEach((verdict, packets) -> snapshot.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("app", d.app(), "dyno", d.dyno(), "verdict", verdict.label()))
                    .value(packets)
                    .build()));
        }
        return snapshot.build();
    }

    @Override
    public String getPrometheusName() { return "dynoplane_isolation_packets"; }
}
