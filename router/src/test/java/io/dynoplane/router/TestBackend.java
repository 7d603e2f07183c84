package io.dynoplane.router;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dyno stand-in on 127.0.0.1: answers every request with its own name and the request headers it
 * received (names lower-cased), one per line, plus the port its TCP peer used (so a test can tell
 * which connection carried a request), and counts the connections it served.
 */
final class TestBackend implements AutoCloseable {
    private final String name;
    private final HttpServer server;
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    private final AtomicInteger requests = new AtomicInteger();
    private volatile CountDownLatch hold;           // when set, requests wait on it
    private volatile CountDownLatch arrived = new CountDownLatch(1);

    private TestBackend(String name) throws IOException {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", this::handle);
        server.start();
    }

    static TestBackend start(String name) throws IOException {
        return new TestBackend(name);
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    Backend backend(String dyno) {
        return new Backend(dyno, address());
    }

    /** Distinct TCP connections that carried requests so far. */
    int connections() {
        return clientPorts.size();
    }

    int requests() {
        return requests.get();
    }

    /** Makes the next requests wait until the returned latch is counted down. */
    CountDownLatch holdRequests() {
        arrived = new CountDownLatch(1);
        CountDownLatch latch = new CountDownLatch(1);
        hold = latch;
        return latch;
    }

    /** Counted down when a held request has arrived. */
    CountDownLatch arrived() {
        return arrived;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            clientPorts.add(exchange.getRemoteAddress().getPort());
            requests.incrementAndGet();
            byte[] requestBody = exchange.getRequestBody().readAllBytes();
            CountDownLatch latch = hold;
            if (latch != null) {
                arrived.countDown();
                latch.await();
                hold = null;
            }
            StringBuilder echo = new StringBuilder()
                    .append("backend=").append(name).append('\n')
                    .append("method=").append(exchange.getRequestMethod()).append('\n')
                    .append("uri=").append(exchange.getRequestURI()).append('\n')
                    .append("body-bytes=").append(requestBody.length).append('\n')
                    .append("client-port=").append(exchange.getRemoteAddress().getPort()).append('\n');
            for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
                for (String value : header.getValue()) {
                    echo.append(header.getKey().toLowerCase(Locale.ROOT)).append(": ").append(value).append('\n');
                }
            }
            byte[] body = echo.toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("X-Backend", name);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        CountDownLatch latch = hold;
        if (latch != null) {
            latch.countDown(); // stop() waits for the dispatcher thread, which may be holding a request
        }
        server.stop(0);
    }
}
