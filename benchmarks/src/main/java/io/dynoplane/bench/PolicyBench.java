package io.dynoplane.bench;

import io.dynoplane.ffm.Libbpf;
import io.dynoplane.ffm.NetworkNamespaces;
import io.dynoplane.ffm.TestRun;
import io.dynoplane.provisioner.IsolationPlane;
import io.dynoplane.provisioner.IsolationPlane.DynoPolicy;
import io.dynoplane.provisioner.Subnet;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.dynoplane.bench.BenchNet.addNetns;
import static io.dynoplane.bench.BenchNet.exec;
import static io.dynoplane.bench.BenchNet.ip;
import static io.dynoplane.bench.BenchNet.mac;
import static io.dynoplane.bench.BenchNet.nsExec;
import static io.dynoplane.bench.BenchNet.onPath;
import static io.dynoplane.bench.BenchNet.percentile;
import static io.dynoplane.bench.BenchNet.toJson;

/**
 * {@code bench policy [--sizes 10,1000,10000] [--quick]}: the per-packet cost of the isolation policy and the
 * throughput of allowed traffic (router to a web dyno) at N dynos, the guard (BPF, hash maps) side by side with
 * the same policy as an nftables ruleset of sets and as classic per-dyno iptables (legacy xtables) rules, in one run.
 *
 * <p>Per size, four topologies of this run's own (a "host" namespace where the router is, a dyno namespace, one
 * veth between them): no policy, the guard on the veth with N dynos in its maps, the nftables ruleset with N
 * dynos in its sets, the iptables rules for N dynos. The measured dyno is the middle one of the N.
 *
 * <ul>
 * <li>{@code bpf_ns_N}: bpf_prog_test_run_opts of {@code dyno_to} on the router's SYN to the web dyno's $PORT,
 *     repeat R, the kernel's ns per run; median of rounds. Also an established-flow segment and a dyno to dyno
 *     packet through {@code dyno_from} (dropped).
 * <li>{@code bpf_real_ns_N}, {@code nft_ns_N}, {@code ipt_ns_N}: real packets. The same router SYN, sent K times
 *     from a raw socket in the host namespace (sendmmsg), allowed by the policy, sunk at the dyno's ingress by an
 *     nftables netdev rule (same in every topology). The cost is the sending thread's CPU time per packet (the
 *     whole send path including the policy and, with no IRQ time accounting, the softirq that follows), minus the
 *     no-policy topology's: the policy's added ns per packet. Rounds interleave the four topologies; median.
 * <li>{@code *_gbps_N}: a TCP stream from the router (host namespace) to a listener in the dyno namespace.
 * </ul>
 */
final class PolicyBench {
    private static final int PORT = 5000;
    private static final int SINK_SPORT = 40000; // the raw SYNs' source port; the dyno namespace drops these at ingress
    private static final int BASE = Subnet.parse("172.16.0.0");
    private static final String EGRESS = "198.51.100.0/24";
    private static final String IPTABLES = "iptables-legacy";
    private static final int TCP = Frames.TCP, SYN = Frames.SYN, ACK = 0x10;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    enum Variant { NONE, BPF, NFT, IPT }

    private PolicyBench() {}

