package io.dynoplane.bench;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.NetworkNamespaces;
import io.dynoplane.provisioner.NatTable;
import io.dynoplane.provisioner.Subnet;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static io.dynoplane.bench.BenchNet.addNetns;
import static io.dynoplane.bench.BenchNet.ip;
import static io.dynoplane.bench.BenchNet.nsExec;
import static io.dynoplane.bench.BenchNet.percentile;
import static io.dynoplane.bench.BenchNet.sysctl;

/**
 * {@code bench nat [--quick] [--seconds N] [--streams N] [--clients N]}: SNAT of dyno traffic to the outside, the
 * BPF NAT ({@link NatTable} on the host's uplink) side by side with nftables masquerade and with plain routing (no
 * NAT: the outside has a route back to the dynos), on three copies of one topology, in one run.
 *
 * <p>Topology (all in namespaces of this run; nothing on the root namespace's links):
 * <pre>
 *   dyno ns  eth0 172.16.0.2/30 (+15 more dyno addresses 172.16.1.x/32, routed by the host over the same veth)
 *     | veth
 *   host ns  dv0 172.16.0.1/30, forwarding; up0 203.0.113.1/24, default via 203.0.113.2; the NAT is on up0
 *     | veth
 *   internet ns  eth0 203.0.113.2/24: TCP sinks and servers, a UDP sink (netdev ingress counters)
 * </pre>
 *
 * <ul>
 * <li>{@code *_gbps}: {@code --streams} parallel TCP streams dyno → internet for {@code --seconds} after 0.3 s of
 *     warm-up, counted at the receivers. Rounds interleave the variants (order rotated each round); median.
 * <li>{@code *_conn_per_s}: {@code --clients} threads in the dyno namespace, each from one of the 16 dyno addresses,
 *     loop connect + 16-byte request + 16-byte response + close with SO_LINGER 0 (an RST: no TIME_WAIT on either
 *     end, so the client's ports never run out) to 8 server ports in the internet namespace; each connection is a
 *     new NAT flow. Completed connections per second over {@code --seconds} after 0.5 s of warm-up, median of
 *     rounds; connect() latency p50/p99 over all rounds.
 * <li>{@code *_bytes_per_flow}: 100,000 UDP flows (16 dyno addresses × 6,250 source ports × 4 destination ports,
 *     one datagram each from a raw socket) through a fresh NAT, before the other measurements. BPF: the NAT maps'
 *     memory ({@link NatTable#mapMemoryBytes()}) / {@link NatTable#flowsInUse()}. nftables: the growth of the
 *     nf_conntrack and kmalloc slab caches (conntrack entries and their NAT extensions) over the new entries in the
 *     host namespace's conntrack table ({@code nf_conntrack_count}); the hash table buckets, global and sized at boot,
 *     are not counted.
 * </ul>
 */
final class NatBench {
    private static final String DYNO_RANGE = "172.16.0.0/12";
    private static final Subnet DYNO = new Subnet(Subnet.parse("172.16.0.0"));
    private static final int EXTRA_DYNOS = Subnet.parse("172.16.1.0"); // more dyno /30s behind the same veth
    private static final int ADDRESSES = 16;
    private static final String OUTBOUND = "203.0.113.1", SERVER = "203.0.113.2";
    private static final String UPLINK = "up0", DYNO_VETH = "dv0";
    private static final int STREAM_PORT = 5001, PROBE_PORT = 7000, CONN_PORT = 8000, CONN_PORTS = 8, UDP_PORT = 9000, UDP_PORTS = 4;
    private static final int FLOWS = 100_000, UDP_SPORT = 10_000;
    private static final int MESSAGE = 16;
    /**
     * nf_conntrack_max is one global limit (read-only in other namespaces) checked against each namespace's count:
     * at 25k connections/s, each in CLOSE for 10 s after its RST, the nft host namespace holds 250k entries.
     */
    private static final long CONNTRACK_MAX = 1 << 20;
    private static volatile String conntrackMaxBefore; // the root namespace's value, to restore; null: untouched

    enum Variant {
        BASE, NFT, BPF;

        String key() { return name().toLowerCase(Locale.ROOT); }
    }

    private NatBench() {}

