package io.dynoplane.plane.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The client side of {@link ControlApi}: one connection per call. Answers other than 2xx come back
 * as {@link ApiException}s carrying the daemon's id and message; no daemon on the socket is
 * {@link NotRunning}.
 */
public final class ControlClient {
    private final Path socket;

    public ControlClient(Path socket) { this.socket = socket; }

    public Path socket() { return socket; }

    /** Nothing answers on the control socket. */
    public static final class NotRunning extends RuntimeException {
        NotRunning(Path socket) { super("no daemon is running (nothing answers on " + socket + "); start one with ./dynoplane up"); }
    }

    /** An answer's status, headers (names lower-case) and the connection's remaining bytes (its body). */
    public record Head(int status, Map<String, String> headers, InputStream body, OutputStream out, SocketChannel channel) {}

    /** {@code method path} with {@code body} as JSON (none when null); the parsed JSON answer. */
    public JsonNode call(String method, String path, Object body) {
        try (SocketChannel channel = connect()) {
            Head head = send(channel, method, path, body, Map.of());
            byte[] bytes = readBody(head);
            JsonNode json = bytes.length == 0 ? JsonBody.JSON.nullNode() : JsonBody.JSON.readTree(bytes);
            if (head.status() / 100 != 2) throw toError(head.status(), json);
            return json;
        } catch (IOException e) {
            throw new UncheckedIOException("the control socket " + socket + " failed: " + e.getMessage(), e);
        }
    }

    /** Like {@link #call} but leaves the connection open for a streamed answer; the caller closes {@link Head#channel()}. */
    public Head open(String method, String path, Object body, Map<String, String> headers) {
        SocketChannel channel = connect();
        try {
            Head head = send(channel, method, path, body, headers);
            if (head.status() / 100 != 2 && head.status() != 101) {
                try (channel) {
                    byte[] bytes = readBody(head);
                    throw toError(head.status(), bytes.length == 0 ? JsonBody.JSON.nullNode() : JsonBody.JSON.readTree(bytes));
                }
            }
            return head;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("the control socket " + socket + " failed: " + e.getMessage(), e);
        }
    }

    private SocketChannel connect() {
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new NotRunning(socket);
        }
    }

    private static Head send(SocketChannel channel, String method, String path, Object body, Map<String, String> headers) throws IOException {
        byte[] bytes = body == null ? new byte[0] : JsonBody.JSON.writeValueAsBytes(body);
        StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: dynoplane\r\n");
        if (body != null) request.append("Content-Type: application/json\r\nContent-Length: ").append(bytes.length).append("\r\n");
        headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
        request.append("\r\n");
        OutputStream out = Channels.newOutputStream(channel);
        out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
        InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
        return readHead(in, out, channel);
    }

    private static Head readHead(InputStream in, OutputStream out, SocketChannel channel) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') break;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] status = lines[0].split(" ");
        // HTTP/1.0 too: the demo's older control socket answers that way.
        if (status.length < 2 || !status[0].startsWith("HTTP/1.")) throw new IOException("not an HTTP answer: '" + lines[0] + "'");
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        return new Head(Integer.parseInt(status[1]), headers, in, out, channel);
    }

    private static byte[] readBody(Head head) throws IOException {
        String length = head.headers().get("content-length");
        return length == null ? head.body().readAllBytes() : head.body().readNBytes(Integer.parseInt(length));
    }

    private static ApiException toError(int status, JsonNode json) {
        String id = json.path("id").asText("error");
        String message = json.path("message").asText("the daemon answered " + status);
        return new ApiException(status, id, message);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing; the first error is the one to report
        }
    }
}
