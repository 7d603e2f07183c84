package io.dynoplane.router;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The router end to end, on real loopback sockets, against JDK-HttpServer dynos. */
@ExtendWith(NoLeaks.class)
class RouterIntegrationTest {
    private static final String UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

    private static TestBackend web1;
    private static TestBackend web2;
    private static TestBackend solo;
    private static ServerSocket hangUp;     // accepts and closes: a dyno that dies mid-request
    private static int closedPort;
    private static Router router;
    private static PrometheusRegistry registry;
    private static final LogCapture logs = new LogCapture();
    private static HttpClient http;

    @BeforeAll
    static void start() throws IOException {
        web1 = TestBackend.start("one");
        web2 = TestBackend.start("two");
        solo = TestBackend.start("solo");
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort(); // nothing listens here once closed
        }
        hangUp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!hangUp.isClosed()) {
                try (Socket s = hangUp.accept()) {
                    s.getInputStream().read(); // wait for the request to start, then hang up
                } catch (IOException ignored) {
                    // closed at the end of the class
                }
            }
        });

        registry = new PrometheusRegistry();
        router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "test-router", 2), registry);
        router.onLog(logs);
        router.publish(RouteTable.empty()
                .with("hello.localhost", new AppRoute("hello", List.of(web1.backend("web.1"), web2.backend("web.2"))))
                .with("solo.localhost", new AppRoute("solo", List.of(solo.backend("web.1"))))
                .with("empty.localhost", new AppRoute("empty", List.of()))
                .with("down.localhost", new AppRoute("down",
                        List.of(new Backend("web.1", new InetSocketAddress(InetAddress.getLoopbackAddress(), closedPort)))))
                .with("hangup.localhost", new AppRoute("hangup",
                        List.of(new Backend("web.1", (InetSocketAddress) hangUp.getLocalSocketAddress())))));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws IOException {
        http.close();
        router.close();
        web1.close();
        web2.close();
        solo.close();
        hangUp.close();
    }

    private static HttpResponse<String> get(String host, String path, String... headers)
            throws IOException, InterruptedException {
        return send(http, host, path, headers);
    }

    private static HttpResponse<String> send(HttpClient client, String host, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Host", host);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String newRequestId() {
        return "test" + UUID.randomUUID().toString().replace("-", ""); // 36 valid chars
    }

    /** The value of a header as the test backend echoed it (names lower-cased), or null. */
    private static String echoed(String body, String header) {
        String prefix = header.toLowerCase() + ": ";
        return body.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                .findFirst().orElse(null);
    }

    @Test
    void runsOnIoUring() {
        assertThat(router.transportName())
                .as("io_uring unavailable: %s", io.netty.channel.uring.IoUring.unavailabilityCause())
                .isEqualTo("io_uring");
    }

    @Test
    void spreadsRequestsOverBothWebDynos() throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> response = get("hello.localhost", "/spread");
            assertThat(response.statusCode()).isEqualTo(200);
            seen.add(response.headers().firstValue("X-Backend").orElseThrow());
        }
        assertThat(seen).containsExactlyInAnyOrder("one", "two");
    }

    @Test
    void addsForwardingHeaders() throws Exception {
        long before = System.currentTimeMillis();
        HttpResponse<String> response = get("Hello.Localhost:80", "/headers?x=1",
                "X-Forwarded-For", "203.0.113.7", "Via", "1.0 upstream-proxy");
        long after = System.currentTimeMillis();

        assertThat(response.statusCode()).isEqualTo(200);
        String body = response.body();
        assertThat(body).contains("uri=/headers?x=1");
        assertThat(echoed(body, "X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
        assertThat(echoed(body, "X-Forwarded-Proto")).isEqualTo("http");
        assertThat(echoed(body, "X-Forwarded-Port")).isEqualTo(Integer.toString(router.port()));
        assertThat(Long.parseLong(echoed(body, "X-Request-Start"))).isBetween(before, after);
        assertThat(echoed(body, "Via")).isEqualTo("1.0 upstream-proxy, 1.1 test-router");
        assertThat(echoed(body, "X-Dynoplane-Arrival")).as("internal stamp never leaves the router").isNull();
        assertThat(response.headers().firstValue("Via").orElseThrow()).endsWith("1.1 test-router");
    }

    @Test
    void keepsAndEchoesAValidRequestId() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("hello.localhost", "/id", "X-Request-Id", id);
        assertThat(echoed(response.body(), "X-Request-Id")).isEqualTo(id);
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue(id);
        assertThat(logs.await("request_id=" + id)).contains("host=hello.localhost");
    }

    @Test
    void replacesAnInvalidRequestIdWithAUuid() throws Exception {
        for (String invalid : List.of("too-short", "has spaces but is long enough to pass", "bad_chars_underscore_1234")) {
            HttpResponse<String> response = get("hello.localhost", "/id", "X-Request-Id", invalid);
            String atDyno = echoed(response.body(), "X-Request-Id");
            assertThat(atDyno).matches(UUID_PATTERN);
            assertThat(response.headers().firstValue("X-Request-Id")).hasValue(atDyno);
        }
    }

    @Test
    void unknownHostGets404() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("nope.localhost", "/", "X-Request-Id", id);
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("No such app");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(logs.await(id)).startsWith("at=info ").contains("host=nope.localhost", "status=404", "dyno= ");
    }

    @Test
    void appWithoutWebDynosGets503H14() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("empty.localhost", "/", "X-Request-Id", id);
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("No web dynos running");
        assertThat(logs.await(id)).matches(
                "at=error code=H14 desc=\"No web dynos running\" method=GET path=\"/\" host=empty.localhost"
                        + " request_id=" + id + " fwd=\"127.0.0.1\" dyno= connect= service= status=503 bytes=\\d+"
                        + " protocol=http1.1 tls=false");
    }

    @Test
    void refusedConnectionGets503H21() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("down.localhost", "/", "X-Request-Id", id);
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("H21");
        assertThat(logs.await(id)).startsWith("at=error code=H21 desc=\"Backend connection refused\"")
                .contains("dyno=web.1", "status=503");
    }

    @Test
    void aFailureInsideTheRouterGets503H99() throws Exception {
        router.failRequestsFor("broken.localhost");
        String id = newRequestId();
        HttpResponse<String> response = get("broken.localhost", "/", "X-Request-Id", id);
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("H99");
        assertThat(logs.await(id)).startsWith("at=error code=H99 desc=\"Platform error\"").contains("status=503");
    }

    @Test
    void dynoClosingWithoutResponseGets503H13() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("hangup.localhost", "/", "X-Request-Id", id);
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(logs.await(id)).startsWith("at=error code=H13 desc=\"Connection closed without response\"");
    }

    @Test
    void logsOneHerokuStyleLinePerRequest() throws Exception {
        String id = newRequestId();
        HttpResponse<String> response = get("hello.localhost", "/log?q=1", "X-Request-Id", id);
        String dyno = "one".equals(response.headers().firstValue("X-Backend").orElseThrow()) ? "web.1" : "web.2";
        int bytes = response.body().getBytes(StandardCharsets.UTF_8).length;
        assertThat(logs.await(id)).matches(
                "at=info method=GET path=\"/log\\?q=1\" host=hello.localhost request_id=" + id
                        + " fwd=\"127.0.0.1\" dyno=" + dyno + " connect=\\d+ms service=\\d+ms status=200 bytes=" + bytes
                        + " protocol=http1.1 tls=false");
    }

    @Test
    void keepAliveClientReusesOneDynoConnection() throws Exception {
        Set<String> dynoConnections = new HashSet<>();
        int before = solo.connections();
        try (RawHttp client = new RawHttp(router.port())) {
            for (int i = 0; i < 5; i++) {
                RawHttp.Response response = client.send("GET /ka/" + i + " HTTP/1.1\r\nHost: solo.localhost\r\n\r\n");
                assertThat(response.statusLine()).isEqualTo("HTTP/1.1 200 OK");
                assertThat(response.body()).contains("uri=/ka/" + i);
                assertThat(response.header("Connection")).isNull();
                dynoConnections.add(response.body().lines().filter(l -> l.startsWith("client-port=")).findFirst().orElseThrow());
            }
        }
        assertThat(dynoConnections).as("router-to-dyno connections used").hasSize(1);
        assertThat(solo.connections() - before).isLessThanOrEqualTo(1); // maybe reused from an earlier test
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            String one = "GET /p/1 HTTP/1.1\r\nHost: solo.localhost\r\n\r\n";
            String two = "GET /p/2 HTTP/1.1\r\nHost: nope.localhost\r\n\r\n";
            String three = "GET /p/3 HTTP/1.1\r\nHost: solo.localhost\r\n\r\n";
            assertThat(client.send(one + two + three).body()).contains("uri=/p/1");
            assertThat(client.read(false).statusLine()).isEqualTo("HTTP/1.1 404 Not Found");
            assertThat(client.read(false).body()).contains("uri=/p/3");
        }
    }

    @Test
    void http10ClientGetsHttp11AndAClosedConnection() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            RawHttp.Response response = client.send("GET /ten HTTP/1.0\r\nHost: hello.localhost\r\n\r\n");
            assertThat(response.statusLine()).startsWith("HTTP/1.1 200");
            assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(response.body()).contains("uri=/ten");
            assertThat(client.closedByPeer()).isTrue();
        }
    }

    @Test
    void http10ClientAskingForKeepAliveGetsIt() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            String request = "GET /ten-ka HTTP/1.0\r\nHost: hello.localhost\r\nConnection: keep-alive\r\n\r\n";
            RawHttp.Response first = client.send(request);
            assertThat(first.statusLine()).startsWith("HTTP/1.1 200");
            assertThat(first.header("Connection")).isEqualToIgnoringCase("keep-alive");
            assertThat(echoed(first.body(), "Connection")).as("hop-by-hop, not forwarded").isNull();
            assertThat(client.send(request).statusLine()).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void stripsHopByHopHeaders() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            RawHttp.Response response = client.send("GET /hop HTTP/1.1\r\nHost: hello.localhost\r\n"
                    + "Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                    + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: websocket\r\nX-End-To-End: kept\r\n\r\n");
            String body = response.body();
            assertThat(echoed(body, "X-End-To-End")).isEqualTo("kept");
            for (String hop : List.of("Connection", "X-Secret-Hop", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade")) {
                assertThat(echoed(body, hop)).as(hop).isNull();
            }
        }
    }

    @Test
    void h2cUpgradeAttemptIsNotForwarded() throws Exception {
        try (HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            HttpResponse<String> response = send(h2, "hello.localhost", "/h2c");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(echoed(response.body(), "Upgrade")).isNull();
            assertThat(echoed(response.body(), "HTTP2-Settings")).isNull();
        }
    }

    @Test
    void forwardsRequestBodies() throws Exception {
        byte[] payload = new byte[256 * 1024];
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + "/upload"))
                .header("Host", "hello.localhost")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("method=POST", "body-bytes=" + payload.length);
        assertThat(echoed(response.body(), "Content-Length")).isEqualTo(Integer.toString(payload.length));
    }

    @Test
    void chunkedUploadIsForwardedChunked() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            RawHttp.Response response = client.send("POST /chunked HTTP/1.1\r\nHost: solo.localhost\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            assertThat(response.body()).contains("body-bytes=11");
            assertThat(echoed(response.body(), "Transfer-Encoding")).isEqualTo("chunked");
            assertThat(echoed(response.body(), "Content-Length")).isNull();
        }
    }

    @Test
    void headRequestGetsHeadersOnlyAndKeepsTheConnectionUsable() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            RawHttp.Response head = client.send("HEAD /head HTTP/1.1\r\nHost: solo.localhost\r\n\r\n", true);
            assertThat(head.statusLine()).isEqualTo("HTTP/1.1 200 OK");
            assertThat(head.header("X-Backend")).isEqualTo("solo");
            RawHttp.Response next = client.send("GET /after-head HTTP/1.1\r\nHost: solo.localhost\r\n\r\n");
            assertThat(next.body()).contains("uri=/after-head");
        }
    }

    @Test
    void malformedRequestGets400AndClose() throws Exception {
        try (RawHttp client = new RawHttp(router.port())) {
            RawHttp.Response response = client.send("GET /bad HTTP/1.1\r\nHost: hello.localhost\r\nContent-Length: abc\r\n\r\n");
            assertThat(response.statusLine()).startsWith("HTTP/1.1 400");
            assertThat(client.closedByPeer()).isTrue();
        }
    }

    @Test
    void bodiesAreNotCapped() throws Exception {
        byte[] payload = new byte[11 * 1024 * 1024]; // over the old 10 MiB aggregation cap
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + "/big"))
                .header("Host", "hello.localhost")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("body-bytes=" + payload.length);
    }

    @Test
    void countsRequestsInPrometheus() throws Exception {
        get("hello.localhost", "/metrics-probe");
        String id = newRequestId();
        get("empty.localhost", "/", "X-Request-Id", id);
        logs.await(id); // counted just before it is logged

        CounterSnapshot requests = (CounterSnapshot) metric("dynoplane_router_requests");
        assertThat(requests.getDataPoints()).anySatisfy(p -> {
            assertThat(p.getLabels().get("app")).isEqualTo("hello");
            assertThat(p.getLabels().get("status")).isEqualTo("200");
            assertThat(p.getLabels().get("code")).isEmpty();
            assertThat(p.getValue()).isGreaterThanOrEqualTo(1);
        });
        assertThat(requests.getDataPoints()).anySatisfy(p -> {
            assertThat(p.getLabels().get("app")).isEqualTo("empty");
            assertThat(p.getLabels().get("status")).isEqualTo("503");
            assertThat(p.getLabels().get("code")).isEqualTo("H14");
        });

        SummarySnapshot latency = (SummarySnapshot) metric("dynoplane_router_latency_seconds");
        assertThat(latency.getDataPoints()).anySatisfy(p -> {
            assertThat(p.getLabels().get("kind")).isEqualTo("total");
            assertThat(p.getCount()).isPositive();
            assertThat(p.getSum()).isPositive();
            assertThat(p.getQuantiles()).anySatisfy(q -> {
                assertThat(q.getQuantile()).isEqualTo(0.99);
                assertThat(q.getValue()).isPositive();
            });
        });
        LatencySnapshot snapshot = router.latency();
        assertThat(snapshot.total().getTotalCount()).isPositive();
        assertThat(snapshot.routerAdded().getMaxValue()).isLessThanOrEqualTo(snapshot.total().getMaxValue());
    }

    private static MetricSnapshot metric(String name) {
        return registry.scrape().stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }
}
