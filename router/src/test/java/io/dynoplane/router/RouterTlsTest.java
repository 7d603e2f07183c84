package io.dynoplane.router;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The TLS listener: certificate by SNI, the HTTP/1.1 pipeline behind it, https in the forwarded headers. */
@ExtendWith(NoLeaks.class)
class RouterTlsTest {
    @TempDir
    static Path certDir;

    private static TestBackend web;
    private static Router router;
    private static TestCertificates certs;
    private static final LogCapture logs = new LogCapture();

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("one");
        certs = TestCertificates.create(certDir, "a.test", "b.test");
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        router = Router.start(new RouterConfig(loopback, "test-router", 2)
                .withTls(new RouterTls(loopback, certs.certificates())));
        router.onLog(logs);
        router.publish(RouteTable.empty()
                .with("hello.localhost", new AppRoute("hello", List.of(web.backend("web.1")))));
    }

    @AfterAll
    static void stop() {
        router.close();
        web.close();
    }

    /** Connects with {@code sni} (none if null), sends one GET, returns the peer certificate's subject and the response. */
    private static String[] get(String sni, String requestId) throws Exception {
        // A fresh context each time: the JDK client would otherwise resume the last session to this
        // host and port, whatever the server name, and report that session's certificate.
        SSLContext trusting = certs.trustingContext();
        try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), router.tlsPort())) {
            socket.setSoTimeout(10_000);
            SSLParameters params = socket.getSSLParameters();
            params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            socket.setSSLParameters(params);
            socket.startHandshake();
            X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            OutputStream out = socket.getOutputStream();
            out.write(("GET /tls HTTP/1.1\r\nHost: hello.localhost\r\nX-Request-Id: " + requestId
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new String[] {peer.getSubjectX500Principal().getName(), response};
        }
    }

    @Test
    void presentsTheCertificateNamedBySni() throws Exception {
        assertThat(get("a.test", "tls-a00000000000000000000000")[0]).isEqualTo("CN=a.test");
        assertThat(get("b.test", "tls-b00000000000000000000000")[0]).isEqualTo("CN=b.test");
    }

    @Test
    void fallsBackToTheFirstCertificate() throws Exception {
        assertThat(get(null, "tls-none000000000000000000000")[0]).isEqualTo("CN=a.test");
        assertThat(get("other.test", "tls-other00000000000000000000")[0]).isEqualTo("CN=a.test");
    }

    @Test
    void forwardsAsHttpsAndLogsTls() throws Exception {
        String id = "tls-fwd000000000000000000000";
        String response = get("b.test", id)[1];
        assertThat(response).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("x-forwarded-proto: https\n", "x-forwarded-port: " + router.tlsPort() + "\n",
                        "uri=/tls\n");
        assertThat(logs.await("request_id=" + id))
                .contains("host=hello.localhost", "status=200", "protocol=http1.1 tls=true");
    }

    @Test
    void plainListenerStaysPlain() throws Exception {
        assertThat(router.port()).isNotEqualTo(router.tlsPort());
        String id = "plain0000000000000000000000";
        try (var socket = new java.net.Socket(InetAddress.getLoopbackAddress(), router.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: hello.localhost\r\nX-Request-Id: " + id
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).contains("x-forwarded-proto: http\n");
        }
        assertThat(logs.await("request_id=" + id)).contains("protocol=http1.1 tls=false");
    }
}