    record Options(boolean quick, double seconds, int streams, int clients) {
        static Options parse(Deque<String> args) {
            boolean quick = false;
            double seconds = -1;
            int streams = 4, clients = 32;
            while (!args.isEmpty()) {
                String flag = args.pop();
                switch (flag) {
                    case "--quick" -> quick = true;
                    case "--seconds" -> seconds = number(args, 0.5, 60);
                    case "--streams" -> streams = (int) number(args, 1, 64);
                    case "--clients" -> clients = (int) number(args, 1, 512);
                    default -> throw usage();
                }
            }
            return new Options(quick, seconds > 0 ? seconds : quick ? 1.5 : 4, streams, clients);
        }

        private static double number(Deque<String> args, double min, double max) {
            if (args.isEmpty()) throw usage();
            try {
                double v = Double.parseDouble(args.pop());
                if (v < min || v > max) throw usage();
                return v;
            } catch (NumberFormatException e) {
                throw usage();
            }
        }

        private static IllegalArgumentException usage() {
            return new IllegalArgumentException("bench nat: usage: [--quick] [--seconds N (0.5 to 60)] [--streams N] [--clients N]");
        }

        int rounds() { return quick ? 2 : 5; }
    }

    static void run(Deque<String> args) throws Exception {
        Options options = Options.parse(args);
        if (!BenchNet.onPath("nft")) throw new IllegalStateException("bench nat needs nft (apt-get install nftables)");
        String run = BenchNet.runTag();
        Map<Variant, Topology> topologies = new EnumMap<>(Variant.class);
        Thread hook = BenchNet.hook("bench-nat-cleanup", () -> closeAll(topologies));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("bench", "nat");
        json.put("quick", options.quick());
        json.put("seconds", options.seconds());
        json.put("rounds", options.rounds());
        json.put("streams", options.streams());
        json.put("clients", options.clients());
        System.out.printf(Locale.ROOT, "nat: run %s, %d rounds of %.1f s, %d streams, %d clients, %d flows; base = plain routing, nft = nftables masquerade, bpf = NatTable%n",
                run, options.rounds(), options.seconds(), options.streams(), options.clients(), FLOWS);
        String bpfMissing = null;
        try {
            raiseConntrackMax();
            for (Variant v : Variant.values()) {
                Topology t = new Topology(run, v);
                topologies.put(v, t);
                try {
                    t.build();
                } catch (UnsupportedOperationException e) {
                    bpfMissing = e.getMessage();
                    topologies.remove(v);
                    t.close();
                }
            }
            if (bpfMissing != null) System.err.println("nat: the BPF NAT is not available (" + bpfMissing + "): bpf_* are null; measuring base and nft only");
            for (Topology t : topologies.values()) t.verify();

            Map<Variant, FlowTable> tables = new EnumMap<>(Variant.class);
            for (Topology t : topologies.values()) {
                if (t.variant != Variant.BASE) tables.put(t.variant, t.flowTable());
            }

            Map<Variant, List<Double>> gbps = new EnumMap<>(Variant.class);
            Map<Variant, List<Double>> connRates = new EnumMap<>(Variant.class);
            Map<Variant, Histogram> connectUs = new EnumMap<>(Variant.class);
            Map<Variant, Long> connErrors = new EnumMap<>(Variant.class);
            List<Topology> order = List.copyOf(topologies.values());
            for (Topology t : order) t.stream(1.0, options.streams()); // warm-up: JIT, neighbours, NAT state
            for (int round = 0; round < options.rounds(); round++) {
                for (int k = 0; k < order.size(); k++) {
                    Topology t = order.get((round + k) % order.size());
                    double g = t.stream(options.seconds(), options.streams());
                    gbps.computeIfAbsent(t.variant, x -> new ArrayList<>()).add(g);
                    log("round %d: %-4s %6.2f Gbit/s", round + 1, t.variant.key(), g);
                }
            }
            for (Topology t : order) t.connections(1.0, options.clients()); // warm-up
            for (int round = 0; round < options.rounds(); round++) {
                for (int k = 0; k < order.size(); k++) {
                    Topology t = order.get((round + k) % order.size());
                    ConnResult r = t.connections(options.seconds(), options.clients());
                    connRates.computeIfAbsent(t.variant, x -> new ArrayList<>()).add(r.perSecond());
                    connectUs.computeIfAbsent(t.variant, x -> new Histogram(3)).add(r.connectUs());
                    connErrors.merge(t.variant, r.errors(), Long::sum);
                    log("round %d: %-4s %8.0f conn/s (connect p50 %d us, p99 %d us, %d errors)", round + 1, t.variant.key(), r.perSecond(),
                            r.connectUs().getValueAtPercentile(50), r.connectUs().getValueAtPercentile(99), r.errors());
                }
            }
            report(json, gbps, connRates, connectUs, connErrors, tables, bpfMissing);
        } finally {
            closeAll(topologies);
            BenchNet.dropHook(hook);
        }
    }

