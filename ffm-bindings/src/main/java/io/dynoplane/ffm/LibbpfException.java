package io.dynoplane.ffm;

/**
 * A libbpf (or libc) call failed. Carries the errno, the call, what it was applied to, and the lines libbpf printed
 * during the call: for a program the verifier rejected, the verifier's log.
 */
public final class LibbpfException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    // enum libbpf_errno in <bpf/libbpf.h>: libbpf's own codes, from 4000, which libc cannot name.
    private static final int LIBBPF_ERRNO_START = 4000;
    private static final String[][] LIBBPF_ERRNOS = {
            {"LIBBPF_ERRNO__LIBELF", "Something wrong in libelf"},
            {"LIBBPF_ERRNO__FORMAT", "BPF object format invalid"},
            {"LIBBPF_ERRNO__KVERSION", "'version' section incorrect or lost"},
            {"LIBBPF_ERRNO__ENDIAN", "Endian mismatch"},
            {"LIBBPF_ERRNO__INTERNAL", "Internal error in libbpf"},
            {"LIBBPF_ERRNO__RELOC", "Relocation failed"},
            {"LIBBPF_ERRNO__LOAD", "Load program failure for unknown reason"},
            {"LIBBPF_ERRNO__VERIFY", "Kernel verifier blocks program loading"},
            {"LIBBPF_ERRNO__PROG2BIG", "Program too big"},
            {"LIBBPF_ERRNO__KVER", "Incorrect kernel version"},
            {"LIBBPF_ERRNO__PROGTYPE", "Kernel doesn't support this program type"},
            {"LIBBPF_ERRNO__WRNGPID", "Wrong pid in netlink message"},
            {"LIBBPF_ERRNO__INVSEQ", "Invalid netlink sequence"},
            {"LIBBPF_ERRNO__NLPARSE", "Incorrect netlink message parsing"},
    };

    private final String operation;
    private final String target;
    private final int errno;
    private final String libbpfLog;

    /**
     * @param operation the C function that failed, e.g. {@code bpf_object__load}
     * @param target    what it was applied to, e.g. {@code object isolation}, {@code map verdicts of object isolation}
     * @param errno     the positive errno (libbpf returns it negated)
     * @param libbpfLog lines libbpf printed during the call, newline-separated; empty if none
     */
    public LibbpfException(String operation, String target, int errno, String libbpfLog) {
        super(message(operation, target, errno, libbpfLog));
        this.operation = operation;
        this.target = target;
        this.errno = errno;
        this.libbpfLog = libbpfLog;
    }

    public int errno() { return errno; }

    public String operation() { return operation; }

    public String target() { return target; }

    public String libbpfLog() { return libbpfLog; }

    /** "ENOENT", "LIBBPF_ERRNO__FORMAT", or "errno 1234". */
    public String errnoName() {
        return errnoName(errno);
    }

    private static String message(String operation, String target, int errno, String log) {
        String message = operation + " (" + target + ") failed: " + errnoName(errno) + " (" + errnoDescription(errno) + ")";
        return log.isEmpty() ? message : message + "\nlibbpf log:\n" + log;
    }

    private static String errnoName(int errno) {
        if (isLibbpfErrno(errno)) return LIBBPF_ERRNOS[errno - LIBBPF_ERRNO_START][0];
        String name = Libc.errnoName(errno);
        return name != null ? name : "errno " + errno;
    }

    private static String errnoDescription(int errno) {
        if (isLibbpfErrno(errno)) return LIBBPF_ERRNOS[errno - LIBBPF_ERRNO_START][1];
        String description = Libc.errnoDescription(errno);
        return description != null ? description : "unknown error";
    }

    private static boolean isLibbpfErrno(int errno) {
        return errno >= LIBBPF_ERRNO_START && errno < LIBBPF_ERRNO_START + LIBBPF_ERRNOS.length;
    }
}
