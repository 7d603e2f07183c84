package io.dynoplane.plane;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;

/**
 * The control API: HTTP/1.0 + JSON on a Unix socket in a root-only folder, so that only root on
 * this host can steer the plane. One request per connection; GET only for now.
 */
public final class ControlSocket implements AutoCloseable {
    public static final Path DEFAULT = Path.of("/run/dynoplane/control.sock");

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;

    private ControlSocket(Path path, ServerSocketChannel server, Function<String, String> handler) {
        this.path = path;
        this.server = server;
        this.acceptor = Thread.ofPlatform().daemon().name("control-socket").start(() -> accept(handler));
    }

    /** The socket path: $DYNOPLANE_CONTROL_SOCKET, or /run/dynoplane/control.sock. */
    public static Path path() {
        String env = System.getenv("DYNOPLANE_CONTROL_SOCKET");
        return env == null || env.isBlank() ? DEFAULT : Path.of(env);
    }

    /**
     * Listens on {@code path}. A live plane already there is an error; a socket left by a dead one
     * is replaced. {@code handler} maps a GET path to a JSON body, or null for 404.
     */
    public static ControlSocket listen(Path path, Function<String, String> handler) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(path)) {
            if (get(path, "/dynos") != null) throw new IllegalStateException("a plane is already running (control socket " + path + "); stop it first");
            Files.delete(path);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new ControlSocket(path, server, handler);
    }

    private void accept(Function<String, String> handler) {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread.ofVirtual().start(() -> serve(client, handler));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private static void serve(SocketChannel client, Function<String, String> handler) {
        try (client) {
            String requestLine = readHead(client);
            String[] parts = requestLine.split(" ");
            String body;
            String status;
            if (parts.length < 2 || !parts[0].equals("GET")) {
                status = "405 Method Not Allowed";
                body = "{\"id\":\"method_not_allowed\",\"message\":\"only GET is served\"}";
            } else {
                body = handler.apply(parts[1]);
                status = body == null ? "404 Not Found" : "200 OK";
                if (body == null) body = "{\"id\":\"not_found\",\"message\":\"no resource " + parts[1].replace("\"", "") + "\"}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.0 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
            client.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer out = ByteBuffer.wrap(bytes);
            while (out.hasRemaining()) client.write(out);
        } catch (IOException | RuntimeException e) {
            System.getLogger(ControlSocket.class.getName()).log(System.Logger.Level.DEBUG, "control request failed", e);
        }
    }

    /**
     * Reads the whole request head and returns its first line. The head must be consumed before
     * closing: a Unix socket closed with unread data makes the client's read fail (ECONNRESET).
     */
    private static String readHead(SocketChannel channel) throws IOException {
        StringBuilder head = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (head.length() < 8192 && head.indexOf("\n\n") < 0) {
            one.clear();
            if (channel.read(one) <= 0) break;
            char c = (char) one.get(0);
            if (c != '\r') head.append(c);
        }
        int end = head.indexOf("\n");
        return end < 0 ? head.toString() : head.substring(0, end);
    }

    /** Client side: the body of GET {@code resource}, or null when no plane answers on {@code path}. */
    public static String get(Path path, String resource) {
        if (!Files.exists(path)) return null;
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            channel.write(ByteBuffer.wrap(("GET " + resource + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            String response = new String(readAll(channel), StandardCharsets.UTF_8);
            int split = response.indexOf("\r\n\r\n");
            if (!(response.startsWith("HTTP/1.0 200") || response.startsWith("HTTP/1.1 200")) || split < 0) throw new IllegalStateException("control socket " + path + " answered: " + response.lines().findFirst().orElse(""));
            return response.substring(split + 4);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] readAll(SocketChannel channel) throws IOException {
        return java.nio.channels.Channels.newInputStream(channel).readAllBytes();
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
            acceptor.join(1000);
        } catch (IOException | InterruptedException e) {
            System.getLogger(ControlSocket.class.getName()).log(System.Logger.Level.WARNING, "closing control socket " + path, e);
        }
    }
}
