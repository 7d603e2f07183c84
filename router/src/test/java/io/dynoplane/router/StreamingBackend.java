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
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * A dyno stand-in that never holds a body in memory: {@code POST /upload} reads the body as it comes
 * (Content-Length or chunked) and answers {@code bytes=N crc=X}; {@code GET /download/N} sends N bytes
 * of {@link #pattern} with a Content-Length, block by block, and counts what its socket has accepted so
 * far ({@link #downloadWritten}), so a test can see its writes block when nobody reads.
 */
final class StreamingBackend implements AutoCloseable {
    static final int BLOCK = 64 * 1024;

    private final ServerSocket server;
    final AtomicLong downloadWritten = new AtomicLong();

    StreamingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("streaming-backend-accept").start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Byte {@code i} of every generated body: cheap, and not periodic at any buffer size. */
    static void pattern(long offset, byte[] into, int length) {
        for (int i = 0; i < length; i++) {
            long p = offset + i;
            into[i] = (byte) (p * 31 + (p >>> 11) + (p >>> 23));
        }
    }

    /** CRC32 of the first {@code length} bytes of the pattern. */
    static long patternCrc(long length) {
        CRC32 crc = new CRC32();
        byte[] block = new byte[BLOCK];
        for (long at = 0; at < length; at += BLOCK) {
            int n = (int) Math.min(BLOCK, length - at);
            pattern(at, block, n);
            crc.update(block, 0, n);
        }
        return crc.getValue();
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String requestLine = head.substring(0, head.indexOf("\r\n"));
                String path = requestLine.split(" ")[1];
                if (path.startsWith("/download/")) {
                    long n = Long.parseLong(path.substring("/download/".length()));
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + n
                            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    byte[] block = new byte[BLOCK];
                    downloadWritten.set(0);
                    for (long at = 0; at < n; at += BLOCK) {
                        int len = (int) Math.min(BLOCK, n - at);
                        pattern(at, block, len);
                        out.write(block, 0, len); // blocks while the socket's send buffer is full
                        downloadWritten.addAndGet(len);
                    }
                    out.flush();
                } else {
                    CRC32 crc = new CRC32();
                    long count = header(head, "transfer-encoding") != null
                            ? readChunked(in, crc) : readFixed(in, Long.parseLong(header(head, "content-length")), crc);
                    byte[] body = ("bytes=" + count + " crc=" + crc.getValue()).getBytes(StandardCharsets.ISO_8859_1);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.write(body);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the router hung up
        }
    }

    private static long readFixed(InputStream in, long length, CRC32 crc) throws IOException {
        byte[] buffer = new byte[BLOCK];
        long read = 0;
        while (read < length) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - read));
            if (n < 0) {
                throw new IOException("body cut short at " + read);
            }
            crc.update(buffer, 0, n);
            read += n;
        }
        return read;
    }

    private static long readChunked(InputStream in, CRC32 crc) throws IOException {
        long total = 0;
        while (true) {
            String sizeLine = readLine(in);
            long size = Long.parseLong(sizeLine.strip(), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers
                }
                return total;
            }
            total += readFixed(in, size, crc);
            readLine(in); // CRLF after the data
        }
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        int matched = 0;
        while ((b = in.read()) != -1) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        if (b == -1) {
            throw new IOException("eof");
        }
        return line.toString();
    }

    static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
