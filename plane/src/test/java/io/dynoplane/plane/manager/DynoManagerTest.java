package io.dynoplane.plane.manager;

import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.LogLine;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The dyno manager on real dynos (the real provisioner: namespaces, guard, sandboxed processes), with
 * Heroku's rules on a fast clock: what it does is read from its log lines, its route tables and the kernel.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DynoManagerTest {
    /** Heroku's rules, with milliseconds where Heroku has seconds and minutes. */
    private static final ManagerConfig FAST = ManagerConfig.defaults()
            .withBoot(Duration.ofMillis(800))
            .withStopGrace(Duration.ofMillis(1500))
            .withCrashBackoff(List.of(Duration.ZERO, Duration.ofMillis(300), Duration.ofMillis(600)), Duration.ofSeconds(60))
            .withMemory(64L << 20, Duration.ofMillis(50));

    private static final String SERVER = """
            import os, sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            class H(BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200); self.end_headers(); self.wfile.write(os.environ["DYNO"].encode())
            print("greeting=" + os.environ.get("GREETING", ""), flush=True)
            HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
            """;

    private ManagerFixture f;

    @AfterEach
    void cleanUp() throws IOException {
        if (f == null) return;
        f.close();
        assertThat(f.provisioner.leases()).as("leases after close").isEmpty();
        assertThat(f.provisionerConfig.bpfPins()).as("guard pins after close").doesNotExist();
        assertThat(netnsList()).doesNotContain("dp-" + f.app);
    }

    @Test
    void webDynoThatNeverBindsIsKilledAtTheBootTimeoutCountedAsACrashAndRestarted() throws Exception {
        f = new ManagerFixture(FAST);
        var release = f.release(1, Map.of(), Map.of("web", "echo booting; exec sleep 600"), Map.of());
        f.manager.apply(f.state(release, Map.of("web", 1)));

        LogLine started = f.await("web.1", "Starting process with command `echo booting; exec sleep 600`");
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        long pid = firstPid(f.manager.dynos(f.app));
        f.await("web.1", "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 800 milliseconds of launch");
        f.await("web.1", "Process exited with status 137");
        f.await("web.1", "State changed from starting to crashed");
        LogLine restarted = f.awaitPrefix("web.1", "Starting process with command", 2);
        f.await(l -> l.process().equals("web.1") && l.source().equals("app") && l.message().equals("booting"), 2);

        assertThat(Duration.between(started.at(), f.awaitPrefix("web.1", "Error R10", 1).at())).isBetween(Duration.ofMillis(800), Duration.ofMillis(2500));
        assertThat(restarted.at()).isAfter(started.at());
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("the first dyno's launcher").isEmpty();
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        DynoStatus row = f.manager.dynos(f.app).getFirst();
        assertThat(row.name()).isEqualTo("web.1");
        assertThat(row.restarts()).isGreaterThanOrEqualTo(1);
        // Never up: never routable.
        assertThat(f.routes()).allSatisfy(t -> assertThat(ManagerFixture.upCount(t, f.app)).isZero());
        assertThat(scrape(f.manager)).containsPattern("dynoplane_dyno_restarts_total\\{app=\"" + f.app + "\",reason=\"R10\"\\} [1-9]");
    }

    @Test
    void crashingDynoRestartsAtOnceThenAfterTheGrowingCappedBackoff() throws Exception {
        f = new ManagerFixture(FAST.withCrashBackoff(List.of(Duration.ZERO, Duration.ofMillis(300), Duration.ofMillis(900)), Duration.ofSeconds(60)));
        var release = f.release(1, Map.of(), Map.of("worker", "echo boom; exit 1"), Map.of());
        f.manager.apply(f.state(release, Map.of("worker", 1)));

        // Crash n is followed by start n+1 after backoff(n): 0, 300 ms, 900 ms, 900 ms (the cap).
        List<Duration> expected = List.of(Duration.ZERO, Duration.ofMillis(300), Duration.ofMillis(900), Duration.ofMillis(900));
        for (int n = 1; n <= expected.size(); n++) {
            LogLine crash = f.await("worker.1", "Process exited with status 1", n);
            LogLine next = f.await("worker.1", "Starting process with command `echo boom; exit 1`", n + 1);
            Duration gap = Duration.between(crash.at(), next.at());
            assertThat(gap).as("crash %d to the next start", n).isBetween(expected.get(n - 1), expected.get(n - 1).plusMillis(550));
        }
        assertThat(f.linesOf("worker.1")).filteredOn(l -> l.source().equals("app")).extracting(LogLine::message).contains("boom");
        f.await("worker.1", "State changed from up to crashed");
        f.await("worker.1", "State changed from crashed to starting");

        // A manual restart resets the back-off: the dyno starts at once instead of after 900 ms.
        LogLine crash = f.await("worker.1", "Process exited with status 1", 5);
        f.manager.restart(f.app, "worker");
        LogLine next = f.awaitPrefix("worker.1", "Starting process with command", 6);
        assertThat(Duration.between(crash.at(), next.at())).isLessThan(Duration.ofMillis(600));
    }

    @Test
    void aGoodStartResetsTheBackoff() throws Exception {
        // Up 300 ms, then a crash: past the 200 ms good start, so every crash is a "first" one, restarted at once.
        f = new ManagerFixture(FAST.withCrashBackoff(List.of(Duration.ZERO, Duration.ofSeconds(30)), Duration.ofMillis(200)));
        var release = f.release(1, Map.of(), Map.of("worker", "sleep 0.3; exit 2"), Map.of());
        f.manager.apply(f.state(release, Map.of("worker", 1)));
        for (int n = 1; n <= 3; n++) {
            LogLine crash = f.await("worker.1", "Process exited with status 2", n);
            LogLine next = f.awaitPrefix("worker.1", "Starting process with command", n + 1);
            assertThat(Duration.between(crash.at(), next.at())).as("crash %d to the next start", n).isLessThan(Duration.ofMillis(400));
        }
    }

    @Test
    void internalAppsWebDynosAreNeverRouted() throws Exception {
        f = new ManagerFixture(FAST.withBoot(Duration.ofSeconds(15)));
        var release = f.release(1, Map.of(), Map.of("web", "exec python3 server.py"), Map.of("server.py", SERVER));
        f.manager.apply(new AppState(f.app, 7, true, release, Map.of("web", 1)));
        f.await("web.1", "State changed from starting to up");
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).extracting(DynoStatus::space, DynoStatus::state).containsExactly(org.assertj.core.groups.Tuple.tuple("7", "up"));
        assertThat(f.routes()).allSatisfy(t -> assertThat(t).doesNotContainKey(f.app));
    }

    @Test
    void stopSendsSigtermAndSigkillsWhatIgnoresItAtTheGraceDeadlineWithR12() throws Exception {
        f = new ManagerFixture(FAST);
        var release = f.release(1, Map.of(), Map.of(
                "stubborn", "trap '' TERM; echo ready; while :; do sleep 0.1; done",
                "polite", "echo ready; exec sleep 600"), Map.of());
        f.manager.apply(f.state(release, Map.of("stubborn", 1, "polite", 1)));
        f.await(l -> l.process().equals("stubborn.1") && l.message().equals("ready"), 1);
        f.await(l -> l.process().equals("polite.1") && l.message().equals("ready"), 1);

        f.manager.stop(f.app, "stubborn.1");
        LogLine term = f.await("stubborn.1", "Stopping all processes with SIGTERM");
        LogLine r12 = f.await("stubborn.1", "Error R12 (Exit timeout) -> At least one process failed to exit within 1500 milliseconds of SIGTERM");
        f.await("stubborn.1", "Stopping remaining processes with SIGKILL");
        f.await("stubborn.1", "Process exited with status 137");
        f.await("stubborn.1", "State changed from up to down");
        assertThat(Duration.between(term.at(), r12.at())).isBetween(Duration.ofMillis(1500), Duration.ofMillis(2500));
        // The formation still wants it: a new stubborn.1 starts.
        f.awaitPrefix("stubborn.1", "Starting process with command", 2);

        f.manager.stop(f.app, "polite");
        f.await("polite.1", "Process exited with status 143");
        assertThat(f.linesOf("polite.1")).extracting(LogLine::message).noneMatch(m -> m.startsWith("Error R12"));

        // Unknown targets are refused, naming them.
        assertThatThrownBy(() -> f.manager.stop(f.app, "web.7")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'web.7'");
        assertThatThrownBy(() -> f.manager.restart("no-such-app", null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'no-such-app'");
    }

    @Test
    void closeStopsEveryDynoAtOnceInOneGracePeriod() throws Exception {
        f = new ManagerFixture(FAST);
        var release = f.release(1, Map.of(), Map.of("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.1; done"), Map.of());
        f.manager.apply(f.state(release, Map.of("stubborn", 2)));
        f.await(l -> l.process().equals("stubborn.1") && l.message().equals("ready"), 1);
        f.await(l -> l.process().equals("stubborn.2") && l.message().equals("ready"), 1);

        long t0 = System.nanoTime();
        f.manager.close();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took).as("both SIGKILLed at one deadline, not one after the other").isBetween(Duration.ofMillis(1500), Duration.ofMillis(2900));
        f.await("stubborn.1", "Error R12 (Exit timeout) -> At least one process failed to exit within 1500 milliseconds of SIGTERM");
        f.await("stubborn.2", "State changed from up to down");
        assertThat(f.manager.dynos(null)).isEmpty();
        assertThatThrownBy(() -> f.manager.apply(f.state(release, Map.of("stubborn", 1)))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void configChangeRollsWebDynosOneAtATimeKeepingOneUp() throws Exception {
        f = new ManagerFixture(FAST.withBoot(Duration.ofSeconds(15)));
        var v1 = f.release(1, Map.of("GREETING", "one"), Map.of("web", "exec python3 server.py"), Map.of("server.py", SERVER));
        f.manager.apply(f.state(v1, Map.of("web", 2)));
        f.awaitRoutes(t -> ManagerFixture.upCount(t, f.app) == 2);
        int before = f.routes().size();

        var v2 = new AppState.Release(2, v1.dir(), Map.of("GREETING", "two"), v1.procfile());
        f.manager.apply(f.state(v2, Map.of("web", 2)));
        f.await(l -> l.process().equals("web.2") && l.message().equals("greeting=two"), 1);
        f.awaitRoutes(t -> ManagerFixture.upCount(t, f.app) == 2);

        List<Map<String, List<io.dynoplane.router.Backend>>> during = f.routes().subList(before, f.routes().size());
        assertThat(during).as("route tables published during the roll").isNotEmpty()
                .allSatisfy(t -> assertThat(ManagerFixture.upCount(t, f.app)).as("up web dynos in %s", t).isPositive());
        // web.1 was up again on v2 before web.2 got its SIGTERM.
        LogLine web1Up = f.await("web.1", "State changed from starting to up", 2);
        LogLine web2Term = f.await("web.2", "Stopping all processes with SIGTERM");
        assertThat(web1Up.at()).isBeforeOrEqualTo(web2Term.at());
        f.await(l -> l.process().equals("web.1") && l.message().equals("greeting=two"), 1);
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).extracting(DynoStatus::release).containsOnly(2);
        assertThat(f.manager.dynos(f.app)).extracting(DynoStatus::state).containsOnly("up");
        assertThat(scrape(f.manager)).containsPattern("dynoplane_dyno_restarts_total\\{app=\"" + f.app + "\",reason=\"release\"\\} 2")
                .containsPattern("dynoplane_dyno_boot_seconds_count\\{app=\"" + f.app + "\"\\} 4");
    }

    @Test
    void aReleaseThatDoesNotBootStopsTheRollAndTheOldReleaseKeepsServing() throws Exception {
        f = new ManagerFixture(FAST.withBoot(Duration.ofSeconds(15)));
        var v1 = f.release(1, Map.of(), Map.of("web", "exec python3 server.py"), Map.of("server.py", SERVER));
        f.manager.apply(f.state(v1, Map.of("web", 2)));
        f.awaitRoutes(t -> ManagerFixture.upCount(t, f.app) == 2);

        var broken = f.release(2, Map.of(), Map.of("web", "echo broken; exit 1"), Map.of());
        f.manager.apply(f.state(broken, Map.of("web", 2)));
        f.await("web.1", "Process exited with status 1", 3); // crashed three times on v2
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).filteredOn(d -> d.name().equals("web.2"))
                .extracting(DynoStatus::release, DynoStatus::state).containsExactly(org.assertj.core.groups.Tuple.tuple(1, "up"));
        assertThat(f.linesOf("web.2")).extracting(LogLine::message).noneMatch(m -> m.startsWith("Stopping"));
        assertThat(ManagerFixture.upCount(f.routes().getLast(), f.app)).isEqualTo(1);
    }

    @Test
    void everyDynoIsCycledOncePerPeriodPlusJitter() throws Exception {
        f = new ManagerFixture(FAST.withCycling(Duration.ofMillis(700), Duration.ofMillis(200)));
        var release = f.release(1, Map.of(), Map.of("worker", "exec sleep 600"), Map.of());
        f.manager.apply(f.state(release, Map.of("worker", 1)));

        LogLine up1 = f.await("worker.1", "State changed from starting to up", 1);
        LogLine cycling1 = f.await("worker.1", "Cycling", 1);
        LogLine up2 = f.await("worker.1", "State changed from starting to up", 2);
        LogLine cycling2 = f.await("worker.1", "Cycling", 2);
        assertThat(Duration.between(up1.at(), cycling1.at())).isBetween(Duration.ofMillis(650), Duration.ofMillis(1300));
        assertThat(Duration.between(up2.at(), cycling2.at())).isBetween(Duration.ofMillis(650), Duration.ofMillis(1300));
        f.await("worker.1", "Process exited with status 143");
        assertThat(scrape(f.manager)).containsPattern("dynoplane_dyno_restarts_total\\{app=\"" + f.app + "\",reason=\"cycle\"\\} [1-9]");
    }

    @Test
    void scalesUpAndDownStoppingTheHighestIndexesAndDestroyLeavesNothing() throws Exception {
        f = new ManagerFixture(FAST);
        var release = f.release(1, Map.of(), Map.of("worker", "exec sleep 600"), Map.of());
        f.manager.apply(f.state(release, Map.of("worker", 1)));
        f.await("worker.1", "State changed from starting to up");
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        long pid1 = firstPid(f.manager.dynos(f.app));

        f.manager.apply(f.state(release, Map.of("worker", 3)));
        f.await("worker.3", "State changed from starting to up");
        f.await("worker.2", "State changed from starting to up");
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        List<DynoStatus> three = f.manager.dynos(f.app);
        assertThat(three).extracting(DynoStatus::name).containsExactly("worker.1", "worker.2", "worker.3");
        assertThat(three).allSatisfy(d -> {
            assertThat(d.state()).isEqualTo("up");
            assertThat(Path.of("/run/netns", d.netns())).exists();
            assertThat(d.startedAt()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        });

        f.manager.apply(f.state(release, Map.of("worker", 1)));
        f.await("worker.3", "State changed from up to down");
        f.await("worker.2", "State changed from up to down");
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).extracting(DynoStatus::name).containsExactly("worker.1");
        assertThat(firstPid(f.manager.dynos(f.app))).as("worker.1 untouched").isEqualTo(pid1);
        assertThat(Path.of("/run/netns", three.get(2).netns())).doesNotExist();
        assertThat(scrape(f.manager)).contains("dynoplane_dynos{app=\"" + f.app + "\",state=\"up\",type=\"worker\"} 1");
        assertThat(f.linesOf("worker.1")).extracting(LogLine::message).noneMatch(m -> m.startsWith("Stopping"));

        // Bad formations are refused, naming what is wrong.
        assertThatThrownBy(() -> f.manager.apply(f.state(release, Map.of("web", 1)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'web'").hasMessageContaining("[worker]");
        assertThatThrownBy(() -> f.manager.apply(f.state(release, Map.of("worker", -1)))).hasMessageContaining("worker=-1");
        assertThatThrownBy(() -> f.manager.apply(new AppState("Bad_App", 0, false, release, Map.of()))).hasMessageContaining("'Bad_App'");

        f.manager.destroy(f.app);
        assertThat(f.manager.dynos(f.app)).isEmpty();
        assertThat(ProcessHandle.of(pid1).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(f.provisioner.leases()).isEmpty();
        assertThat(netnsList()).doesNotContain("dp-" + f.app);
    }

    @Test
    void oneOffDynosAttachedToTheCallerOrWithOutputInTheLogs() throws Exception {
        f = new ManagerFixture(FAST);
        var release = f.release(1, Map.of("GREETING", "hi"), Map.of("worker", "exec sleep 600"), Map.of());
        f.manager.apply(f.state(release, Map.of()));

        OneOff attached = f.manager.run(f.app, null, "read line; echo \"$GREETING, got $line in $DYNO\"; echo oops >&2; exit 3", true);
        assertThat(attached.name()).isEqualTo("run.1");
        attached.stdin().write("ping\n".getBytes(StandardCharsets.UTF_8));
        attached.stdin().close();
        assertThat(new String(attached.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hi, got ping in run.1\n");
        assertThat(new String(attached.stderr().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(attached.exit().get(20, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(f.linesOf("run.1")).noneMatch(l -> l.source().equals("app"));

        OneOff detached = f.manager.run(f.app, null, "echo \"hello from $DYNO\"; exit 0", false);
        assertThat(detached.exit().get(20, TimeUnit.SECONDS)).isZero();
        assertThat(f.linesOf("run.2")).extracting(l -> l.source() + ": " + l.message())
                .contains("heroku: Starting process with command `echo \"hello from $DYNO\"; exit 0`", "app: hello from run.2",
                        "heroku: Process exited with status 0");

        // Never restarted; stop() ends one that would run on.
        OneOff sleeper = f.manager.run(f.app, null, "echo ready; exec sleep 600", false);
        f.await(l -> l.process().equals("run.3") && l.message().equals("ready"), 1);
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).extracting(DynoStatus::name).containsExactly("run.3");
        sleeper.stop();
        assertThat(sleeper.exit().get(20, TimeUnit.SECONDS)).isEqualTo(143);
        f.manager.sync(f.app, 5, TimeUnit.SECONDS);
        assertThat(f.manager.dynos(f.app)).isEmpty();
        assertThat(f.linesOf("run.3")).extracting(LogLine::message).filteredOn(m -> m.startsWith("Starting process")).hasSize(1);
        assertThat(f.provisioner.leases()).isEmpty();
    }

    @Test
    void memoryOverQuotaIsR14AndFarOverIsR15WithARestart() throws Exception {
        f = new ManagerFixture(FAST.withMemory(32L << 20, Duration.ofMillis(50)));
        // 48 MiB: over the 32 MiB quota, under the 64 MiB R15 ceiling. 200 MiB: far over.
        var release = f.release(1, Map.of(), Map.of(
                "hog", "exec python3 -c \"import time; x = bytearray(48 << 20); print('holding', flush=True); time.sleep(600)\"",
                "glutton", "exec python3 -c \"x = bytearray(200 << 20); print('survived')\""), Map.of());
        f.manager.apply(f.state(release, Map.of("hog", 1, "glutton", 1)));

        f.await(l -> l.process().equals("hog.1") && l.message().equals("holding"), 1);
        f.await("hog.1", "Error R14 (Memory quota exceeded)");
        f.await("glutton.1", "Error R15 (Memory quota vastly exceeded)");
        f.await("glutton.1", "State changed from up to crashed");
        f.awaitPrefix("glutton.1", "Starting process with command", 2);
        assertThat(f.linesOf("hog.1")).extracting(LogLine::message).noneMatch(m -> m.startsWith("Error R15"));
        assertThat(f.linesOf("glutton.1")).extracting(LogLine::message).doesNotContain("survived");
        assertThat(scrape(f.manager)).containsPattern("dynoplane_dyno_restarts_total\\{app=\"" + f.app + "\",reason=\"R15\"\\} [1-9]");
    }

    private static long firstPid(List<DynoStatus> dynos) {
        assertThat(dynos).isNotEmpty();
        assertThat(dynos.getFirst().pid()).isPositive();
        return dynos.getFirst().pid();
    }

    private static String scrape(DynoManager manager) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(manager.metrics());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape(), io.prometheus.metrics.config.EscapingScheme.DEFAULT);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String netnsList() throws IOException {
        try (var names = Files.list(Path.of("/run/netns"))) {
            return String.join("\n", names.map(p -> p.getFileName().toString()).toList());
        }
    }
}
