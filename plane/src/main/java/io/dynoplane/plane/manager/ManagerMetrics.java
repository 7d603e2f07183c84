package io.dynoplane.plane.manager;

import io.dynoplane.plane.DynoStatus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The dyno manager at scrape time: {@code dynoplane_dynos{app,type,state}} (dynos now, from the same rows as
 * {@code ps}), {@code dynoplane_dyno_restarts_total{app,reason}} (reason: crash, R10, R15, cycle, release,
 * manual) and {@code dynoplane_dyno_boot_seconds{app}} (launch to $PORT bound, web dynos).
 */
public final class ManagerMetrics implements MultiCollector {
    /** Count and sum of one app's boot times. */
    private record Boots(LongAdder count, java.util.concurrent.atomic.DoubleAdder seconds) { }

    private final Supplier<List<DynoStatus>> dynos;
    private final Map<List<String>, LongAdder> restarts = new ConcurrentHashMap<>();
    private final Map<String, Boots> boots = new ConcurrentHashMap<>();

    ManagerMetrics(Supplier<List<DynoStatus>> dynos) { this.dynos = dynos; }

    void restarted(String app, String reason) {
        restarts.computeIfAbsent(List.of(app, reason), k -> new LongAdder()).increment();
    }

    void booted(String app, Duration took) {
        Boots b = boots.computeIfAbsent(app, a -> new Boots(new LongAdder(), new java.util.concurrent.atomic.DoubleAdder()));
        b.count().increment();
        b.seconds().add(took.toNanos() / 1e9);
    }

    @Override
    public MetricSnapshots collect() {
        Map<List<String>, Integer> byState = new TreeMap<>(java.util.Comparator.comparing(List::toString));
        for (DynoStatus d : dynos.get()) byState.merge(List.of(d.app(), d.type(), d.state()), 1, Integer::sum);
        GaugeSnapshot.Builder states = GaugeSnapshot.builder().name("dynoplane_dynos").help("Dynos by app, process type and state");
        byState.forEach((k, n) -> states.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(Labels.of("app", k.get(0), "type", k.get(1), "state", k.get(2))).value(n).build()));
        CounterSnapshot.Builder restartCounts = CounterSnapshot.builder().name("dynoplane_dyno_restarts")
                .help("Dyno restarts by app and reason: crash, R10 (boot timeout), R15 (memory), cycle, release, manual");
        restarts.forEach((k, n) -> restartCounts.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("app", k.get(0), "reason", k.get(1))).value(n.sum()).build()));
        SummarySnapshot.Builder bootTimes = SummarySnapshot.builder().name("dynoplane_dyno_boot_seconds")
                .help("Web dyno boot time: launch to $PORT bound");
        boots.forEach((app, b) -> bootTimes.dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder()
                .labels(Labels.of("app", app)).count(b.count().sum()).sum(b.seconds().sum()).build()));
        return new MetricSnapshots(states.build(), restartCounts.build(), bootTimes.build());
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of("dynoplane_dynos", "dynoplane_dyno_restarts", "dynoplane_dyno_boot_seconds");
    }
}
