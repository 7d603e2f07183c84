package io.dynoplane.plane.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynoplane.plane.DynoStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControlApiTest {
    @TempDir Path tmp;
    TestBackend backend;
    ControlApi api;
    ControlClient client;

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend(tmp.resolve("store"));
        api = ControlApi.listen(tmp.resolve("run/control.sock"), backend);
        client = new ControlClient(api.path());
    }

    @AfterEach
    void stop() {
        api.close();
        backend.oneOffs.forEach(Process::destroyForcibly);
    }

    private Path appDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(dir.resolve("Procfile"), "web: ./server\nworker: ./work\n");
        return dir;
    }

    /** A raw exchange, to see the status line and body exactly as a client gets them. */
    private String raw(String request) throws Exception {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(api.path()))) {
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            return new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ApiException error(Runnable call) {
        try {
            call.run();
        } catch (ApiException e) {
            return e;
        }
        throw new AssertionError("expected an error answer");
    }

    @Test
    void appsAreCreatedListedAndDestroyedWithHerokuShapes() {
        JsonNode created = client.call("POST", "/apps", Map.of("name", "shop"));
        assertThat(created.get("name").asText()).isEqualTo("shop");
        assertThat(created.get("space").isNull()).isTrue();
        assertThat(created.get("internal").asBoolean()).isFalse();
        assertThat(created.get("created_at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(client.call("GET", "/apps", null).size()).isEqualTo(1);
        assertThat(client.call("GET", "/apps/shop", null).get("name").asText()).isEqualTo("shop");
        client.call("DELETE", "/apps/shop", null);
        ApiException gone = error(() -> client.call("GET", "/apps/shop", null));
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.id()).isEqualTo("not_found");
        assertThat(gone.getMessage()).contains("'shop'");
    }

    @Test
    void errorsHaveTheRightStatusIdAndNameTheInput() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        assertThat(error(() -> client.call("POST", "/apps", Map.of("name", "shop")))).extracting(ApiException::status, ApiException::id).containsExactly(409, "conflict");
        ApiException badName = error(() -> client.call("POST", "/apps", Map.of("name", "Shop!")));
        assertThat(badName).extracting(ApiException::status, ApiException::id).containsExactly(422, "invalid_params");
        assertThat(badName.getMessage()).contains("'Shop!'");
        assertThat(error(() -> client.call("POST", "/apps", Map.of("nmae", "x"))).getMessage()).contains("'nmae'");
        assertThat(error(() -> client.call("POST", "/apps", Map.of())).getMessage()).contains("'name'");
        assertThat(error(() -> client.call("GET", "/nothing/here", null))).extracting(ApiException::status, ApiException::id).containsExactly(404, "not_found");
        assertThat(error(() -> client.call("PUT", "/apps", Map.of()))).extracting(ApiException::status, ApiException::id).containsExactly(405, "method_not_allowed");
        assertThat(error(() -> client.call("POST", "/apps/shop/dynos/nope.1/actions/stop", null)).status()).isEqualTo(404);

        String badJson = raw("POST /apps HTTP/1.1\r\nContent-Length: 5\r\n\r\n{nope");
        assertThat(badJson).startsWith("HTTP/1.1 400 Bad Request\r\n");
        assertThat(badJson.substring(badJson.indexOf("\r\n\r\n") + 4)).startsWith("{\"id\":\"bad_request\",\"message\":\"the request body is not JSON");
        assertThat(raw("GARBAGE\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(raw("GET /apps/%zz HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 ").contains("'/apps/%zz'");
    }

    @Test
    void deployScaleConfigAndDrains() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        JsonNode release = client.call("POST", "/apps/shop/releases", Map.of("dir", appDir().toString()));
        assertThat(release.get("version").asInt()).isEqualTo(1);
        assertThat(release.get("status").asText()).isEqualTo("succeeded");
        assertThat(release.get("description").asText()).isEqualTo("Deploy");
        assertThat(error(() -> client.call("POST", "/apps/shop/releases", Map.of("dir", "relative/dir"))).getMessage()).contains("'relative/dir'");

        JsonNode formation = client.call("PATCH", "/apps/shop/formation", Map.of("updates", List.of(Map.of("type", "web", "quantity", 2))));
        assertThat(formation.toString()).isEqualTo("[{\"type\":\"web\",\"quantity\":2,\"command\":\"./web\"},{\"type\":\"worker\",\"quantity\":0,\"command\":\"./worker\"}]");
        ApiException negative = error(() -> client.call("PATCH", "/apps/shop/formation", Map.of("updates", List.of(Map.of("type", "web", "quantity", -1)))));
        assertThat(negative).extracting(ApiException::status).isEqualTo(422);
        assertThat(negative.getMessage()).contains("'web'").contains("-1");

        Map<String, String> set = new HashMap<>(Map.of("FOO", "1", "BAR", "2"));
        assertThat(client.call("PATCH", "/apps/shop/config-vars", set)).containsExactlyInAnyOrder(
                com.fasterxml.jackson.databind.node.TextNode.valueOf("2"), com.fasterxml.jackson.databind.node.TextNode.valueOf("1"));
        assertThat(client.call("GET", "/apps/shop/config-vars", null).toString()).isIn("{\"BAR\":\"2\",\"FOO\":\"1\"}", "{\"FOO\":\"1\",\"BAR\":\"2\"}");
        Map<String, String> unset = new HashMap<>();
        unset.put("FOO", null);
        client.call("PATCH", "/apps/shop/config-vars", unset);
        assertThat(client.call("GET", "/apps/shop/config-vars", null).toString()).isEqualTo("{\"BAR\":\"2\"}");
        JsonNode releases = client.call("GET", "/apps/shop/releases", null);
        assertThat(releases.get(1).get("description").asText()).isEqualTo("Set BAR, FOO config vars");
        assertThat(releases.get(2).get("description").asText()).isEqualTo("Remove FOO config vars");

        JsonNode drain = client.call("POST", "/apps/shop/log-drains", Map.of("url", "syslog://logs.example:514"));
        assertThat(drain.get("token").asText()).startsWith("d.");
        assertThat(client.call("GET", "/apps/shop/log-drains", null).size()).isEqualTo(1);
        client.call("DELETE", "/apps/shop/log-drains/" + drain.get("id").asText(), null);
        assertThat(client.call("GET", "/apps/shop/log-drains", null).size()).isZero();
    }

    @Test
    void spacesAndTrustedIps() {
        JsonNode space = client.call("POST", "/spaces", Map.of("name", "eu"));
        assertThat(space.get("id").asInt()).isEqualTo(1);
        JsonNode updated = client.call("POST", "/spaces/eu/trusted-ips", Map.of("cidrs", List.of("10.0.0.0/8")));
        assertThat(updated.get("trusted_cidrs").toString()).isEqualTo("[\"10.0.0.0/8\"]");
        client.call("POST", "/spaces/eu/inbound-ruleset", Map.of("rules", List.of(Map.of("source", "192.168.0.0/16", "action", "allow"))));
        assertThat(client.call("GET", "/spaces", null).get(0).get("trusted_cidrs").size()).isEqualTo(2);
        assertThat(error(() -> client.call("POST", "/spaces/eu/trusted-ips", Map.of("cidrs", List.of("10.0.0.0/40")))).getMessage()).contains("'10.0.0.0/40'");
        assertThat(error(() -> client.call("POST", "/spaces/mars/trusted-ips", Map.of("cidrs", List.of("10.0.0.0/8")))).status()).isEqualTo(404);
        assertThat(client.call("POST", "/apps", Map.of("name", "api", "space", "eu", "internal", true)).get("internal").asBoolean()).isTrue();
    }

    @Test
    void dynosRestartAndStopReachTheBackend() {
        client.call("POST", "/apps", Map.of("name", "shop"));
        backend.dynos.add(new DynoStatus("web.1", "shop", "web", "up", "172.16.0.2", "dp-shop-web-1", 42, 5000, "dpab12", 3, null, 1, "2026-11-26T10:00:00Z"));
        JsonNode all = client.call("GET", "/dynos", null);
        assertThat(all.get(0).get("name").asText()).isEqualTo("web.1");
        assertThat(all.get(0).get("hostVeth").asText()).isEqualTo("dpab12");
        assertThat(all.get(0).get("started_at").asText()).isEqualTo("2026-11-26T10:00:00Z");
        assertThat(client.call("GET", "/apps/shop/dynos", null).size()).isEqualTo(1);
        client.call("DELETE", "/apps/shop/dynos", null);
        client.call("DELETE", "/apps/shop/dynos/web", null);
        client.call("POST", "/apps/shop/actions/stop/web.1", null);
        assertThat(backend.actions).containsExactly("restart shop null", "restart shop web", "stop shop web.1");
        assertThat(error(() -> client.call("DELETE", "/apps/nope/dynos", null)).status()).isEqualTo(404);
    }

    @Test
    void logsAreFilteredAndTailedUntilTheClientCloses() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        backend.publish("2026-11-26T10:00:00.000001+00:00 app[web.1]: one");
        backend.publish("2026-11-26T10:00:00.000002+00:00 heroku[web.1]: State changed from starting to up");
        backend.publish("2026-11-26T10:00:00.000003+00:00 app[worker.1]: two");
        var head = client.open("GET", "/apps/shop/log-sessions?source=app&lines=1", null, Map.of());
        try (var channel = head.channel()) {
            assertThat(new String(head.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("2026-11-26T10:00:00.000003+00:00 app[worker.1]: two\n");
        }
        var tail = client.open("GET", "/apps/shop/log-sessions?tail=true&dyno=web", null, Map.of());
        BufferedReader lines = new BufferedReader(new InputStreamReader(tail.body(), StandardCharsets.UTF_8));
        assertThat(lines.readLine()).endsWith("app[web.1]: one");
        assertThat(lines.readLine()).endsWith("State changed from starting to up");
        backend.publish("2026-11-26T10:00:01.000000+00:00 app[worker.1]: not for this session");
        backend.publish("2026-11-26T10:00:01.000000+00:00 app[web.2]: live");
        assertThat(lines.readLine()).endsWith("app[web.2]: live");
        tail.channel().close();
        assertThat(backend.sessionsClosed.poll(10, TimeUnit.SECONDS)).isEqualTo("shop");
        assertThat(backend.tailing()).isZero();

        assertThat(error(() -> client.open("GET", "/apps/nope/log-sessions", null, Map.of())).status()).isEqualTo(404);
        assertThat(error(() -> client.open("GET", "/apps/shop/log-sessions?source=router", null, Map.of())).getMessage()).contains("'router'");
        assertThat(error(() -> client.open("GET", "/apps/shop/log-sessions?lines=x", null, Map.of())).getMessage()).contains("'x'");
    }

    @Test
    void anAttachedOneOffPipesStdinStdoutStderrAndTheExitStatus() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        var head = client.open("POST", "/apps/shop/dynos", Map.of("command", "read line; echo \"got $line\"; echo oops >&2; cat; exit 7", "attach", true), Map.of());
        try (var channel = head.channel()) {
            assertThat(head.status()).isEqualTo(101);
            assertThat(head.headers().get("dynoplane-dyno")).isEqualTo("run.1");
            byte[] hello = "hello\nrest".getBytes(StandardCharsets.UTF_8);
            AttachFrames.write(head.out(), AttachFrames.STDIN, hello, 0, hello.length);
            AttachFrames.write(head.out(), AttachFrames.STDIN, new byte[0], 0, 0); // EOF: cat ends
            ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
            Integer status = null;
            AttachFrames.Frame frame;
            while ((frame = AttachFrames.read(head.body())) != null) {
                switch (frame.stream()) {
                    case AttachFrames.STDOUT -> stdout.write(frame.payload());
                    case AttachFrames.STDERR -> stderr.write(frame.payload());
                    case AttachFrames.EXIT -> status = frame.exitStatus();
                    default -> throw new AssertionError("stream " + frame.stream());
                }
            }
            assertThat(stdout.toString(StandardCharsets.UTF_8)).isEqualTo("got hello\nrest");
            assertThat(stderr.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
            assertThat(status).isEqualTo(7);
        }
    }

    @Test
    void closingTheAttachedConnectionStopsTheOneOff() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        var head = client.open("POST", "/apps/shop/dynos", Map.of("command", "echo started; exec sleep 600", "attach", true), Map.of());
        AttachFrames.Frame first = AttachFrames.read(head.body());
        assertThat(new String(first.payload(), StandardCharsets.UTF_8)).isEqualTo("started\n");
        head.channel().close();
        Process process = backend.oneOffs.take();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the one-off is stopped").isTrue();
    }

    @Test
    void aDetachedOneOffAnswersWithTheDyno() throws Exception {
        client.call("POST", "/apps", Map.of("name", "shop"));
        JsonNode dyno = client.call("POST", "/apps/shop/dynos", Map.of("command", "true"));
        assertThat(dyno.get("name").asText()).isEqualTo("run.1");
        assertThat(dyno.get("attach").asBoolean()).isFalse();
        assertThat(error(() -> client.call("POST", "/apps/shop/dynos", Map.of("attach", true))).getMessage()).contains("'command'");
    }

    @Test
    void shutdownAnswersThenCallsTheBackend() throws Exception {
        assertThat(client.call("POST", "/actions/shutdown", null).get("message").asText()).isEqualTo("shutting down");
        backend.shutdown.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theSocketIsRootOnlyAndASecondDaemonIsRefused() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(api.path()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(api.path().getParent()))).isEqualTo("rwx------");
        assertThatThrownBy(() -> ControlApi.listen(api.path(), backend)).isInstanceOf(IllegalStateException.class).hasMessageContaining(api.path().toString());
        api.close();
        assertThat(api.path()).doesNotExist();
        assertThatThrownBy(() -> client.call("GET", "/apps", null)).isInstanceOf(ControlClient.NotRunning.class);
        // A socket file left by a daemon that died is replaced.
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(api.path()));
        }
        assertThat(api.path()).exists();
        api = ControlApi.listen(api.path(), backend);
        assertThat(client.call("GET", "/apps", null).size()).isZero();
    }
}
