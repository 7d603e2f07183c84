package io.dynoplane.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The rtnetlink wire structs, laid out as in {@code <linux/netlink.h>} and {@code <linux/rtnetlink.h>}, and the
 * constants {@link RtNetlink} uses. Struct and field names are the C ones so NetlinkLayoutTest can check every field
 * against gcc's offsetof/sizeof; every {@code int} constant is the C macro or enum value of the same name, checked the
 * same way. All fields are in host byte order; addresses in attributes are in network order (raw bytes).
 */
final class NetlinkStructs {
    private NetlinkStructs() {}

    // ---- Structs ------------------------------------------------------------------------------------------------

    /** Every netlink message starts with this; nlmsg_len counts the header, payload and attributes. */
    static final StructLayout NLMSGHDR = MemoryLayout.structLayout(
            JAVA_INT.withName("nlmsg_len"),
            JAVA_SHORT.withName("nlmsg_type"),
            JAVA_SHORT.withName("nlmsg_flags"),
            JAVA_INT.withName("nlmsg_seq"),
            JAVA_INT.withName("nlmsg_pid"))
            .withName("nlmsghdr");
    static final long NLMSG_LEN = offset(NLMSGHDR, "nlmsg_len");
    static final long NLMSG_TYPE = offset(NLMSGHDR, "nlmsg_type");
    static final long NLMSG_FLAGS = offset(NLMSGHDR, "nlmsg_flags");
    static final long NLMSG_SEQ = offset(NLMSGHDR, "nlmsg_seq");

    /** Payload of NLMSG_ERROR: a negative errno (0 for an ACK), then the header of the request it answers. */
    static final StructLayout NLMSGERR = MemoryLayout.structLayout(
            JAVA_INT.withName("error"),
            NLMSGHDR.withName("msg"))
            .withName("nlmsgerr");
    static final long NLMSGERR_ERROR = offset(NLMSGERR, "error");
    static final long NLMSGERR_MSG_LEN = NLMSGERR.byteOffset(groupElement("msg"), groupElement("nlmsg_len"));

