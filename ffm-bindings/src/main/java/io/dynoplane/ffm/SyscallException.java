package io.dynoplane.ffm;

/**
 * A libc system call made through {@link Syscalls} failed. Carries the errno, the call and what it was applied to
 * (a path, a file descriptor, a namespace type), so the message alone says what went wrong where.
 */
public final class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String target;
    private final int errno;

    /**
     * @param operation the C function that failed, e.g. {@code mount}, {@code setns}
     * @param target    what it was applied to, e.g. {@code /run/netns/dyno-web-1}
     * @param errno     the positive errno the call left
     */
    public SyscallException(String operation, String target, int errno) {
        super(operation + " " + target + " failed: " + errnoName(errno) + " (" + errnoDescription(errno) + ")");
        this.operation = operation;
        this.target = target;
        this.errno = errno;
    }

    public int errno() { return errno; }

    public String operation() { return operation; }

    public String target() { return target; }

    /** "ENOENT", or "errno 1234" when libc does not know the number. */
    public String errnoName() {
        return errnoName(errno);
    }

    static String errnoName(int errno) {
        String name = Libc.errnoName(errno);
        return name != null ? name : "errno " + errno;
    }

    static String errnoDescription(int errno) {
        String description = Libc.errnoDescription(errno);
        return description != null ? description : "unknown error";
    }
}