    private static void closeAll(Map<Variant, Topology> topologies) {
        for (Topology t : List.copyOf(topologies.values())) t.close();
        BenchNet.removeAll();
        restoreConntrackMax();
    }

    /** Raises the global nf_conntrack_max to {@link #CONNTRACK_MAX} for the run if it is lower (restored by closeAll). */
    private static void raiseConntrackMax() throws IOException, InterruptedException {
        if (!Files.exists(Path.of("/proc/sys/net/netfilter/nf_conntrack_max"))) return; // conntrack not loaded yet: nft loads it with its default
        String before = BenchNet.exec("", "sysctl", "-n", "net.netfilter.nf_conntrack_max").strip();
        if (Long.parseLong(before) >= CONNTRACK_MAX) return;
        conntrackMaxBefore = before;
        BenchNet.exec("", "sysctl", "-qw", "net.netfilter.nf_conntrack_max=" + CONNTRACK_MAX);
        log("net.netfilter.nf_conntrack_max (global) raised from %s to %d for the run", before, CONNTRACK_MAX);
    }

    private static synchronized void restoreConntrackMax() {
        String before = conntrackMaxBefore;
        if (before == null) return;
        try {
            BenchNet.exec("", "sysctl", "-qw", "net.netfilter.nf_conntrack_max=" + before);
            conntrackMaxBefore = null;
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("nat: could not restore net.netfilter.nf_conntrack_max to " + before + ": " + e.getMessage());
        }
    }

    /**
     * The BPF NAT's configuration: the defaults, with a table of 2^19 flows (this run's 100k UDP flows live 60 s
     * while the connection rounds add up to 20k/s held 10 s after their RST) and the per-dyno cap as large as the
     * table: nftables masquerade has no per-source limit, so neither does the NAT it is compared with.
     */
    private static NatTable.Config natConfig() {
        NatTable.Config d = NatTable.Config.defaults();
        int flows = Math.max(d.maxFlows(), 1 << 19);
        return new NatTable.Config(flows, flows, d.portLow(), d.portHigh(), d.tcpEstablished(), d.tcpClosing(), d.udp(), d.icmp());
    }

    private static int dynoAddress(int i) {
        return i == 0 ? DYNO.dynoAddress() : new Subnet(EXTRA_DYNOS + 4 * (i - 1)).dynoAddress();
    }

    // ---- Topology: dyno ns -- host ns (NAT on the uplink) -- internet ns ---------------------------------------------

    private record ConnResult(double perSecond, Histogram connectUs, long errors) {}

    /** {@code bytes} of kernel memory for {@code flows} NAT flows; {@code entryBytes}: the per-entry object, where known. */
    private record FlowTable(long flows, long bytes, long entryBytes, long capacity) {
        double bytesPerFlow() { return flows == 0 ? Double.NaN : bytes / (double) flows; }
    }

    private static final class Topology implements AutoCloseable {
        final Variant variant;
        final String dyno, host, internet;
        private NatTable nat;
        private final List<ServerSocketChannel> listeners = new ArrayList<>();
        private final List<Thread> servers = new ArrayList<>();

        Topology(String run, Variant variant) {
            this.variant = variant;
            String tag = run + variant.ordinal();
            this.dyno = "nbd" + tag;
            this.host = "nbh" + tag;
            this.internet = "nbi" + tag;
        }

