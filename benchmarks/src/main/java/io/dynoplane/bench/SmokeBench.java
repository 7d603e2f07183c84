package io.dynoplane.bench;

import io.dynoplane.plane.LogLine;
import io.dynoplane.plane.Plane;
import io.dynoplane.provisioner.ProvisionerConfig;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench smoke}: N requests through the router to the example app's 2 web dynos (the demo's
 * path end to end: router, veth, guard, dyno). Reports throughput and latency percentiles.
 */
final class SmokeBench {
    record Options(int requests, int connections, int warmup) {
        static Options parse(Deque<String> args) {
            int requests = 20_000, connections = 8, warmup = 2_000;
            while (!args.isEmpty()) {
                String flag = args.pop();
                if (args.isEmpty()) throw new IllegalArgumentException("bench smoke: " + flag + " needs a value");
                int value;
                try {
                    value = Integer.parseInt(args.pop());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bench smoke: " + flag + " needs a whole number");
                }
                if (value < 1) throw new IllegalArgumentException("bench smoke: " + flag + " must be positive");
                switch (flag) {
                    case "--requests" -> requests = value;
                    case "--connections" -> connections = value;
                    case "--warmup" -> warmup = value;
                    default -> throw new IllegalArgumentException("bench smoke: unknown option '" + flag + "' (--requests, --connections, --warmup)");
                }
            }
            return new Options(requests, connections, warmup);
        }
    }

    private SmokeBench() {}

    static void run(Options options) throws IOException, InterruptedException {
        String app = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        Path release = Files.createTempDirectory(app);
        Path state = Files.createTempDirectory(app + "-state");
        for (String file : List.of("Procfile", "server.py")) Files.copy(Path.of("examples/hello", file), release.resolve(file));
        AtomicLong routerErrors = new AtomicLong();
        // Router lines are one per request: count errors, print nothing else on the hot path.
        Plane.Config config = Plane.Config.defaults(0, line -> {
            if (line.process().equals("router")) {
                if (line.message().startsWith("at=error")) routerErrors.incrementAndGet();
            } else {
                System.out.println(line);
            }
        }).withProvisioner(new ProvisionerConfig("172.30." + ThreadLocalRandom.current().nextInt(256) + ".0/24", state));
        HttpLoad.Result result;
        String transport;
        try (Plane plane = Plane.start(config)) {
            plane.deploy(app, release, 2);
            var target = new java.net.InetSocketAddress("127.0.0.1", plane.router().port());
            String host = plane.hostOf(app);
            System.out.printf("smoke: %d requests (+%d warm-up) over %d keep-alive connections to %s via the router (%s)%n",
                    options.requests(), options.warmup(), options.connections(), host, plane.router().transportName());
            HttpLoad.run(target, host, options.warmup(), options.connections());
            result = HttpLoad.run(target, host, options.requests(), options.connections());
            transport = plane.router().transportName();
        } finally {
            for (Path dir : List.of(release, state)) {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
        // The report comes after teardown, so that the JSON summary is the last line.
        Histogram h = result.latencyMicros();
        System.out.printf("  throughput  %.0f req/s%n", result.rps());
        System.out.printf("  latency µs  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d%n",
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
        System.out.printf("  errors      %d client, %d router%n", result.errors(), routerErrors.get());
        System.out.println(String.format(Locale.ROOT,
                "{\"bench\":\"smoke\",\"requests\":%d,\"connections\":%d,\"rps\":%.1f,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"errors\":%d,\"transport\":\"%s\"}",
                result.requests(), options.connections(), result.rps(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
                h.getValueAtPercentile(99), h.getMaxValue(), result.errors() + routerErrors.get(), transport));
    }
}
