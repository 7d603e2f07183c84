package io.dynoplane.plane;

import io.dynoplane.provisioner.DynoProcess;
import io.dynoplane.provisioner.ListenQueue;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Per-dyno gauges read at scrape time: {@code dynoplane_dyno_memory_bytes{app,dyno,type}} (the dyno's memory cgroup
 * charge) and, for dynos with a {@code $PORT}, {@code dynoplane_dyno_listen_queue{app,dyno}} and
 * {@code dynoplane_dyno_listen_backlog{app,dyno}}: connections waiting in the accept queue of its listener and the
 * most that queue holds (what Raindrops reports from inside a Unicorn/Puma app; here read from outside, through
 * sock_diag in the dyno's namespace). A dyno whose listener is not up yet has no queue sample.
 *
 * <p>One {@link ListenQueue} per dyno namespace is kept between scrapes, and closed once the dyno is gone from the
 * probes (its open socket would keep the namespace alive) or its pin names a new namespace (a dyno restarted under
 * the same name). A dyno that cannot be read (stopping as we look) is left out of that scrape, never fails it.
 */
final class DynoMetrics implements MultiCollector, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DynoMetrics.class.getName());

    static final String MEMORY = "dynoplane_dyno_memory_bytes";
    static final String LISTEN_QUEUE = "dynoplane_dyno_listen_queue";
    static final String LISTEN_BACKLOG = "dynoplane_dyno_listen_backlog";

    /**
     * What to read for one dyno: its namespace pin, its {@code $PORT} (null for a dyno that serves no HTTP) and how
     * to read its memory use.
     */
    record Probe(String app, String dyno, String type, Path netnsPin, Integer port, LongSupplier memoryBytes) {
        Probe {
            Objects.requireNonNull(app, "app");
            Objects.requireNonNull(dyno, "dyno");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(netnsPin, "netnsPin");
            Objects.requireNonNull(memoryBytes, "memoryBytes");
        }

        static Probe of(String app, String dyno, String type, Path netnsPin, Integer port, DynoProcess process) {
            return new Probe(app, dyno, type, netnsPin, port, process::memoryBytes);
        }
    }

    /** A reader and the namespace (inode of the pin) it was opened in. */
    private record Reader(ListenQueue queue, Object inode) {}

    private final Supplier<List<Probe>> probes;
    private final Map<Path, Reader> readers = new HashMap<>();
    private boolean closed;

    DynoMetrics(Supplier<List<Probe>> probes) { this.probes = Objects.requireNonNull(probes, "probes"); }

    @Override
    public synchronized MetricSnapshots collect() {
        GaugeSnapshot.Builder memory = GaugeSnapshot.builder().name(MEMORY)
                .help("Memory the dyno's processes use (its memory cgroup's charge, page cache included)");
        GaugeSnapshot.Builder queued = GaugeSnapshot.builder().name(LISTEN_QUEUE)
                .help("Connections the kernel completed that the dyno's web process has not accepted yet (accept queue on $PORT)");
        GaugeSnapshot.Builder backlog = GaugeSnapshot.builder().name(LISTEN_BACKLOG)
                .help("The most connections the accept queue on the dyno's $PORT holds (listen backlog, capped by somaxconn)");
        Set<Path> seen = new HashSet<>();
        for (Probe probe : probes.get()) {
            try {
                long bytes = probe.memoryBytes().getAsLong();
                memory.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .labels(Labels.of("app", probe.app(), "dyno", probe.dyno(), "type", probe.type())).value(bytes).build());
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "memory of dyno " + probe.app() + "/" + probe.dyno() + " not read", e);
            }
            if (probe.port() == null || closed) continue;
            seen.add(probe.netnsPin());
            depth(probe).ifPresent(d -> {
                Labels labels = Labels.of("app", probe.app(), "dyno", probe.dyno());
                queued.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(d.queued()).build());
                backlog.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(d.backlog()).build());
            });
        }
        // dynos gone since the last scrape: their sockets must not keep their namespaces alive
        for (Iterator<Map.Entry<Path, Reader>> i = readers.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<Path, Reader> entry = i.next();
            if (!seen.contains(entry.getKey())) {
                entry.getValue().queue().close();
                i.remove();
            }
        }
        return new MetricSnapshots(memory.build(), queued.build(), backlog.build());
    }

    private Optional<ListenQueue.Depth> depth(Probe probe) {
        Path pin = probe.netnsPin();
        Object inode;
        try {
            inode = Files.getAttribute(pin, "unix:ino");
        } catch (IOException | UnsupportedOperationException e) {
            drop(pin);  // no namespace (yet, or any more)
            return Optional.empty();
        }
        Reader reader = readers.get(pin);
        if (reader != null && !reader.inode().equals(inode)) {
            drop(pin);  // the dyno was made again under the same name: a new namespace
            reader = null;
        }
        try {
            if (reader == null) {
                reader = new Reader(ListenQueue.open(pin), inode);
                readers.put(pin, reader);
            }
            return reader.queue().read(probe.port());
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "listen queue of dyno " + probe.app() + "/" + probe.dyno() + " in " + pin + " not read", e);
            drop(pin);
            return Optional.empty();
        }
    }

    private void drop(Path pin) {
        Reader reader = readers.remove(pin);
        if (reader != null) reader.queue().close();
    }

    /** How many namespaces a reader is open in now (for tests and debugging). */
    synchronized Set<Path> openReaders() { return Set.copyOf(readers.keySet()); }

    @Override
    public List<String> getPrometheusNames() { return List.of(MEMORY, LISTEN_QUEUE, LISTEN_BACKLOG); }

    /** Closes every reader; later scrapes report memory only. */
    @Override
    public synchronized void close() {
        closed = true;
        readers.values().forEach(r -> r.queue().close());
        readers.clear();
    }
}
