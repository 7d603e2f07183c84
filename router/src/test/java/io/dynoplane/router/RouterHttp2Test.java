package io.dynoplane.router;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 over TLS (ALPN h2) from the JDK client: each stream reaches the dyno as an HTTP/1.1 request.
 * The JDK client sends no SNI for an IP literal, so the default certificate (with IP SAN 127.0.0.1) is
 * presented, and :authority is 127.0.0.1:port, which the route table maps.
 */
@ExtendWith(NoLeaks.class)
class RouterHttp2Test {
    @TempDir
    static Path certDir;

    private static TestBackend web;
    private static Router router;
    private static HttpClient h2;
    private static HttpClient h1;
    private static final LogCapture logs = new LogCapture();

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("one");
        TestCertificates certs = TestCertificates.create(certDir, "a.test");
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        router = Router.start(new RouterConfig(loopback, "test-router", 2)
                .withTls(new RouterTls(loopback, certs.certificates())));
        router.onLog(logs);
        router.publish(RouteTable.empty()
                .with("127.0.0.1", new AppRoute("hello", List.of(web.backend("web.1")))));
        h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.trustingContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(certs.trustingContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        h2.close();
        h1.close();
        router.close();
        web.close();
    }

    private static HttpRequest.Builder request(String path, String requestId) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + router.tlsPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("X-Request-Id", requestId);
    }

    /** The value of a header as the test backend echoed it (names lower-cased), or null. */
    private static String echoed(String body, String header) {
        String prefix = header.toLowerCase() + ": ";
        return body.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()))
                .findFirst().orElse(null);
    }

    @Test
    void getOverH2ReachesTheDynoAsHttp11() throws Exception {
        String id = "h2-get0000000000000000000000";
        HttpResponse<String> response = h2.send(request("/h2?x=1", id).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-request-id")).hasValue(id);
        String body = response.body();
        assertThat(body).contains("method=GET\n", "uri=/h2?x=1\n");
        assertThat(echoed(body, "x-forwarded-proto")).isEqualTo("https");
        assertThat(echoed(body, "x-forwarded-port")).isEqualTo(Integer.toString(router.tlsPort()));
        assertThat(echoed(body, "host")).isEqualTo("127.0.0.1:" + router.tlsPort());
        assertThat(body).doesNotContain("x-http2-");
        assertThat(logs.await("request_id=" + id))
                .contains("method=GET", "host=127.0.0.1", "status=200", "protocol=http2 tls=true");
    }

    @Test
    void postBodyGoesOnChunked() throws Exception {
        String id = "h2-post000000000000000000000";
        byte[] payload = new byte[200_000];
        HttpResponse<String> response = h2.send(request("/upload", id)
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(response.body()).contains("method=POST\n", "body-bytes=200000\n");
        assertThat(logs.await("request_id=" + id)).contains("status=200", "protocol=http2");
    }

    @Test
    void concurrentStreamsOnOneConnection() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            pending.add(h2.sendAsync(request("/many/" + i, "h2-many" + i + "00000000000000000000").build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> response = pending.get(i).get();
            assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(response.body()).contains("uri=/many/" + i + "\n");
        }
    }

    @Test
    void http11ClientsGetHttp11ByAlpn() throws Exception {
        String id = "h1-alpn000000000000000000000";
        HttpResponse<String> response = h1.send(request("/h1", id).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(echoed(response.body(), "x-forwarded-proto")).isEqualTo("https");
        assertThat(logs.await("request_id=" + id)).contains("protocol=http1.1 tls=true");
    }
}
