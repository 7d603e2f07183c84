package io.dynoplane.router;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A bare HTTP/1.x client over one socket, for what java.net.http won't do (1.0, odd headers). */
final class RawHttp implements AutoCloseable {
    record Response(String statusLine, Map<String, List<String>> headers, String body) {
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.getFirst();
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(5_000); // a hung read fails the test instead of hanging it
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends {@code request} verbatim (use \r\n) and reads one Content-Length-framed response. */
    Response send(String request) throws IOException {
        return send(request, false);
    }

    Response send(String request, boolean head) throws IOException {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return read(head);
    }

    Response read(boolean head) throws IOException {
        String statusLine = readLine();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).strip());
        }
        int length = head || !headers.containsKey("content-length")
                ? 0 : Integer.parseInt(headers.get("content-length").getFirst());
        byte[] body = in.readNBytes(length);
        return new Response(statusLine, headers, new String(body, StandardCharsets.UTF_8));
    }

    /** True if the peer closed the connection (EOF) within the socket timeout. */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        if (b == -1 && line.size() == 0) {
            throw new IOException("connection closed by peer");
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
