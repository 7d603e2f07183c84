package io.dynoplane.ffm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Objects;

import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_GET_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_INFO;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_LINK_CREATE;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_LINK_DETACH;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_LINK_UPDATE;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_OBJ;
import static io.dynoplane.ffm.BpfSyscallStructs.ATTR_PROG_LOAD;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_LINK_CREATE;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_LINK_DETACH;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_LINK_UPDATE;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_LINK_INFO;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_LINK_TYPE_TCX;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_MAP_INFO;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_OBJ_GET;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_OBJ_GET_INFO_BY_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_OBJ_NAME_LEN;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_OBJ_PIN;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_PROG_GET_FD_BY_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_PROG_INFO;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_PROG_LOAD;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_PROG_TYPE_SCHED_CLS;
import static io.dynoplane.ffm.BpfSyscallStructs.BPF_TAG_SIZE;
import static io.dynoplane.ffm.BpfSyscallStructs.GET_ID_PROG_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.INFO_BPF_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.INFO_INFO;
import static io.dynoplane.ffm.BpfSyscallStructs.INFO_INFO_LEN;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_CREATE_ATTACH_TYPE;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_CREATE_PROG_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_CREATE_TARGET_IFINDEX;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_DETACH_LINK_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_UPDATE_LINK_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_UPDATE_NEW_PROG_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_INFO_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_INFO_PROG_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_INFO_TCX_ATTACH_TYPE;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_INFO_TCX_IFINDEX;
import static io.dynoplane.ffm.BpfSyscallStructs.LINK_INFO_TYPE;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_KEY_SIZE;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_MAP_FLAGS;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_MAX_ENTRIES;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_NAME;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_TYPE;
import static io.dynoplane.ffm.BpfSyscallStructs.MAP_INFO_VALUE_SIZE;
import static io.dynoplane.ffm.BpfSyscallStructs.OBJ_BPF_FD;
import static io.dynoplane.ffm.BpfSyscallStructs.OBJ_PATHNAME;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_INFO_ID;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_INFO_NAME;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_INFO_TAG;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_INFO_TYPE;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_LOAD_INSNS;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_LOAD_INSN_CNT;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_LOAD_LICENSE;
import static io.dynoplane.ffm.BpfSyscallStructs.PROG_LOAD_PROG_TYPE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The bpf(2) system call itself, for what libbpf 1.1 cannot do: tcx links (Linux 6.6+; libbpf has
 * bpf_program__attach_tcx only from 1.3), pinning any BPF fd in bpffs and getting it back, and the info queries that
 * let a restarted plane adopt what an earlier one pinned. It goes through libc's {@code syscall(SYS_bpf, cmd, attr,
 * size)} with errno captured; each command's {@code union bpf_attr} variant is declared once in
 * {@link BpfSyscallStructs}, zeroed and filled in a confined arena that lives for the call.
 *
 * <p>Every fd returned is the caller's to close ({@link Syscalls#close(int)}); the kernel makes them all O_CLOEXEC. A
 * failure is a {@link LibbpfException}, the exception of the whole BPF layer, whose operation is the command
 * ({@code bpf(BPF_LINK_CREATE)}), whose target names the fd, interface or path, and whose log is empty.
 *
 * <p>Pins live in the BPF filesystem ({@code /sys/fs/bpf}): a pinned link keeps its program attached, and a pinned
 * map keeps its contents, after every fd is closed and the process is gone, until the pin is unlinked.
 */
