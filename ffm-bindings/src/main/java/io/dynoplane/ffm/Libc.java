package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The few libc functions the bindings need: interface names, formatting a {@code va_list}, errno names, CPU affinity. */
final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** Where a downcall made with {@link #CAPTURE_ERRNO} leaves errno: read right after the call, before the JVM clobbers it. */
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));

    // unsigned int if_nametoindex(const char *ifname)
    private static final MethodHandle IF_NAMETOINDEX = LINKER.downcallHandle(
            LIBC.findOrThrow("if_nametoindex"), FunctionDescriptor.of(JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    // int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask), sched_getaffinity(...): pid 0 = the calling thread
    private static final MethodHandle SCHED_SETAFFINITY = LINKER.downcallHandle(
            LIBC.findOrThrow("sched_setaffinity"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SCHED_GETAFFINITY = LINKER.downcallHandle(
            LIBC.findOrThrow("sched_getaffinity"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), CAPTURE_ERRNO);
    // int vsnprintf(char *str, size_t size, const char *format, va_list ap): a va_list parameter is a pointer on x86_64
    private static final MethodHandle VSNPRINTF = LINKER.downcallHandle(
            LIBC.findOrThrow("vsnprintf"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    // const char *strerrorname_np(int errnum), strerrordesc_np(int errnum): glibc >= 2.32, thread-safe, NULL if unknown
    private static final MethodHandle STRERRORNAME_NP = optional("strerrorname_np");
    private static final MethodHandle STRERRORDESC_NP = optional("strerrordesc_np");

    /**
     * Bytes of a {@code va_list} object, for va_copy (a plain struct copy on these ABIs). x86_64 SysV:
     * {@code __va_list_tag} is 24 bytes; AArch64: {@code struct __va_list} is 32. 0: unknown, no copy.
     */
    private static final long VA_LIST_SIZE = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 24;
        case "aarch64" -> 32;
        default -> 0;
    };
    private static final int UNKNOWN_ABI_BUFFER = 64 * 1024;

    private Libc() {}

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** The interface's index, or 0 with errno in {@code callState}. */
    static int if_nametoindex(MemorySegment callState, MemorySegment ifname) {
        try {
            return (int) IF_NAMETOINDEX.invokeExact(callState, ifname);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** 0, or -1 with errno in {@code callState}. */
    static int sched_setaffinity(MemorySegment callState, int pid, MemorySegment mask) {
        try {
            return (int) SCHED_SETAFFINITY.invokeExact(callState, pid, mask.byteSize(), mask);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** 0 (glibc zero-fills the mask past the kernel's CPUs), or -1 with errno in {@code callState}. */
    static int sched_getaffinity(MemorySegment callState, int pid, MemorySegment mask) {
        try {
            return (int) SCHED_GETAFFINITY.invokeExact(callState, pid, mask.byteSize(), mask);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    private static int vsnprintf(MemorySegment buffer, long size, MemorySegment format, MemorySegment vaList) {
        try {
            return (int) VSNPRINTF.invokeExact(buffer, size, format, vaList);
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /** printf of a format and a {@code va_list} handed to us by C, at any length. Consumes the va_list. */
    static String vformat(MemorySegment format, MemorySegment vaList) {
        try (Arena call = Arena.ofConfined()) {
            if (VA_LIST_SIZE == 0) {
                MemorySegment buffer = call.allocate(UNKNOWN_ABI_BUFFER);
                vsnprintf(buffer, buffer.byteSize(), format, vaList);
                return buffer.getString(0);
            }
            // vsnprintf consumes its va_list, so measure with a copy and format with the original.
            MemorySegment copy = call.allocate(VA_LIST_SIZE, 8);
            copy.copyFrom(vaList.reinterpret(VA_LIST_SIZE));
            int length = vsnprintf(MemorySegment.NULL, 0, format, copy);
            if (length < 0) return "(unformattable libbpf message)";
            MemorySegment buffer = call.allocate(length + 1L);
            vsnprintf(buffer, buffer.byteSize(), format, vaList);
            return buffer.getString(0);
        }
    }

    /** "ENOENT", or null when libc does not know the number. */
    static String errnoName(int errno) {
        return describe(STRERRORNAME_NP, errno);
    }

    /** "No such file or directory", or null when libc does not know the number. */
    static String errnoDescription(int errno) {
        return describe(STRERRORDESC_NP, errno);
    }

    /** A NUL-terminated C string owned by C (static or by some native object), copied into a Java String. */
    static String string(MemorySegment cString) {
        return cString.address() == 0 ? null : cString.reinterpret(Long.MAX_VALUE).getString(0);
    }

    private static String describe(MethodHandle lookup, int errno) {
        if (lookup == null) return null;
        try {
            return string((MemorySegment) lookup.invokeExact(errno));
        } catch (Throwable t) {
            throw propagate(t);
        }
    }

    /**
     * For the {@code catch (Throwable)} around invokeExact: downcalls throw no checked exceptions, but they do throw
     * unchecked ones that must reach the caller unchanged (IllegalStateException for a segment of a closed arena).
     */
    static RuntimeException propagate(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("checked exception from a downcall", t);
    }

    private static MethodHandle optional(String name) {
        return LIBC.find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, FunctionDescriptor.of(ADDRESS, JAVA_INT)))
                .orElse(null);
    }
}
