package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The accept queue of a web process that never accepts, in a namespace the test made (as a dyno's), read from the
 * host: a python3 listener with backlog 128 on $PORT and another python3 in the same namespace holding K connections.
 */
class ListenQueueTest {
    private static final int PORT = 5000;
    private static final String LISTENER = """
            import socket, sys
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('0.0.0.0', int(sys.argv[1])))
            s.listen(128)
            print('listening', flush=True)
            sys.stdin.read()
            """;
    private static final String CLIENTS = """
            import socket, sys
            held = [socket.create_connection(('127.0.0.1', int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
            print('connected', flush=True)
            sys.stdin.read()
            """;

    private final NetworkNamespace ns = new NetworkNamespace("dp-lqtest-web-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24)));
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void namespace() {
        NetworkNamespaces.create(ns.name());
        Commands.sh("ip", "-n", ns.name(), "link", "set", "lo", "up");
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        NetworkNamespaces.delete(ns.name());
    }

    @Test
    void readsTheAcceptQueueOfTheDynosListenerFromTheHost() throws Exception {
        String before = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        try (ListenQueue queue = ListenQueue.open(ns.pin())) {
            assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(before);
            assertThat(queue.read(PORT)).isEmpty();  // nothing listens yet

            startInNamespace("listening", "python3", "-c", LISTENER, Integer.toString(PORT));
            assertThat(queue.read(PORT)).contains(new ListenQueue.Depth(0, 128));
            assertThat(queue.read(PORT + 1)).isEmpty();

            int k = 7;
            startInNamespace("connected", "python3", "-c", CLIENTS, Integer.toString(PORT), Integer.toString(k));
            // each connection is queued when the client's last ACK arrives, just after its connect() returned
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (queue.read(PORT).orElseThrow().queued() < k && System.nanoTime() < deadline) Thread.onSpinWait();
            assertThat(queue.read(PORT)).contains(new ListenQueue.Depth(k, 128));

            // reading moved no thread either: this one is still in the host namespace
            assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(before);
        }
    }

    @Test
    void aMissingOrBadNamespaceIsNamed() throws IOException {
        Path missing = Path.of("/run/netns", ns.name() + "-gone");
        assertThatThrownBy(() -> ListenQueue.open(missing))
                .isInstanceOf(ProvisioningException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("ENOENT");
        Path notANamespace = Files.createTempFile("dp-lqtest", ".txt");
        try {
            assertThatThrownBy(() -> ListenQueue.open(notANamespace))
                    .isInstanceOf(ProvisioningException.class)
                    .hasMessageContaining(notANamespace.toString())
                    .hasMessageContaining("EINVAL");
        } finally {
            Files.delete(notANamespace);
        }
        try (ListenQueue queue = ListenQueue.open(ns.pin())) {
            assertThatThrownBy(() -> queue.read(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(ns.name());
        }
    }

    @Test
    void aClosedReaderRefusesToRead() {
        ListenQueue queue = ListenQueue.open(ns.pin());
        queue.close();
        assertThatThrownBy(() -> queue.read(PORT)).isInstanceOf(IllegalStateException.class);
    }

    /** Starts the command inside the namespace and waits for the line that says it is ready. */
    private void startInNamespace(String ready, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns.name()));
        argv.addAll(List.of(command));
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as(String.join(" ", command)).isEqualTo(ready);
    }
}
