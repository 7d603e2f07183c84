package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

import static io.dynoplane.ffm.LibbpfStructs.BPF_OBJECT_OPEN_OPTS;
import static io.dynoplane.ffm.LibbpfStructs.BPF_TC_HOOK;
import static io.dynoplane.ffm.LibbpfStructs.BPF_TC_OPTS;
import static io.dynoplane.ffm.LibbpfStructs.BPF_TEST_RUN_OPTS;
import static io.dynoplane.ffm.LibbpfStructs.OPEN_OPTS_OBJECT_NAME;
import static io.dynoplane.ffm.LibbpfStructs.TC_HOOK_ATTACH_POINT;
import static io.dynoplane.ffm.LibbpfStructs.TC_HOOK_IFINDEX;
import static io.dynoplane.ffm.LibbpfStructs.TC_OPTS_FLAGS;
import static io.dynoplane.ffm.LibbpfStructs.TC_OPTS_HANDLE;
import static io.dynoplane.ffm.LibbpfStructs.TC_OPTS_PRIORITY;
import static io.dynoplane.ffm.LibbpfStructs.TC_OPTS_PROG_FD;
import static io.dynoplane.ffm.LibbpfStructs.TC_OPTS_PROG_ID;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_DATA_IN;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_DATA_OUT;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_DATA_SIZE_IN;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_DATA_SIZE_OUT;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_DURATION;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_REPEAT;
import static io.dynoplane.ffm.LibbpfStructs.TEST_RUN_RETVAL;
import static io.dynoplane.ffm.LibbpfStructs.allocateOpts;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The binding to libbpf 1.1 ({@code libbpf.so.1}): the downcalls (named as in C, package-private, for
 * {@link BpfObject}, {@link BpfProgram} and {@link BpfMap}) and the public operations built on them.
 *
 * <p>libbpf 1.x reports failure as {@code -errno} from int functions and as NULL with errno set from pointer
 * functions; every failure here becomes a {@link LibbpfException} with that errno and the lines libbpf printed
 * during the call. Native memory a call needs lives in a confined arena closed when the call returns.
 */
public final class Libbpf {
    /** XDP attach flags, {@code <linux/if_link.h>}. */
    public static final int XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    public static final int XDP_FLAGS_HW_MODE = 1 << 3;
    public static final int XDP_FLAGS_REPLACE = 1 << 4;
    /** bpf_tc_attach flag, {@code <bpf/libbpf.h>}: replace the filter with the same handle and priority. */
    private static final int BPF_TC_F_REPLACE = 1 << 0;

    static final int ENOENT = 2;
    static final int EEXIST = 17;

    /** Room for a program to grow the packet in testRun (XDP headroom is 256; tc may add more). */
    private static final int TEST_RUN_OUT_SLACK = 4096;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBBPF = openLibbpf();

