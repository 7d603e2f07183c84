package io.dynoplane.router;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Responses as clients get them, whatever the dyno sends: no body where HTTP forbids one, and HTTP/1.0
 * clients answered as HTTP/1.1 with a body they can frame. Real sockets both sides; the dyno is a
 * {@link RecordingBackend} scripted per test.
 */
@ExtendWith(NoLeaks.class)
class RouterResponseFramingTest {
    private static final String HOST = "responses.localhost";

    private static RecordingBackend backend;
    private static Router router;

    @BeforeAll
    static void start() throws IOException {
        backend = new RecordingBackend();
        router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "test-router", 1));
        router.publish(RouteTable.empty().with(HOST, new AppRoute("responses", List.of(
                new Backend("web.1", backend.address())))));
    }

    @AfterAll
    static void stop() throws IOException {
        router.close();
        backend.close();
    }

    @BeforeEach
    void resetBackend() {
        backend.reset();
    }

    /** Writes {@code request} and reads until the router closes or is quiet for {@code quietMillis}. */
    private static String exchange(Socket socket, String request, int quietMillis) throws IOException {
        socket.setSoTimeout(quietMillis);
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                answer.write(buffer, 0, n);
            }
            answer.write("<EOF>".getBytes(StandardCharsets.ISO_8859_1));
        } catch (SocketTimeoutException quiet) {
            // keep-alive: nothing more is coming
        }
        return answer.toString(StandardCharsets.ISO_8859_1);
    }

    private static Socket connect() throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), router.port());
    }

    private static String get(String method, String path) {
        return method + " " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"204 No Content", "304 Not Modified"})
    void bodylessStatusReachesTheClientWithoutTheBodyTheDynoSent(String status) throws IOException {
        backend.respondWith(head -> head.startsWith("GET /after")
                ? RecordingBackend.OK
                : "HTTP/1.1 " + status + "\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhello", false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/bodyless"), 500);
            assertThat(answer).startsWith("HTTP/1.1 " + status + "\r\n").endsWith("\r\n\r\n")
                    .doesNotContain("hello").containsIgnoringCase("etag: \"x\"");
            // The connection is still in step: the next response is the next request's.
            assertThat(exchange(socket, get("GET", "/after"), 500)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        }
    }

    @Test
    void headResponseHasNoBodyEvenIfTheDynoSendsOne() throws IOException {
        backend.respondWith(head -> head.startsWith("HEAD ")
                ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                : RecordingBackend.OK, false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("HEAD", "/head"), 500);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 5\r\n")
                    .endsWith("\r\n\r\n").doesNotContain("hello");
            assertThat(exchange(socket, get("GET", "/after"), 500)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        }
    }

    @Test
    void interimResponsesFromTheDynoAreNotPassedOn() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                + RecordingBackend.OK, false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/hints"), 500);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok").doesNotContain("103");
        }
    }

    @Test
    void http10ClientGetsACloseDelimitedBodyForAChunkedDynoResponse() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, "GET /ten HTTP/1.0\r\nHost: " + HOST + "\r\nConnection: keep-alive\r\n\r\n", 2_000);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").doesNotContainIgnoringCase("content-length")
                    .containsIgnoringCase("connection: close\r\n").doesNotContainIgnoringCase("transfer-encoding")
                    .endsWith("\r\n\r\nhello world<EOF>");
        }
    }

    @Test
    void http10ClientGetsACloseDelimitedBodyForACloseDelimitedDynoResponse() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true);
        try (Socket socket = connect()) {
            String answer = exchange(socket, "GET /ten HTTP/1.0\r\nHost: " + HOST + "\r\n\r\n", 2_000);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").doesNotContainIgnoringCase("content-length")
                    .containsIgnoringCase("connection: close\r\n")
                    .doesNotContainIgnoringCase("transfer-encoding").endsWith("\r\n\r\nuntil the end<EOF>");
        }
    }

    @Test
    void http10ClientKeepsTheDynosLength() throws IOException {
        try (Socket socket = connect()) {
            String answer = exchange(socket, "GET /ten HTTP/1.0\r\nHost: " + HOST + "\r\nConnection: keep-alive\r\n\r\n", 500);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 2\r\n")
                    .containsIgnoringCase("connection: keep-alive\r\n").endsWith("\r\n\r\nok");
        }
    }

    @Test
    void http11ClientGetsAChunkedBodyForACloseDelimitedDynoResponseAndKeepsItsConnection() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/eleven"), 500);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("transfer-encoding: chunked\r\n")
                    .doesNotContainIgnoringCase("content-length").doesNotContainIgnoringCase("connection: close")
                    .endsWith("0\r\n\r\n").doesNotContain("<EOF>");
            assertThat(dechunk(answer.substring(answer.indexOf("\r\n\r\n") + 4))).isEqualTo("until the end");
            backend.respondWith(head -> RecordingBackend.OK, false);
            assertThat(exchange(socket, get("GET", "/after"), 500)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        }
    }

    /** The data of a chunked body (no trailers). */
    private static String dechunk(String body) {
        StringBuilder data = new StringBuilder();
        int at = 0;
        while (true) {
            int crlf = body.indexOf("\r\n", at);
            int size = Integer.parseInt(body.substring(at, crlf), 16);
            if (size == 0) {
                return data.toString();
            }
            data.append(body, crlf + 2, crlf + 2 + size);
            at = crlf + 2 + size + 2;
        }
    }

    @Test
    void pipelined100ContinueWaitsForTheResponseBeforeIt() throws IOException {
        try (Socket socket = connect()) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write((get("GET", "/first") + "POST /second HTTP/1.1\r\nHost: " + HOST
                    + "\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().endsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
                int b = in.read();
                assertThat(b).as("router closed; got %s", seen).isNotEqualTo(-1);
                seen.append((char) b);
            }
            assertThat(seen.toString()).as("the first response comes before the 100 Continue")
                    .startsWith("HTTP/1.1 200 OK\r\n").contains("\r\n\r\nokHTTP/1.1 100 Continue");
            out.write("hello".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(new String(in.readNBytes(15), StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200 OK");
        }
        assertThat(backend.received()).contains("POST /second HTTP/1.1\r\n").endsWith("\r\n\r\nhello")
                .doesNotContainIgnoringCase("expect");
    }

    // A dyno's usual response goes to the client as its own bytes (PassThroughHead): the same behaviour as decoded.

    @Test
    void dynoConnectionHeadersAreLeftOutAndItsConnectionReused() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                + "Content-Length: 5\r\n\r\nhello", false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/first"), 500);
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").doesNotContainIgnoringCase("keep-alive")
                    .containsIgnoringCase("\r\nvia: 1.1 test-router\r\n").endsWith("\r\n\r\nhello");
            String id = answer.replaceFirst("(?s).*\r\nx-request-id: ([^\r]*)\r\n.*", "$1");
            assertThat(backend.received()).as("the id sent to the dyno comes back").contains("\r\nx-request-id: " + id + "\r\n");
            int connections = backend.connections();
            assertThat(exchange(socket, get("GET", "/second"), 500)).endsWith("\r\n\r\nhello");
            assertThat(backend.connections()).as("the dyno connection was reused").isEqualTo(connections);
        }
    }

    @Test
    void dynoConnectionCloseEndsTheDynoConnectionNotTheClients() throws IOException {
        // The dyno says close but leaves its socket open: only the header can tell the router not to reuse it.
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", false);
        try (Socket socket = connect()) {
            assertThat(exchange(socket, get("GET", "/first"), 500)).startsWith("HTTP/1.1 200 OK\r\n")
                    .doesNotContainIgnoringCase("connection:").endsWith("\r\n\r\nhello");
            int connections = backend.connections();
            backend.respondWith(head -> RecordingBackend.OK, false);
            assertThat(exchange(socket, get("GET", "/second"), 500)).endsWith("\r\n\r\nok");
            assertThat(backend.connections()).as("a new dyno connection").isEqualTo(connections + 1);
        }
    }

    @Test
    void bytesBeyondTheDynosContentLengthAreNotTakenForTheNextResponse() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n", false);
        try (Socket socket = connect()) {
            assertThat(exchange(socket, get("GET", "/first"), 500)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
            backend.respondWith(head -> RecordingBackend.OK, false);
            assertThat(exchange(socket, get("GET", "/second"), 500)).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok")
                    .doesNotContain("Stray");
        }
    }

    @Test
    void dynosOwnRequestIdAndViaAreReplacedAndAppendedTo() throws IOException {
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nX-Request-Id: chosen-by-the-dyno-0000000\r\nVia: 1.1 vegur\r\n"
                + "Content-Length: 2\r\n\r\nok", false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/ids"), 500);
            assertThat(answer).doesNotContain("chosen-by-the-dyno").containsIgnoringCase("\r\nvia: 1.1 vegur, 1.1 test-router\r\n")
                    .endsWith("\r\n\r\nok");
            assertThat(answer.toLowerCase(java.util.Locale.ROOT).split("x-request-id:", -1)).hasSize(2);
        }
    }

    @Test
    void largeBodyPassesThroughByteForByte() throws IOException {
        String body = "0123456789abcdef".repeat(16 * 1024); // 256 KiB: many reads on both sides
        backend.respondWith(head -> "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body, false);
        try (Socket socket = connect()) {
            String answer = exchange(socket, get("GET", "/large"), 1_000);
            assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4)).isEqualTo(body);
            backend.respondWith(head -> RecordingBackend.OK, false);
            assertThat(exchange(socket, get("GET", "/after"), 500)).endsWith("\r\n\r\nok");
        }
    }
}
