package io.dynoplane.plane;

import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.ProvisionerConfig;
import io.dynoplane.provisioner.Verdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two dynos of the example app behind the router, on the real kernel: requests are served through
 * the router, dyno A cannot reach dyno B (and the guard counted the drop), and teardown leaves no
 * namespace, veth, pinned guard object or process.
 */
class PlaneEndToEndTest {
    private final String app = "e2e-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    private final List<LogLine> logs = java.util.Collections.synchronizedList(new ArrayList<>());
    private Path release;
    private Path state;
    private ProvisionerConfig provisioner;
    private Plane plane;

    @BeforeEach
    void start() throws IOException {
        release = Files.createTempDirectory(app);
        state = Files.createTempDirectory(app + "-state");
        for (String file : List.of("Procfile", "server.py")) {
            Files.copy(Path.of("../examples/hello", file), release.resolve(file));
        }
        // A pool and state folder of this run's own: reconcile must never touch another plane's dynos.
        provisioner = new ProvisionerConfig("172.31." + ThreadLocalRandom.current().nextInt(256) + ".0/24", state);
        plane = Plane.start(Plane.Config.defaults(0, logs::add)
                .withProvisioner(provisioner)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(5)));
    }

    @AfterEach
    void stop() throws IOException {
        if (plane != null) plane.close();
        for (Path dir : List.of(release, state)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void servesThroughRouterIsolatesDynosAndLeavesNothingBehind() throws Exception {
        List<Dyno> dynos = plane.deploy(app, release, 2);
        assertThat(dynos).extracting(d -> d.spec().name()).containsExactly("web.1", "web.2");
        Dyno a = dynos.get(0), b = dynos.get(1);

        // Served through the router, by both dynos.
        Set<String> servedBy = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            String response = get(plane.router().port(), plane.hostOf(app));
            assertThat(response).startsWith("HTTP/1.1 200");
            servedBy.add(response.substring(response.indexOf("Hello from ")).strip());
        }
        assertThat(servedBy).containsExactlyInAnyOrder("Hello from web.1", "Hello from web.2");
        assertThat(logSnapshot()).anySatisfy(l -> assertThat(l.toString()).contains("heroku[router]: at=info").contains("host=" + plane.hostOf(app)));

        // A connection from dyno A to dyno B's address and $PORT is dropped by A's guard, and counted.
        long dropsBefore = plane.isolation().count(a.id(), Verdict.DROP_TO_DYNO);
        Process connect = new ProcessBuilder("ip", "netns", "exec", a.netns().name(), "python3", "-c",
                "import socket,sys\ntry:\n socket.create_connection(('" + b.address() + "', " + b.spec().port() + "), timeout=2)\nexcept OSError as e:\n print(e); sys.exit(3)\nprint('connected')")
                .redirectErrorStream(true).start();
        String connectOutput = new String(connect.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(connect.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(connect.exitValue()).as("dyno A -> dyno B: %s", connectOutput).isEqualTo(3);
        assertThat(connectOutput).contains("timed out");
        assertThat(plane.isolation().count(a.id(), Verdict.DROP_TO_DYNO)).isGreaterThan(dropsBefore);
        // The router's own traffic to the dynos passed the same guard: its connections let in, the dyno's replies let out.
        assertThat(plane.isolation().count(a.id(), Verdict.PASS_ROUTER)).isPositive();
        assertThat(plane.isolation().count(a.id(), Verdict.PASS_REPLY)).isPositive();

        // Both show on the loopback metrics endpoint: the kernel's counters and the router's.
        String metrics = new String(new java.net.URL("http://127.0.0.1:" + plane.adminPort() + "/metrics").openStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(metrics).containsPattern("dynoplane_isolation_packets_total\\{app=\"" + app + "\",dyno=\"web.1\",verdict=\"drop_to_dyno\"\\} [1-9]")
                .containsPattern("dynoplane_router_requests_total\\{app=\"" + app + "\",code=\"\",status=\"200\"\\} 20");

        // Teardown leaves nothing: no namespace, no veth, no pinned guard map or link, no process.
        assertThat(provisioner.bpfPins().resolve("dynos")).as("the guard's pins while dynos run").exists();
        List<Long> pids = dynos.stream().flatMap(d -> d.netns().processes().stream()).map(ProcessHandle::pid).toList();
        assertThat(pids).hasSizeGreaterThanOrEqualTo(2);
        plane.close();
        plane = null;
        for (Dyno d : dynos) {
            assertThat(d.netns().exists()).as("netns %s", d.netns().name()).isFalse();
            assertThat(Path.of("/sys/class/net", d.hostVeth())).as("veth %s", d.hostVeth()).doesNotExist();
        }
        assertThat(provisioner.bpfPins()).as("the guard's pins after the last dyno").doesNotExist();
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("pid %d", pid).isEmpty());
        Process ipNetns = new ProcessBuilder("ip", "netns", "list").start();
        assertThat(new String(ipNetns.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).doesNotContain("dp-" + app);
    }

    /** One HTTP/1.1 request on a fresh connection; returns the whole response. */
    private static String get(int port, String host) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The log lines so far: the plane's threads keep appending, so never iterate the live list. */
    private List<LogLine> logSnapshot() {
        synchronized (logs) {
            return List.copyOf(logs);
        }
    }
}
