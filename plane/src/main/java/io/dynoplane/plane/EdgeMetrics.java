package io.dynoplane.plane;

import io.dynoplane.provisioner.Edge;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** {@code dynoplane_edge_packets_total{verdict}}: the XDP edge's per-CPU verdict counters, summed at scrape time. */
final class EdgeMetrics implements Collector {
    private final Edge edge;

    EdgeMetrics(Edge edge) { this.edge = edge; }

    @Override
    public MetricSnapshot collect() {
        CounterSnapshot.Builder snapshot = CounterSnapshot.builder()
                .name("dynoplane_edge_packets")
                .help("Packets the XDP edge on the uplink gave each verdict");
        edge.counts().forEach((reason, packets) -> snapshot.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("verdict", reason.label())).value(packets).build()));
        return snapshot.build();
    }

    @Override
    public String getPrometheusName() { return "dynoplane_edge_packets"; }
}
