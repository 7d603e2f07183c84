package io.dynoplane.bench;

import org.HdrHistogram.Histogram;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop HTTP/1.1 load generator: {@code connections} keep-alive connections, each sending
 * its next request when the last response is complete, latencies recorded in an HdrHistogram.
 */
final class HttpLoad {
    record Result(long requests, long errors, long nanos, Histogram latencyMicros) {
        double rps() { return requests * 1e9 / nanos; }
    }

    private HttpLoad() {}

    static Result run(InetSocketAddress target, String host, int requests, int connections) throws InterruptedException {
        byte[] request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: dynoplane-bench\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        AtomicInteger left = new AtomicInteger(requests);
        AtomicLong errors = new AtomicLong();
        List<Histogram> histograms = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            Histogram histogram = new Histogram(60_000_000L, 3);
            histograms.add(histogram);
            workers.add(Thread.ofPlatform().name("load-" + c).start(() -> {
                Connection connection = null;
                while (left.getAndDecrement() > 0) {
                    try {
                        if (connection == null) connection = Connection.open(target);
                        long t0 = System.nanoTime();
                        connection.out().write(request);
                        connection.out().flush();
                        int status = readResponse(connection.in());
                        histogram.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                        if (status != 200) errors.incrementAndGet();
                    } catch (IOException e) {
                        errors.incrementAndGet();
                        if (connection != null) connection.close();
                        connection = null;
                    }
                }
                if (connection != null) connection.close();
            }));
        }
        for (Thread worker : workers) worker.join();
        long nanos = System.nanoTime() - start;
        Histogram all = new Histogram(60_000_000L, 3);
        histograms.forEach(all::add);
        return new Result(requests, errors.get(), nanos, all);
    }

    /** Reads one response (status line, headers, Content-Length body); returns the status. */
    private static int readResponse(InputStream in) throws IOException {
        String statusLine = readLine(in);
        if (statusLine.length() < 12) throw new IOException("bad status line: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = 0;
        for (String line; !(line = readLine(in)).isEmpty(); ) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) length = Long.parseLong(line.substring(15).strip());
        }
        while (length > 0) {
            long skipped = in.skip(length);
            if (skipped <= 0) {
                if (in.read() < 0) throw new IOException("connection closed mid-body");
                skipped = 1;
            }
            length -= skipped;
        }
        return status;
    }

    /** One CRLF- or LF-ended line, without its ending. */
    static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder(64);
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) throw new IOException("connection closed");
            if (b != '\r') line.append((char) b);
        }
        return line.toString();
    }

    /** One keep-alive connection; input buffered so header parsing is not a syscall per byte. */
    private record Connection(Socket socket, InputStream in, OutputStream out) {
        static Connection open(InetSocketAddress target) throws IOException {
            Socket socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(target, 5000);
            socket.setSoTimeout(30_000);
            return new Connection(socket, new BufferedInputStream(socket.getInputStream(), 16 * 1024), socket.getOutputStream());
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken connection
            }
        }
    }
}
