package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.api.ControlApi;
import io.dynoplane.plane.api.ControlClient;
import io.dynoplane.plane.api.TestBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI against the real control API server (on a temp socket) with the in-test backend. */
class CliTest {
    @TempDir Path tmp;
    TestBackend backend;
    ControlApi api;

    record Result(int status, String out, String err) {}

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend(tmp.resolve("store"));
        api = ControlApi.listen(tmp.resolve("run/control.sock"), backend);
    }

    @AfterEach
    void stop() {
        api.close();
        backend.oneOffs.forEach(Process::destroyForcibly);
    }

    private Result run(String stdin, Path socket, String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        Cli.Context context = new Cli.Context(new ControlClient(socket), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args -> 42);
        int status = new Cli().run(List.of(argv), context);
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Result run(String... argv) { return run("", api.path(), argv); }

    private Result ok(String... argv) {
        Result r = run(argv);
        assertThat(r.status()).as("%s: %s", String.join(" ", argv), r.err()).isZero();
        return r;
    }

    private Path appDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(dir.resolve("Procfile"), "web: ./server\nworker: ./work\n");
        return dir;
    }

    @Test
    void appsLifecycleWithTablesAndJson() throws Exception {
        assertThat(ok("apps:create", "shop").out()).isEqualTo("Creating shop... done\n");
        String table = ok("apps").out();
        assertThat(table.lines().findFirst().orElseThrow()).startsWith("NAME").contains("CREATED");
        assertThat(table).contains("shop");
        JsonNode json = new ObjectMapper().readTree(ok("apps", "--json").out());
        assertThat(json.get(0).get("name").asText()).isEqualTo("shop");

        Result unconfirmed = run("apps:destroy", "shop");
        assertThat(unconfirmed.status()).isEqualTo(Cli.USAGE);
        assertThat(unconfirmed.err()).contains("--confirm shop");
        assertThat(run("apps:destroy", "shop", "--confirm", "shpo").status()).isEqualTo(Cli.USAGE);
        ok("apps:destroy", "shop", "--confirm", "shop");
        assertThat(ok("apps", "--json").out().strip()).isEqualTo("[]");
    }

    @Test
    void deployScaleConfigAndReleases() throws Exception {
        ok("apps:create", "shop");
        assertThat(ok("deploy", appDir().toString(), "-a", "shop").out()).contains("done, v1 (succeeded)");
        assertThat(ok("ps:scale", "web=2", "worker=1", "-a", "shop").out()).isEqualTo("Scaling dynos on shop... done, now running web at 2, worker at 1\n");
        Result set = ok("config:set", "FOO=bar", "DATABASE_URL=postgres://x/y", "-a", "shop");
        assertThat(set.out()).contains("=== shop Config Vars").contains("DATABASE_URL: postgres://x/y").contains("FOO:          bar");
        ok("config:unset", "FOO", "-a", "shop");
        assertThat(ok("config", "-a", "shop", "--json").out().strip()).isEqualTo("{\"DATABASE_URL\":\"postgres://x/y\"}");
        String releases = ok("releases", "-a", "shop").out();
        assertThat(releases.lines().skip(2).findFirst().orElseThrow()).startsWith("v3").contains("Remove FOO config vars");
        ok("ps:restart", "-a", "shop");
        ok("ps:restart", "web", "-a", "shop");
        ok("ps:stop", "web.1", "-a", "shop");
        assertThat(backend.actions).containsExactly("restart shop null", "restart shop web", "stop shop web.1");
    }

    @Test
    void psListsTheManagersFields() {
        ok("apps:create", "shop");
        backend.dynos.add(new DynoStatus("web.1", "shop", "web", "up", "172.16.0.2", "dp-shop-web-1", 42, 5000, "dpab12", 3, null, 1, "2026-11-26T10:00:00Z"));
        String table = ok("ps", "-a", "shop").out();
        assertThat(table.lines().toList().get(2)).matches("web\\.1\\s+shop\\s+up\\s+172\\.16\\.0\\.2\\s+dp-shop-web-1\\s+42\\s+v3\\s+1\\s+2026-11-26T10:00:00Z");
        String json = ok("ps", "--json").out();
        for (String field : List.of("name", "app", "type", "state", "address", "netns", "pid", "release", "space", "restarts", "started_at")) {
            assertThat(json).contains("\"" + field + "\":");
        }
    }

    @Test
    void runAttachedPipesStdinAndExitsWithTheCommandsStatus() {
        ok("apps:create", "shop");
        Result r = run("hello\n", api.path(), "run", "-a", "shop", "--", "read line; echo \"got $line\"; echo warn >&2; exit 3");
        assertThat(r.status()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("got hello\n");
        assertThat(r.err()).contains("Running `read line; echo \"got $line\"; echo warn >&2; exit 3` on shop... up, run.1").endsWith("warn\n");
        Result cat = run("all of stdin", api.path(), "run", "-a", "shop", "cat");
        assertThat(cat.status()).isZero();
        assertThat(cat.out()).isEqualTo("all of stdin");
    }

    @Test
    void runDetachedLogsAndDrains() {
        ok("apps:create", "shop");
        assertThat(ok("run:detached", "-a", "shop", "--", "true").out()).contains("up, run.1").contains("--dyno run.1");
        backend.publish("2026-11-26T10:00:00.000001+00:00 app[web.1]: one");
        backend.publish("2026-11-26T10:00:00.000002+00:00 heroku[web.1]: two");
        assertThat(ok("logs", "-a", "shop", "--source", "heroku").out()).isEqualTo("2026-11-26T10:00:00.000002+00:00 heroku[web.1]: two\n");
        assertThat(ok("logs", "-a", "shop", "-n", "1").out()).endsWith("two\n").doesNotContain("one");
        assertThat(run("logs", "-a", "shop", "-n", "many").err()).contains("'many'");

        assertThat(ok("drains:add", "syslog://logs.example:514", "-a", "shop").out()).contains("Successfully added drain syslog://logs.example:514");
        assertThat(ok("drains", "-a", "shop").out()).contains("syslog://logs.example:514");
        ok("drains:remove", "syslog://logs.example:514", "-a", "shop");
        assertThat(ok("drains", "-a", "shop", "--json").out().strip()).isEqualTo("[]");
    }

    @Test
    void spaces() {
        assertThat(ok("spaces:create", "eu").out()).isEqualTo("Creating space eu... done, id 1\n");
        ok("spaces:trusted-ips:add", "10.0.0.0/8", "--space", "eu");
        assertThat(ok("spaces").out()).contains("10.0.0.0/8");
        Result bad = run("spaces:trusted-ips:add", "10.0.0.0/99", "--space", "eu");
        assertThat(bad.status()).isEqualTo(Cli.ERROR);
        assertThat(bad.err()).contains("'10.0.0.0/99'").contains("invalid_params");
        assertThat(ok("apps:create", "api", "--space", "eu", "--internal").out()).contains("in space eu");
    }

    @Test
    void exitStatusesMeanSomething() {
        Result unknownApp = run("config", "-a", "nope");
        assertThat(unknownApp.status()).isEqualTo(Cli.ERROR);
        assertThat(unknownApp.err()).startsWith("dynoplane: config: ").contains("'nope'").contains("not_found");
        Result usage = run("ps:scale", "web=lots", "-a", "shop");
        assertThat(usage.status()).isEqualTo(Cli.USAGE);
        assertThat(usage.err()).contains("'web=lots'");
        assertThat(run("frobnicate").status()).isEqualTo(Cli.USAGE);
        assertThat(run("frobnicate").err()).contains("'frobnicate'");
        Result down = run("", tmp.resolve("nowhere/control.sock"), "apps");
        assertThat(down.status()).isEqualTo(Cli.NOT_RUNNING);
        assertThat(down.err()).contains("nowhere/control.sock");
        assertThat(run("up").status()).as("up runs the daemon hook").isEqualTo(42);
    }

    @Test
    void downAsksTheDaemonToStop() throws Exception {
        assertThat(ok("down").out()).contains("Stopping the daemon");
        backend.shutdown.get(10, java.util.concurrent.TimeUnit.SECONDS); // called just after the answer is sent
    }

    @Test
    void helpListsEveryCommandAndTheExitCodesAndEveryCommandHasHelp() {
        Result help = ok("help");
        for (String name : new Cli().commandNames()) {
            assertThat(help.out()).contains("  " + name + " ");
            Result one = ok(name, "--help");
            assertThat(one.out()).startsWith("usage: ./dynoplane " + name);
        }
        assertThat(help.out()).contains("2 usage error").contains("3 no daemon running");
        assertThat(ok("help", "ps:scale").out()).contains("TYPE=N...");
    }

    /** ./dynoplane must hand every CLI command to Main; a command missing from its dispatch would die there. */
    @Test
    void theEntryPointDispatchesEveryCommand() throws Exception {
        Path script = Path.of("..", "dynoplane");
        String text = Files.readString(script);
        List<Pattern> cases = Pattern.compile("^\\s+([a-z:*|-]+)\\)\\s*$", Pattern.MULTILINE).matcher(text).results()
                .flatMap(m -> java.util.Arrays.stream(m.group(1).split("\\|")))
                .filter(glob -> !glob.equals("*")) // the catch-all that says "unknown command"
                .map(glob -> Pattern.compile(glob.replace("*", ".*"))).toList();
        for (String name : new Cli().commandNames()) {
            assertThat(cases).as("./dynoplane dispatches %s", name).anyMatch(p -> p.matcher(name).matches());
        }
        assertThat(cases).noneMatch(p -> p.matcher("frobnicate").matches());
        Matcher help = Pattern.compile("help\\|-h\\|--help\\)").matcher(text);
        assertThat(help.find()).isTrue();
    }
}
