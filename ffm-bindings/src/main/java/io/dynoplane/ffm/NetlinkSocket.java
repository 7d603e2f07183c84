package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.Consumer;

import static io.dynoplane.ffm.NetlinkStructs.NETLINK_CAP_ACK;
import static io.dynoplane.ffm.NetlinkStructs.NETLINK_EXT_ACK;
import static io.dynoplane.ffm.NetlinkStructs.NLMSGERR;
import static io.dynoplane.ffm.NetlinkStructs.NLMSGERR_ATTR_MSG;
import static io.dynoplane.ffm.NetlinkStructs.NLMSGERR_ERROR;
import static io.dynoplane.ffm.NetlinkStructs.NLMSGERR_MSG_LEN;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_DONE;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_ERROR;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_HDRLEN;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_LEN;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_ACK_TLVS;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_CAPPED;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_DUMP_INTR;
import static io.dynoplane.ffm.NetlinkStructs.NL_FAMILY;
import static io.dynoplane.ffm.NetlinkStructs.NL_PID;
import static io.dynoplane.ffm.NetlinkStructs.SOCKADDR_NL;
import static io.dynoplane.ffm.NetlinkStructs.SOL_NETLINK;
import static io.dynoplane.ffm.NetlinkStructs.align;
import static io.dynoplane.ffm.Syscalls.AF_NETLINK;
import static io.dynoplane.ffm.Syscalls.MSG_PEEK;
import static io.dynoplane.ffm.Syscalls.MSG_TRUNC;
import static io.dynoplane.ffm.Syscalls.SOCK_CLOEXEC;
import static io.dynoplane.ffm.Syscalls.SOCK_RAW;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One netlink socket of one protocol in one network namespace, the one it was opened in, and the synchronous
 * request/reply exchange over it: the plumbing {@link RtNetlink} and {@link InetDiag} share. Each request is sent to
 * the kernel with a fresh sequence number, then replies are read until its ACK, NLMSG_ERROR or NLMSG_DONE.
 *
 * <p>Thread safety: {@link #transact} and {@link #close} hold the instance's lock, so requests from several threads
 * run one after another. Close it when done (the descriptor is not closed by GC; the socket also keeps its
 * namespace alive).
 */
final class NetlinkSocket implements AutoCloseable {
    /**
     * A netlink protocol as its users open it: {@code owner} names the class in {@link #toString} (and so in "is
     * closed" errors), {@code descriptorLabel} the descriptor in failing socket calls ("netlink fd 7 (current)"),
     * {@code extendedAck} asks for NETLINK_CAP_ACK and NETLINK_EXT_ACK.
     */
    record Protocol(String owner, int number, String name, String descriptorLabel, boolean extendedAck) {}

    /** The kernel caps a dump datagram at 32 KiB; larger ones (never seen) grow the buffer. */
    private static final int RECEIVE_BUFFER = 32 * 1024;

    private final Protocol protocol;
    private final int fd;
    private final int portId;
    private final String namespace;
    private final Arena arena;            // the socket's buffers, freed by close()
    private final MemorySegment kernel;   // sockaddr_nl of the kernel: nl_pid 0
    private MemorySegment receiveBuffer;
    private int sequence;
    private boolean closed;

    private NetlinkSocket(Protocol protocol, int fd, String namespace) {
        this.protocol = protocol;
        this.fd = fd;
        this.namespace = namespace;
        this.arena = Arena.ofShared();    // used from whichever thread holds the lock
        try {
            this.kernel = arena.allocate(SOCKADDR_NL);
            kernel.set(JAVA_SHORT, NL_FAMILY, (short) AF_NETLINK);
            MemorySegment local = arena.allocate(SOCKADDR_NL);
            local.set(JAVA_SHORT, NL_FAMILY, (short) AF_NETLINK);  // nl_pid 0: the kernel assigns our port id
            if (protocol.extendedAck()) {
                // Best effort, as iproute2: errors echo only the request header, and carry the kernel's explanation.
                Syscalls.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
                Syscalls.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
            }
            Syscalls.bind(fd, local, describe());
            Syscalls.getsockname(fd, local, describe());
            this.portId = local.get(JAVA_INT, NL_PID);
            this.receiveBuffer = arena.allocate(RECEIVE_BUFFER, 8);
            this.sequence = (int) (System.nanoTime() & 0x3fffffff);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** A socket in the calling thread's network namespace, which errors call {@code namespace}. */
    static NetlinkSocket open(Protocol protocol, String namespace) {
        int fd = Syscalls.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol.number(), "AF_NETLINK " + protocol.name() + " in " + namespace);
        try {
            return new NetlinkSocket(protocol, fd, namespace);
        } catch (RuntimeException | Error e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    /** A socket in the named namespace ({@code /run/netns/NAME}), opened on a throwaway thread inside it ({@link NetworkNamespaces#inside}). */
    static NetlinkSocket openIn(Protocol protocol, String netnsName) {
        return NetworkNamespaces.inside(netnsName, () -> open(protocol, "netns " + netnsName));
    }

    /** A socket in the namespace pinned at {@code netnsPin}, opened on a throwaway thread inside it ({@link NetworkNamespaces#insidePin}). */
    static NetlinkSocket openIn(Protocol protocol, Path netnsPin) {
        return NetworkNamespaces.insidePin(netnsPin, () -> open(protocol, "netns " + netnsPin));
    }

    /** What errors call the namespace: "current", "netns NAME", "netns /run/netns/NAME". */
    String namespace() {
        return namespace;
    }

    /**
     * Sends {@code request} and reads until its ACK, NLMSG_ERROR or NLMSG_DONE, handing every other message with its
     * sequence number to {@code replies} (nullable; a slice valid only during the call). Messages of other sequence
     * numbers (leftovers of an earlier request that failed halfway) are skipped. A refusal is a
     * {@link NetlinkException} naming {@code operation}, with the kernel's extended-ACK text when it sent one.
     * Returns false if a dump part carried NLM_F_DUMP_INTR.
     */
    synchronized boolean transact(String operation, NetlinkMessage request, Consumer<MemorySegment> replies) {
        if (closed) throw new IllegalStateException(this + " is closed");
        int seq = ++sequence;
        MemorySegment message = request.finish(seq);
        long sent = Syscalls.sendto(fd, message, 0, kernel, describe());
        if (sent != message.byteSize()) throw new IllegalStateException(operation + ": sent " + sent + " of " + message.byteSize() + " bytes");
        boolean consistent = true;
        while (true) {
            MemorySegment datagram = receive();
            long offset = 0;
            while (offset + NLMSG_HDRLEN <= datagram.byteSize()) {
                int length = datagram.get(JAVA_INT, offset + NLMSG_LEN);
                if (length < NLMSG_HDRLEN || offset + length > datagram.byteSize()) {
                    throw new IllegalStateException(operation + ": malformed netlink message of length " + length);
                }
                MemorySegment reply = datagram.asSlice(offset, length);
                offset += align(length);
                if (NetlinkMessage.sequence(reply) != seq) continue;
                if ((NetlinkMessage.flags(reply) & NLM_F_DUMP_INTR) != 0) consistent = false;
                switch (NetlinkMessage.type(reply)) {
                    case NLMSG_ERROR -> {
                        int error = reply.get(JAVA_INT, NLMSG_HDRLEN + NLMSGERR_ERROR);
                        if (error != 0) throw new NetlinkException(operation, -error, kernelMessage(reply));
                        return consistent;  // error 0: the ACK
                    }
                    case NLMSG_DONE -> {
                        // A dump's end; its payload, when present, is an int error (negative if the dump failed).
                        int error = length >= NLMSG_HDRLEN + Integer.BYTES ? reply.get(JAVA_INT, NLMSG_HDRLEN) : 0;
                        if (error < 0) throw new NetlinkException(operation, -error, kernelMessage(reply));
                        return consistent;
                    }
                    default -> {
                        if (replies != null) replies.accept(reply);
                    }
                }
            }
        }
    }

    /** One datagram; its size is peeked first, so a datagram larger than the buffer grows it instead of being cut. */
    private MemorySegment receive() {
        long size = Syscalls.recv(fd, receiveBuffer, MSG_PEEK | MSG_TRUNC, describe());
        if (size > receiveBuffer.byteSize()) receiveBuffer = arena.allocate(size, 8);  // the old one goes with the arena
        long received = Syscalls.recv(fd, receiveBuffer, 0, describe());
        return receiveBuffer.asSlice(0, received);
    }

    /**
     * The NLMSGERR_ATTR_MSG of an extended ACK, or null. Its attributes follow the nlmsgerr: after only the echoed
     * request header if NLM_F_CAPPED, else after the whole echoed request.
     */
    private static String kernelMessage(MemorySegment reply) {
        int flags = NetlinkMessage.flags(reply);
        if ((flags & NLM_F_ACK_TLVS) == 0 || NetlinkMessage.type(reply) != NLMSG_ERROR) return null;
        long start = NLMSG_HDRLEN + NLMSGERR.byteSize();
        if ((flags & NLM_F_CAPPED) == 0 && reply.byteSize() >= start) {
            start = NLMSG_HDRLEN + NLMSGERR_ERROR + Integer.BYTES
                    + align(reply.get(JAVA_INT, NLMSG_HDRLEN + NLMSGERR_MSG_LEN));
        }
        if (start >= reply.byteSize()) return null;
        MemorySegment text = NetlinkMessage.attributes(reply.asSlice(start), NLMSGERR_ATTR_MSG)[NLMSGERR_ATTR_MSG];
        return text == null ? null : NetlinkMessage.string(text);
    }

    /** Closes the socket, once; later requests fail with IllegalStateException. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            Syscalls.close(fd);
        } finally {
            arena.close();
        }
    }

    private String describe() {
        return protocol.descriptorLabel() + " fd " + fd + " (" + namespace + ")";
    }

    @Override
    public String toString() {
        return protocol.owner() + "[fd " + fd + ", port " + Integer.toUnsignedString(portId) + ", " + namespace + "]";
    }
}
