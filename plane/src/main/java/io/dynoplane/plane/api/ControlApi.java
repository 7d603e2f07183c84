package io.dynoplane.plane.api;

import io.dynoplane.plane.store.StoreException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * The control API server: HTTP/1.1 + JSON on a Unix socket (file 0600 in a 0700 folder, so only
 * root on this host can steer the plane), one request per connection, a virtual thread each.
 * Resources are in {@link Routes}; errors are {@code {"id": ..., "message": ...}} with 400, 404,
 * 405, 409, 422 or 500. Two answers stream: log sessions (close-delimited text) and attached
 * one-off dynos ({@code 101}, then {@link AttachFrames}).
 */
public final class ControlApi implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlApi.class.getName());

    private final Path path;
    private final ServerSocketChannel server;
    private final List<Route> routes;
    private final Thread acceptor;

    private ControlApi(Path path, ServerSocketChannel server, List<Route> routes) {
        this.path = path;
        this.server = server;
        this.routes = routes;
        this.acceptor = Thread.ofPlatform().daemon().name("control-api").start(this::accept);
    }

    /** Listens on {@code path}. A live daemon already there is an error; a socket left by a dead one is replaced. */
    /** Where the daemon listens and the CLI calls: {@code $DYNOPLANE_CONTROL_SOCKET}, or /run/dynoplane/control.sock. */
    public static Path defaultPath() {
        String env = System.getenv("DYNOPLANE_CONTROL_SOCKET");
        return env == null || env.isBlank() ? Path.of("/run/dynoplane/control.sock") : Path.of(env);
    }

    public static ControlApi listen(Path path, ControlBackend backend) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(path)) {
            if (answers(path)) throw new IllegalStateException("a daemon is already running (control socket " + path + "); stop it first with ./dynoplane down");
            Files.delete(path);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        return new ControlApi(path, server, Routes.all(backend));
    }

    private static boolean answers(Path path) {
        try (SocketChannel ignored = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() { return path; }

    private void accept() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread.ofVirtual().name("control-request").start(() -> serve(client));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            InputStream in = new BufferedInputStream(Channels.newInputStream(client));
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(client));
            try {
                HttpRequest request = HttpRequest.read(in);
                if (request == null) return;
                Reply reply = dispatch(request, in, out);
                if (reply != Reply.STREAMED) HttpResponses.json(out, reply.status(), reply.body());
            } catch (ApiException e) {
                HttpResponses.error(out, e);
            } catch (StoreException e) {
                HttpResponses.error(out, fromStore(e));
            } catch (IllegalArgumentException e) {
                HttpResponses.error(out, ApiException.invalid(e.getMessage()));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "control request failed", e);
                HttpResponses.error(out, new ApiException(500, "internal", "internal error: " + e));
            }
            out.flush();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "control connection ended", e);
        }
    }

    private Reply dispatch(HttpRequest request, InputStream in, OutputStream out) throws IOException {
        boolean pathKnown = false;
        for (Route route : routes) {
            Map<String, String> params = route.match(request.path());
            if (params == null) continue;
            pathKnown = true;
            if (route.method().equals(request.method())) return route.handler().handle(new Exchange(request, params, in, out));
        }
        if (pathKnown) throw new ApiException(405, "method_not_allowed", request.method() + " is not allowed on " + request.rawPath());
        throw ApiException.notFound("no resource " + request.rawPath());
    }

    static ApiException fromStore(StoreException e) {
        return switch (e.kind()) {
            case NOT_FOUND -> ApiException.notFound(e.getMessage());
            case CONFLICT -> ApiException.conflict(e.getMessage());
            case INVALID -> ApiException.invalid(e.getMessage());
        };
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
            acceptor.join(1000);
        } catch (IOException | InterruptedException e) {
            LOG.log(System.Logger.Level.WARNING, "closing control socket " + path, e);
        }
    }
}
