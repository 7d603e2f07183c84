package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.StringJoiner;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc system calls behind namespaces and netlink sockets: open/close, setns/unshare, mount/umount2, and
 * (package-private, for {@link RtNetlink}) socket/bind/sendto/recv. Named and typed as in C; every failure is a
 * {@link SyscallException} with the errno, captured right after the call.
 *
 * <p>setns and unshare change the <em>calling OS thread</em> only. Call them on a platform thread made for the purpose
 * and let it end ({@link NetworkNamespaces} does); on a virtual thread they would change whichever carrier happens to
 * run it, so they refuse to run there.
 *
 * <p>Every {@code int} and {@code long} constant here is the C macro of the same name (x86_64/aarch64 Linux values),
 * checked against the headers by NetlinkLayoutTest.
 */
public final class Syscalls {
    // <fcntl.h>
    public static final int O_RDONLY = 0;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;

    // <sched.h>: namespace types for unshare and setns
    public static final int CLONE_NEWNS = 0x00020000;
    public static final int CLONE_NEWUTS = 0x04000000;
    public static final int CLONE_NEWPID = 0x20000000;
    public static final int CLONE_NEWNET = 0x40000000;

    // <sys/mount.h>: mount flags (unsigned long) and umount2 flags
    public static final long MS_RDONLY = 1;
    public static final long MS_REMOUNT = 32;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_PRIVATE = 1 << 18;
    public static final long MS_SLAVE = 1 << 19;
    public static final long MS_SHARED = 1 << 20;
    public static final int MNT_DETACH = 2;

    // <sys/file.h>
    static final int LOCK_EX = 2;
    static final int LOCK_UN = 8;

    // <sys/socket.h>
    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = O_CLOEXEC;
    static final int MSG_PEEK = 2;
    static final int MSG_TRUNC = 0x20;