        void build() throws IOException, InterruptedException {
            for (String ns : List.of(dyno, host, internet)) addNetns(ns);
            for (String ns : List.of(dyno, host, internet)) {
                sysctl(ns, "net.ipv4.conf.all.rp_filter", "0");
                sysctl(ns, "net.ipv4.conf.default.rp_filter", "0");
            }
            ip("-n", host, "link", "add", DYNO_VETH, "type", "veth", "peer", "name", "eth0", "netns", dyno);
            ip("-n", host, "link", "add", UPLINK, "type", "veth", "peer", "name", "eth0", "netns", internet);

            ip("-n", dyno, "addr", "add", DYNO.dynoCidr(), "dev", "eth0");
            for (int i = 1; i < ADDRESSES; i++) ip("-n", dyno, "addr", "add", Subnet.dotted(dynoAddress(i)) + "/32", "dev", "eth0");
            ip("-n", dyno, "link", "set", "lo", "up");
            ip("-n", dyno, "link", "set", "eth0", "up");
            ip("-n", dyno, "route", "add", "default", "via", Subnet.dotted(DYNO.hostAddress()));
            sysctl(dyno, "net.ipv4.ip_local_port_range", "1024 65535");

            ip("-n", host, "addr", "add", DYNO.hostCidr(), "dev", DYNO_VETH);
            ip("-n", host, "addr", "add", OUTBOUND + "/24", "dev", UPLINK);
            ip("-n", host, "link", "set", "lo", "up");
            ip("-n", host, "link", "set", DYNO_VETH, "up");
            ip("-n", host, "link", "set", UPLINK, "up");
            ip("-n", host, "route", "add", Subnet.dotted(EXTRA_DYNOS) + "/24", "via", Subnet.dotted(DYNO.dynoAddress()), "dev", DYNO_VETH);
            ip("-n", host, "route", "add", "default", "via", SERVER, "dev", UPLINK);
            sysctl(host, "net.ipv4.ip_forward", "1");

            ip("-n", internet, "addr", "add", SERVER + "/24", "dev", "eth0");
            ip("-n", internet, "link", "set", "lo", "up");
            ip("-n", internet, "link", "set", "eth0", "up");
            if (variant == Variant.BASE) ip("-n", internet, "route", "add", DYNO_RANGE, "via", OUTBOUND, "dev", "eth0");
            // The UDP flows of the flow-table test end here; those from the outbound address (translated) are counted.
            nsExec(internet, """
                    table netdev sink {
                      chain in {
                        type filter hook ingress device "eth0" priority 0; policy accept;
                        ip saddr %s udp dport %d-%d counter drop
                        udp dport %d-%d drop
                      }
                    }
                    """.formatted(OUTBOUND, UDP_PORT, UDP_PORT + UDP_PORTS - 1, UDP_PORT, UDP_PORT + UDP_PORTS - 1), "nft", "-f", "-");

            switch (variant) {
                case BASE -> { }
                case NFT -> nsExec(host, """
                        table ip nat {
                          chain postrouting {
                            type nat hook postrouting priority srcnat; policy accept;
                            oifname "%s" ip saddr %s masquerade
                          }
                        }
                        """.formatted(UPLINK, DYNO_RANGE), "nft", "-f", "-");
                case BPF -> {
                    NatTable.Config config = natConfig();
                    nat = NetworkNamespaces.inside(host, () -> NatTable.attach(Libbpf.ifindex(UPLINK), OUTBOUND, DYNO_RANGE, config));
                    log("bpf: NatTable attached to %s in %s: %s", UPLINK, host, config);
                }
            }
            startServers();
        }

        /** The connection servers: {@value #CONN_PORTS} listeners, each with a few threads that accept and answer. */
        private void startServers() {
            for (int p = 0; p < CONN_PORTS; p++) {
                InetSocketAddress at = new InetSocketAddress(SERVER, CONN_PORT + p);
                ServerSocketChannel listener = NetworkNamespaces.inside(internet, () -> {
                    ServerSocketChannel s = ServerSocketChannel.open();
                    s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    return s.bind(at, 4096);
                });
                listeners.add(listener);
                for (int k = 0; k < 8; k++) {
                    servers.add(Thread.ofPlatform().daemon(true).name("bench-nat-server-" + p + "-" + k).start(() -> serve(listener)));
                }
            }
        }

        /** Accept, read the request, answer, then wait for the client's RST (or FIN) and close. */
        private static void serve(ServerSocketChannel listener) {
            ByteBuffer in = ByteBuffer.allocate(MESSAGE), out = ByteBuffer.allocate(MESSAGE);
            while (true) {
                SocketChannel c;
                try {
                    c = listener.accept();
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    continue;
                }
                try (c) {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    if (!readFully(c, in.clear())) continue;
                    c.write(out.clear());
                    c.read(in.clear()); // -1 or ECONNRESET: the client is done
                } catch (IOException ignored) { // the client's RST
                }
            }
        }

        private static boolean readFully(SocketChannel c, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (c.read(b) < 0) return false;
            }
            return true;
        }