    private static final MethodHandle BPF_OBJECT__OPEN_MEM = downcall("bpf_object__open_mem",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), Libc.CAPTURE_ERRNO);
    private static final MethodHandle BPF_OBJECT__LOAD = downcall("bpf_object__load",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_OBJECT__CLOSE = downcall("bpf_object__close",
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle BPF_OBJECT__FIND_PROGRAM_BY_NAME = downcall("bpf_object__find_program_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), Libc.CAPTURE_ERRNO);
    private static final MethodHandle BPF_OBJECT__FIND_MAP_BY_NAME = downcall("bpf_object__find_map_by_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), Libc.CAPTURE_ERRNO);
    private static final MethodHandle BPF_PROGRAM__NAME = downcall("bpf_program__name",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle BPF_PROGRAM__FD = downcall("bpf_program__fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP__NAME = downcall("bpf_map__name",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle BPF_MAP__FD = downcall("bpf_map__fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP__TYPE = downcall("bpf_map__type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP__KEY_SIZE = downcall("bpf_map__key_size",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP__VALUE_SIZE = downcall("bpf_map__value_size",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP__PIN = downcall("bpf_map__pin",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_MAP__UNPIN = downcall("bpf_map__unpin",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_MAP__REUSE_FD = downcall("bpf_map__reuse_fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle BPF_MAP__SET_MAX_ENTRIES = downcall("bpf_map__set_max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle BPF_MAP__MAX_ENTRIES = downcall("bpf_map__max_entries",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_PROGRAM__PIN = downcall("bpf_program__pin",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_PROGRAM__UNPIN = downcall("bpf_program__unpin",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_MAP_UPDATE_ELEM = downcall("bpf_map_update_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle BPF_MAP_LOOKUP_ELEM = downcall("bpf_map_lookup_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_MAP_DELETE_ELEM = downcall("bpf_map_delete_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_MAP_GET_NEXT_KEY = downcall("bpf_map_get_next_key",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_XDP_ATTACH = downcall("bpf_xdp_attach",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_XDP_DETACH = downcall("bpf_xdp_detach",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_TC_HOOK_CREATE = downcall("bpf_tc_hook_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_TC_HOOK_DESTROY = downcall("bpf_tc_hook_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle BPF_TC_ATTACH = downcall("bpf_tc_attach",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_TC_DETACH = downcall("bpf_tc_detach",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle BPF_PROG_TEST_RUN_OPTS = downcall("bpf_prog_test_run_opts",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle LIBBPF_NUM_POSSIBLE_CPUS = downcall("libbpf_num_possible_cpus",
            FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LIBBPF_SET_PRINT = downcall("libbpf_set_print",
            FunctionDescriptor.of(ADDRESS, ADDRESS));

    static {
        // Once per process: from here on libbpf prints through LibbpfLog instead of to stderr.
        try {
            MemorySegment stderrPrinter = (MemorySegment) LIBBPF_SET_PRINT.invokeExact(LibbpfLog.PRINT_FN); // not kept
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    private Libbpf() {}

    // ---- Public operations -------------------------------------------------------------------------------------

    /**
     * Opens a BPF ELF object from memory (bpf_object__open_mem), named {@code objectName} (libbpf uses the name in
     * its log and to name .data/.bss maps). Nothing reaches the kernel until {@link BpfObject#load()}.
     */
    public static BpfObject openObject(String objectName, byte[] elf) {
        Objects.requireNonNull(objectName, "objectName");
        Objects.requireNonNull(elf, "elf");
        // The object's own arena: holds the ELF copy (libbpf reads it in place) and closes the bpf_object.
        Arena objectArena = Arena.ofShared();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buffer = objectArena.allocateFrom(JAVA_BYTE, elf);
            MemorySegment opts = allocateOpts(call, BPF_OBJECT_OPEN_OPTS);
            opts.set(ADDRESS, OPEN_OPTS_OBJECT_NAME, call.allocateFrom(objectName)); // libbpf copies the name
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            LibbpfLog.begin();
            MemorySegment object = bpf_object__open_mem(callState, buffer, buffer.byteSize(), opts);
            if (object.address() == 0) {
                throw failure("bpf_object__open_mem", "object " + objectName, Libc.errno(callState));
            }
            return new BpfObject(objectName, objectArena, object.reinterpret(objectArena, Libbpf::bpf_object__close));
        } catch (RuntimeException | Error e) {
            objectArena.close();
            throw e;
        }
    }

    /** Attaches an XDP program to an interface (bpf_xdp_attach); flags are the XDP_FLAGS_* constants. */
    public static void xdpAttach(int ifindex, int progFd, int flags) {
        LibbpfLog.begin();
        check(bpf_xdp_attach(ifindex, progFd, flags, MemorySegment.NULL), "bpf_xdp_attach",
                "ifindex " + ifindex + ", prog fd " + progFd);
    }

    /** Removes the XDP program from an interface (bpf_xdp_detach); pass the mode flags used to attach. */
    public static void xdpDetach(int ifindex, int flags) {
        LibbpfLog.begin();
        check(bpf_xdp_detach(ifindex, flags, MemorySegment.NULL), "bpf_xdp_detach", "ifindex " + ifindex);
    }

    /**
     * Makes sure the interface has a clsact qdisc (bpf_tc_hook_create), whose ingress and egress hooks take BPF
     * filters. Returns true if this call created it, false if it was already there (EEXIST): only a qdisc we
     * created should later go away with {@link #tcQdiscDestroy(int)}.
     */
    public static boolean tcHookCreate(int ifindex, TcAttachPoint point) {
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            int ret = bpf_tc_hook_create(tcHook(call, ifindex, point.value()));
            if (ret == -EEXIST) return false;
            check(ret, "bpf_tc_hook_create", tcTarget(ifindex, point));
            return true;
        }
    }

    /**
     * bpf_tc_hook_destroy on one hook. Careful, as in libbpf: for INGRESS or EGRESS this removes every filter on
     * that hook but leaves the clsact qdisc; {@link #tcQdiscDestroy(int)} removes the qdisc itself.
     */
    public static void tcHookDestroy(int ifindex, TcAttachPoint point) {
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            check(bpf_tc_hook_destroy(tcHook(call, ifindex, point.value())), "bpf_tc_hook_destroy",
                    tcTarget(ifindex, point));
        }
    }

    /** Deletes the interface's clsact qdisc and with it all filters on both hooks (bpf_tc_hook_destroy, INGRESS|EGRESS). */
    public static void tcQdiscDestroy(int ifindex) {
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            int both = TcAttachPoint.INGRESS.value() | TcAttachPoint.EGRESS.value();
            check(bpf_tc_hook_destroy(tcHook(call, ifindex, both)), "bpf_tc_hook_destroy", "ifindex " + ifindex + " clsact");
        }
    }

    /**
     * Attaches a tc program as a direct-action filter (bpf_tc_attach). handle and priority 0 let the kernel choose;
     * the returned filter has what it chose, and the program's id.
     */
    public static TcFilter tcAttach(int ifindex, TcAttachPoint point, int progFd, int handle, int priority) {
        return tcAttach(ifindex, point, progFd, handle, priority, 0);
    }

    /**
     * As {@link #tcAttach}, but replaces the program of the filter with this handle and priority if there is one
     * (BPF_TC_F_REPLACE): one netlink request, so packets meet the old program or the new one, never no filter.
     */
    public static TcFilter tcReplace(int ifindex, TcAttachPoint point, int progFd, int handle, int priority) {
        return tcAttach(ifindex, point, progFd, handle, priority, BPF_TC_F_REPLACE);
    }

    private static TcFilter tcAttach(int ifindex, TcAttachPoint point, int progFd, int handle, int priority, int flags) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment opts = allocateOpts(call, BPF_TC_OPTS);
            opts.set(JAVA_INT, TC_OPTS_PROG_FD, progFd);
            opts.set(JAVA_INT, TC_OPTS_FLAGS, flags);
            opts.set(JAVA_INT, TC_OPTS_HANDLE, handle);
            opts.set(JAVA_INT, TC_OPTS_PRIORITY, priority);
            LibbpfLog.begin();
            check(bpf_tc_attach(tcHook(call, ifindex, point.value()), opts), "bpf_tc_attach",
                    tcTarget(ifindex, point) + ", prog fd " + progFd);
            // libbpf echoes the created filter back into opts.
            return new TcFilter(ifindex, point, opts.get(JAVA_INT, TC_OPTS_HANDLE), opts.get(JAVA_INT, TC_OPTS_PRIORITY),
                    opts.get(JAVA_INT, TC_OPTS_PROG_ID));
        }
    }

    /** Removes a filter made by {@link #tcAttach} (bpf_tc_detach), identified by its handle and priority. */
    public static void tcDetach(TcFilter filter) {
        try (Arena call = Arena.ofConfined()) {
            // bpf_tc_detach rejects opts with prog_fd, flags or prog_id set: only handle and priority.
            MemorySegment opts = allocateOpts(call, BPF_TC_OPTS);
            opts.set(JAVA_INT, TC_OPTS_HANDLE, filter.handle());
            opts.set(JAVA_INT, TC_OPTS_PRIORITY, filter.priority());
            LibbpfLog.begin();
            check(bpf_tc_detach(tcHook(call, filter.ifindex(), filter.point().value()), opts), "bpf_tc_detach",
                    tcTarget(filter.ifindex(), filter.point()) + ", handle " + filter.handle() + ", priority " + filter.priority());
        }
    }

    /**
     * Runs a loaded program on a packet in the kernel without any interface (bpf_prog_test_run_opts), {@code repeat}
     * times (0 counts as 1). Map updates the program makes are real.
     */
    public static TestRun testRun(int progFd, byte[] packet, int repeat) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment in = call.allocateFrom(JAVA_BYTE, packet);
            MemorySegment out = call.allocate(packet.length + TEST_RUN_OUT_SLACK);
            MemorySegment opts = allocateOpts(call, BPF_TEST_RUN_OPTS);
            opts.set(ADDRESS, TEST_RUN_DATA_IN, in);
            opts.set(JAVA_INT, TEST_RUN_DATA_SIZE_IN, packet.length);
            opts.set(ADDRESS, TEST_RUN_DATA_OUT, out);
            opts.set(JAVA_INT, TEST_RUN_DATA_SIZE_OUT, (int) out.byteSize());
            opts.set(JAVA_INT, TEST_RUN_REPEAT, repeat);
            LibbpfLog.begin();
            check(bpf_prog_test_run_opts(progFd, opts), "bpf_prog_test_run_opts", "prog fd " + progFd);
            int outLength = opts.get(JAVA_INT, TEST_RUN_DATA_SIZE_OUT);
            return new TestRun(opts.get(JAVA_INT, TEST_RUN_RETVAL), out.asSlice(0, outLength).toArray(JAVA_BYTE),
                    opts.get(JAVA_INT, TEST_RUN_DURATION));
        }
    }

    /** The index of a network interface in the calling thread's network namespace (libc if_nametoindex). */
    public static int ifindex(String ifname) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            int index = Libc.if_nametoindex(callState, call.allocateFrom(ifname));
            if (index == 0) throw new LibbpfException("if_nametoindex", "interface " + ifname, Libc.errno(callState), "");
            return index;
        }
    }

    /** Number of possible CPUs, the number of values in a per-CPU map entry. */
    public static int numPossibleCpus() {
        LibbpfLog.begin();
        return check(libbpf_num_possible_cpus(), "libbpf_num_possible_cpus", "/sys/devices/system/cpu/possible");
    }

    // ---- Failure ----------------------------------------------------------------------------------------------

    /** {@code ret} if it is not negative; otherwise a LibbpfException for errno {@code -ret}. */
    static int check(int ret, String operation, String target) {
        if (ret < 0) throw failure(operation, target, -ret);
        return ret;
    }

    /** The exception for a failed call, with what libbpf printed since {@link LibbpfLog#begin()}. */
    static LibbpfException failure(String operation, String target, int errno) {
        return new LibbpfException(operation, target, errno, LibbpfLog.take());
    }

    private static MemorySegment tcHook(Arena arena, int ifindex, int attachPoint) {
        MemorySegment hook = allocateOpts(arena, BPF_TC_HOOK);
        hook.set(JAVA_INT, TC_HOOK_IFINDEX, ifindex);
        hook.set(JAVA_INT, TC_HOOK_ATTACH_POINT, attachPoint);
        return hook;
    }

    private static String tcTarget(int ifindex, TcAttachPoint point) {
        return "ifindex " + ifindex + " " + point.name().toLowerCase();
    }

    // ---- Downcalls, one per C function ------------------------------------------------------------------------

    static MemorySegment bpf_object__open_mem(MemorySegment callState, MemorySegment buffer, long size, MemorySegment opts) {
        try {
            return (MemorySegment) BPF_OBJECT__OPEN_MEM.invokeExact(callState, buffer, size, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_object__load(MemorySegment object) {
        try {
            return (int) BPF_OBJECT__LOAD.invokeExact(object);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static void bpf_object__close(MemorySegment object) {
        try {
            BPF_OBJECT__CLOSE.invokeExact(object);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static MemorySegment bpf_object__find_program_by_name(MemorySegment callState, MemorySegment object, MemorySegment name) {
        try {
            return (MemorySegment) BPF_OBJECT__FIND_PROGRAM_BY_NAME.invokeExact(callState, object, name);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static MemorySegment bpf_object__find_map_by_name(MemorySegment callState, MemorySegment object, MemorySegment name) {
        try {
            return (MemorySegment) BPF_OBJECT__FIND_MAP_BY_NAME.invokeExact(callState, object, name);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static MemorySegment bpf_program__name(MemorySegment program) {
        try {
            return (MemorySegment) BPF_PROGRAM__NAME.invokeExact(program);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_program__fd(MemorySegment program) {
        try {
            return (int) BPF_PROGRAM__FD.invokeExact(program);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static MemorySegment bpf_map__name(MemorySegment map) {
        try {
            return (MemorySegment) BPF_MAP__NAME.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__fd(MemorySegment map) {
        try {
            return (int) BPF_MAP__FD.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__type(MemorySegment map) {
        try {
            return (int) BPF_MAP__TYPE.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__key_size(MemorySegment map) {
        try {
            return (int) BPF_MAP__KEY_SIZE.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__value_size(MemorySegment map) {
        try {
            return (int) BPF_MAP__VALUE_SIZE.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__pin(MemorySegment map, MemorySegment path) {
        try {
            return (int) BPF_MAP__PIN.invokeExact(map, path);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__unpin(MemorySegment map, MemorySegment path) {
        try {
            return (int) BPF_MAP__UNPIN.invokeExact(map, path);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__reuse_fd(MemorySegment map, int fd) {
        try {
            return (int) BPF_MAP__REUSE_FD.invokeExact(map, fd);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__set_max_entries(MemorySegment map, int maxEntries) {
        try {
            return (int) BPF_MAP__SET_MAX_ENTRIES.invokeExact(map, maxEntries);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map__max_entries(MemorySegment map) {
        try {
            return (int) BPF_MAP__MAX_ENTRIES.invokeExact(map);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_program__pin(MemorySegment program, MemorySegment path) {
        try {
            return (int) BPF_PROGRAM__PIN.invokeExact(program, path);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_program__unpin(MemorySegment program, MemorySegment path) {
        try {
            return (int) BPF_PROGRAM__UNPIN.invokeExact(program, path);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map_update_elem(int fd, MemorySegment key, MemorySegment value, long flags) {
        try {
            return (int) BPF_MAP_UPDATE_ELEM.invokeExact(fd, key, value, flags);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map_lookup_elem(int fd, MemorySegment key, MemorySegment value) {
        try {
            return (int) BPF_MAP_LOOKUP_ELEM.invokeExact(fd, key, value);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map_delete_elem(int fd, MemorySegment key) {
        try {
            return (int) BPF_MAP_DELETE_ELEM.invokeExact(fd, key);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static int bpf_map_get_next_key(int fd, MemorySegment key, MemorySegment nextKey) {
        try {
            return (int) BPF_MAP_GET_NEXT_KEY.invokeExact(fd, key, nextKey);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_xdp_attach(int ifindex, int progFd, int flags, MemorySegment opts) {
        try {
            return (int) BPF_XDP_ATTACH.invokeExact(ifindex, progFd, flags, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_xdp_detach(int ifindex, int flags, MemorySegment opts) {
        try {
            return (int) BPF_XDP_DETACH.invokeExact(ifindex, flags, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_tc_hook_create(MemorySegment hook) {
        try {
            return (int) BPF_TC_HOOK_CREATE.invokeExact(hook);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_tc_hook_destroy(MemorySegment hook) {
        try {
            return (int) BPF_TC_HOOK_DESTROY.invokeExact(hook);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_tc_attach(MemorySegment hook, MemorySegment opts) {
        try {
            return (int) BPF_TC_ATTACH.invokeExact(hook, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_tc_detach(MemorySegment hook, MemorySegment opts) {
        try {
            return (int) BPF_TC_DETACH.invokeExact(hook, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int bpf_prog_test_run_opts(int progFd, MemorySegment opts) {
        try {
            return (int) BPF_PROG_TEST_RUN_OPTS.invokeExact(progFd, opts);
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    private static int libbpf_num_possible_cpus() {
        try {
            return (int) LIBBPF_NUM_POSSIBLE_CPUS.invokeExact();
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    // ---- Loading ----------------------------------------------------------------------------------------------

    private static SymbolLookup openLibbpf() {
        try {
            return SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                    "libbpf.so.1 not found (" + e.getMessage() + "): apt-get install libbpf1");
            error.initCause(e);
            throw error;
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LIBBPF.findOrThrow(name), descriptor, options);
    }
}
