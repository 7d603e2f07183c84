package io.dynoplane.router;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies far larger than any buffer pass through the router both ways, byte-exact, while its direct
 * memory stays bounded; and a client that stops reading stops the dyno's writes instead of filling the
 * router. Nothing here holds a whole body: bodies are generated and checksummed block by block.
 */
@ExtendWith(NoLeaks.class)
class RouterStreamingTest {
    private static final String HOST = "stream.localhost";
    private static final long BIG = 256L * 1024 * 1024;
    /** Direct memory the router may use at any moment of a transfer, whatever the body size. */
    private static final long DIRECT_BOUND = 64L * 1024 * 1024;

    private static StreamingBackend backend;
    private static Router router;
    private static final LogCapture logs = new LogCapture();

    @BeforeAll
    static void start() throws IOException {
        backend = new StreamingBackend();
        router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                "test-router", 1));
        router.onLog(logs);
        router.publish(RouteTable.empty().with(HOST, new AppRoute("stream", List.of(
                new Backend("web.1", backend.address())))));
    }

    @AfterAll
    static void stop() throws IOException {
        router.close();
        backend.close();
    }

    @Test
    void uploadOf256MiBStreamsWithBoundedMemory() throws Exception {
        try (MemorySampler memory = new MemorySampler(); Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: " + HOST + "\r\nX-Request-Id: upload-256-mib-000001\r\n"
                    + "Content-Length: " + BIG + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            long crc = sendPattern(out, BIG, false);
            String answer = readResponse(socket.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nbytes=" + BIG + " crc=" + crc);
            memory.report("upload 256 MiB (Content-Length)");
            memory.assertUnder(DIRECT_BOUND);
        }
        assertThat(logs.await("upload-256-mib-000001")).contains("status=200");
    }

    @Test
    void chunkedUploadStreamsChunked() throws Exception {
        long size = 64L * 1024 * 1024;
        try (MemorySampler memory = new MemorySampler(); Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: " + HOST + "\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            long crc = sendPattern(out, size, true);
            String answer = readResponse(socket.getInputStream());
            assertThat(answer).endsWith("\r\n\r\nbytes=" + size + " crc=" + crc);
            memory.report("upload 64 MiB (chunked)");
            memory.assertUnder(DIRECT_BOUND);
        }
    }

    @Test
    void downloadOf256MiBStreamsWithBoundedMemory() throws Exception {
        long expectedCrc = StreamingBackend.patternCrc(BIG);
        try (MemorySampler memory = new MemorySampler(); Socket socket = connect()) {
            socket.getOutputStream().write(("GET /download/" + BIG + " HTTP/1.1\r\nHost: " + HOST
                    + "\r\nX-Request-Id: download-256-mib-00001\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            String head = StreamingBackend.readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(StreamingBackend.header(head, "content-length")).isEqualTo(Long.toString(BIG));
            assertThat(readBody(in, BIG)).isEqualTo(expectedCrc);
            memory.report("download 256 MiB");
            memory.assertUnder(DIRECT_BOUND);
        }
        assertThat(logs.await("download-256-mib-00001")).contains("status=200", "bytes=" + BIG + " ");
    }

    @Test
    void aClientThatStopsReadingStopsTheDynosWrites() throws Exception {
        long size = 128L * 1024 * 1024;
        try (MemorySampler memory = new MemorySampler(); Socket socket = connect()) {
            socket.setReceiveBufferSize(64 * 1024);
            socket.getOutputStream().write(("GET /download/" + size + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            assertThat(StreamingBackend.readHead(in)).startsWith("HTTP/1.1 200 OK\r\n");
            // Not reading: the socket buffers on the way fill, then the router stops reading the dyno,
            // then the dyno's writes block.
            long stalled = awaitStall();
            assertThat(stalled).as("bytes the dyno got rid of before blocking").isLessThan(size / 2);
            System.out.printf("slow reader: the dyno's writes blocked after %.1f MiB of %d MiB%n",
                    stalled / 1048576.0, size >> 20);
            memory.report("slow reader, stalled");
            memory.assertUnder(DIRECT_BOUND);
            assertThat(readBody(in, size)).isEqualTo(StreamingBackend.patternCrc(size));
        }
    }

    /** Waits until the dyno's download has made no progress for a second; returns how far it got. */
    private static long awaitStall() throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long last = -1;
        while (System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            long now = backend.downloadWritten.get();
            if (now == last && now > 0) {
                return now;
            }
            last = now;
        }
        throw new AssertionError("the dyno never stopped writing: " + last);
    }

    private static Socket connect() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), router.port());
        socket.setSoTimeout(60_000);
        return socket;
    }

    /** Writes {@code length} bytes of the pattern (as chunks of one block each if asked); returns their CRC32. */
    private static long sendPattern(OutputStream out, long length, boolean chunked) throws IOException {
        CRC32 crc = new CRC32();
        byte[] block = new byte[StreamingBackend.BLOCK];
        for (long at = 0; at < length; at += block.length) {
            int n = (int) Math.min(block.length, length - at);
            StreamingBackend.pattern(at, block, n);
            crc.update(block, 0, n);
            if (chunked) {
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.write(block, 0, n);
            if (chunked) {
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        if (chunked) {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.flush();
        return crc.getValue();
    }

    /** Reads exactly {@code length} bytes; returns their CRC32. */
    private static long readBody(InputStream in, long length) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[StreamingBackend.BLOCK];
        long read = 0;
        while (read < length) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - read));
            assertThat(n).as("body cut short at %d of %d", read, length).isPositive();
            crc.update(buffer, 0, n);
            read += n;
        }
        return crc.getValue();
    }

    /** A small Content-Length-framed response, as text. */
    private static String readResponse(InputStream in) throws IOException {
        String head = StreamingBackend.readHead(in);
        assertThat(head).isNotNull();
        int length = Integer.parseInt(StreamingBackend.header(head, "content-length"));
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    /**
     * Samples direct memory every few milliseconds: Netty's own counter (buffers it allocates without
     * a Cleaner; -1 when it does not track) and the JDK's direct buffer pool.
     */
    static final class MemorySampler implements AutoCloseable {
        private final Thread thread;
        private final long nettyAtStart = PlatformDependent.usedDirectMemory();
        private final long nioAtStart = nioDirect();
        private volatile long maxNetty = nettyAtStart;
        private volatile long maxNio = nioAtStart;
        private final long allocatorAtStart = allocatorUsed();
        private volatile long maxAllocator = allocatorAtStart;
        private volatile boolean running = true;

        MemorySampler() {
            thread = Thread.ofPlatform().daemon().name("memory-sampler").start(() -> {
                while (running) {
                    maxNetty = Math.max(maxNetty, PlatformDependent.usedDirectMemory());
                    maxNio = Math.max(maxNio, nioDirect());
                    maxAllocator = Math.max(maxAllocator, allocatorUsed());
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        /** Heap and direct memory held by Netty's default allocator (what the router's channels use). */
        static long allocatorUsed() {
            if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
                ByteBufAllocatorMetric metric = provider.metric();
                return metric.usedDirectMemory() + metric.usedHeapMemory();
            }
            return -1;
        }

        static long nioDirect() {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    return pool.getMemoryUsed();
                }
            }
            return -1;
        }

        void report(String what) {
            System.out.printf("%s: peak %s used %.1f MiB (at start %.1f); direct memory peak netty=%.1f MiB "
                            + "(at start %.1f), jdk direct pool=%.1f MiB (at start %.1f), heap used now %.1f MiB%n",
                    what, ByteBufAllocator.DEFAULT.getClass().getSimpleName(), maxAllocator / 1048576.0,
                    allocatorAtStart / 1048576.0, maxNetty / 1048576.0,
                    nettyAtStart / 1048576.0, maxNio / 1048576.0, nioAtStart / 1048576.0,
                    (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0);
        }

        void assertUnder(long bound) {
            assertThat(maxNetty).as("Netty direct memory peak").isLessThan(bound);
            assertThat(maxNio).as("JDK direct buffer pool peak").isLessThan(bound);
            assertThat(maxAllocator).as("Netty allocator peak (heap + direct)").isLessThan(bound);
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }
}
