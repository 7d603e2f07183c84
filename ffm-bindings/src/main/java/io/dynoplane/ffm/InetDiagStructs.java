package io.dynoplane.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The sock_diag wire structs of {@code <linux/inet_diag.h>} and {@code <linux/sock_diag.h>} that {@link InetDiag}
 * uses, named as in C so InetDiagLayoutTest checks them with gcc; every {@code int} constant is the C macro or enum
 * value of the same name. Ports and addresses in {@code inet_diag_sockid} are in network byte order.
 */
final class InetDiagStructs {
    private InetDiagStructs() {}

    /** Big-endian u16, for the __be16 ports. */
    static final ValueLayout.OfShort BE16 = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /** A socket's identity: ports and addresses (network order), interface, and the kernel's cookie. */
    static final StructLayout INET_DIAG_SOCKID = MemoryLayout.structLayout(
            JAVA_SHORT.withName("idiag_sport"),
            JAVA_SHORT.withName("idiag_dport"),
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("idiag_src"),
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("idiag_dst"),
            JAVA_INT.withName("idiag_if"),
            MemoryLayout.sequenceLayout(2, JAVA_INT).withName("idiag_cookie"))
            .withName("inet_diag_sockid");
    static final long IDIAG_SPORT = offset(INET_DIAG_SOCKID, "idiag_sport");
    static final long IDIAG_SRC = offset(INET_DIAG_SOCKID, "idiag_src");

    /** The SOCK_DIAG_BY_FAMILY request for AF_INET/AF_INET6: which protocol, which TCP states (a bit mask), which socket. */
    static final StructLayout INET_DIAG_REQ_V2 = MemoryLayout.structLayout(
            JAVA_BYTE.withName("sdiag_family"),
            JAVA_BYTE.withName("sdiag_protocol"),
            JAVA_BYTE.withName("idiag_ext"),
            JAVA_BYTE.withName("pad"),
            JAVA_INT.withName("idiag_states"),
            INET_DIAG_SOCKID.withName("id"))
            .withName("inet_diag_req_v2");
    static final long REQ_SDIAG_FAMILY = offset(INET_DIAG_REQ_V2, "sdiag_family");
    static final long REQ_SDIAG_PROTOCOL = offset(INET_DIAG_REQ_V2, "sdiag_protocol");
    static final long REQ_IDIAG_STATES = offset(INET_DIAG_REQ_V2, "idiag_states");
    static final long REQ_ID = offset(INET_DIAG_REQ_V2, "id");

    /** One socket in a reply. For a LISTEN socket, rqueue is the accept queue's length and wqueue its backlog. */
    static final StructLayout INET_DIAG_MSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("idiag_family"),
            JAVA_BYTE.withName("idiag_state"),
            JAVA_BYTE.withName("idiag_timer"),
            JAVA_BYTE.withName("idiag_retrans"),
            INET_DIAG_SOCKID.withName("id"),
            JAVA_INT.withName("idiag_expires"),
            JAVA_INT.withName("idiag_rqueue"),
            JAVA_INT.withName("idiag_wqueue"),
            JAVA_INT.withName("idiag_uid"),
            JAVA_INT.withName("idiag_inode"))
            .withName("inet_diag_msg");
    static final long MSG_IDIAG_FAMILY = offset(INET_DIAG_MSG, "idiag_family");
    static final long MSG_IDIAG_STATE = offset(INET_DIAG_MSG, "idiag_state");
    static final long MSG_ID = offset(INET_DIAG_MSG, "id");
    static final long MSG_IDIAG_RQUEUE = offset(INET_DIAG_MSG, "idiag_rqueue");
    static final long MSG_IDIAG_WQUEUE = offset(INET_DIAG_MSG, "idiag_wqueue");
    static final long MSG_IDIAG_INODE = offset(INET_DIAG_MSG, "idiag_inode");

    static final List<StructLayout> ALL = List.of(INET_DIAG_SOCKID, INET_DIAG_REQ_V2, INET_DIAG_MSG);

    // ---- Constants (C names) ------------------------------------------------------------------------------------

    // <linux/netlink.h>
    static final int NETLINK_SOCK_DIAG = 4;
    // <linux/sock_diag.h>
    static final int SOCK_DIAG_BY_FAMILY = 20;
    // <netinet/in.h>
    static final int IPPROTO_TCP = 6;
    // <netinet/tcp.h> (enum): the state a listening socket is in
    static final int TCP_LISTEN = 10;

    private static long offset(StructLayout struct, String field) {
        return struct.byteOffset(groupElement(field));
    }
}
