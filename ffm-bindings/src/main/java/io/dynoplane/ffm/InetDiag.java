package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.dynoplane.ffm.InetDiagStructs.BE16;
import static io.dynoplane.ffm.InetDiagStructs.IDIAG_SPORT;
import static io.dynoplane.ffm.InetDiagStructs.IDIAG_SRC;
import static io.dynoplane.ffm.InetDiagStructs.INET_DIAG_MSG;
import static io.dynoplane.ffm.InetDiagStructs.INET_DIAG_REQ_V2;
import static io.dynoplane.ffm.InetDiagStructs.IPPROTO_TCP;
import static io.dynoplane.ffm.InetDiagStructs.MSG_ID;
import static io.dynoplane.ffm.InetDiagStructs.MSG_IDIAG_FAMILY;
import static io.dynoplane.ffm.InetDiagStructs.MSG_IDIAG_INODE;
import static io.dynoplane.ffm.InetDiagStructs.MSG_IDIAG_RQUEUE;
import static io.dynoplane.ffm.InetDiagStructs.MSG_IDIAG_STATE;
import static io.dynoplane.ffm.InetDiagStructs.MSG_IDIAG_WQUEUE;
import static io.dynoplane.ffm.InetDiagStructs.NETLINK_SOCK_DIAG;
import static io.dynoplane.ffm.InetDiagStructs.REQ_ID;
import static io.dynoplane.ffm.InetDiagStructs.REQ_IDIAG_STATES;
import static io.dynoplane.ffm.InetDiagStructs.REQ_SDIAG_FAMILY;
import static io.dynoplane.ffm.InetDiagStructs.REQ_SDIAG_PROTOCOL;
import static io.dynoplane.ffm.InetDiagStructs.SOCK_DIAG_BY_FAMILY;
import static io.dynoplane.ffm.InetDiagStructs.TCP_LISTEN;
import static io.dynoplane.ffm.NetlinkStructs.AF_INET;
import static io.dynoplane.ffm.NetlinkStructs.AF_INET6;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_HDRLEN;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_DUMP;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_REQUEST;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A NETLINK_SOCK_DIAG socket: the TCP sockets of one network namespace, the one it was opened in, as {@code ss}
 * reads them (SOCK_DIAG_BY_FAMILY dumps of {@code inet_diag_req_v2}). Only what the plane needs: listening sockets
 * with their accept-queue length and backlog.
 *
 * <p>Thread safety: an instance may be shared; each dump holds its socket's lock from send to NLMSG_DONE. Close it
 * when done (the descriptor is not closed by GC; the socket also keeps its namespace alive).
 */
public final class InetDiag implements AutoCloseable {
    /**
     * A listening TCP socket. {@code queued} is the length of its accept queue (connections the kernel completed that
     * the process has not accepted yet: {@code idiag_rqueue}), {@code backlog} the most it holds ({@code idiag_wqueue},
     * the listen() backlog capped by net.core.somaxconn). {@code inode} identifies the socket ({@code ss -e}).
     */
    public record TcpListener(InetAddress address, int port, int queued, int backlog, long inode) {}

    /** NETLINK_SOCK_DIAG, without extended ACKs. */
    private static final NetlinkSocket.Protocol SOCK_DIAG = new NetlinkSocket.Protocol("InetDiag", NETLINK_SOCK_DIAG, "NETLINK_SOCK_DIAG", "sock_diag", false);

    private final NetlinkSocket socket;

    private InetDiag(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** A socket in the calling thread's network namespace (for an ordinary thread, the process's one). */
    public static InetDiag open() {
        return new InetDiag(NetlinkSocket.open(SOCK_DIAG, "current netns"));
    }

    /**
     * A socket in the namespace pinned at {@code netnsPin} ({@code /run/netns/NAME}, {@code /proc/PID/ns/net}),
     * opened on a throwaway platform thread inside it ({@link NetworkNamespaces#insidePin}); no other thread changes
     * namespace, and the socket keeps reading that namespace from any thread.
     *
     * @throws SyscallException naming the path if it cannot be opened (ENOENT) or is no network namespace (EINVAL)
     */
    public static InetDiag openIn(Path netnsPin) {
        return new InetDiag(NetlinkSocket.openIn(SOCK_DIAG, netnsPin));
    }

    /**
     * The TCP sockets in LISTEN state on local port {@code port} (IPv4 and IPv6, every address: several with
     * SO_REUSEPORT or one per address), or every listener if {@code port} is 0. Empty when nothing listens there.
     */
    public List<TcpListener> tcpListeners(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("TCP port " + port + " outside 0..65535");
        List<TcpListener> found = new ArrayList<>();
        dumpListeners(AF_INET, port, found);
        dumpListeners(AF_INET6, port, found);
        return found;
    }

    private void dumpListeners(int family, int port, List<TcpListener> found) {
        String operation = "SOCK_DIAG_BY_FAMILY " + (family == AF_INET ? "AF_INET" : "AF_INET6") + " TCP LISTEN sport " + port;
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, INET_DIAG_REQ_V2);
            MemorySegment req = request.header();
            req.set(JAVA_BYTE, REQ_SDIAG_FAMILY, (byte) family);
            req.set(JAVA_BYTE, REQ_SDIAG_PROTOCOL, (byte) IPPROTO_TCP);
            req.set(JAVA_INT, REQ_IDIAG_STATES, 1 << TCP_LISTEN);
            // The kernel skips listeners of other ports when sport is set (0: all); filtered again below all the same.
            req.set(BE16, REQ_ID + IDIAG_SPORT, (short) port);
            // Refusals name the namespace too. A dump part with NLM_F_DUMP_INTR is taken as it is (not retried).
            socket.transact(operation + " (" + socket.namespace() + ")", request, reply -> {
                if (reply.byteSize() < NLMSG_HDRLEN + INET_DIAG_MSG.byteSize()) return;
                MemorySegment msg = reply.asSlice(NLMSG_HDRLEN, INET_DIAG_MSG.byteSize());
                if (Byte.toUnsignedInt(msg.get(JAVA_BYTE, MSG_IDIAG_STATE)) != TCP_LISTEN) return;
                int localPort = Short.toUnsignedInt(msg.get(BE16, MSG_ID + IDIAG_SPORT));
                if (port != 0 && localPort != port) return;
                int msgFamily = Byte.toUnsignedInt(msg.get(JAVA_BYTE, MSG_IDIAG_FAMILY));
                byte[] address = msg.asSlice(MSG_ID + IDIAG_SRC, msgFamily == AF_INET ? 4 : 16).toArray(JAVA_BYTE);
                found.add(new TcpListener(address(address), localPort,
                        msg.get(JAVA_INT, MSG_IDIAG_RQUEUE), msg.get(JAVA_INT, MSG_IDIAG_WQUEUE),
                        Integer.toUnsignedLong(msg.get(JAVA_INT, MSG_IDIAG_INODE))));
            });
        }
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);  // cannot happen: 4 or 16 bytes
        }
    }

    /** Closes the socket, once; later dumps fail with IllegalStateException. */
    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return socket.toString();
    }
}