    /** Attribute header of rtnetlink ({@code rtattr}) and of generic netlink/extended ACKs ({@code nlattr}): same shape. */
    static final StructLayout RTATTR = MemoryLayout.structLayout(
            JAVA_SHORT.withName("rta_len"),
            JAVA_SHORT.withName("rta_type"))
            .withName("rtattr");
    static final StructLayout NLATTR = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nla_len"),
            JAVA_SHORT.withName("nla_type"))
            .withName("nlattr");
    static final long RTA_LEN = offset(RTATTR, "rta_len");
    static final long RTA_TYPE = offset(RTATTR, "rta_type");

    /** RTM_*LINK payload; also the head of a veth's VETH_INFO_PEER attribute. */
    static final StructLayout IFINFOMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifi_family"),
            JAVA_BYTE.withName("__ifi_pad"),
            JAVA_SHORT.withName("ifi_type"),
            JAVA_INT.withName("ifi_index"),
            JAVA_INT.withName("ifi_flags"),
            JAVA_INT.withName("ifi_change"))
            .withName("ifinfomsg");
    static final long IFI_FAMILY = offset(IFINFOMSG, "ifi_family");
    static final long IFI_INDEX = offset(IFINFOMSG, "ifi_index");
    static final long IFI_FLAGS = offset(IFINFOMSG, "ifi_flags");
    static final long IFI_CHANGE = offset(IFINFOMSG, "ifi_change");

    /** RTM_*ADDR payload. */
    static final StructLayout IFADDRMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifa_family"),
            JAVA_BYTE.withName("ifa_prefixlen"),
            JAVA_BYTE.withName("ifa_flags"),
            JAVA_BYTE.withName("ifa_scope"),
            JAVA_INT.withName("ifa_index"))
            .withName("ifaddrmsg");
    static final long IFA_FAMILY = offset(IFADDRMSG, "ifa_family");
    static final long IFA_PREFIXLEN = offset(IFADDRMSG, "ifa_prefixlen");
    static final long IFA_SCOPE = offset(IFADDRMSG, "ifa_scope");
    static final long IFA_INDEX = offset(IFADDRMSG, "ifa_index");

    /** RTM_*ROUTE payload. */
    static final StructLayout RTMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("rtm_family"),
            JAVA_BYTE.withName("rtm_dst_len"),
            JAVA_BYTE.withName("rtm_src_len"),
            JAVA_BYTE.withName("rtm_tos"),
            JAVA_BYTE.withName("rtm_table"),
            JAVA_BYTE.withName("rtm_protocol"),
            JAVA_BYTE.withName("rtm_scope"),
            JAVA_BYTE.withName("rtm_type"),
            JAVA_INT.withName("rtm_flags"))
            .withName("rtmsg");
    static final long RTM_FAMILY = offset(RTMSG, "rtm_family");
    static final long RTM_DST_LEN = offset(RTMSG, "rtm_dst_len");
    static final long RTM_TABLE = offset(RTMSG, "rtm_table");
    static final long RTM_PROTOCOL = offset(RTMSG, "rtm_protocol");
    static final long RTM_SCOPE = offset(RTMSG, "rtm_scope");
    static final long RTM_TYPE = offset(RTMSG, "rtm_type");

    /** A netlink socket address: nl_pid 0 is the kernel; bound with 0, the kernel picks our port id. */
    static final StructLayout SOCKADDR_NL = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nl_family"),
            JAVA_SHORT.withName("nl_pad"),
            JAVA_INT.withName("nl_pid"),
            JAVA_INT.withName("nl_groups"))
            .withName("sockaddr_nl");
    static final long NL_FAMILY = offset(SOCKADDR_NL, "nl_family");
    static final long NL_PID = offset(SOCKADDR_NL, "nl_pid");

    static final List<StructLayout> ALL = List.of(NLMSGHDR, NLMSGERR, RTATTR, NLATTR, IFINFOMSG, IFADDRMSG, RTMSG, SOCKADDR_NL);

    // ---- Constants (C names) ------------------------------------------------------------------------------------

    // <sys/socket.h>
    static final int AF_UNSPEC = 0;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOL_NETLINK = 270;

    // <linux/netlink.h>
    static final int NETLINK_ROUTE = 0;
    static final int NETLINK_CAP_ACK = 10;         // errors echo only the request header, not the whole request
    static final int NETLINK_EXT_ACK = 11;         // errors carry the kernel's text ("extack")
    static final int NLMSG_ALIGNTO = 4;
    static final int NLMSG_HDRLEN = 16;
    static final int NLA_ALIGNTO = 4;
    static final int NLA_HDRLEN = 4;
    static final int NLA_F_NESTED = 1 << 15;
    static final int NLA_F_NET_BYTEORDER = 1 << 14;
    static final int NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
    static final int NLM_F_REQUEST = 0x01;
    static final int NLM_F_MULTI = 0x02;
    static final int NLM_F_ACK = 0x04;
    static final int NLM_F_DUMP_INTR = 0x10;       // the dump raced with a change: its parts may be inconsistent
    static final int NLM_F_ROOT = 0x100;
    static final int NLM_F_MATCH = 0x200;
    static final int NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    static final int NLM_F_EXCL = 0x200;           // same bit as NLM_F_MATCH: meaning depends on NEW vs GET
    static final int NLM_F_CREATE = 0x400;
    static final int NLM_F_CAPPED = 0x100;         // on NLMSG_ERROR: only the request header is echoed
    static final int NLM_F_ACK_TLVS = 0x200;       // on NLMSG_ERROR: extended-ACK attributes follow
    static final int NLMSG_NOOP = 1;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLMSG_OVERRUN = 4;
    static final int NLMSGERR_ATTR_MSG = 1;

    // <linux/rtnetlink.h>
    static final int RTM_NEWLINK = 16;
    static final int RTM_DELLINK = 17;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_NEWROUTE = 24;
    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RT_TABLE_MAIN = 254;
    static final int RTPROT_BOOT = 3;
    static final int RT_SCOPE_UNIVERSE = 0;
    static final int RT_SCOPE_LINK = 253;
    static final int RTN_UNICAST = 1;
    static final int RTEXT_FILTER_SKIP_STATS = 1 << 3;

    // <linux/if_link.h>
    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_LINKINFO = 18;
    static final int IFLA_NET_NS_FD = 28;
    static final int IFLA_EXT_MASK = 29;
    static final int IFLA_INFO_KIND = 1;
    static final int IFLA_INFO_DATA = 2;

    // <linux/veth.h>
    static final int VETH_INFO_PEER = 1;

    // <linux/if_addr.h>
    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_BROADCAST = 4;

    // <linux/if.h>
    static final int IFF_UP = 1;
    static final int IFNAMSIZ = 16;

    /** NLMSG_ALIGN and NLA_ALIGN/RTA_ALIGN: both round up to 4 bytes. */
    static int align(int length) {
        return (length + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1);
    }

    private static long offset(StructLayout struct, String field) {
        return struct.byteOffset(groupElement(field));
    }
}
