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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request smuggling and malformed input, end to end: raw bytes from a socket, through the router, to
 * a {@link RecordingBackend} that keeps every byte it received. Each case asserts what the client got
 * and what the dyno got: nothing, or exactly one request framed by Content-Length alone.
 */
@ExtendWith(NoLeaks.class)
class RouterSmugglingTest {
    private static final String HOST = "smuggle.localhost";
    private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";

    private static RecordingBackend backend;
    private static Router router;
    private static final LogCapture logs = new LogCapture();

    @BeforeAll
    static void start() throws IOException {
        backend = new RecordingBackend();
        router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "test-router", 1));
        router.onLog(logs);
        router.publish(RouteTable.empty().with(HOST, new AppRoute("smuggle", List.of(
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

    /** What the client saw: every byte until the router closed (or went quiet for a second). */
    record Answer(String bytes, boolean closed) {
        String statusLine() {
            int end = bytes.indexOf("\r\n");
            return end < 0 ? bytes : bytes.substring(0, end);
        }

        int responses() {
            // Status lines can follow a body directly ("...okHTTP/1.1 400"), so not anchored to a line.
            return (int) Pattern.compile("HTTP/1\\.1 \\d{3} [^\r\n]*\r\n").matcher(bytes).results().count();
        }
    }

    /** Sends {@code request} verbatim and collects the answer. */
    private static Answer exchange(String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), router.port())) {
            socket.setSoTimeout(1_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            boolean closed;
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    closed = false;
                    break;
                }
                if (n == -1) {
                    closed = true;
                    break;
                }
                answer.write(buffer, 0, n);
            }
            return new Answer(answer.toString(StandardCharsets.ISO_8859_1), closed);
        }
    }

    /** The client got one 400 and a closed connection, and the dyno got nothing. */
    private static void assertRejected(String request) throws IOException {
        assertRejected(request, "400");
    }

    private static void assertRejected(String request, String status) throws IOException {
        Answer answer = exchange(request);
        assertThat(answer.statusLine()).as("answer to %s", printable(request)).startsWith("HTTP/1.1 " + status + " ");
        assertThat(answer.responses()).as("one response only").isEqualTo(1);
        assertThat(answer.bytes()).containsIgnoringCase("\r\nContent-Type: text/html");
        assertThat(answer.closed()).as("connection closed after %s", status).isTrue();
        assertThat(backend.received()).as("bytes the dyno received").isEmpty();
    }

    /**
     * Exactly one request, framed by a single plain chunked coding (no Content-Length, no trailers),
     * reached the dyno, its body re-chunked by the router: one chunk per piece, then the last chunk.
     */
    private static void assertOneChunkedRequest(String expectedBody) {
        String received = backend.received();
        int headEnd = received.indexOf("\r\n\r\n");
        assertThat(headEnd).as("a complete head in %s", printable(received)).isPositive();
        String head = received.substring(0, headEnd + 2);
        String body = received.substring(headEnd + 4);
        assertThat(head.toLowerCase()).doesNotContain("content-length").doesNotContain("expect:")
                .containsOnlyOnce("\r\ntransfer-encoding: chunked\r\n").doesNotContain("x-trailer");
        StringBuilder data = new StringBuilder();
        int at = 0;
        while (true) {
            int crlf = body.indexOf("\r\n", at);
            assertThat(crlf).as("chunk size line in %s", printable(body)).isPositive();
            int size = Integer.parseInt(body.substring(at, crlf), 16);
            at = crlf + 2;
            if (size == 0) {
                assertThat(body.substring(at)).as("end of the last chunk, and nothing after it").isEqualTo("\r\n");
                break;
            }
            data.append(body, at, at + size);
            assertThat(body.substring(at + size, at + size + 2)).isEqualTo("\r\n");
            at += size + 2;
        }
        assertThat(data.toString()).isEqualTo(expectedBody);
        assertThat(backend.completeRequests()).isEqualTo(1);
    }

    /**
     * A chunked body broke off with a framing error after the head had been forwarded: the client got
     * one 400 and a closed connection, and the dyno got the request cut short, never a complete one.
     */
    private static void assertRejectedMidBody(String request) throws IOException, InterruptedException {
        Answer answer = exchange(request);
        assertThat(answer.statusLine()).as("answer to %s", printable(request)).startsWith("HTTP/1.1 400 ");
        assertThat(answer.responses()).as("one response only").isEqualTo(1);
        assertThat(answer.closed()).as("connection closed after 400").isTrue();
        // The head may have gone out already (or not: the bad chunk can come before a connection is up);
        // a connection that carried any of it is dropped.
        assertThat(backend.awaitConnectionsEnded(5_000)).as("the router dropped the dyno connection; it got %s", printable(backend.received())).isTrue();
        assertThat(backend.completeRequests()).as("complete requests the dyno received").isZero();
        assertThat(backend.received()).as("no last chunk reached the dyno").doesNotContain("0\r\n\r\n");
    }

    /** Exactly one request, framed by Content-Length alone, reached the dyno; returns its head. */
    private static String assertOneWellFramedRequest(String expectedBody) {
        String received = backend.received();
        int headEnd = received.indexOf("\r\n\r\n");
        assertThat(headEnd).as("a complete head in %s", printable(received)).isPositive();
        String head = received.substring(0, headEnd + 2);
        String body = received.substring(headEnd + 4);
        assertThat(head.toLowerCase()).doesNotContain("transfer-encoding").doesNotContain("expect:");
        Matcher lengths = Pattern.compile("(?i)\r\ncontent-length: *(\\d+)(?=\r\n)").matcher(head);
        List<String> values = lengths.results().map(m -> m.group(1)).toList();
        if (expectedBody.isEmpty()) {
            assertThat(values).isIn(List.of(), List.of("0"));
        } else {
            assertThat(values).containsExactly(Integer.toString(expectedBody.length()));
        }
        assertThat(body).as("body, and nothing after it").isEqualTo(expectedBody);
        return head;
    }

    private static String printable(String s) {
        return s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t").replace("\0", "\\0");
    }

    private static String post(String framingHeaders, String body) {
        return "POST /upload HTTP/1.1\r\nHost: " + HOST + "\r\n" + framingHeaders + "\r\n" + body;
    }

    // --- the baseline: a well-framed request goes through, exactly once ---------------------------

    @Test
    void wellFramedRequestIsForwardedExactlyOnce() throws IOException {
        Answer answer = exchange(post("Content-Length: 5\r\n", "hello"));
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(answer.closed()).isFalse();
        assertOneWellFramedRequest("hello");
    }

    /** The fast path ({@link PassThroughRequest}): the client's lines as sent, then the router's, then nothing. */
    @Test
    void plainGetReachesTheDynoAsTheClientsLinesThenTheRouters() throws IOException {
        String lines = "GET /plain?a=1 HTTP/1.1\r\nhost:  " + HOST + "\r\nUser-Agent: t/1\r\nAccept:*/*\r\n";
        Answer answer = exchange(lines + "Connection: keep-alive\r\n\r\n");
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(answer.closed()).isFalse();
        String received = backend.received();
        assertThat(received).startsWith(lines + "x-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-port: "
                + router.port() + "\r\nx-request-start: ").endsWith("\r\nvia: 1.1 test-router\r\n\r\n");
        assertThat(received).containsOnlyOnce("\r\n\r\n").doesNotContainIgnoringCase("connection:");
        String requestId = answer.bytes().replaceAll("(?s).*\r\n[Xx]-[Rr]equest-[Ii]d: ([^\r]+)\r\n.*", "$1");
        assertThat(received).contains("\r\nx-request-id: " + requestId + "\r\n");
        assertThat(backend.completeRequests()).isEqualTo(1);
    }

    @Test
    void pipelinedPlainGetsEachReachTheDynoOnceInOrder() throws IOException {
        String get = "GET /%d HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";
        Answer answer = exchange(get.formatted(1) + get.formatted(2) + get.formatted(3));
        assertThat(answer.responses()).isEqualTo(3);
        assertThat(backend.received()).containsSubsequence("GET /1 ", "GET /2 ", "GET /3 ");
        assertThat(backend.completeRequests()).isEqualTo(3);
    }

    @Test
    void chunkedRequestIsForwardedChunked() throws IOException {
        Answer answer = exchange(post("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"));
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertOneChunkedRequest("hello");
    }

    @Test
    void chunkedIsCaseInsensitive() throws IOException {
        Answer answer = exchange(post("Transfer-Encoding: Chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"));
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertOneChunkedRequest("hello");
    }

    // --- CL.TE and TE.CL: both framings present is refused, whichever comes first ------------------

    @Test
    void clTeIsRejected() throws IOException {
        // A CL-honouring front end would forward 13 bytes: "0\r\n\r\nSMUGGLED" to a TE-honouring back end.
        assertRejected(post("Content-Length: 13\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + SMUGGLED));
    }

    @Test
    void teClIsRejected() throws IOException {
        String chunk = Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n0\r\n\r\n";
        assertRejected(post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", chunk));
    }

    // --- TE.TE: any Transfer-Encoding but a single plain "chunked" is refused ----------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "Transfer-Encoding: xchunked\r\n",
            "Transfer-Encoding: chunked, identity\r\n",
            "Transfer-Encoding: identity\r\n",
            "Transfer-Encoding: identity, chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
            "Transfer-Encoding: chunked, chunked\r\n",
            "Transfer-Encoding:\tchunked\r\n",
            "Transfer-Encoding: chunked\t\r\n",
            "Transfer-Encoding : chunked\r\n",
            "Transfer-Encoding\t: chunked\r\n",
            "Transfer-Encoding:\u000bchunked\r\n",
            "Transfer-Encoding: \"chunked\"\r\n",
            "Transfer-Encoding: chunked;q=1\r\n",
            "X-Padding: x\r\n Transfer-Encoding: chunked\r\n",
            "X-Padding: x\r\n\tTransfer-Encoding: chunked\r\n",
    })
    void teTeObfuscationIsRejected(String framing) throws IOException {
        String chunked = "5\r\nhello\r\n0\r\n\r\n";
        assertRejected(post(framing, chunked));
        assertRejected(post("Content-Length: " + chunked.length() + "\r\n" + framing, chunked));
    }

    @Test
    void transferEncodingOnHttp10IsRejected() throws IOException {
        assertRejected("POST /ten HTTP/1.0\r\nHost: " + HOST + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n");
    }

    // --- Content-Length ---------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5, 5\r\n",
            "Content-Length: 5, 6\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: -5\r\n",
            "Content-Length: 0x5\r\n",
            "Content-Length: 5 5\r\n",
            "Content-Length: 99999999999999999999\r\n",
    })
    void badOrMultipleContentLengthIsRejected(String framing) throws IOException {
        assertRejected(post(framing, "hello!"));
    }

    @Test
    void multipleContentLengthOnHttp10IsRejected() throws IOException {
        assertRejected("POST /ten HTTP/1.0\r\nHost: " + HOST + "\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                + "hello!");
    }

    // --- chunk framing ----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"zz", "-5", "0x5", "+5", " 5", "5 ", "", "FFFFFFFFFFFFFFFFF", "80000000", "5;a=\u0001"})
    void invalidChunkSizeIsRejected(String size) throws IOException, InterruptedException {
        assertRejectedMidBody(post("Transfer-Encoding: chunked\r\n", size + "\r\nhello\r\n0\r\n\r\n"));
    }

    @Test
    void chunkWithoutItsTerminatingCrLfIsRejected() throws IOException, InterruptedException {
        assertRejectedMidBody(post("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX0\r\n\r\n"));
    }

    // --- line endings, control characters, folding ------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /lf HTTP/1.1\nHost: " + HOST + "\n\n",
            "GET /lf HTTP/1.1\r\nHost: " + HOST + "\nX-A: 1\r\n\r\n",
            "GET /lf HTTP/1.1\r\nHost: " + HOST + "\r\n\n",
            "GET /cr HTTP/1.1\r\nHost: " + HOST + "\rX-A: 1\r\n\r\n",
    })
    void bareLineEndingsAreRejected(String request) throws IOException {
        assertRejected(request);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /nul\0 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n",
            "GET /nul HTTP/1.1\r\nHost: " + HOST + "\r\nX-A: a\0b\r\n\r\n",
            "GET /nul HTTP/1.1\r\nHost: " + HOST + "\r\nX-\0A: ab\r\n\r\n",
            "GET /ctl HTTP/1.1\r\nHost: " + HOST + "\r\nX-A: a\u0001b\r\n\r\n",
            "GET /ctl HTTP/1.1\r\nHost: " + HOST + "\r\nX-A: a\u007fb\r\n\r\n",
            "GET /ctl\u0001 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n",
            "GET /ctl\u007f HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n",
            "\0GET /lead HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n",
    })
    void nulAndControlCharactersAreRejected(String request) throws IOException {
        assertRejected(request);
    }

    @Test
    void obsFoldIsRejected() throws IOException {
        assertRejected("GET /fold HTTP/1.1\r\nHost: " + HOST + "\r\nX-Folded: a\r\n b\r\n\r\n");
    }

    @Test
    void obsFoldOfHostIsRejected() throws IOException {
        assertRejected("GET /fold HTTP/1.1\r\nHost:\r\n " + HOST + "\r\n\r\n");
    }

    // --- sizes: the request line and each header line up to 8192 bytes, up to 1000 headers --------

    private static String requestLineOf(int length) {
        String prefix = "GET /";
        String suffix = " HTTP/1.1";
        return prefix + "a".repeat(length - prefix.length() - suffix.length()) + suffix;
    }

    @Test
    void requestLineOf8192BytesIsForwarded() throws IOException {
        String line = requestLineOf(8192);
        assertThat(exchange(line + "\r\nHost: " + HOST + "\r\n\r\n").statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(assertOneWellFramedRequest("")).startsWith(line + "\r\n");
    }

    @Test
    void requestLineOf8193BytesIsRejected() throws IOException {
        assertRejected(requestLineOf(8193) + "\r\nHost: " + HOST + "\r\n\r\n");
    }

    private static String headerLineOf(int length) {
        String prefix = "X-Long: ";
        return prefix + "b".repeat(length - prefix.length());
    }

    @Test
    void headerLineOf8192BytesIsForwarded() throws IOException {
        String line = headerLineOf(8192);
        // Two of them: the limit is per line, not for the whole header section.
        String request = "GET /long HTTP/1.1\r\nHost: " + HOST + "\r\n" + line + "\r\n"
                + line.replace("X-Long:", "X-Lon2:") + "\r\n\r\n";
        assertThat(exchange(request).statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(assertOneWellFramedRequest("")).contains(line + "\r\n");
    }

    @Test
    void headerLineOf8193BytesIsRejected() throws IOException {
        assertRejected("GET /long HTTP/1.1\r\nHost: " + HOST + "\r\n" + headerLineOf(8193) + "\r\n\r\n");
    }

    private static String withHeaders(int count) {
        StringBuilder request = new StringBuilder("GET /many HTTP/1.1\r\nHost: " + HOST + "\r\n");
        for (int i = 1; i < count; i++) { // Host is one of them
            request.append("X-H-").append(i).append(": ").append(i).append("\r\n");
        }
        return request.append("\r\n").toString();
    }

    @Test
    void thousandHeadersAreForwarded() throws IOException {
        assertThat(exchange(withHeaders(1000)).statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(assertOneWellFramedRequest("")).contains("\r\nX-H-999: 999\r\n");
    }

    @Test
    void thousandAndOneHeadersAreRejected() throws IOException {
        assertRejected(withHeaders(1001));
    }

    // --- Host -------------------------------------------------------------------------------------

    @Test
    void duplicateHostIsRejected() throws IOException {
        assertRejected("GET /dup HTTP/1.1\r\nHost: " + HOST + "\r\nHost: other.localhost\r\n\r\n");
        assertRejected("GET /dup HTTP/1.1\r\nHost: " + HOST + "\r\nHost: " + HOST + "\r\n\r\n");
        assertRejected("GET /dup HTTP/1.1\r\nHost: " + HOST + ", other.localhost\r\n\r\n");
    }

    @Test
    void missingHostOnHttp11IsRejected() throws IOException {
        assertRejected("GET /nohost HTTP/1.1\r\n\r\n");
    }

    // --- connection handling around a rejection ---------------------------------------------------

    @Test
    void pipelinedRequestsAfterARejectedOneAreNeverForwarded() throws IOException {
        assertRejected("GET /bad HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"
                + SMUGGLED + SMUGGLED);
        assertRejected("GET /bad HTTP/1.1\r\nHost: " + HOST + "\r\nX-Folded: a\r\n b\r\n\r\n" + SMUGGLED);
    }

    @Test
    void goodRequestBeforeABadOneIsServedThenTheConnectionCloses() throws IOException {
        Answer answer = exchange("GET /good HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n"
                + "GET /bad HTTP/1.1\r\nHost: " + HOST + "\r\nTransfer-Encoding: xchunked\r\n\r\n" + SMUGGLED);
        assertThat(answer.responses()).isEqualTo(2);
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(answer.bytes()).contains("\r\n\r\nokHTTP/1.1 400 Bad Request\r\n");
        assertThat(answer.closed()).isTrue();
        assertThat(assertOneWellFramedRequest("")).startsWith("GET /good HTTP/1.1\r\n");
    }

    @Test
    void rejectionIsLoggedAsH26() throws IOException, InterruptedException {
        assertRejected("GET /h26-log HTTP/1.1\r\nHost: " + HOST + "\r\nX-Folded: a\r\n b\r\n\r\n");
        assertThat(logs.await("path=\"/h26-log\"")).startsWith("at=error code=H26 desc=\"Request Error\" ")
                .contains("status=400");
    }

    // --- HTTP/1.0 ----------------------------------------------------------------------------------

    @Test
    void http10KeepAliveRequestsAreForwardedOneByOne() throws IOException {
        String request = "GET /ten HTTP/1.0\r\nHost: " + HOST + "\r\nConnection: keep-alive\r\n\r\n";
        Answer answer = exchange(request + request);
        assertThat(answer.responses()).isEqualTo(2);
        assertThat(answer.statusLine()).isEqualTo("HTTP/1.1 200 OK");
        assertThat(answer.bytes()).containsIgnoringCase("Connection: keep-alive");
        String received = backend.received();
        assertThat(received.split("GET /ten HTTP/1.1\r\n", -1)).as("two requests, each upgraded to 1.1").hasSize(3);
        assertThat(received.toLowerCase()).doesNotContain("transfer-encoding").doesNotContain("connection: keep-alive");
    }

    // --- Expect -----------------------------------------------------------------------------------

    @Test
    void expect100ContinueIsAnsweredByTheRouterAndNotForwarded() throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), router.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(post("Content-Length: 5\r\nExpect: 100-continue\r\n", "")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String interim = new String(in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length()),
                    StandardCharsets.ISO_8859_1);
            assertThat(interim).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
            out.write("hello".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String head = new String(in.readNBytes(15), StandardCharsets.ISO_8859_1);
            assertThat(head).isEqualTo("HTTP/1.1 200 OK");
        }
        assertOneWellFramedRequest("hello");
    }

    @Test
    void otherExpectationsGet417() throws IOException, InterruptedException {
        assertRejected(post("Content-Length: 5\r\nExpect: 100-continue-please\r\nX-Request-Id: expect-417-test-id-00001\r\n",
                "hello"), "417");
        assertThat(logs.await("expect-417-test-id-00001")).startsWith("at=error code=H26 desc=\"Request Error\" ")
                .contains("status=417");
    }
}