    // <errno.h>: the ones callers branch on
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EEXIST = 17;
    static final int ENODEV = 19;
    static final int EINVAL = 22;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    // int open(const char *pathname, int flags, ...): the mode is the first variadic argument.
    private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.findOrThrow("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Libc.CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    // int close(int fd)
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // int setns(int fd, int nstype)
    private static final MethodHandle SETNS = downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int unshare(int flags)
    private static final MethodHandle UNSHARE = downcall("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // int mount(const char *source, const char *target, const char *filesystemtype, unsigned long mountflags, const void *data)
    private static final MethodHandle MOUNT = downcall("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    // int umount2(const char *target, int flags)
    private static final MethodHandle UMOUNT2 = downcall("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int mkdir(const char *pathname, mode_t mode)
    private static final MethodHandle MKDIR = downcall("mkdir", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int unlink(const char *pathname)
    private static final MethodHandle UNLINK = downcall("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int flock(int fd, int operation)
    private static final MethodHandle FLOCK = downcall("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int socket(int domain, int type, int protocol)
    private static final MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    // int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen)
    private static final MethodHandle BIND = downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen)
    private static final MethodHandle GETSOCKNAME = downcall("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    // int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen)
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // ssize_t sendto(int sockfd, const void *buf, size_t len, int flags, const struct sockaddr *dest_addr, socklen_t addrlen)
    private static final MethodHandle SENDTO = downcall("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    // ssize_t recv(int sockfd, void *buf, size_t len, int flags)
    private static final MethodHandle RECV = downcall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private Syscalls() {}

    // ---- Files --------------------------------------------------------------------------------------------------

    /** open(2) without O_CREAT; returns the file descriptor. */
    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /** open(2); {@code mode} matters only with O_CREAT. Returns the file descriptor. */
    public static int open(String path, int flags, int mode) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            int fd = (int) OPEN.invokeExact(callState, call.allocateFrom(path), flags, mode);
            if (fd < 0) throw new SyscallException("open", path, Libc.errno(callState));
            return fd;
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** close(2). Not retried on EINTR: on Linux the descriptor is gone either way. */
    public static void close(int fd) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) CLOSE.invokeExact(callState, fd) != 0) throw new SyscallException("close", "fd " + fd, Libc.errno(callState));
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** mkdir(2). Returns false if the path already exists (EEXIST), like {@code mkdir -p} for the last component. */
    static boolean mkdir(String path, int mode) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) MKDIR.invokeExact(callState, call.allocateFrom(path), mode) == 0) return true;
            int errno = Libc.errno(callState);
            if (errno == EEXIST) return false;
            throw new SyscallException("mkdir", path, errno);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** unlink(2). Returns false if there was nothing to unlink (ENOENT). */
    static boolean unlink(String path) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) UNLINK.invokeExact(callState, call.allocateFrom(path)) == 0) return true;
            int errno = Libc.errno(callState);
            if (errno == ENOENT) return false;
            throw new SyscallException("unlink", path, errno);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** flock(2) on an open descriptor; {@code what} names the file for the message. Retried on EINTR. */
    static void flock(int fd, int operation, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            while ((int) FLOCK.invokeExact(callState, fd, operation) != 0) {
                int errno = Libc.errno(callState);
                if (errno != EINTR) throw new SyscallException("flock", what, errno);
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    // ---- Namespaces ---------------------------------------------------------------------------------------------

    /**
     * setns(2): moves the calling thread into the namespace {@code fd} refers to ({@code /run/netns/NAME},
     * {@code /proc/PID/ns/net}); {@code nstype} is a CLONE_NEW* constant, or 0 for any type.
     */
    public static void setns(int fd, int nstype) {
        requirePlatformThread("setns");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) SETNS.invokeExact(callState, fd, nstype) != 0) {
                throw new SyscallException("setns", "fd " + fd + " " + cloneFlags(nstype), Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** unshare(2): gives the calling thread new namespaces of the CLONE_NEW* types in {@code flags}. */
    public static void unshare(int flags) {
        requirePlatformThread("unshare");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) UNSHARE.invokeExact(callState, flags) != 0) {
                throw new SyscallException("unshare", cloneFlags(flags), Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    // ---- Mounts -------------------------------------------------------------------------------------------------

    /**
     * mount(2). {@code source}, {@code fstype} and {@code data} may be null (NULL in C): a propagation change
     * ({@code MS_SHARED}, {@code MS_PRIVATE}) ignores source, fstype and data; a bind mount ignores fstype and data.
     */
    public static void mount(String source, String target, String fstype, long flags, String data) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            int ret = (int) MOUNT.invokeExact(callState, cString(call, source), call.allocateFrom(target),
                    cString(call, fstype), flags, cString(call, data));
            if (ret != 0) {
                String what = target + " (source " + (source == null || source.isEmpty() ? "none" : source)
                        + ", " + mountFlags(flags) + ")";
                throw new SyscallException("mount", what, Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** umount2(2); {@code flags} 0 or MNT_DETACH (lazy: detached now, freed when no longer busy). */
    public static void umount2(String target, int flags) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) UMOUNT2.invokeExact(callState, call.allocateFrom(target), flags) != 0) {
                throw new SyscallException("umount2", target + ((flags & MNT_DETACH) != 0 ? " (MNT_DETACH)" : ""),
                        Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    // ---- Sockets (for RtNetlink) --------------------------------------------------------------------------------

    static int socket(int domain, int type, int protocol, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            int fd = (int) SOCKET.invokeExact(callState, domain, type, protocol);
            if (fd < 0) throw new SyscallException("socket", what, Libc.errno(callState));
            return fd;
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static void bind(int fd, MemorySegment address, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            if ((int) BIND.invokeExact(callState, fd, address, (int) address.byteSize()) != 0) {
                throw new SyscallException("bind", what, Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** getsockname(2) into {@code address}, whose size is the room the kernel may fill. */
    static void getsockname(int fd, MemorySegment address, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            MemorySegment length = call.allocateFrom(JAVA_INT, (int) address.byteSize());
            if ((int) GETSOCKNAME.invokeExact(callState, fd, address, length) != 0) {
                throw new SyscallException("getsockname", what, Libc.errno(callState));
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** setsockopt(2) with an int option value; returns the errno, 0 on success (callers may treat some as optional). */
    static int setsockopt(int fd, int level, int option, int value) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            MemorySegment optval = call.allocateFrom(JAVA_INT, value);
            int ret = (int) SETSOCKOPT.invokeExact(callState, fd, level, option, optval, (int) optval.byteSize());
            return ret == 0 ? 0 : Libc.errno(callState);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** sendto(2) of the whole of {@code message}; retried on EINTR. Returns the bytes sent. */
    static long sendto(int fd, MemorySegment message, int flags, MemorySegment address, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            while (true) {
                long sent = (long) SENDTO.invokeExact(callState, fd, message, message.byteSize(), flags, address,
                        (int) address.byteSize());
                if (sent >= 0) return sent;
                int errno = Libc.errno(callState);
                if (errno != EINTR) throw new SyscallException("sendto", what, errno);
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    /** recv(2) into {@code buffer}; retried on EINTR. With MSG_TRUNC, returns the datagram's real length. */
    static long recv(int fd, MemorySegment buffer, int flags, String what) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            while (true) {
                long received = (long) RECV.invokeExact(callState, fd, buffer, buffer.byteSize(), flags);
                if (received >= 0) return received;
                int errno = Libc.errno(callState);
                if (errno != EINTR) throw new SyscallException("recv", what, errno);
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor, Libc.CAPTURE_ERRNO);
    }

    private static MemorySegment cString(Arena arena, String value) {
        return value == null ? MemorySegment.NULL : arena.allocateFrom(value);
    }

    // A virtual thread borrows its carrier's OS thread: changing that thread's namespaces would leak into every other
    // virtual thread the carrier runs later.
    private static void requirePlatformThread(String call) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException(call + " on a virtual thread would change its carrier thread; use a dedicated platform thread");
        }
    }

    static String cloneFlags(int flags) {
        StringJoiner names = new StringJoiner("|");
        if ((flags & CLONE_NEWNS) != 0) names.add("CLONE_NEWNS");
        if ((flags & CLONE_NEWUTS) != 0) names.add("CLONE_NEWUTS");
        if ((flags & CLONE_NEWPID) != 0) names.add("CLONE_NEWPID");
        if ((flags & CLONE_NEWNET) != 0) names.add("CLONE_NEWNET");
        int known = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNET;
        if ((flags & ~known) != 0 || flags == 0) names.add("0x" + Integer.toHexString(flags & ~known));
        return names.toString();
    }

    static String mountFlags(long flags) {
        StringJoiner names = new StringJoiner("|");
        long[] values = {MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE, MS_SLAVE, MS_SHARED};
        String[] labels = {"MS_RDONLY", "MS_REMOUNT", "MS_BIND", "MS_REC", "MS_PRIVATE", "MS_SLAVE", "MS_SHARED"};
        long rest = flags;
        for (int i = 0; i < values.length; i++) {
            if ((flags & values[i]) != 0) {
                names.add(labels[i]);
                rest &= ~values[i];
            }
        }
        if (rest != 0 || flags == 0) names.add("0x" + Long.toHexString(rest));
        return names.toString();
    }
}
