package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

/**
 * {@code syslog+tcp://} and {@code syslog+tls://}: octet-counted RFC 5424 frames on one long-lived
 * connection. A reader thread notices when the peer closes, so the next connection is made before the
 * next line rather than after one is lost to a dead socket.
 */
final class SyslogDrain extends LogDrain {
    private volatile Connection connection;

    SyslogDrain(String id, String app, DrainUrl url, DrainSettings settings) {
        super(id, app, url, settings);
    }

    @Override
    void run() throws InterruptedException {
        while (true) {
            List<LogLine> batch = nextBatch(settings.batchLines(), Duration.ZERO);
            if (batch.isEmpty()) {
                if (finished()) return;
                reconnectIfDead();
                continue;
            }
            byte[] frames = SyslogFrame.frames(batch, token);
            for (int attempt = 1; ; attempt++) {
                try {
                    connected().write(frames);
                    done(batch, true);
                    break;
                } catch (IOException e) {
                    errors.incrementAndGet();
                    release();
                    if (attempt >= settings.attempts()) {
                        done(batch, false);
                        break;
                    }
                    backOff(attempt);
                }
            }
        }
    }

    private void reconnectIfDead() {
        Connection c = connection;
        if (c == null || !c.dead) return;
        release();
        if (!c.wrote) return; // a peer that hangs up at once is dialled for the next line, with back-off, not in a loop
        try {
            connected();
        } catch (IOException e) {
            errors.incrementAndGet(); // the next line tries again
        }
    }

    private Connection connected() throws IOException {
        Connection c = connection;
        if (c != null && !c.dead) return c;
        if (c != null) c.close();
        connection = c = new Connection(connect());
        return c;
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(url.host(), url.port()), (int) settings.timeout().toMillis());
            if (url.kind() != DrainUrl.Kind.SYSLOG_TLS) return socket;
            SSLSocket tls = (SSLSocket) settings.ssl().getSocketFactory().createSocket(socket, url.host(), url.port(), true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // check the certificate names the host
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            return tls;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    @Override
    void release() {
        Connection c = connection;
        connection = null;
        if (c != null) c.close();
    }

    private final class Connection {
        private final Socket socket;
        private final OutputStream out;
        private volatile boolean dead;
        private boolean wrote;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            Thread.ofVirtual().name("log-drain-" + id + "-eof").start(() -> {
                try {
                    while (in.read() >= 0) {
                        // a syslog peer has nothing to say; read only to see the end
                    }
                } catch (IOException e) {
                    // reset or closed: dead all the same
                }
                dead = true;
                wake();
            });
        }

        void write(byte[] frames) throws IOException {
            if (dead) throw new IOException("connection to " + url.uri() + " closed by the peer");
            out.write(frames);
            out.flush();
            wrote = true;
        }

        void close() {
            dead = true;
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
