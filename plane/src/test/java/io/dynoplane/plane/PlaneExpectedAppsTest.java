package io.dynoplane.plane;

import io.dynoplane.provisioner.ProvisionerConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A restarted daemon's router knows the store's apps from its first moment: a request for one queues while
 * its dynos boot and is then served, where it would otherwise get 404 (no such app) until the manager ran.
 */
class PlaneExpectedAppsTest {
    @Test
    void aRequestForAnExpectedAppWaitsForItsDynoInsteadOfGetting404() throws Exception {
        String app = "exp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        Path tmp = Files.createTempDirectory(app);
        try {
            Path release = Files.createDirectories(tmp.resolve("release"));
            for (String file : List.of("Procfile", "server.py", "worker.py")) Files.copy(Path.of("../examples/hello", file), release.resolve(file));
            ProvisionerConfig provisioner = new ProvisionerConfig("172.30." + ThreadLocalRandom.current().nextInt(256) + ".0/24", tmp.resolve("state"));
            Plane.Config config = Plane.Config.defaults(0, line -> {}).withProvisioner(provisioner).withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5));
            try (Plane plane = Plane.start(config, Map.of(app, new Plane.ExpectedApp(1, List.of())))) {
                assertThat(get(plane, "nobody-" + app)).startsWith("HTTP/1.1 404"); // an app nobody expects: 404 at once
                CompletableFuture<String> queued = CompletableFuture.supplyAsync(() -> get(plane, app));
                // The request is in: the router counts it in flight for the app while it waits for a dyno.
                awaitInFlight(plane, app);
                assertThat(queued).isNotDone();
                plane.deploy(app, release, 1);
                assertThat(queued.get(30, TimeUnit.SECONDS)).startsWith("HTTP/1.1 200").contains("Hello from web.1");
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** No event says "a request is queued": poll the router's in-flight gauge for the app, bounded. */
    private static void awaitInFlight(Plane plane, String app) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!scrape(plane).lines().anyMatch(l -> l.startsWith("dynoplane_router_in_flight{app=\"" + app + "\"} 1"))) {
            assertThat(System.nanoTime()).as("a request for " + app + " in flight").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static String scrape(Plane plane) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", plane.adminPort())) {
            socket.getOutputStream().write("GET /metrics HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String get(Plane plane, String app) {
        try (Socket socket = new Socket("127.0.0.1", plane.router().port())) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + plane.hostOf(app) + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
