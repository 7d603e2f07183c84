package io.dynoplane.router;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Function;

/**
 * A dyno stand-in on a plain ServerSocket that records exactly the bytes it receives (all
 * connections, in arrival order; tests send one request at a time) and answers each request with a response chosen by the test (by default {@code 200 ok}). It frames
 * requests the way the router promises to send them (Content-Length or chunked); anything else it sees is
 * still recorded, so a test can assert the bytes rather than trust this parser.
 */
final class RecordingBackend implements AutoCloseable {
    static final String OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

    private final ServerSocket server;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private int connections;
    private int completeRequests;
    // Connections (by their serving thread) that received bytes since the last reset and are still open.
    private final java.util.Set<Thread> dirty = new java.util.HashSet<>();
    private volatile Function<String, byte[]> responder = head -> OK.getBytes(StandardCharsets.ISO_8859_1);
    private volatile boolean closeAfterResponse;

    RecordingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("recording-backend-accept").start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Answers each request with {@code response(requestHead)}, bytes sent verbatim. */
    void respondWith(Function<String, String> response, boolean closeAfter) {
        responder = head -> response.apply(head).getBytes(StandardCharsets.ISO_8859_1);
        closeAfterResponse = closeAfter;
    }

    /** Forgets what was received so far and goes back to answering {@link #OK}. */
    synchronized void reset() {
        received.reset();
        connections = 0;
        completeRequests = 0;
        dirty.clear();
        respondWith(head -> OK, false);
    }

    /** Every byte received since the last reset, in arrival order. */
    synchronized String received() {
        return received.toString(StandardCharsets.ISO_8859_1);
    }

    /** Connections accepted since the last reset. */
    synchronized int connections() {
        return connections;
    }

    private synchronized void connected() {
        connections++;
    }

    private synchronized void completed() {
        completeRequests++;
    }

    private synchronized void ended() {
        dirty.remove(Thread.currentThread());
        notifyAll();
    }

    /** Requests received whole (head and framed body) since the last reset. */
    synchronized int completeRequests() {
        return completeRequests;
    }

    /** Waits until every connection that received bytes since the last reset has ended; false on timeout. */
    synchronized boolean awaitConnectionsEnded(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!dirty.isEmpty()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    private synchronized void record(int b) {
        received.write(b);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        connected();
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (true) {
                // Head: up to CRLFCRLF, byte by byte so nothing past the request is consumed early.
                StringBuilder head = new StringBuilder();
                int b;
                while ((b = in.read()) != -1) {
                    record(b);
                    head.append((char) b);
                    if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                        break;
                    }
                }
                if (b == -1) {
                    return;
                }
                if (isChunked(head.toString())) {
                    if (!readChunkedBody(in)) {
                        return;
                    }
                } else {
                    long length = contentLength(head.toString());
                    for (long i = 0; i < length; i++) {
                        int c = in.read();
                        if (c == -1) {
                            return;
                        }
                        record(c);
                    }
                }
                completed();
                out.write(responder.apply(head.toString()));
                out.flush();
                if (closeAfterResponse) {
                    return;
                }
            }
        } catch (IOException e) {
            // the router closed the connection
        } finally {
            ended();
        }
    }

    /** Reads (and records) a chunked body through its last chunk and trailer; false at a premature EOF. */
    private boolean readChunkedBody(InputStream in) throws IOException {
        while (true) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                return false;
            }
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            if (size == 0) {
                for (String trailer = readLine(in); ; trailer = readLine(in)) {
                    if (trailer == null) {
                        return false;
                    }
                    if (trailer.isEmpty()) {
                        return true;
                    }
                }
            }
            for (long i = 0; i < size + 2; i++) { // data and its CRLF
                int c = in.read();
                if (c == -1) {
                    return false;
                }
                record(c);
            }
        }
    }

    /** One CRLF-terminated line, recorded; null at EOF. */
    private String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1) {
            record(b);
            if (b == '\n') {
                return line.toString().strip();
            }
            line.append((char) b);
        }
        return null;
    }

    private static boolean isChunked(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("transfer-encoding")) {
                return line.substring(colon + 1).strip().equalsIgnoreCase("chunked");
            }
        }
        return false;
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals("content-length")) {
                return Long.parseLong(line.substring(colon + 1).strip());
            }
        }
        return 0;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
