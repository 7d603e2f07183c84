package io.dynoplane.ffm;

import java.util.Optional;

/**
 * Which tcx hook of an interface a program runs on (Linux 6.6+): {@code enum bpf_attach_type} BPF_TCX_INGRESS or
 * BPF_TCX_EGRESS. The tcx hooks sit in front of the clsact qdisc's: both see the same packets, tcx programs first.
 */
public enum TcxDirection {
    INGRESS(BpfSyscallStructs.BPF_TCX_INGRESS),
    EGRESS(BpfSyscallStructs.BPF_TCX_EGRESS);

    private final int attachType;

    TcxDirection(int attachType) { this.attachType = attachType; }

    /** BPF_TCX_INGRESS (46) or BPF_TCX_EGRESS (47). */
    public int attachType() { return attachType; }

    /** The direction of a {@code bpf_attach_type} value, empty if it is not a tcx one. */
    public static Optional<TcxDirection> ofAttachType(int attachType) {
        for (TcxDirection direction : values()) {
            if (direction.attachType == attachType) return Optional.of(direction);
        }
        return Optional.empty();
    }
}
