package io.dynoplane.plane.logs;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An HTTPS drain peer for tests: records every POST, answers with the queued statuses, then 200. */
final class HttpsLogListener implements AutoCloseable {
    record Post(String path, Headers headers, List<String> frames) {}

    private final HttpsServer server;
    private final BlockingQueue<Post> posts = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();

    HttpsLogListener(SSLContext context) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            posts.add(new Post(exchange.getRequestURI().getPath(), exchange.getRequestHeaders(), frames(body)));
            Integer status = statuses.poll();
            exchange.sendResponseHeaders(status == null ? 200 : status, -1);
            exchange.close();
        });
        server.start();
    }

    String url(String path) { return "https://127.0.0.1:" + server.getAddress().getPort() + path; }

    /** The next POSTs are answered with these statuses, in order. */
    void answer(Integer... codes) { statuses.addAll(List.of(codes)); }

    Post next() throws InterruptedException {
        Post post = posts.poll(10, TimeUnit.SECONDS);
        if (post == null) throw new AssertionError("no POST within 10 s");
        return post;
    }

    int pending() { return posts.size(); }

    /** The body as octet-counted frames; fails on anything else. */
    private static List<String> frames(byte[] body) throws IOException {
        List<String> frames = new ArrayList<>();
        InputStream in = new ByteArrayInputStream(body);
        while (in.available() > 0) {
            int length = 0;
            for (int c; (c = in.read()) != ' '; ) {
                if (c < '0' || c > '9') throw new IOException("bad frame length in the body");
                length = length * 10 + (c - '0');
            }
            byte[] message = in.readNBytes(length);
            if (message.length != length) throw new IOException("frame cut short");
            frames.add(new String(message, java.nio.charset.StandardCharsets.UTF_8));
        }
        return frames;
    }

    @Override
    public void close() { server.stop(0); }
}
