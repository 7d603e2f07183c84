package io.dynoplane.plane.logs;

import javax.net.ServerSocketFactory;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A syslog peer for tests: accepts on loopback and reads RFC 6587 octet-counted frames, strictly. */
final class SyslogListener implements AutoCloseable {
    private final ServerSocket server;

    SyslogListener(ServerSocketFactory factory, int receiveBuffer) throws IOException {
        server = factory.createServerSocket();
        if (receiveBuffer > 0) server.setReceiveBufferSize(receiveBuffer); // before bind, so the window stays small
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        server.setSoTimeout(10_000); // a test that waits in vain fails instead of hanging
    }

    SyslogListener() throws IOException { this(ServerSocketFactory.getDefault(), 0); }

    String url(String scheme) { return scheme + "://127.0.0.1:" + server.getLocalPort(); }

    Connection accept() throws IOException {
        Socket socket = server.accept();
        socket.setSoTimeout(10_000);
        return new Connection(socket);
    }

    @Override
    public void close() throws IOException { server.close(); }

    static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        /** One frame: ASCII digits, one space, exactly that many bytes of UTF-8. */
        String readFrame() throws IOException {
            int length = 0;
            int digits = 0;
            for (int c; (c = in.read()) != ' '; digits++) {
                if (c < 0) throw new EOFException("connection ended before a frame");
                if (c < '0' || c > '9') throw new IOException("frame length has a non-digit: " + (char) c);
                length = length * 10 + (c - '0');
            }
            if (digits == 0) throw new IOException("frame without a length");
            byte[] message = in.readNBytes(length);
            if (message.length != length) throw new EOFException("frame of " + length + " bytes cut at " + message.length);
            return new String(message, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException { socket.close(); }
    }

}
