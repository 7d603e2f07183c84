package io.dynoplane.ffm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

import static io.dynoplane.ffm.Shell.run;

/**
 * Two network namespaces of this run joined by a veth pair: the sender's end has 198.18.N.1/30, the receiver's end
 * 198.18.N.2/30 (198.18.0.0/15 is the benchmarking range; N is random per run). Nothing is added to the root
 * namespace. Datagrams go from a socket made in the sender namespace to sockets made in the receiver namespace,
 * all used from the test's own thread. {@link #close()} deletes the pair and both namespaces.
 */
final class VethBetweenNamespaces implements AutoCloseable {
    final String sender;        // namespace names: dpt-HEX-s, dpt-HEX-r
    final String receiver;
    final String senderLink;    // interface names: dptHEXs, dptHEXr
    final String receiverLink;
    final InetAddress receiverAddress;
    private final List<DatagramSocket> sockets = new ArrayList<>();

    private VethBetweenNamespaces(String hex, int subnet) {
        sender = "dpt-" + hex + "-s";
        receiver = "dpt-" + hex + "-r";
        senderLink = "dpt" + hex + "s";
        receiverLink = "dpt" + hex + "r";
        try {
            receiverAddress = InetAddress.getByAddress(new byte[] {(byte) 198, 18, (byte) subnet, 2});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static VethBetweenNamespaces create() {
        String hex = Shell.uniqueName("");
        int subnet = ThreadLocalRandom.current().nextInt(256);
        VethBetweenNamespaces pair = new VethBetweenNamespaces(hex, subnet);
        try {
            run("ip", "netns", "add", pair.sender);
            run("ip", "netns", "add", pair.receiver);
            run("ip", "link", "add", pair.senderLink, "netns", pair.sender, "type", "veth",
                    "peer", "name", pair.receiverLink, "netns", pair.receiver);
            run("ip", "-n", pair.sender, "addr", "add", "198.18." + subnet + ".1/30", "dev", pair.senderLink);
            run("ip", "-n", pair.sender, "link", "set", pair.senderLink, "up");
            run("ip", "-n", pair.receiver, "addr", "add", "198.18." + subnet + ".2/30", "dev", pair.receiverLink);
            run("ip", "-n", pair.receiver, "link", "set", pair.receiverLink, "up");
            return pair;
        } catch (RuntimeException e) {
            pair.close();
            throw e;
        }
    }

    /** The receiver end's ifindex, in the receiver namespace. */
    int receiverIfindex() {
        return NetworkNamespaces.inside(receiver, () -> Libbpf.ifindex(receiverLink));
    }

    /** A socket in the receiver namespace on the receiver's address ({@code port} 0: any free one). */
    DatagramSocket receiverSocket(int port) {
        DatagramSocket socket = NetworkNamespaces.inside(receiver,
                () -> new DatagramSocket(new InetSocketAddress(receiverAddress, port)));
        sockets.add(socket);
        return socket;
    }

    /** Sends {@code count} datagrams from the sender namespace to the receiver's address and {@code port}. */
    void send(int port, int count) {
        try (DatagramSocket socket = NetworkNamespaces.inside(sender, () -> new DatagramSocket())) {
            for (int i = 0; i < count; i++) {
                byte[] payload = ("datagram " + i).getBytes(StandardCharsets.US_ASCII);
                socket.send(new DatagramPacket(payload, payload.length, receiverAddress, port));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Receives exactly {@code count} datagrams on {@code socket}, each within 5 s. */
    static void receive(DatagramSocket socket, int count) throws IOException {
        socket.setSoTimeout(5_000);
        for (int i = 0; i < count; i++) socket.receive(new DatagramPacket(new byte[64], 64));
    }

    /** Whether anything arrives on {@code socket} within {@code wait}. */
    static boolean receivesAnything(DatagramSocket socket, Duration wait) throws IOException {
        socket.setSoTimeout((int) wait.toMillis());
        try {
            socket.receive(new DatagramPacket(new byte[64], 64));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /**
     * Waits until {@code counter} reaches {@code target} (a BPF counter moves when the packet passes the hook, which
     * may be a moment after send returns) and returns its value then, or whatever it is after 5 s.
     */
    static long awaitAtLeast(LongSupplier counter, long target) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long value;
        while ((value = counter.getAsLong()) < target && System.nanoTime() < deadline) Thread.sleep(2);
        return value;
    }

    @Override
    public void close() {
        for (DatagramSocket socket : sockets) socket.close();
        Shell.runQuietly("ip", "-n", receiver, "link", "del", receiverLink); // and its peer, and any tcx links' hold on it
        Shell.runQuietly("ip", "netns", "del", sender);
        Shell.runQuietly("ip", "netns", "del", receiver);
    }
}
