package io.dynoplane.provisioner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real traffic to and from dynos for the guard's tests: TCP listeners answering "ok" inside namespaces (owned by
 * the test, so they outlive any plane process), and connections, datagrams and pings made from inside a namespace
 * or from the host (the router's way in). Close it to stop the listeners.
 */
final class DynoTraffic implements AutoCloseable {
    private final List<Process> listeners = new ArrayList<>();

    /** A TCP server in {@code netns} answering "ok" on each port; returns when it listens. */
    void listen(String netns, int... ports) throws IOException {
        StringBuilder code = new StringBuilder("import socket,threading\n"
                + "def serve(s):\n while True:\n  c,_=s.accept(); c.sendall(b'ok\\n'); c.close()\n"
                + "socks=[]\n");
        for (int port : ports) {
            code.append("s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',").append(port)
                    .append(")); s.listen(64); socks.append(s)\n");
        }
        code.append("for s in socks: threading.Thread(target=serve,args=(s,)).start()\nprint('listening',flush=True)\n");
        Process p = new ProcessBuilder("ip", "netns", "exec", netns, "python3", "-c", code.toString()).redirectErrorStream(true).start();
        listeners.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"listening".equals(line)) throw new IllegalStateException("listener in " + netns + ": " + line);
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : listeners) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        listeners.clear();
    }

    /** The router's way in: a connection from the host (source address the dyno's gateway); "ok" or "refused". */
    static String hostConnect(String address, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 1000);
            s.setSoTimeout(2000);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        } catch (SocketTimeoutException e) {
            return "refused";
        }
    }

    /** A TCP connection from inside {@code netns}: what the server said ("ok"), or "refused". */
    static String tcp(String netns, String address, int port) throws Exception {
        String code = "import socket\ntry:\n c=socket.create_connection(('" + address + "'," + port + "),timeout=1)\n c.settimeout(2)\n print(c.recv(16).decode().strip())\n"
                + "except OSError as e:\n print('refused')";
        String out = python(netns, code).strip();
        return out.endsWith("ok") ? "ok" : out;
    }

    /** One UDP datagram from inside {@code netns}. */
    static void udp(String netns, String address, int port) throws Exception {
        assertThat(python(netns, "import socket\nsocket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'x',('" + address + "'," + port + "))\nprint('sent')"))
                .contains("sent");
    }

    /** One ICMP echo from inside {@code netns}; whether it was answered within a second. */
    static boolean ping(String netns, String address) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", netns, "ping", "-n", "-q", "-c", "1", "-W", "1", address)
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() == 0;
    }

    /** Runs a Python program inside {@code netns} and returns its output. */
    static String python(String netns, String code) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", netns, "python3", "-c", code).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(command + ": " + out);
    }
}