        /** One connection from the dyno: it must arrive from the outbound address through a NAT, from the dyno itself without. */
        void verify() throws IOException {
            InetSocketAddress at = new InetSocketAddress(SERVER, PROBE_PORT);
            try (ServerSocketChannel probe = NetworkNamespaces.inside(internet, () -> ServerSocketChannel.open().bind(at));
                 SocketChannel client = NetworkNamespaces.inside(dyno, SocketChannel::open)) {
                client.socket().connect(at, 3_000);
                try (SocketChannel accepted = probe.accept()) {
                    InetAddress seen = ((InetSocketAddress) accepted.getRemoteAddress()).getAddress();
                    String expected = variant == Variant.BASE ? Subnet.dotted(DYNO.dynoAddress()) : OUTBOUND;
                    if (!seen.getHostAddress().equals(expected)) {
                        throw new IllegalStateException(variant.key() + ": the internet saw the dyno's connection from " + seen.getHostAddress() + ", expected " + expected);
                    }
                }
            }
            log("%s: topology %s -> %s -> %s verified (the server sees %s)", variant.key(), dyno, host, internet,
                    variant == Variant.BASE ? "the dyno's own address" : "the outbound address " + OUTBOUND);
        }

        double stream(double seconds, int streams) throws Exception {
            return BenchNet.tcpStreams(internet, dyno, new InetSocketAddress(SERVER, STREAM_PORT), streams, seconds);
        }

