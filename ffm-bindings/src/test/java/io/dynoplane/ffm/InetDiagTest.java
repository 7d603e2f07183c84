package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * InetDiag against real listeners in a namespace the test made: the accept queue of a socket that never accepts,
 * read through a sock_diag socket opened inside the namespace and used from the test's own (host) thread.
 */
class InetDiagTest {
    private final String ns = "dpt-diag-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void namespace() {
        NetworkNamespaces.create(ns);
        Shell.run("ip", "-n", ns, "link", "set", "lo", "up");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
        NetworkNamespaces.delete(ns);
    }

    @Test
    void acceptQueueOfAListenerThatNeverAccepts() throws Exception {
        String before = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        ServerSocket server = Netns.inside(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress("127.0.0.1", 0), 128);
            return s;
        });
        open.add(server);
        int port = server.getLocalPort();
        InetDiag diag = InetDiag.openIn(NetworkNamespaces.RUN_DIR.resolve(ns));
        open.add(diag);
        // opening it moved no thread of ours: this one is where it was, and reads the namespace from here
        assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(before);

        assertThat(diag.tcpListeners(port)).singleElement().satisfies(l -> {
            assertThat(l.port()).isEqualTo(port);
            assertThat(l.address()).isEqualTo(InetAddress.getByName("127.0.0.1"));
            assertThat(l.queued()).isZero();
            assertThat(l.backlog()).isEqualTo(128);
            assertThat(l.inode()).isPositive();
        });

        int k = 5;
        for (int i = 0; i < k; i++) {
            open.add(Netns.inside(ns, () -> new Socket("127.0.0.1", port)));
        }
        // connect() returns on the SYN-ACK; the server queues the connection when the last ACK arrives: await that
        awaitQueued(diag, port, k);
        assertThat(diag.tcpListeners(port)).singleElement().satisfies(l -> {
            assertThat(l.queued()).isEqualTo(k);
            assertThat(l.backlog()).isEqualTo(128);
        });

        assertThat(diag.tcpListeners(port == 65535 ? 1 : port + 1)).isEmpty();
        assertThat(diag.tcpListeners(0)).extracting(InetDiag.TcpListener::port).containsExactly(port);
        // the host's own listeners are not the namespace's
        try (InetDiag host = InetDiag.open()) {
            assertThat(host.tcpListeners(port)).noneMatch(l -> l.inode() == diag.tcpListeners(port).getFirst().inode());
        }
    }

    @Test
    void aListenerOnTheIpv6WildcardIsFoundToo() throws Exception {
        ServerSocket server = Netns.inside(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(InetAddress.getByName("::"), 0), 64);
            return s;
        });
        open.add(server);
        InetDiag diag = InetDiag.openIn(NetworkNamespaces.RUN_DIR.resolve(ns));
        open.add(diag);
        assertThat(diag.tcpListeners(server.getLocalPort())).singleElement().satisfies(l -> {
            assertThat(l.address()).isEqualTo(InetAddress.getByName("::"));
            assertThat(l.backlog()).isEqualTo(64);
        });
    }

    @Test
    void aMissingOrWrongPinIsNamedInTheError() throws IOException {
        Path missing = NetworkNamespaces.RUN_DIR.resolve(ns + "-missing");
        assertThatThrownBy(() -> InetDiag.openIn(missing))
                .isInstanceOf(SyscallException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("ENOENT");
        Path notANamespace = Files.createTempFile("dpt-not-netns", "");
        try {
            assertThatThrownBy(() -> InetDiag.openIn(notANamespace))
                    .isInstanceOf(SyscallException.class)
                    .hasMessageContaining(notANamespace.toString())
                    .hasMessageContaining("EINVAL");
        } finally {
            Files.delete(notANamespace);
        }
    }

    @Test
    void aClosedReaderSaysSo() {
        InetDiag diag = InetDiag.openIn(NetworkNamespaces.RUN_DIR.resolve(ns));
        diag.close();
        diag.close();
        assertThatThrownBy(() -> diag.tcpListeners(80)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        try (InetDiag host = InetDiag.open()) {
            assertThatThrownBy(() -> host.tcpListeners(70000)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("70000");
        }
    }

    private static void awaitQueued(InetDiag diag, int port, int k) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (diag.tcpListeners(port).getFirst().queued() < k) {
            if (System.nanoTime() > deadline) throw new AssertionError("accept queue of port " + port + " never reached " + k + ": " + diag.tcpListeners(port));
            Thread.onSpinWait();
        }
    }
}
