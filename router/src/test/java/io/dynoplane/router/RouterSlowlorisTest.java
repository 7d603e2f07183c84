package io.dynoplane.router;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Must-show 3: 2,000 idle or slowloris connections do not stop normal requests being served, memory
 * stays bounded, and every one of them is closed once the head timeout is up.
 */
@ExtendWith(NoLeaks.class)
class RouterSlowlorisTest {
    private static final int ATTACKERS = 2_000;
    private static final int NORMAL_REQUESTS = 150;
    private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(12);

    @Test
    void twoThousandSlowClientsDoNotStopNormalRequests() throws Exception {
        long fdLimit = openFileLimit();
        // Each attacker costs two descriptors in this JVM (client socket and the router's side).
        assumeTrue(fdLimit < 0 || fdLimit >= 2L * ATTACKERS + 1_000,
                "needs ulimit -n >= " + (2 * ATTACKERS + 1_000) + " for the test JVM, have " + fdLimit);
        RouterLimits limits = RouterLimits.DEFAULTS.withHeadTimeout(HEAD_TIMEOUT);
        List<Socket> attackers = new ArrayList<>();
        try (TestBackend backend = TestBackend.start("normal");
             Router router = Router.start(new RouterConfig(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     "test-router", 0), null, Transport.select(), limits);
             RouterStreamingTest.MemorySampler memory = new RouterStreamingTest.MemorySampler()) {
            router.publish(RouteTable.empty().with("normal.localhost",
                    new AppRoute("normal", List.of(backend.backend("web.1")))));
            System.gc();
            long heapBefore = usedHeap();

            // Half send nothing at all, half start a head and then drip it a byte at a time.
            long opened = System.nanoTime();
            for (int i = 0; i < ATTACKERS; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), router.port());
                s.setSoTimeout(1);
                if (i % 2 == 1) {
                    s.getOutputStream().write("GET / HTTP/1.1\r\nHost: normal.localhost\r\nX-Slow: "
                            .getBytes(StandardCharsets.ISO_8859_1));
                }
                attackers.add(s);
            }
            Thread drip = Thread.ofPlatform().daemon().name("slowloris-drip").start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    for (int i = 1; i < attackers.size(); i += 2) {
                        try {
                            attackers.get(i).getOutputStream().write('a');
                        } catch (IOException closed) {
                            // the router hung up on it: expected once the head timeout is up
                        }
                    }
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });

            // Meanwhile, normal clients get served: a fresh connection each (accept must keep up too).
            long[] micros = new long[NORMAL_REQUESTS];
            for (int i = 0; i < NORMAL_REQUESTS; i++) {
                long start = System.nanoTime();
                try (RawHttp client = new RawHttp(router.port())) {
                    RawHttp.Response response = client.send("GET /n" + i + " HTTP/1.1\r\nHost: normal.localhost\r\n\r\n");
                    assertThat(response.statusLine()).isEqualTo("HTTP/1.1 200 OK");
                    assertThat(response.body()).contains("uri=/n" + i);
                }
                micros[i] = (System.nanoTime() - start) / 1_000;
            }
            long servedWithin = (System.nanoTime() - opened) / 1_000_000;
            assertThat(servedWithin).as("normal requests all ran while every attacker was still connected")
                    .isLessThan(HEAD_TIMEOUT.toMillis());
            System.gc();
            long heapDuring = usedHeap();
            Arrays.sort(micros);
            long p50 = micros[NORMAL_REQUESTS / 2];
            long p99 = micros[NORMAL_REQUESTS * 99 / 100];
            System.out.printf("slowloris: %d attackers open, %d normal requests in %d ms: p50 %.2f ms, p99 %.2f ms, "
                            + "max %.2f ms; heap after GC %.1f MiB before, %.1f MiB with the attackers (%.1f KiB each)%n",
                    ATTACKERS, NORMAL_REQUESTS, servedWithin, p50 / 1e3, p99 / 1e3, micros[NORMAL_REQUESTS - 1] / 1e3,
                    heapBefore / 1048576.0, heapDuring / 1048576.0, (heapDuring - heapBefore) / 1024.0 / ATTACKERS);
            assertThat(p99).as("p99 latency of normal requests (µs)").isLessThan(1_000_000);

            // Once the head timeout is up, every attacker has been closed by the router.
            long deadline = System.nanoTime() + HEAD_TIMEOUT.toNanos() + 20_000_000_000L;
            int closed = 0;
            for (Socket s : attackers) {
                while (!closedByPeer(s)) {
                    assertThat(System.nanoTime()).as("attacker %d still open after the head timeout", closed)
                            .isLessThan(deadline);
                    Thread.sleep(50);
                }
                closed++;
            }
            drip.interrupt();
            long closedAfter = (System.nanoTime() - opened) / 1_000_000;
            System.out.printf("slowloris: all %d attackers closed by the router %d ms after they connected "
                    + "(head timeout %d ms); head timeouts counted: %d%n", closed, closedAfter,
                    HEAD_TIMEOUT.toMillis(), router.headTimeouts());
            memory.report("slowloris, 2000 attackers");
            memory.assertUnder(64L * 1024 * 1024);
            assertThat(router.headTimeouts()).isGreaterThanOrEqualTo(ATTACKERS);
            assertThat(heapDuring - heapBefore).as("heap held for 2000 attackers").isLessThan(64L * 1024 * 1024);
        } finally {
            for (Socket s : attackers) {
                s.close();
            }
        }
    }

    private static boolean closedByPeer(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** The soft "Max open files" of this process, or -1 if it cannot be read. */
    private static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected format
        }
        return -1;
    }
}
