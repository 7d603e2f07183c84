package io.dynoplane.plane;

import io.dynoplane.plane.api.ApiException;
import io.dynoplane.plane.store.Release;
import io.dynoplane.provisioner.ProvisionerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The daemon's own rules on real dynos: a release whose {@code release} command fails never goes out
 * (the old release keeps serving), a private space's trusted IP ranges gate the router, and an
 * internal app takes no router traffic.
 */
class DaemonTest {
    private final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    private final List<LogLine> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    private Path tmp;
    private Daemon daemon;

    @BeforeEach
    void start() throws IOException {
        tmp = Files.createTempDirectory("daemon-" + run);
        // A pool and state folder of this run's own: reconcile must never touch another plane's dynos.
        ProvisionerConfig provisioner = new ProvisionerConfig("172.30." + ThreadLocalRandom.current().nextInt(256) + ".0/24", tmp.resolve("state"));
        daemon = Daemon.start(tmp.resolve("state/store"), Plane.Config.defaults(0, lines::add).withProvisioner(provisioner)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5)), tmp.resolve("control.sock"), line -> {});
    }

    @AfterEach
    void stop() throws IOException {
        try {
            if (daemon != null) daemon.close();
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aFailingReleaseCommandStopsTheRolloutAndTheOldReleaseKeepsServing() throws Exception {
        String app = "rel-" + run;
        daemon.createApp(app, null, false);
        Release v1 = daemon.deploy(app, release("v1", "release: echo migrating v1\n"));
        assertThat(v1.status()).isEqualTo(Release.Status.SUCCEEDED);
        daemon.plane().awaitUp(app, 1).get(30, TimeUnit.SECONDS);
        long pid = daemon.dynos(app).getFirst().pid();
        assertThat(appLog(app)).anyMatch(l -> l.contains("migrating v1"));

        assertThatThrownBy(() -> daemon.deploy(app, release("v2", "release: echo migrating v2; exit 3\n")))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("v2").contains("status 3").contains("v1 keeps running");
                });
        assertThat(daemon.releases(app)).extracting(Release::version, Release::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, Release.Status.SUCCEEDED), org.assertj.core.groups.Tuple.tuple(2, Release.Status.FAILED));
        // The web dyno was never touched: same process, release 1, still answering v1.
        DynoStatus web = daemon.dynos(app).stream().filter(d -> d.type().equals("web")).findFirst().orElseThrow();
        assertThat(web.pid()).isEqualTo(pid);
        assertThat(web.release()).isEqualTo(1);
        assertThat(get(daemon.plane().hostOf(app))).startsWith("HTTP/1.1 200").contains("release v1");
    }

    @Test
    void aSpacesTrustedIpRangesGateTheRouterAndAnInternalAppTakesNoRouterTraffic() throws Exception {
        String space = "sp-" + run;
        daemon.createSpace(space);
        daemon.addTrustedIps(space, List.of("203.0.113.0/24")); // documentation range: never this test's client
        String walled = "walled-" + run;
        daemon.createApp(walled, space, false);
        daemon.deploy(walled, release("walled", ""));
        daemon.plane().awaitUp(walled, 1).get(30, TimeUnit.SECONDS);
        assertThat(get(daemon.plane().hostOf(walled))).startsWith("HTTP/1.1 403");

        daemon.addTrustedIps(space, List.of("127.0.0.0/8"));
        assertThat(get(daemon.plane().hostOf(walled))).startsWith("HTTP/1.1 200");

        String inner = "inner-" + run;
        daemon.createApp(inner, space, true);
        daemon.deploy(inner, release("inner", ""));
        daemon.scale(inner, Map.of("web", 1));
        awaitState(inner, "web.1", "up");
        assertThat(get(daemon.plane().hostOf(inner))).startsWith("HTTP/1.1 404"); // the router has no route to it
        assertThat(daemon.dynos(inner)).singleElement().satisfies(d -> assertThat(d.space()).isNotNull());
    }

    private List<String> appLog(String app) {
        List<String> out = new ArrayList<>();
        daemon.logs(app, new io.dynoplane.plane.api.LogQuery(false, null, null, 1500), out::add);
        return out;
    }

    /** The example app with a greeting naming {@code label}, plus extra Procfile lines. */
    private Path release(String label, String procfileExtra) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("src-" + label));
        Files.writeString(dir.resolve("Procfile"), "web: exec python3 server.py\n" + procfileExtra);
        String server = Files.readString(Path.of("../examples/hello/server.py"))
                .replace("f\"Hello from {DYNO}\\n\"", "f\"Hello from {DYNO}, release " + label + "\\n\"");
        assertThat(server).contains("release " + label);
        Files.writeString(dir.resolve("server.py"), server);
        return dir;
    }

    /** No event says "this dyno's row changed": poll the manager's snapshot, bounded. */
    private void awaitState(String app, String dyno, String state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (daemon.dynos(app).stream().noneMatch(d -> d.name().equals(dyno) && d.state().equals(state))) {
            assertThat(System.nanoTime()).as(app + "/" + dyno + " " + state + "; log: " + lines).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private String get(String host) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", daemon.plane().router().port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
