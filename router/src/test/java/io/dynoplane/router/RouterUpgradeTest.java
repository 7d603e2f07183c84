package io.dynoplane.router;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dynoplane.router.RouterCapacityTest.config;
import static org.assertj.core.api.Assertions.assertThat;

/** Upgrade (WebSocket and others) tunnelled after a 101, on real loopback sockets. */
@ExtendWith(NoLeaks.class)
class RouterUpgradeTest {
    private static final String UPGRADE_REQUEST = "GET /ws HTTP/1.1\r\nHost: ws.localhost\r\n"
            + "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n";

    /**
     * A dyno that answers one upgrade with 101 plus a greeting in the same write, then echoes bytes
     * until the router closes (or, if told, closes itself after echoing {@code closeAfter} bytes).
     */
    static final class EchoDyno implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final CompletableFuture<String> requestHead = new CompletableFuture<>();
        final CompletableFuture<Long> echoedUntilEof = new CompletableFuture<>();

        EchoDyno(long closeAfter) throws IOException {
            Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(20_000);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    requestHead.complete(readHead(in));
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nhello").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    byte[] buf = new byte[16384];
                    long total = 0;
                    for (int n; (n = in.read(buf)) != -1; ) {
                        out.write(buf, 0, n);
                        out.flush();
                        total += n;
                        if (total >= closeAfter) {
                            break;
                        }
                    }
                    echoedUntilEof.complete(total);
                } catch (IOException e) {
                    requestHead.completeExceptionally(e);
                    echoedUntilEof.completeExceptionally(e);
                }
            });
        }

        Backend backend() {
            return new Backend("web.1", (InetSocketAddress) server.getLocalSocketAddress());
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; matched < 4 && (b = in.read()) != -1; ) {
            head.write(b);
            matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void webSocketUpgradeIsForwardedAndBytesAreSplicedBothWays() throws Exception {
        try (EchoDyno dyno = new EchoDyno(Long.MAX_VALUE);
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS);
             Socket client = new Socket(InetAddress.getLoopbackAddress(), router.port())) {
            LogCapture logs = new LogCapture();
            router.onLog(logs);
            router.publish(RouteTable.empty().with("ws.localhost", new AppRoute("ws", List.of(dyno.backend()))));
            client.setSoTimeout(10_000);
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            out.write(UPGRADE_REQUEST.getBytes(StandardCharsets.US_ASCII));
            out.flush();

            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("upgrade: websocket")
                    .containsIgnoringCase("connection: upgrade").contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                    .containsIgnoringCase("x-request-id:");
            String forwarded = dyno.requestHead.get(5, TimeUnit.SECONDS);
            assertThat(forwarded).containsIgnoringCase("upgrade: websocket").containsIgnoringCase("connection: upgrade")
                    .contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
            assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).as("bytes right after the 101").isEqualTo("hello");
            assertThat(logs.await("path=\"/ws\"")).contains("status=101");

            // Bytes that are not HTTP go through untouched, both ways, in volume (back-pressured).
            byte[] payload = new byte[4 * 1024 * 1024];
            new Random(7).nextBytes(payload);
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                try {
                    return in.readNBytes(payload.length);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            out.write(payload);
            out.flush();
            assertThat(echoed.get(20, TimeUnit.SECONDS)).isEqualTo(payload);

            client.shutdownOutput(); // the client's close reaches the dyno
            assertThat(dyno.echoedUntilEof.get(5, TimeUnit.SECONDS)).isEqualTo(payload.length);
            assertThat(in.read()).as("and the dyno's close reaches the client").isEqualTo(-1);
        }
    }

    @Test
    void theDynoClosingEndsTheTunnel() throws Exception {
        try (EchoDyno dyno = new EchoDyno(4);
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS);
             Socket client = new Socket(InetAddress.getLoopbackAddress(), router.port())) {
            router.publish(RouteTable.empty().with("ws.localhost", new AppRoute("ws", List.of(dyno.backend()))));
            client.setSoTimeout(10_000);
            InputStream in = client.getInputStream();
            client.getOutputStream().write(UPGRADE_REQUEST.getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in)).startsWith("HTTP/1.1 101");
            assertThat(in.readNBytes(5)).isEqualTo("hello".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.read()).isEqualTo(-1); // the dyno hung up after 4 bytes
        }
    }

    @Test
    void aRefusedUpgradeIsAnOrdinaryResponse() throws Exception {
        try (TestBackend plain = TestBackend.start("plain");
             Router router = Router.start(config(), null, Transport.select(), RouterLimits.DEFAULTS);
             RawHttp client = new RawHttp(router.port())) {
            router.publish(RouteTable.empty().with("ws.localhost", new AppRoute("ws", List.of(plain.backend("web.1")))));
            RawHttp.Response response = client.send(UPGRADE_REQUEST);
            assertThat(response.statusLine()).startsWith("HTTP/1.1 200");
            assertThat(response.body()).contains("upgrade: websocket");
            // Still HTTP on the same connection.
            assertThat(client.send("GET /again HTTP/1.1\r\nHost: ws.localhost\r\n\r\n").statusLine()).startsWith("HTTP/1.1 200");
        }
    }
}
