package io.dynoplane.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An IPv4 raw socket (IPPROTO_RAW: the packet carries its own IP header) that sends one prebuilt packet over and
 * over with sendmmsg, {@value #BATCH} per call. The socket belongs to the network namespace of the thread that
 * opens it; it can be used from any thread afterwards. x86-64/aarch64 Linux layouts.
 */
final class RawSender implements AutoCloseable {
    static final int BATCH = 64;
    private static final int AF_INET = 2, SOCK_RAW = 3, IPPROTO_RAW = 255;
    private static final int EPERM = 1, ENOBUFS = 105;
    private static final long MSGHDR = 56, MMSGHDR = 64, IOVEC = 16, SOCKADDR_IN = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDMMSG = downcall("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = arena.allocate(CALL_STATE);
    private final int fd;
    private MemorySegment messages;

    /** Opens the socket in the calling thread's network namespace. */
    RawSender() {
        try {
            fd = (int) SOCKET.invokeExact(callState, AF_INET, SOCK_RAW, IPPROTO_RAW);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (fd < 0) {
            arena.close();
            throw new IllegalStateException("socket(AF_INET, SOCK_RAW, IPPROTO_RAW): errno " + errno());
        }
    }

    /** The packet (IPv4 header first) every later {@link #send} sends, to {@code destination} (host order). */
    void packet(byte[] ipPacket, int destination) {
        MemorySegment data = arena.allocate(ipPacket.length, 8);
        MemorySegment.copy(ipPacket, 0, data, JAVA_BYTE, 0, ipPacket.length);
        MemorySegment address = sockaddr(arena, destination);
        MemorySegment iov = arena.allocate(IOVEC, 8);
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, ipPacket.length);
        messages = arena.allocate(MMSGHDR * BATCH, 8);
        for (int i = 0; i < BATCH; i++) {
            long at = i * MMSGHDR;
            messages.set(ADDRESS, at, address);
            messages.set(JAVA_INT, at + 8, (int) SOCKADDR_IN);
            messages.set(ADDRESS, at + 16, iov);
            messages.set(JAVA_LONG, at + 24, 1);
        }
    }

    /**
     * Sends the packet {@code count} times. Returns how many the stack refused (EPERM: a netfilter drop on the way
     * out; ENOBUFS: a qdisc or tc drop with IP_RECVERR), which are counted as sent-and-dropped.
     */
    long send(long count) {
        long refused = 0;
        long left = count;
        while (left > 0) {
            int rc = sendmmsg(messages, (int) Math.min(BATCH, left));
            if (rc < 0) refused++; // the first message of the batch was refused; go on with the rest
            left -= Math.max(1, rc);
        }
        return refused;
    }

    /**
     * Sends each of {@code ipPackets} once, to {@code destination} (host order), {@value #BATCH} per sendmmsg.
     * Returns how many the stack refused (as {@link #send}).
     */
    long sendEach(java.util.List<byte[]> ipPackets, int destination) {
        long refused = 0;
        for (int from = 0; from < ipPackets.size(); from += BATCH) {
            int n = Math.min(BATCH, ipPackets.size() - from);
            try (Arena batch = Arena.ofConfined()) {
                MemorySegment address = sockaddr(batch, destination);
                MemorySegment iovs = batch.allocate(IOVEC * n, 8), msgs = batch.allocate(MMSGHDR * n, 8);
                for (int i = 0; i < n; i++) {
                    byte[] packet = ipPackets.get(from + i);
                    MemorySegment data = batch.allocate(packet.length, 8);
                    MemorySegment.copy(packet, 0, data, JAVA_BYTE, 0, packet.length);
                    iovs.set(ADDRESS, i * IOVEC, data);
                    iovs.set(JAVA_LONG, i * IOVEC + 8, packet.length);
                    long at = i * MMSGHDR;
                    msgs.set(ADDRESS, at, address);
                    msgs.set(JAVA_INT, at + 8, (int) SOCKADDR_IN);
                    msgs.set(ADDRESS, at + 16, iovs.asSlice(i * IOVEC, IOVEC));
                    msgs.set(JAVA_LONG, at + 24, 1);
                }
                for (int sent = 0; sent < n; ) {
                    int rc = sendmmsg(msgs.asSlice(sent * MMSGHDR), n - sent);
                    if (rc < 0) refused++; // that one was refused; go on with the rest
                    sent += Math.max(1, rc);
                }
            }
        }
        return refused;
    }

    /** sendmmsg(2) of {@code n} messages: how many went, or -1 if the first was refused (EPERM, ENOBUFS). */
    private int sendmmsg(MemorySegment msgs, int n) {
        int rc;
        try {
            rc = (int) SENDMMSG.invokeExact(callState, fd, msgs, n, 0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc >= 0) return rc;
        int errno = errno();
        if (errno != EPERM && errno != ENOBUFS) throw new IllegalStateException("sendmmsg: errno " + errno);
        return -1;
    }

    private static MemorySegment sockaddr(Arena arena, int destination) {
        MemorySegment address = arena.allocate(SOCKADDR_IN, 8);
        address.set(JAVA_SHORT, 0, (short) AF_INET);
        address.set(JAVA_BYTE, 4, (byte) (destination >>> 24));
        address.set(JAVA_BYTE, 5, (byte) (destination >>> 16));
        address.set(JAVA_BYTE, 6, (byte) (destination >>> 8));
        address.set(JAVA_BYTE, 7, (byte) destination);
        return address;
    }

    private int errno() { return (int) ERRNO.get(callState, 0L); }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            arena.close();
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, Linker.Option.captureCallState("errno"));
    }
}