public final class BpfSyscall {
    /** {@code __NR_bpf}: 321 on x86_64, 280 on aarch64 (asm-generic); -1 where we do not know it. */
    static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64" -> 280;
        default -> -1;
    };

    private static final int EAGAIN = 11;
    private static final int ENODEV = 19;
    private static final int EINVAL = 22;

    /** Attempts at BPF_PROG_LOAD on EAGAIN, as libbpf's sys_bpf_prog_load. */
    private static final int PROG_LOAD_ATTEMPTS = 5;

    // long syscall(long number, ...): bpf's three arguments are variadic. All passed as longs, so that each whole
    // register glibc hands to the kernel is defined, not only its low half.
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Libc.CAPTURE_ERRNO, Linker.Option.firstVariadicArg(1));

    /** The tcx probe's program: {@code r0 = 0; exit}. struct bpf_insn is {u8 code; u8 dst:4, src:4; s16 off; s32 imm}. */
    private static final byte[] RETURN_ZERO = {
            (byte) 0xb7, 0, 0, 0, 0, 0, 0, 0,   // BPF_ALU64 | BPF_MOV | BPF_K, r0, imm 0
            (byte) 0x95, 0, 0, 0, 0, 0, 0, 0};  // BPF_JMP | BPF_EXIT
    private static final int BPF_INSN_SIZE = 8;

    private static final Object TCX_PROBE_LOCK = new Object();
    private static volatile Boolean tcxSupported; // null until probed

    private BpfSyscall() {}

    // ---- Links --------------------------------------------------------------------------------------------------

    /**
     * Attaches a tc program ({@code BPF_PROG_TYPE_SCHED_CLS}, as libbpf loads {@code SEC("tc")}) to an interface's tcx
     * hook (BPF_LINK_CREATE) and returns the link's fd. The program runs as long as the link exists: until the last
     * fd of it is closed and no pin holds it, or {@link #linkDetach(int)}. It goes after the programs already on that
     * hook (flags 0); tcx programs and classic tc filters on the same interface all stay.
     *
     * <p>The ifindex is looked up in the calling thread's network namespace: for an interface in another namespace,
     * call this inside it ({@link NetworkNamespaces#inside}); the fd is usable from anywhere afterwards.
     *
     * <p>Under tcx a program's return value decides whether anything after it runs: TCX_NEXT (-1) hands the packet on
     * to the next tcx program and then to the clsact filters; TCX_PASS (0, = TC_ACT_OK) and TCX_DROP (2, =
     * TC_ACT_SHOT) end processing there, so a program returning TC_ACT_OK hides the packet from everything behind it.
     *
     * @throws LibbpfException ENODEV for no such interface; EEXIST if this program is already on that hook; EINVAL if
     *                         the kernel has no tcx ({@link #tcxSupported()}) or the program is not SCHED_CLS
     */
    public static int tcxAttach(int progFd, int ifindex, TcxDirection direction) {
        Objects.requireNonNull(direction, "direction");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_LINK_CREATE);
            attr.set(JAVA_INT, LINK_CREATE_PROG_FD, progFd);
            attr.set(JAVA_INT, LINK_CREATE_TARGET_IFINDEX, ifindex);
            attr.set(JAVA_INT, LINK_CREATE_ATTACH_TYPE, direction.attachType());
            // flags, tcx.relative_fd and tcx.expected_revision stay 0: append, whatever the hook's revision.
            return bpf(BPF_LINK_CREATE, attr, "prog fd " + progFd + " on ifindex " + ifindex + " tcx "
                    + direction.name().toLowerCase());
        }
    }

    /** {@code enum bpf_attach_type} BPF_CGROUP_INET4_GETPEERNAME: the hook of {@code SEC("cgroup/getpeername4")}. */
    public static final int CGROUP_INET4_GETPEERNAME = BpfSyscallStructs.BPF_CGROUP_INET4_GETPEERNAME;
    /** {@code enum bpf_attach_type} BPF_CGROUP_INET6_GETPEERNAME: the hook of {@code SEC("cgroup/getpeername6")}. */
    public static final int CGROUP_INET6_GETPEERNAME = BpfSyscallStructs.BPF_CGROUP_INET6_GETPEERNAME;

    /**
     * Attaches a cgroup program (e.g. {@code cgroup/getpeername4}) to a cgroup2 directory (BPF_LINK_CREATE with
     * target_fd = {@code cgroupFd}, an open fd of the directory) and returns the link's fd. Links on a cgroup are
     * multi-attach: other programs on the same hook keep running. The program runs for the sockets of every process
     * in that cgroup and its descendants until the link is closed (and not pinned) or detached.
     *
     * @throws LibbpfException EINVAL if the program's expected attach type is not {@code attachType}; EBADF if
     *                         {@code cgroupFd} is no cgroup2 directory
     */
    public static int cgroupAttach(int progFd, int cgroupFd, int attachType) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_LINK_CREATE);
            attr.set(JAVA_INT, LINK_CREATE_PROG_FD, progFd);
            attr.set(JAVA_INT, LINK_CREATE_TARGET_IFINDEX, cgroupFd); // union with target_fd
            attr.set(JAVA_INT, LINK_CREATE_ATTACH_TYPE, attachType);
            return bpf(BPF_LINK_CREATE, attr, "prog fd " + progFd + " on cgroup fd " + cgroupFd + " attach type " + attachType);
        }
    }

    /**
     * Detaches a link's program from its hook (BPF_LINK_DETACH), now, whoever else holds the link. Its fds and pins
     * remain and hold a defunct link ({@link BpfLinkInfo#ifindex()} 0 for tcx): closing the fd and unlinking any pin
     * stay the caller's job.
     */
    public static void linkDetach(int linkFd) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_LINK_DETACH);
            attr.set(JAVA_INT, LINK_DETACH_LINK_FD, linkFd);
            bpf(BPF_LINK_DETACH, attr, "link fd " + linkFd);
        }
    }

    /**
     * Makes a link run another program (BPF_LINK_UPDATE), atomically: every packet sees either the old program or the
     * new one, never neither. The link keeps its id, pins and place on the hook; the old program goes once nothing
     * else holds it.
     *
     * @throws LibbpfException EINVAL if the new program's type or expected attach type does not fit the link; ENOLINK
     *                         if the link is defunct (its interface is gone)
     */
    public static void linkUpdate(int linkFd, int newProgFd) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_LINK_UPDATE);
            attr.set(JAVA_INT, LINK_UPDATE_LINK_FD, linkFd);
            attr.set(JAVA_INT, LINK_UPDATE_NEW_PROG_FD, newProgFd);
            bpf(BPF_LINK_UPDATE, attr, "link fd " + linkFd + " to prog fd " + newProgFd);
        }
    }

    /**
     * Whether this kernel has tcx links, probed once per process and then cached: loads a two-instruction
     * SCHED_CLS program and asks for a tcx link on ifindex 0, which never exists. A kernel with tcx goes looking for
     * the device and answers ENODEV; one without does not know the attach type and answers EINVAL. Nothing gets
     * attached anywhere, no interface or namespace is touched, and the answer holds for backports and for kernels
     * built without tcx, which a version number ({@code uname}, "6.6 or later") would not.
     *
     * @throws LibbpfException if the probe cannot run (EPERM: neither root nor CAP_BPF and CAP_NET_ADMIN); then
     *                         nothing is cached and the next call probes again
     */
    public static boolean tcxSupported() {
        Boolean known = tcxSupported;
        if (known != null) return known;
        synchronized (TCX_PROBE_LOCK) {
            if (tcxSupported == null) tcxSupported = probeTcx();
            return tcxSupported;
        }
    }

    private static boolean probeTcx() {
        int progFd = loadReturnZeroSchedCls();
        try {
            int linkFd = tcxAttach(progFd, 0, TcxDirection.INGRESS);
            Syscalls.close(linkFd); // cannot happen (ifindex 0), but if it did the kernel clearly has tcx
            return true;
        } catch (LibbpfException e) {
            if (e.errno() == ENODEV) return true;
            if (e.errno() == EINVAL) return false;
            throw e;
        } finally {
            Syscalls.close(progFd);
        }
    }

    private static int loadReturnZeroSchedCls() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_PROG_LOAD);
            attr.set(JAVA_INT, PROG_LOAD_PROG_TYPE, BPF_PROG_TYPE_SCHED_CLS);
            attr.set(JAVA_INT, PROG_LOAD_INSN_CNT, RETURN_ZERO.length / BPF_INSN_SIZE);
            attr.set(JAVA_LONG, PROG_LOAD_INSNS, call.allocateFrom(JAVA_BYTE, RETURN_ZERO).address());
            attr.set(JAVA_LONG, PROG_LOAD_LICENSE, call.allocateFrom("GPL").address());
            for (int attempt = 1; ; attempt++) {
                try {
                    return bpf(BPF_PROG_LOAD, attr, "tcx probe program (sched_cls, r0 = 0; exit)");
                } catch (LibbpfException e) {
                    if (e.errno() != EAGAIN || attempt == PROG_LOAD_ATTEMPTS) throw e;
                }
            }
        }
    }

    // ---- Pins -----------------------------------------------------------------------------------------------------

    /**
     * Pins a program, map or link fd at {@code path} in a BPF filesystem (BPF_OBJ_PIN): the object then lives until
     * the file is unlinked, whatever happens to this process. The directory must exist.
     *
     * @throws LibbpfException EEXIST if the path is taken; ENOENT if its directory does not exist; EPERM if the path
     *                         is not on bpffs
     */
    public static void objPin(int fd, String path) {
        Objects.requireNonNull(path, "path");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_OBJ);
            attr.set(JAVA_LONG, OBJ_PATHNAME, call.allocateFrom(path).address());
            attr.set(JAVA_INT, OBJ_BPF_FD, fd);
            bpf(BPF_OBJ_PIN, attr, "fd " + fd + " at " + path);
        }
    }

    /**
     * Opens what is pinned at {@code path} (BPF_OBJ_GET, read-write) and returns a new fd for it: a program, map or
     * link fd, as the pin is.
     *
     * @throws LibbpfException ENOENT if nothing is pinned there
     */
    public static int objGet(String path) {
        Objects.requireNonNull(path, "path");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_OBJ);
            attr.set(JAVA_LONG, OBJ_PATHNAME, call.allocateFrom(path).address());
            // bpf_fd and file_flags stay 0: read-write.
            return bpf(BPF_OBJ_GET, attr, path);
        }
    }

    /**
     * Removes a pin (unlink(2), which is all unpinning is): the object goes once no fd, other pin or attachment holds
     * it. An unpinned link whose fds are all closed detaches its program.
     *
     * @return false if nothing was pinned there
     */
    public static boolean objUnpin(String path) {
        Objects.requireNonNull(path, "path");
        try {
            return Syscalls.unlink(path);
        } catch (SyscallException e) {
            throw new LibbpfException("unlink", "pin " + path, e.errno(), "");
        }
    }

    // ---- Adoption ---------------------------------------------------------------------------------------------------

    /** A new fd for the loaded program with this id (BPF_PROG_GET_FD_BY_ID); ENOENT if there is none. */
    public static int progGetFdById(int id) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_GET_ID);
            attr.set(JAVA_INT, GET_ID_PROG_ID, id);
            return bpf(BPF_PROG_GET_FD_BY_ID, attr, "prog id " + id);
        }
    }

    /** What a link fd is: type, id, program, and for tcx the interface and direction (BPF_OBJ_GET_INFO_BY_FD). */
    public static BpfLinkInfo linkInfo(int linkFd) {
        requireKind(linkFd, "link");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment info = objInfo(call, linkFd, BPF_LINK_INFO, "link fd " + linkFd);
            int type = info.get(JAVA_INT, LINK_INFO_TYPE);
            boolean tcx = type == BPF_LINK_TYPE_TCX; // the union after prog_id means something else for other types
            return new BpfLinkInfo(type, info.get(JAVA_INT, LINK_INFO_ID), info.get(JAVA_INT, LINK_INFO_PROG_ID),
                    tcx ? info.get(JAVA_INT, LINK_INFO_TCX_IFINDEX) : 0,
                    tcx ? info.get(JAVA_INT, LINK_INFO_TCX_ATTACH_TYPE) : 0);
        }
    }

    /** What a program fd is: type, id, name, tag (BPF_OBJ_GET_INFO_BY_FD). */
    public static BpfProgInfo progInfo(int progFd) {
        requireKind(progFd, "prog");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment info = objInfo(call, progFd, BPF_PROG_INFO, "prog fd " + progFd);
            byte[] tag = info.asSlice(PROG_INFO_TAG, BPF_TAG_SIZE).toArray(JAVA_BYTE);
            return new BpfProgInfo(info.get(JAVA_INT, PROG_INFO_TYPE), info.get(JAVA_INT, PROG_INFO_ID),
                    name(info, PROG_INFO_NAME), HexFormat.of().formatHex(tag));
        }
    }

    /** What a map fd is: type, id, name, key and value sizes (BPF_OBJ_GET_INFO_BY_FD). */
    public static BpfMapInfo mapInfo(int mapFd) {
        requireKind(mapFd, "map");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment info = objInfo(call, mapFd, BPF_MAP_INFO, "map fd " + mapFd);
            return new BpfMapInfo(info.get(JAVA_INT, MAP_INFO_TYPE), info.get(JAVA_INT, MAP_INFO_ID),
                    name(info, MAP_INFO_NAME), info.get(JAVA_INT, MAP_INFO_KEY_SIZE),
                    info.get(JAVA_INT, MAP_INFO_VALUE_SIZE), info.get(JAVA_INT, MAP_INFO_MAX_ENTRIES),
                    info.get(JAVA_INT, MAP_INFO_MAP_FLAGS));
        }
    }

    /**
     * BPF_OBJ_GET_INFO_BY_FD into a zeroed {@code layout} in {@code arena}. The kernel fills min(its size, ours) bytes;
     * the pointer fields we leave at 0 make it report array lengths without copying any arrays.
     */
    private static MemorySegment objInfo(Arena arena, int fd, StructLayout layout, String target) {
        MemorySegment info = arena.allocate(layout);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment attr = call.allocate(ATTR_INFO);
            attr.set(JAVA_INT, INFO_BPF_FD, fd);
            attr.set(JAVA_INT, INFO_INFO_LEN, (int) layout.byteSize());
            attr.set(JAVA_LONG, INFO_INFO, info.address());
            bpf(BPF_OBJ_GET_INFO_BY_FD, attr, target);
        }
        return info;
    }

    /**
     * BPF_OBJ_GET_INFO_BY_FD fills whichever info struct fits the fd, so a map fd passed to progInfo would come back
     * as a bpf_map_info read as a bpf_prog_info. The fd's /proc link says what it is: anon_inode:bpf-prog,
     * anon_inode:bpf-map, anon_inode:bpf_link (or bpf-link, for an fd from BPF_OBJ_GET). Without /proc, no check.
     */
    private static void requireKind(int fd, String kind) {
        String what;
        try {
            what = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return; // a closed fd, or no procfs: the kernel will say EBADF or do its best
        }
        if (!what.equals("anon_inode:bpf-" + kind) && !what.equals("anon_inode:bpf_" + kind)) {
            throw new IllegalArgumentException("fd " + fd + " is " + what + ", not a BPF " + kind);
        }
    }

    // ---- The system call ----------------------------------------------------------------------------------------------

    /** bpf(cmd, attr, sizeof attr): the command's result (an fd, or 0), or a LibbpfException with the errno. */
    static int bpf(int cmd, MemorySegment attr, String target) {
        if (SYS_BPF < 0) throw new UnsupportedOperationException("bpf(2): no syscall number for " + System.getProperty("os.arch"));
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            long ret = (long) SYSCALL.invokeExact(callState, SYS_BPF, (long) cmd, attr, attr.byteSize());
            if (ret < 0) throw new LibbpfException("bpf(" + commandName(cmd) + ")", target, Libc.errno(callState), "");
            return (int) ret;
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }

    static String commandName(int cmd) {
        return switch (cmd) {
            case BPF_PROG_LOAD -> "BPF_PROG_LOAD";
            case BPF_OBJ_PIN -> "BPF_OBJ_PIN";
            case BPF_OBJ_GET -> "BPF_OBJ_GET";
            case BPF_PROG_GET_FD_BY_ID -> "BPF_PROG_GET_FD_BY_ID";
            case BPF_OBJ_GET_INFO_BY_FD -> "BPF_OBJ_GET_INFO_BY_FD";
            case BPF_LINK_CREATE -> "BPF_LINK_CREATE";
            case BPF_LINK_UPDATE -> "BPF_LINK_UPDATE";
            case BPF_LINK_DETACH -> "BPF_LINK_DETACH";
            default -> "cmd " + cmd;
        };
    }

    /** A NUL-terminated char[BPF_OBJ_NAME_LEN] of an info struct (the kernel always terminates it). */
    private static String name(MemorySegment info, long offset) {
        byte[] bytes = info.asSlice(offset, BPF_OBJ_NAME_LEN).toArray(JAVA_BYTE);
        int length = 0;
        while (length < bytes.length && bytes[length] != 0) length++;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }
}
