package io.dynoplane.ffm;

import java.util.Optional;

/**
 * What the kernel says about a BPF link ({@code struct bpf_link_info}, by {@link BpfSyscall#linkInfo(int)}): enough
 * to adopt a pinned link after a restart, i.e. to tell which program it runs and where.
 *
 * @param type       {@code enum bpf_link_type}, e.g. 11 for BPF_LINK_TYPE_TCX
 * @param id         the link's id, system-wide
 * @param progId     the id of the program it runs ({@link BpfSyscall#progGetFdById(int)})
 * @param ifindex    for a tcx link, the interface; 0 once the link was detached or its device is gone.
 *                   0 for other link types
 * @param attachType for a tcx link, BPF_TCX_INGRESS or BPF_TCX_EGRESS (see {@link #tcxDirection()}); 0 for others
 */
public record BpfLinkInfo(int type, int id, int progId, int ifindex, int attachType) {

    /** Whether this is a tcx link (BPF_LINK_TYPE_TCX). */
    public boolean isTcx() {
        return type == BpfSyscallStructs.BPF_LINK_TYPE_TCX;
    }

    /** The tcx hook of the link, empty if it is not a tcx link. */
    public Optional<TcxDirection> tcxDirection() {
        return isTcx() ? TcxDirection.ofAttachType(attachType) : Optional.empty();
    }

    /** A tcx link still attached to an interface (not detached, device not deleted). */
    public boolean isAttachedTcx() {
        return isTcx() && ifindex != 0;
    }
}