    private record Options(List<Integer> sizes, boolean quick) {
        static Options parse(Deque<String> args) {
            List<Integer> sizes = List.of(10, 1000, 10000);
            boolean quick = false;
            while (!args.isEmpty()) {
                String flag = args.pop();
                switch (flag) {
                    case "--quick" -> quick = true;
                    case "--sizes" -> {
                        if (args.isEmpty()) throw usage();
                        try {
                            sizes = Arrays.stream(args.pop().split(",")).map(String::strip).map(Integer::parseInt).toList();
                        } catch (NumberFormatException e) {
                            throw usage();
                        }
                        if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 1 || n > 40000)) throw usage();
                    }
                    default -> throw usage();
                }
            }
            return new Options(sizes, quick);
        }

        private static IllegalArgumentException usage() {
            return new IllegalArgumentException("bench policy: usage: [--sizes N,N,...] (each 1 to 40000) [--quick]");
        }

        int testRunRepeat() { return quick ? 200_000 : 1_000_000; }
        int testRunRounds() { return quick ? 5 : 9; }
        int packetRounds() { return quick ? 5 : 9; }
        double packetRoundSeconds() { return quick ? 0.08 : 0.2; }
        int streamRounds() { return quick ? 1 : 3; }
        double streamSeconds() { return quick ? 1.0 : 1.5; }
    }

    static void run(Deque<String> args) throws Exception {
        Options options = Options.parse(args);
        if (!onPath(IPTABLES)) throw new IllegalStateException("bench policy needs " + IPTABLES + " (apt-get install iptables)");
        if (!onPath("nft")) throw new IllegalStateException("bench policy needs nft (apt-get install nftables)");
        String run = BenchNet.runTag();
        Thread hook = BenchNet.hook("bench-policy-cleanup", BenchNet::removeAll);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("bench", "policy");
        json.put("sizes", options.sizes().toString().replace(" ", ""));
        json.put("quick", options.quick());
        json.put("iptables", IPTABLES);
        System.out.printf("policy: sizes %s, run %s, iptables = %s (xtables legacy), nftables sets, guard maps%n", options.sizes(), run, IPTABLES);
        Map<Integer, SizeResult> results = new LinkedHashMap<>();
        try {
            int k = 0;
            for (int n : options.sizes()) results.put(n, measureSize(options, run + (k++), n));
        } finally {
            BenchNet.removeAll();
            BenchNet.dropHook(hook);
        }
        report(options, results, json);
    }

    // ---- One size -----------------------------------------------------------------------------------------------

    /** {@code packetNs}: absolute CPU ns per packet (median); {@code addedNs}: median over rounds of (variant - none) in the same round. */
    private record SizeResult(int dynos, TestRuns testRuns, Map<Variant, Double> packetNs, Map<Variant, Double> addedNs,
                              Map<Variant, double[]> addedP10P90, Map<Variant, Double> gbps) {}

    private record TestRuns(double synNs, double establishedNs, double dropNs, double synP10, double synP90) {}

    private static SizeResult measureSize(Options options, String tag, int n) throws Exception {
        log("%d dynos: building four topologies (none, bpf, nft, ipt)...", n);
        int measured = n / 2;
        Map<Variant, Topology> topologies = new EnumMap<>(Variant.class);
        IsolationPlane plane = null;
        try {
            for (Variant v : Variant.values()) {
                topologies.put(v, Topology.create(tag + v.name().substring(0, 2).toLowerCase(Locale.ROOT), n, measured));
            }
            long t0 = System.nanoTime();
            plane = IsolationPlane.load();
            installGuard(plane, topologies.get(Variant.BPF), n, measured);
            installNft(topologies.get(Variant.NFT), n, measured);
            installIptables(topologies.get(Variant.IPT), n, measured);
            log("%d dynos: policies installed in %.1f s", n, (System.nanoTime() - t0) / 1e9);

            TestRuns testRuns = testRuns(options, plane, topologies.get(Variant.BPF), measured);
            log("%d dynos: bpf test_run: router SYN %.1f ns, established %.1f ns, dyno->dyno drop %.1f ns",
                    n, testRuns.synNs(), testRuns.establishedNs(), testRuns.dropNs());

            for (Topology t : topologies.values()) t.openSender();
            // The policy is in force: a SYN to another port is not delivered, the router's SYN to $PORT is.
            for (Map.Entry<Variant, Topology> e : topologies.entrySet()) e.getValue().checkPolicy(e.getKey() != Variant.NONE);

            // Per-packet cost, real packets. K per topology so that a round lasts about the same in each.
            Map<Variant, Long> perRound = new EnumMap<>(Variant.class);
            for (Map.Entry<Variant, Topology> e : topologies.entrySet()) {
                Topology t = e.getValue();
                t.sendTimed(20_000); // warm-up: JIT, conntrack entry, flow entry, neighbour
                double ns = t.sendTimed(20_000)[0];
                perRound.put(e.getKey(), Math.max(2_000L, Math.min(5_000_000L, (long) (options.packetRoundSeconds() * 1e9 / ns))));
            }
            Map<Variant, List<Double>> samples = new EnumMap<>(Variant.class);
            for (int round = 0; round < options.packetRounds(); round++) {
                for (Map.Entry<Variant, Topology> e : topologies.entrySet()) {
                    samples.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(e.getValue().sendTimed(perRound.get(e.getKey()))[0]);
                }
            }
            Map<Variant, Double> packetNs = new EnumMap<>(Variant.class);
            Map<Variant, Double> added = new EnumMap<>(Variant.class);
            Map<Variant, double[]> addedSpread = new EnumMap<>(Variant.class);
            List<Double> none = samples.get(Variant.NONE);
            for (Variant v : Variant.values()) {
                List<Double> mine = samples.get(v), diff = new ArrayList<>();
                for (int r = 0; r < mine.size(); r++) diff.add(mine.get(r) - none.get(r));
                packetNs.put(v, percentile(mine, 50));
                added.put(v, percentile(diff, 50));
                addedSpread.put(v, new double[] {percentile(diff, 10), percentile(diff, 90)});
                log("%d dynos: %-4s %8.1f ns/packet CPU (median of %d rounds of %d, p10..p90 %.1f..%.1f); added over none, paired by round: %.1f (p10..p90 %.1f..%.1f)",
                        n, v.name().toLowerCase(Locale.ROOT), packetNs.get(v), mine.size(), perRound.get(v), percentile(mine, 10), percentile(mine, 90),
                        added.get(v), addedSpread.get(v)[0], addedSpread.get(v)[1]);
            }
            for (Topology t : topologies.values()) t.closeSender();

            // Throughput of allowed traffic: router -> web dyno TCP stream.
            Map<Variant, List<Double>> streams = new EnumMap<>(Variant.class);
            for (int round = 0; round < options.streamRounds(); round++) {
                for (Map.Entry<Variant, Topology> e : topologies.entrySet()) {
                    streams.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(e.getValue().stream(options.streamSeconds()));
                }
            }
            Map<Variant, Double> gbps = new EnumMap<>(Variant.class);
            for (Variant v : Variant.values()) {
                gbps.put(v, percentile(streams.get(v), 50));
                log("%d dynos: %-4s %6.2f Gbit/s router -> web dyno (median of %s)", n, v.name().toLowerCase(Locale.ROOT), gbps.get(v),
                        streams.get(v).stream().map(g -> String.format(Locale.ROOT, "%.2f", g)).toList());
            }
            return new SizeResult(n, testRuns, packetNs, added, addedSpread, gbps);
        } finally {
            for (Topology t : topologies.values()) t.close();
            if (plane != null) plane.close();
        }
    }

    // ---- The three policies -------------------------------------------------------------------------------------

    private static Subnet subnet(int i) { return new Subnet(BASE + 4 * i); }

    private static String veth(int i) { return "dv" + i; }

    /** N web dynos in the guard's maps (Common Runtime, $PORT 5000); the measured one on the real veth and on ifindex 1 (test_run). */
    private static void installGuard(IsolationPlane plane, Topology t, int n, int measured) {
        for (int i = 0; i < n; i++) {
            Subnet s = subnet(i);
            int ifindex = i == measured ? t.hostIfindex : 1_000_000 + i;
            plane.admit(new DynoPolicy(s.dynoId(), s, s.dynoMac(), PORT, 0, false, ifindex));
        }
        Subnet m = subnet(measured);
        plane.admit(new DynoPolicy(m.dynoId(), m, m.dynoMac(), PORT, 0, false, 1)); // test_run's skb->ifindex
        plane.allowEgress(EGRESS);
        NetworkNamespaces.inside(t.host, () -> {
            plane.attach(t.hostIfindex);
            return null;
        });
    }

    /** The same policy as an operator writes it in nftables: sets and concatenations, O(1) lookups. */
    private static void installNft(Topology t, int n, int measured) throws IOException, InterruptedException {
        StringBuilder dynos = new StringBuilder(), web = new StringBuilder(), veths = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Subnet s = subnet(i);
            String sep = i == 0 ? "" : ", ";
            dynos.append(sep).append(Subnet.dotted(s.dynoAddress()));
            web.append(sep).append(Subnet.dotted(s.hostAddress())).append(" . ").append(Subnet.dotted(s.dynoAddress())).append(" . ").append(PORT);
            veths.append(sep).append('"').append(veth(i)).append("\" . ").append(Subnet.dotted(s.dynoAddress())).append(" . ").append(mac(s.dynoMac()));
        }
        String ruleset = """
                table ip dynoplane {
                  set dynos { type ipv4_addr; elements = { %s } }
                  set web { type ipv4_addr . ipv4_addr . inet_service; elements = { %s } }
                  set veths { type ifname . ipv4_addr . ether_addr; elements = { %s } }
                  set egress { type ipv4_addr; flags interval; elements = { %s } }
                  chain to_dyno {
                    ct state established,related accept
                    tcp flags & (syn | ack) == syn ct state new ip saddr . ip daddr . tcp dport @web accept
                    drop
                  }
                  chain from_dyno {
                    iifname . ip saddr . ether saddr != @veths drop
                    ct state established,related accept
                    ip daddr 172.16.0.0/12 drop
                    ip daddr @egress accept
                    drop
                  }
                  chain output { type filter hook output priority filter; policy accept; ip daddr @dynos jump to_dyno; }
                  chain forward { type filter hook forward priority filter; policy accept; iifname "dv*" jump from_dyno; ip daddr @dynos jump to_dyno; }
                  chain input { type filter hook input priority filter; policy accept; iifname "dv*" jump from_dyno; }
                }
                """.formatted(dynos, web, veths, EGRESS);
        t.load(ruleset, "nft", "-f", "-");
    }

    /** The same policy as classic per-dyno iptables rules: a linear chain, one rule (or two) per dyno. */
    private static void installIptables(Topology t, int n, int measured) throws IOException, InterruptedException {
        StringBuilder r = new StringBuilder(64 * 4 * n + 1024);
        r.append("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:DYNO_TO - [0:0]\n:DYNO_FROM - [0:0]\n");
        r.append("-A OUTPUT -d 172.16.0.0/12 -j DYNO_TO\n");
        r.append("-A INPUT -i dv+ -j DYNO_FROM\n");
        r.append("-A FORWARD -i dv+ -j DYNO_FROM\n");
        r.append("-A FORWARD -d 172.16.0.0/12 -j DYNO_TO\n");
        for (int i = 0; i < n; i++) { // anti-spoof: each dyno's veth carries only its address and MAC
            Subnet s = subnet(i);
            r.append("-A DYNO_FROM -i ").append(veth(i)).append(" ! -s ").append(Subnet.dotted(s.dynoAddress())).append(" -j DROP\n");
            r.append("-A DYNO_FROM -i ").append(veth(i)).append(" -m mac ! --mac-source ").append(mac(s.dynoMac())).append(" -j DROP\n");
        }
        r.append("-A DYNO_FROM -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n");
        r.append("-A DYNO_FROM -d 172.16.0.0/12 -j DROP\n");
        r.append("-A DYNO_FROM -d ").append(EGRESS).append(" -j ACCEPT\n");
        r.append("-A DYNO_FROM -j DROP\n");
        r.append("-A DYNO_TO -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n");
        for (int i = 0; i < n; i++) { // the router (the dyno's gateway) may open connections to its $PORT
            Subnet s = subnet(i);
            r.append("-A DYNO_TO -s ").append(Subnet.dotted(s.hostAddress())).append(" -d ").append(Subnet.dotted(s.dynoAddress()))
                    .append(" -p tcp --syn --dport ").append(PORT).append(" -m conntrack --ctstate NEW -j ACCEPT\n");
        }
        r.append("-A DYNO_TO -j DROP\nCOMMIT\n");
        t.load(r.toString(), IPTABLES + "-restore");
    }

    // ---- bpf_prog_test_run --------------------------------------------------------------------------------------

    private static TestRuns testRuns(Options options, IsolationPlane plane, Topology t, int measured) {
        Subnet self = subnet(measured), other = subnet(measured == 0 ? 1 : measured - 1);
        byte[] syn = Frames.frame(self.dynoMac(), Frames.ipv4(self.hostAddress(), self.dynoAddress(), TCP, Frames.tcp(33000, PORT, SYN)));
        byte[] established = Frames.frame(self.dynoMac(), Frames.ipv4(self.hostAddress(), self.dynoAddress(), TCP, Frames.tcp(33000, PORT, ACK)));
        byte[] toOther = Frames.frame(self.dynoMac(), Frames.ipv4(self.dynoAddress(), other.dynoAddress(), TCP, Frames.tcp(40000, PORT, SYN)));
        int repeat = options.testRunRepeat();
        return NetworkNamespaces.inside(t.host, () -> {
            expect(plane.testRun(false, syn, 1), -1, "router SYN");          // TC_ACT_UNSPEC, and the flow is tracked
            expect(plane.testRun(false, established, 1), -1, "established");
            expect(plane.testRun(true, toOther, 1), 2, "dyno to dyno");       // TC_ACT_SHOT
            for (byte[] f : List.of(syn, established)) plane.testRun(false, f, repeat); // warm-up
            plane.testRun(true, toOther, repeat);
            List<Double> s = new ArrayList<>(), e = new ArrayList<>(), d = new ArrayList<>();
            for (int round = 0; round < options.testRunRounds(); round++) {
                s.add((double) plane.testRun(false, syn, repeat).durationNs());
                e.add((double) plane.testRun(false, established, repeat).durationNs());
                d.add((double) plane.testRun(true, toOther, repeat).durationNs());
            }
            return new TestRuns(percentile(s, 50), percentile(e, 50), percentile(d, 50), percentile(s, 10), percentile(s, 90));
        });
    }

    private static void expect(TestRun run, int action, String what) {
        if (run.retval() != action) throw new IllegalStateException("guard gave " + run.retval() + " for the " + what + " frame, expected " + action);
    }

    // ---- Topology: host namespace (router) -- veth -- dyno namespace --------------------------------------------

    private static final class Topology implements AutoCloseable {
        final String host, dyno;
        final Subnet subnet;
        final String hostVeth;
        int hostIfindex;
        private RawSender sender;

        private Topology(String host, String dyno, Subnet subnet, String hostVeth) {
            this.host = host;
            this.dyno = dyno;
            this.subnet = subnet;
            this.hostVeth = hostVeth;
        }

        static Topology create(String tag, int n, int measured) throws IOException, InterruptedException {
            Topology t = new Topology("pbh" + tag, "pbd" + tag, subnet(measured), veth(measured));
            try {
                t.build();
                return t;
            } catch (IOException | InterruptedException | RuntimeException e) {
                t.close();
                throw e;
            }
        }

        private void build() throws IOException, InterruptedException {
            String gw = Subnet.dotted(subnet.hostAddress()), addr = Subnet.dotted(subnet.dynoAddress()), mac = mac(subnet.dynoMac());
            addNetns(host);
            addNetns(dyno);
            ip("-n", host, "link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", dyno);
            ip("-n", dyno, "link", "set", "eth0", "address", mac);
            ip("-n", dyno, "addr", "add", addr + "/30", "dev", "eth0");
            ip("-n", dyno, "link", "set", "lo", "up");
            ip("-n", dyno, "link", "set", "eth0", "up");
            ip("-n", dyno, "route", "add", "default", "via", gw);
            ip("-n", host, "addr", "add", gw + "/30", "dev", hostVeth);
            ip("-n", host, "link", "set", "lo", "up");
            ip("-n", host, "link", "set", hostVeth, "up");
            ip("-n", host, "neigh", "replace", addr, "lladdr", mac, "dev", hostVeth, "nud", "permanent");
            // The dyno side sinks the raw SYNs at ingress (before its TCP would answer them), the same in every topology.
            String sink = """
                    table netdev sink {
                      chain in {
                        type filter hook ingress device "eth0" priority 0; policy accept;
                        tcp sport %d counter drop
                      }
                    }
                    """.formatted(SINK_SPORT);
            exec(sink, "ip", "netns", "exec", dyno, "nft", "-f", "-");
            hostIfindex = NetworkNamespaces.inside(host, () -> Libbpf.ifindex(hostVeth));
        }

        /** Runs {@code command} in the host namespace with {@code input} on its stdin. */
        void load(String input, String... command) throws IOException, InterruptedException {
            nsExec(host, input, command);
        }

        void openSender() {
            sender = NetworkNamespaces.inside(host, RawSender::new);
            sender.packet(rawSyn(PORT), subnet.dynoAddress());
        }

        void closeSender() {
            if (sender != null) sender.close();
            sender = null;
        }

        private byte[] rawSyn(int dport) {
            return Frames.ipv4WithChecksums(subnet.hostAddress(), subnet.dynoAddress(), Frames.tcp(SINK_SPORT, dport, SYN));
        }

        /** The sink's count: packets that reached the dyno's ingress. */
        long delivered() throws IOException, InterruptedException {
            String out = nsExec(dyno, "", "nft", "list", "table", "netdev", "sink");
            int at = out.indexOf("packets ");
            if (at < 0) throw new IllegalStateException("no counter in: " + out);
            return Long.parseLong(out.substring(at + 8, out.indexOf(' ', at + 8)));
        }

        /** With a policy: a SYN to another port is stopped on the host side, the router's SYN to $PORT gets through. */
        void checkPolicy(boolean enforced) throws IOException, InterruptedException {
            long before = delivered();
            if (enforced) {
                RawSender other = NetworkNamespaces.inside(host, RawSender::new);
                try {
                    other.packet(rawSyn(PORT + 1), subnet.dynoAddress());
                    other.send(100);
                } finally {
                    other.close();
                }
                long after = delivered();
                if (after != before) throw new IllegalStateException(host + ": a SYN to port " + (PORT + 1) + " got through the policy");
            }
            long refused = sender.send(100);
            long after = delivered();
            if (refused != 0 || after - before != 100) {
                throw new IllegalStateException(host + ": the router's SYN to $PORT was not delivered (" + (after - before) + " of 100, " + refused + " refused)");
            }
        }

        /** Sends {@code count} router SYNs; returns {sending thread's CPU ns per packet, wall ns per packet}. */
        double[] sendTimed(long count) throws IOException, InterruptedException {
            long before = delivered();
            long cpu0 = THREADS.getCurrentThreadCpuTime(), wall0 = System.nanoTime();
            long refused = sender.send(count);
            long cpu1 = THREADS.getCurrentThreadCpuTime(), wall1 = System.nanoTime();
            long got = delivered() - before;
            if (refused != 0 || got < count * 99 / 100) {
                throw new IllegalStateException(host + ": " + got + " of " + count + " allowed packets delivered (" + refused + " refused)");
            }
            return new double[] {(cpu1 - cpu0) / (double) count, (wall1 - wall0) / (double) count};
        }

        /** Gbit/s of a TCP stream from the router (host namespace) to a listener on the dyno's $PORT, after a warm-up. */
        double stream(double seconds) throws Exception {
            return BenchNet.tcpStreams(dyno, host, new InetSocketAddress(subnet.dynoInet(), PORT), 1, seconds);
        }

        @Override
        public void close() {
            closeSender();
            for (String ns : List.of(host, dyno)) BenchNet.removeNetns(ns);
        }
    }

    // ---- Report -------------------------------------------------------------------------------------------------

    private static void report(Options options, Map<Integer, SizeResult> results, Map<String, Object> json) {
        System.out.println();
        System.out.println("  dynos | bpf test_run ns: SYN  est  drop | real packets, ns/packet added over none (p10..p90): bpf, nft, ipt | none ns/pkt | Gbit/s: none   bpf   nft   ipt");
        for (SizeResult r : results.values()) {
            System.out.printf(Locale.ROOT, "  %5d |              %5.1f %5.1f %5.1f | %s %s %s | %8.1f    | %5.2f %5.2f %5.2f %5.2f%n",
                    r.dynos(), r.testRuns().synNs(), r.testRuns().establishedNs(), r.testRuns().dropNs(),
                    added(r, Variant.BPF), added(r, Variant.NFT), added(r, Variant.IPT), r.packetNs().get(Variant.NONE),
                    r.gbps().get(Variant.NONE), r.gbps().get(Variant.BPF), r.gbps().get(Variant.NFT), r.gbps().get(Variant.IPT));
        }
        for (SizeResult r : results.values()) {
            int n = r.dynos();
            json.put("bpf_ns_" + n, r.testRuns().synNs());
            json.put("nft_ns_" + n, r.addedNs().get(Variant.NFT));
            json.put("ipt_ns_" + n, r.addedNs().get(Variant.IPT));
        }
        for (SizeResult r : results.values()) {
            int n = r.dynos();
            json.put("bpf_real_ns_" + n, r.addedNs().get(Variant.BPF));
            json.put("bpf_est_ns_" + n, r.testRuns().establishedNs());
            json.put("bpf_drop_ns_" + n, r.testRuns().dropNs());
            json.put("base_pkt_ns_" + n, r.packetNs().get(Variant.NONE));
            for (Variant v : Variant.values()) json.put((v == Variant.NONE ? "base" : v.name().toLowerCase(Locale.ROOT)) + "_gbps_" + n, r.gbps().get(v));
        }
        SizeResult smallest = results.values().stream().min((a, b) -> Integer.compare(a.dynos(), b.dynos())).orElseThrow();
        SizeResult largest = results.values().stream().max((a, b) -> Integer.compare(a.dynos(), b.dynos())).orElseThrow();
        double flat = largest.testRuns().synNs() / smallest.testRuns().synNs();
        boolean belowNft = results.values().stream().allMatch(r -> r.testRuns().synNs() < r.addedNs().get(Variant.NFT));
        boolean realBelowNft = results.values().stream().allMatch(r -> r.addedNs().get(Variant.BPF) < r.addedNs().get(Variant.NFT));
        json.put("bpf_ratio_largest_smallest", flat);
        json.put("target_bpf_flat", flat <= 1.10);
        json.put("target_bpf_below_nft", belowNft);
        json.put("bpf_real_below_nft", realBelowNft);
        System.out.printf(Locale.ROOT, "  bpf test_run at %d dynos / at %d: %.3f (target <= 1.10: %s); bpf below nft at every size: %s (real packets: %s)%n",
                largest.dynos(), smallest.dynos(), flat, flat <= 1.10 ? "holds" : "MISSED", belowNft ? "holds" : "MISSED", realBelowNft ? "holds" : "MISSED");
        System.out.println(toJson(json));
    }

    private static String added(SizeResult r, Variant v) {
        double[] spread = r.addedP10P90().get(v);
        return String.format(Locale.ROOT, "%7.1f (%.0f..%.0f)", r.addedNs().get(v), spread[0], spread[1]);
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private static void log(String format, Object... args) {
        System.err.println("policy: " + String.format(Locale.ROOT, format, args));
    }
}
