package io.dynoplane.provisioner;

import io.dynoplane.ffm.InetDiag;
import io.dynoplane.ffm.NetlinkException;
import io.dynoplane.ffm.SyscallException;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The accept queue of a dyno's listening socket, seen from outside the dyno (what Raindrops reads from inside a Ruby
 * app): a NETLINK_SOCK_DIAG socket created inside the dyno's network namespace, on a throwaway platform thread, and
 * then read from any thread. No pooled thread ever changes namespace. Keep one per dyno and close it when the dyno
 * goes: the open socket holds the namespace.
 */
public final class ListenQueue implements AutoCloseable {
    /**
     * {@code queued}: connections the kernel completed that the dyno has not accepted yet; {@code backlog}: how many
     * it may hold before new ones are dropped (listen()'s backlog, capped by the namespace's net.core.somaxconn).
     * Summed over the port's listeners (IPv4 and IPv6, SO_REUSEPORT groups).
     */
    public record Depth(int queued, int backlog) {}

    private final Path netnsPin;
    private final InetDiag diag;

    private ListenQueue(Path netnsPin, InetDiag diag) {
        this.netnsPin = netnsPin;
        this.diag = diag;
    }

    /**
     * A reader for the namespace pinned at {@code netnsPin} (a {@link NetworkNamespace#pin()}).
     *
     * @throws ProvisioningException naming the pin if it is missing or no network namespace
     */
    public static ListenQueue open(Path netnsPin) {
        Objects.requireNonNull(netnsPin, "netnsPin");
        try {
            return new ListenQueue(netnsPin, InetDiag.openIn(netnsPin));
        } catch (SyscallException | NetlinkException e) {
            throw new ProvisioningException("listen queue: cannot read sockets of the network namespace at " + netnsPin + ": " + e.getMessage(), e);
        }
    }

    /** The depth of the accept queue on TCP {@code port} now, or empty when nothing in the namespace listens there. */
    public Optional<Depth> read(int port) {
        if (port < 1 || port > 65535) throw new IllegalArgumentException("listen queue of " + netnsPin + ": port " + port + " outside 1..65535");
        List<InetDiag.TcpListener> listeners;
        try {
            listeners = diag.tcpListeners(port);
        } catch (SyscallException | NetlinkException e) {
            throw new ProvisioningException("listen queue: reading TCP listeners on port " + port + " in " + netnsPin + ": " + e.getMessage(), e);
        }
        if (listeners.isEmpty()) return Optional.empty();
        int queued = 0, backlog = 0;
        for (InetDiag.TcpListener l : listeners) {
            queued += l.queued();
            backlog += l.backlog();
        }
        return Optional.of(new Depth(queued, backlog));
    }

    public Path netnsPin() { return netnsPin; }

    /** Closes the sock_diag socket (it let the namespace live on); later reads fail with IllegalStateException. */
    @Override
    public void close() { diag.close(); }

    @Override
    public String toString() { return "ListenQueue[" + netnsPin + "]"; }
}
