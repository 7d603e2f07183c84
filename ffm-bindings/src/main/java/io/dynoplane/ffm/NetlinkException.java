package io.dynoplane.ffm;

/**
 * The kernel refused an rtnetlink request (an NLMSG_ERROR with a nonzero error). Carries the errno, the operation
 * with the object it was about (e.g. {@code RTM_NEWLINK veth dpt0a1b2c peer eth0}), and the kernel's own explanation
 * when it gave one (extended ACK, e.g. "Invalid prefix for given prefix length").
 */
public final class NetlinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final int errno;
    private final String kernelMessage;

    /**
     * @param operation     the message type and its object, e.g. {@code RTM_GETLINK nonexistent0}
     * @param errno         the positive errno (the kernel sends it negated)
     * @param kernelMessage the extended-ACK text, or null if the kernel sent none
     */
    public NetlinkException(String operation, int errno, String kernelMessage) {
        super(operation + " failed: " + SyscallException.errnoName(errno) + " (" + SyscallException.errnoDescription(errno) + ")"
                + (kernelMessage == null ? "" : ": " + kernelMessage));
        this.operation = operation;
        this.errno = errno;
        this.kernelMessage = kernelMessage;
    }

    public int errno() { return errno; }

    public String operation() { return operation; }

    /** The kernel's extended-ACK text, or null. */
    public String kernelMessage() { return kernelMessage; }

    /** "EEXIST", or "errno 1234". */
    public String errnoName() {
        return SyscallException.errnoName(errno);
    }
}
