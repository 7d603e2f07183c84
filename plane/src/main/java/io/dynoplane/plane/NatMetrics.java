package io.dynoplane.plane;

import io.dynoplane.provisioner.NatTable;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;

/**
 * The BPF NAT's maps at scrape time: {@code dynoplane_nat_flows} (flows in use, and the table's size) and
 * {@code dynoplane_nat_events_total{event}} (translations, flows created and expired, allocation failures...).
 */
final class NatMetrics implements MultiCollector {
    private final NatTable nat;

    NatMetrics(NatTable nat) { this.nat = nat; }

    @Override
    public MetricSnapshots collect() {
        GaugeSnapshot flows = GaugeSnapshot.builder()
                .name("dynoplane_nat_flows")
                .help("NAT flows in use, and the flow table's capacity")
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("kind", "in_use")).value(nat.flowsInUse()).build())
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("kind", "capacity")).value(nat.config().maxFlows()).build())
                .build();
        CounterSnapshot.Builder events = CounterSnapshot.builder()
                .name("dynoplane_nat_events")
                .help("What the BPF NAT on the uplink did, per event, from its per-CPU counters");
        nat.counts().forEach((counter, n) -> events.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("event", counter.label())).value(n).build()));
        return new MetricSnapshots(flows, events.build());
    }

    @Override
    public List<String> getPrometheusNames() { return List.of("dynoplane_nat_flows", "dynoplane_nat_events"); }
}
