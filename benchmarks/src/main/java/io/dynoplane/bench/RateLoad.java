package io.dynoplane.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The load generator {@code rateload.c}, compiled with clang into the run's directory on first use. Open loop
 * ({@link #run}, wrk2's model): requests fall due at a fixed rate whatever the server does, and each one's latency
 * runs from when it fell due, so a stall is charged to every request it held up (coordinated-omission corrected).
 * Closed loop ({@link #runClosed}, for saturation like wrk): each connection sends its next request as soon as its
 * last response is in.
 */
final class RateLoad {
    private final Path binary;

    private RateLoad(Path binary) {
        this.binary = binary;
    }

    static RateLoad compile(Path dir) throws IOException, InterruptedException {
        Path source = dir.resolve("rateload.c"), binary = dir.resolve("rateload");
        try (InputStream in = RateLoad.class.getResourceAsStream("rateload.c")) {
            if (in == null) throw new IllegalStateException("rateload.c is missing from the bench jar");
            Files.write(source, in.readAllBytes());
        }
        BenchNet.exec("", "clang", "-O2", "-Wall", "-o", binary.toString(), source.toString());
        return new RateLoad(binary);
    }

    /**
     * {@code rate} requests/s to {@code url} ({@code http://ip:port}), spread over {@code connections}: {@code warmup} seconds not
     * counted, then {@code seconds} measured; then every request that fell due is still awaited (up to 10 s).
     * {@code cpus}: a taskset list, or null for any core.
     */
    LoadResult run(String url, String path, String host, int connections, double rate, double warmup, double seconds, String cpus) throws IOException, InterruptedException {
        return invoke(url, path, host, connections, Long.toString(Math.round(rate)), warmup, seconds, cpus);
    }

    /**
     * {@code connections} each with one request in flight, the next sent as soon as the last is answered (within the
     * same wake-up, where wrk waits for the next): {@code warmup} seconds not counted, then the responses of
     * {@code seconds}, each timed from its request's send. What is in flight at the end is not awaited.
     */
    LoadResult runClosed(String url, String path, String host, int connections, double warmup, double seconds, String cpus) throws IOException, InterruptedException {
        return invoke(url, path, host, connections, "closed", warmup, seconds, cpus);
    }

    private LoadResult invoke(String url, String path, String host, int connections, String rate, double warmup, double seconds, String cpus) throws IOException, InterruptedException {
        URI target = URI.create(url);
        List<String> command = new ArrayList<>();
        if (cpus != null) command.addAll(List.of("taskset", "-c", cpus));
        command.addAll(List.of(binary.toString(), target.getHost(), Integer.toString(target.getPort() < 0 ? 80 : target.getPort()), path, host, Integer.toString(connections),
                rate, Double.toString(warmup), Double.toString(seconds)));
        // RATELOAD requests errors bytes elapsed_us p50 p99 p99.9 max warmup_requests total_elapsed_us
        String[] f = BenchNet.summaryLine("RATELOAD ", (long) (warmup + seconds) + 30, command);
        long requests = Long.parseLong(f[1]), errors = Long.parseLong(f[2]), bytes = Long.parseLong(f[3]), warm = Long.parseLong(f[9]);
        double elapsed = Double.parseDouble(f[4]) / 1e6, allElapsed = Double.parseDouble(f[10]) / 1e6;
        if (requests == 0) return LoadResult.unanswered(errors, elapsed);
        return new LoadResult(requests / elapsed, Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                Double.parseDouble(f[8]), requests, errors, bytes / (double) requests, elapsed, requests + warm, allElapsed);
    }
}