        /** Connections/s over {@code seconds} after 0.5 s of warm-up: {@code clients} threads in the dyno namespace. */
        ConnResult connections(double seconds, int clients) {
            long start = System.nanoTime(), from = start + 500_000_000L, until = from + (long) (seconds * 1e9);
            AtomicLong completed = new AtomicLong(), errors = new AtomicLong();
            Histogram all = new Histogram(3);
            NetworkNamespaces.inside(dyno, () -> { // threads started here are in the dyno namespace, and end before it returns
                List<Thread> threads = new ArrayList<>();
                List<Histogram> histograms = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    Histogram h = new Histogram(3);
                    histograms.add(h);
                    InetSocketAddress source = new InetSocketAddress(Subnet.dotted(dynoAddress(i % ADDRESSES)), 0);
                    int first = i;
                    threads.add(Thread.ofPlatform().name("bench-nat-client-" + i).start(() ->
                            clientLoop(source, first, from, until, h, completed, errors)));
                }
                for (Thread t : threads) t.join();
                for (Histogram h : histograms) all.add(h);
                return null;
            });
            return new ConnResult(completed.get() / seconds, all, errors.get());
        }

        private static void clientLoop(InetSocketAddress source, int first, long from, long until, Histogram connectUs,
                                       AtomicLong completed, AtomicLong errors) {
            ByteBuffer request = ByteBuffer.allocate(MESSAGE), response = ByteBuffer.allocate(MESSAGE);
            long mine = 0;
            for (int n = first; System.nanoTime() < until; n++) {
                InetSocketAddress to = new InetSocketAddress(SERVER, CONN_PORT + n % CONN_PORTS);
                try (SocketChannel c = SocketChannel.open()) {
                    c.setOption(StandardSocketOptions.SO_LINGER, 0); // close() sends an RST: no TIME_WAIT
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    c.bind(source);
                    long t0 = System.nanoTime();
                    c.socket().connect(to, 3_000);
                    long t1 = System.nanoTime();
                    c.write(request.clear());
                    if (!readFully(c, response.clear())) throw new IOException("server closed early");
                    long done = System.nanoTime();
                    if (done >= from && done < until) {
                        mine++;
                        connectUs.recordValue(Math.max(1, (t1 - t0) / 1_000));
                    }
                } catch (IOException e) {
                    if (System.nanoTime() >= from) errors.incrementAndGet();
                }
            }
            completed.addAndGet(mine);
        }

        /** Opens {@value #FLOWS} UDP flows through the NAT and measures what its flow table takes for them. */
        FlowTable flowTable() throws IOException, InterruptedException {
            List<byte[]> packets = new ArrayList<>(FLOWS);
            byte[] payload = new byte[8];
            for (int i = 0; i < FLOWS; i++) {
                int source = dynoAddress(i % ADDRESSES), sport = UDP_SPORT + i / ADDRESSES, dport = UDP_PORT + (i / ADDRESSES) % UDP_PORTS;
                packets.add(Frames.ipv4WithChecksums(source, Subnet.parse(SERVER), Frames.UDP, Frames.udp(sport, dport, payload)));
            }
            long flowsBefore = flows(), translatedBefore = translated();
            Map<String, Long> slabBefore = variant == Variant.NFT ? slabBytes() : Map.of();
            RawSender sender = NetworkNamespaces.inside(dyno, RawSender::new);
            long flows = 0;
            try {
                // The veths' backlogs may drop a few of a burst: send again (same flows) until nearly all are there.
                for (int pass = 0; pass < 4; pass++) {
                    for (int from = 0; from < FLOWS; from += 4096) {
                        sender.sendEach(packets.subList(from, Math.min(FLOWS, from + 4096)), Subnet.parse(SERVER));
                    }
                    flows = flows() - flowsBefore;
                    if (flows >= FLOWS * 999L / 1000) break;
                }
            } finally {
                sender.close();
            }
            long translated = translated() - translatedBefore;
            if (translated < flows) {
                throw new IllegalStateException(variant.key() + ": " + flows + " new flows but only " + translated + " translated datagrams reached the internet");
            }
            FlowTable table;
            if (variant == Variant.NFT) {
                Map<String, Long> slabAfter = slabBytes();
                long grown = 0, entry = 0;
                for (Map.Entry<String, Long> e : slabAfter.entrySet()) {
                    if (e.getKey().equals("nf_conntrack") || e.getKey().startsWith("kmalloc-")) grown += e.getValue() - slabBefore.getOrDefault(e.getKey(), 0L);
                }
                entry = objectSize("nf_conntrack");
                long max = Long.parseLong(BenchNet.readSysctl(host, "net.netfilter.nf_conntrack_max"));
                table = new FlowTable(flows, grown, entry, max);
            } else {
                // The flow maps are preallocated hashes: every slot costs the same whether in use or not, so a
                // flow's memory is the maps' size over their capacity, and 100k flows take 100k such slots.
                int capacity = natConfig().maxFlows();
                table = new FlowTable(flows, nat.mapMemoryBytes() * flows / capacity, nat.mapMemoryBytes() / capacity, capacity);
            }
            log("%s: %d flows in the table after %d translated datagrams: %d bytes, %.1f bytes/flow%s", variant.key(), flows, translated,
                    table.bytes(), table.bytesPerFlow(), variant == Variant.NFT ? " (nf_conntrack object " + table.entryBytes() + " bytes)" : "");
            if (flows < FLOWS * 99L / 100) log("%s: WARNING: only %d of %d flows were opened", variant.key(), flows, FLOWS);
            return table;
        }

        /** Flows in this topology's NAT: conntrack entries of the host namespace, or the BPF table's. */
        private long flows() throws IOException, InterruptedException {
            if (variant == Variant.BPF) return nat.flowsInUse();
            return Long.parseLong(BenchNet.readSysctl(host, "net.netfilter.nf_conntrack_count"));
        }

        /** Datagrams the internet's UDP sink counted from the outbound address: translated by the NAT. */
        private long translated() throws IOException, InterruptedException {
            String out = nsExec(internet, "", "nft", "list", "table", "netdev", "sink");
            int at = out.indexOf("packets ");
            if (at < 0) throw new IllegalStateException("no counter in: " + out);
            return Long.parseLong(out.substring(at + 8, out.indexOf(' ', at + 8)));
        }

        @Override
        public void close() {
            for (ServerSocketChannel l : listeners) {
                try {
                    l.close();
                } catch (IOException ignored) {
                }
            }
            listeners.clear();
            for (Thread t : servers) t.interrupt();
            servers.clear();
            if (nat != null) {
                try {
                    nat.close();
                } catch (RuntimeException e) {
                    System.err.println("nat: closing the NAT table: " + e.getMessage());
                }
                nat = null;
            }
            for (String ns : List.of(dyno, host, internet)) BenchNet.removeNetns(ns);
        }
    }

    // ---- Slab accounting (nftables' flow memory) ---------------------------------------------------------------------

    /** Bytes in use per slab cache: active objects × object size, from /proc/slabinfo. */
    private static Map<String, Long> slabBytes() throws IOException {
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/slabinfo"))) {
            if (line.startsWith("slabinfo") || line.startsWith("#")) continue;
            String[] f = line.trim().split("\\s+");
            bytes.put(f[0], Long.parseLong(f[1]) * Long.parseLong(f[3]));
        }
        return bytes;
    }

    private static long objectSize(String cache) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/slabinfo"))) {
            String[] f = line.trim().split("\\s+");
            if (f[0].equals(cache)) return Long.parseLong(f[3]);
        }
        return 0;
    }

    // ---- Report -------------------------------------------------------------------------------------------------

    private static void report(Map<String, Object> json, Map<Variant, List<Double>> gbps, Map<Variant, List<Double>> connRates,
                               Map<Variant, Histogram> connectUs, Map<Variant, Long> connErrors, Map<Variant, FlowTable> tables,
                               String bpfMissing) {
        System.out.println();
        System.out.println("  variant | Gbit/s (median; rounds)                | conn/s (median; rounds)                      | connect us p50  p99 | flow table at 100k: flows  bytes/flow");
        for (Variant v : Variant.values()) {
            if (!gbps.containsKey(v)) {
                System.out.printf("  %-7s | not measured: %s%n", v.key(), bpfMissing);
                continue;
            }
            FlowTable t = tables.get(v);
            System.out.printf(Locale.ROOT, "  %-7s | %6.2f %-31s | %8.0f %-35s | %8d %5d | %s%n", v.key(), percentile(gbps.get(v), 50), rounded(gbps.get(v), "%.2f"),
                    percentile(connRates.get(v), 50), rounded(connRates.get(v), "%.0f"), connectUs.get(v).getValueAtPercentile(50),
                    connectUs.get(v).getValueAtPercentile(99), t == null ? "-" : String.format(Locale.ROOT, "%d  %.1f", t.flows(), t.bytesPerFlow()));
        }
        json.put("bpf_available", bpfMissing == null);
        for (Variant v : Variant.values()) {
            boolean has = gbps.containsKey(v);
            json.put(v.key() + "_gbps", has ? percentile(gbps.get(v), 50) : null);
        }
        for (Variant v : Variant.values()) {
            boolean has = connRates.containsKey(v);
            json.put(v.key() + "_conn_per_s", has ? percentile(connRates.get(v), 50) : null);
            json.put(v.key() + "_connect_p50_us", has ? connectUs.get(v).getValueAtPercentile(50) : null);
            json.put(v.key() + "_connect_p99_us", has ? connectUs.get(v).getValueAtPercentile(99) : null);
            json.put(v.key() + "_conn_errors", has ? connErrors.get(v) : null);
        }
        FlowTable bpf = tables.get(Variant.BPF), nft = tables.get(Variant.NFT);
        json.put("bpf_bytes_per_flow", bpf == null ? null : bpf.bytesPerFlow());
        json.put("bpf_flows", bpf == null ? null : bpf.flows());
        json.put("bpf_map_bytes", bpf == null ? null : bpf.entryBytes() * bpf.capacity()); // the whole preallocated table
        json.put("bpf_max_flows", bpf == null ? null : bpf.capacity());
        json.put("nft_bytes_per_flow", nft == null ? null : nft.bytesPerFlow());
        json.put("nft_flows", nft == null ? null : nft.flows());
        json.put("nft_ct_object_bytes", nft == null ? null : nft.entryBytes());
        Boolean gbpsHolds = bpf == null ? null : percentile(gbps.get(Variant.BPF), 50) >= percentile(gbps.get(Variant.NFT), 50);
        Boolean connHolds = bpf == null ? null : percentile(connRates.get(Variant.BPF), 50) >= percentile(connRates.get(Variant.NFT), 50);
        json.put("target_bpf_gbps_ge_nft", gbpsHolds);
        json.put("target_bpf_conn_ge_nft", connHolds);
        System.out.println(bpfMissing == null
                ? String.format("  target: bpf >= nft throughput: %s; connection rate: %s", holds(gbpsHolds), holds(connHolds))
                : "  target: not checked, the BPF NAT is not available (" + bpfMissing + ")");
        System.out.println(BenchNet.toJson(json));
    }

    private static String holds(Boolean b) { return Boolean.TRUE.equals(b) ? "holds" : "MISSED"; }

    private static String rounded(List<Double> values, String format) {
        return values.stream().map(x -> String.format(Locale.ROOT, format, x)).toList().toString().replace(" ", "");
    }

    private static void log(String format, Object... args) {
        System.err.println("nat: " + String.format(Locale.ROOT, format, args));
    }
}
