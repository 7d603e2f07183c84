package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import static io.dynoplane.ffm.NetlinkStructs.AF_INET;
import static io.dynoplane.ffm.NetlinkStructs.AF_INET6;
import static io.dynoplane.ffm.NetlinkStructs.IFADDRMSG;
import static io.dynoplane.ffm.NetlinkStructs.IFA_ADDRESS;
import static io.dynoplane.ffm.NetlinkStructs.IFA_BROADCAST;
import static io.dynoplane.ffm.NetlinkStructs.IFA_FAMILY;
import static io.dynoplane.ffm.NetlinkStructs.IFA_INDEX;
import static io.dynoplane.ffm.NetlinkStructs.IFA_LOCAL;
import static io.dynoplane.ffm.NetlinkStructs.IFA_PREFIXLEN;
import static io.dynoplane.ffm.NetlinkStructs.IFA_SCOPE;
import static io.dynoplane.ffm.NetlinkStructs.IFF_UP;
import static io.dynoplane.ffm.NetlinkStructs.IFINFOMSG;
import static io.dynoplane.ffm.NetlinkStructs.IFI_CHANGE;
import static io.dynoplane.ffm.NetlinkStructs.IFI_FLAGS;
import static io.dynoplane.ffm.NetlinkStructs.IFI_INDEX;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_ADDRESS;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_EXT_MASK;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_IFNAME;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_INFO_DATA;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_INFO_KIND;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_LINKINFO;
import static io.dynoplane.ffm.NetlinkStructs.IFLA_NET_NS_FD;
import static io.dynoplane.ffm.NetlinkStructs.IFNAMSIZ;
import static io.dynoplane.ffm.NetlinkStructs.NETLINK_ROUTE;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_HDRLEN;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_ACK;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_CREATE;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_DUMP;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_EXCL;
import static io.dynoplane.ffm.NetlinkStructs.NLM_F_REQUEST;
import static io.dynoplane.ffm.NetlinkStructs.RTA_DST;
import static io.dynoplane.ffm.NetlinkStructs.RTA_GATEWAY;
import static io.dynoplane.ffm.NetlinkStructs.RTA_OIF;
import static io.dynoplane.ffm.NetlinkStructs.RTEXT_FILTER_SKIP_STATS;
import static io.dynoplane.ffm.NetlinkStructs.RTMSG;
import static io.dynoplane.ffm.NetlinkStructs.RTM_DELLINK;
import static io.dynoplane.ffm.NetlinkStructs.RTM_DST_LEN;
import static io.dynoplane.ffm.NetlinkStructs.RTM_FAMILY;
import static io.dynoplane.ffm.NetlinkStructs.RTM_GETLINK;
import static io.dynoplane.ffm.NetlinkStructs.RTM_NEWADDR;
import static io.dynoplane.ffm.NetlinkStructs.RTM_NEWLINK;
import static io.dynoplane.ffm.NetlinkStructs.RTM_NEWROUTE;
import static io.dynoplane.ffm.NetlinkStructs.RTM_PROTOCOL;
import static io.dynoplane.ffm.NetlinkStructs.RTM_SCOPE;
import static io.dynoplane.ffm.NetlinkStructs.RTM_TABLE;
import static io.dynoplane.ffm.NetlinkStructs.RTM_TYPE;
import static io.dynoplane.ffm.NetlinkStructs.RTN_UNICAST;
import static io.dynoplane.ffm.NetlinkStructs.RTPROT_BOOT;
import static io.dynoplane.ffm.NetlinkStructs.RT_SCOPE_LINK;
import static io.dynoplane.ffm.NetlinkStructs.RT_SCOPE_UNIVERSE;
import static io.dynoplane.ffm.NetlinkStructs.RT_TABLE_MAIN;
import static io.dynoplane.ffm.NetlinkStructs.VETH_INFO_PEER;
import static io.dynoplane.ffm.Syscalls.ENODEV;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A NETLINK_ROUTE socket: links, addresses and routes of one network namespace, the one it was opened in, without
 * running {@code ip}. Every operation is one synchronous request: sent with NLM_F_REQUEST|NLM_F_ACK (plus
 * NLM_F_CREATE|NLM_F_EXCL when creating), then replies are read until the kernel's ACK or NLMSG_ERROR for that
 * sequence number (or NLMSG_DONE, for a dump). A refusal is a {@link NetlinkException} naming the operation, its
 * object, the errno and the kernel's extended-ACK text; a failing socket call is a {@link SyscallException}.
 *
 * <p>Thread safety: an instance may be shared; each request holds its socket's lock from send to last reply, so
 * requests from several threads run one after another. Close it when done (the descriptor is not closed by GC).
 */
public final class RtNetlink implements AutoCloseable {
    /** A network interface as a dump reports it: {@code kind} is the IFLA_INFO_KIND ("veth", "bridge"), or null. */
    public record Link(int index, String name, String kind, boolean up) {}

    /** NETLINK_ROUTE, with extended ACKs: a refusal carries the kernel's explanation. */
    private static final NetlinkSocket.Protocol ROUTE = new NetlinkSocket.Protocol("RtNetlink", NETLINK_ROUTE, "NETLINK_ROUTE", "netlink", true);
    /**
     * How often a dump that raced with a change (NLM_F_DUMP_INTR) is restarted before giving up: on a host where
     * other planes and tests add and remove veths all the time, 5 back-to-back attempts were seen to fail (and with
     * them a daemon's start-up), so retries are many and spaced by a pause growing to {@link #DUMP_MAX_PAUSE_MS}.
     */
    private static final int DUMP_ATTEMPTS = 50;
    private static final int DUMP_MAX_PAUSE_MS = 20;

    private final NetlinkSocket socket;

    private RtNetlink(NetlinkSocket socket) {
        this.socket = socket;
    }

    /** A socket in the calling thread's network namespace (for an ordinary thread, the process's one). */
    public static RtNetlink open() {
        return new RtNetlink(NetlinkSocket.open(ROUTE, "current"));
    }

    /**
     * A socket in the named namespace ({@code /run/netns/NAME}), opened on a throwaway thread inside it
     * ({@link NetworkNamespaces#inside}); it keeps talking to that namespace from any thread. Like any socket, it
     * holds the namespace: after {@link NetworkNamespaces#delete} the namespace and its links live on until it is
     * closed.
     */
    public static RtNetlink openIn(String netnsName) {
        return new RtNetlink(NetlinkSocket.openIn(ROUTE, netnsName));
    }

    // ---- Links --------------------------------------------------------------------------------------------------

    /** A veth pair {@code name} + {@code peerName}, both in this socket's namespace ({@code ip link add NAME type veth peer name PEER}). */
    public void createVethPair(String name, String peerName) {
        createVeth(name, peerName, -1);
    }

    /**
     * A veth pair whose {@code name} end is in this socket's namespace and whose {@code peerName} end is created
     * directly in the namespace {@code peerNetnsFd} refers to (an open {@code /run/netns/NAME}); the caller keeps and
     * closes the descriptor. One request: the peer never exists here, so its name cannot clash here.
     */
    public void createVethPair(String name, String peerName, int peerNetnsFd) {
        if (peerNetnsFd < 0) throw new IllegalArgumentException("peerNetnsFd " + peerNetnsFd);
        createVeth(name, peerName, peerNetnsFd, null);
    }

    /**
     * As {@link #createVethPair(String, String, int)}, with the peer's MAC address set in the same request
     * (IFLA_ADDRESS on the peer): {@code ip link add NAME type veth peer name PEER address MAC netns NS}.
     */
    public void createVethPair(String name, String peerName, int peerNetnsFd, byte[] peerMac) {
        if (peerNetnsFd < 0) throw new IllegalArgumentException("peerNetnsFd " + peerNetnsFd);
        if (peerMac == null || peerMac.length != 6) throw new IllegalArgumentException("peer MAC must be 6 bytes");
        createVeth(name, peerName, peerNetnsFd, peerMac.clone());
    }

    private void createVeth(String name, String peerName, int peerNetnsFd) {
        createVeth(name, peerName, peerNetnsFd, null);
    }

    private void createVeth(String name, String peerName, int peerNetnsFd, byte[] peerMac) {
        checkLinkName(name);
        checkLinkName(peerName);
        String operation = "RTM_NEWLINK veth " + name + " peer " + peerName + (peerNetnsFd >= 0 ? " (netns fd " + peerNetnsFd + ")" : "");
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, IFINFOMSG);
            request.putString(IFLA_IFNAME, name);
            int linkInfo = request.begin(IFLA_LINKINFO);
            request.putString(IFLA_INFO_KIND, "veth");
            int infoData = request.begin(IFLA_INFO_DATA);
            int peer = request.begin(VETH_INFO_PEER);
            request.reserve(IFINFOMSG);  // the peer's own ifinfomsg, all zero: kernel picks its index
            request.putString(IFLA_IFNAME, peerName);
            if (peerMac != null) request.putBytes(IFLA_ADDRESS, peerMac);
            if (peerNetnsFd >= 0) request.putInt(IFLA_NET_NS_FD, peerNetnsFd);
            request.end(peer);
            request.end(infoData);
            request.end(linkInfo);
            socket.transact(operation, request, null);
        }
    }

    /** The index of link {@code name} (RTM_GETLINK by IFLA_IFNAME); a NetlinkException with ENODEV if there is none. */
    public int linkIndex(String name) {
        checkLinkName(name);
        int[] index = {0};
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, IFINFOMSG);
            request.putString(IFLA_IFNAME, name);
            request.putInt(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);  // we want the index, not the counters
            socket.transact("RTM_GETLINK " + name, request, reply -> {
                if (NetlinkMessage.type(reply) == RTM_NEWLINK) index[0] = reply.get(JAVA_INT, NLMSG_HDRLEN + IFI_INDEX);
            });
        }
        if (index[0] == 0) throw new NetlinkException("RTM_GETLINK " + name, ENODEV, "no link in the reply");
        return index[0];
    }

    /** The index of link {@code name}, or empty if there is none. */
    public Optional<Integer> findLink(String name) {
        try {
            return Optional.of(linkIndex(name));
        } catch (NetlinkException e) {
            if (e.errno() == ENODEV) return Optional.empty();
            throw e;
        }
    }

    /** Every link in this socket's namespace (an RTM_GETLINK dump), in the order the kernel lists them. */
    public List<Link> links() {
        for (int attempt = 1; ; attempt++) {
            List<Link> links = new ArrayList<>();
            boolean consistent;
            try (Arena call = Arena.ofConfined()) {
                NetlinkMessage request = new NetlinkMessage(call, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, IFINFOMSG);
                request.putInt(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
                consistent = socket.transact("RTM_GETLINK dump", request, reply -> {
                    if (NetlinkMessage.type(reply) == RTM_NEWLINK) links.add(link(reply));
                });
            }
            // The dump raced with a link change: its parts may disagree with each other. Start over.
            if (consistent) return links;
            if (attempt == DUMP_ATTEMPTS) {
                throw new NetlinkException("RTM_GETLINK dump", Syscalls.EINTR, "interrupted by changes " + DUMP_ATTEMPTS + " times");
            }
            try {
                Thread.sleep(Math.min(attempt, DUMP_MAX_PAUSE_MS)); // let a burst of changes pass
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NetlinkException("RTM_GETLINK dump", Syscalls.EINTR, "interrupted while retrying");
            }
        }
    }

    private static Link link(MemorySegment message) {
        MemorySegment ifinfo = message.asSlice(NLMSG_HDRLEN, IFINFOMSG.byteSize());
        MemorySegment[] attributes = NetlinkMessage.attributes(NetlinkMessage.attributesArea(message, IFINFOMSG), IFLA_LINKINFO);
        String name = attributes[IFLA_IFNAME] == null ? null : NetlinkMessage.string(attributes[IFLA_IFNAME]);
        String kind = null;
        if (attributes[IFLA_LINKINFO] != null) {
            MemorySegment kindAttribute = NetlinkMessage.attributes(attributes[IFLA_LINKINFO], IFLA_INFO_KIND)[IFLA_INFO_KIND];
            if (kindAttribute != null) kind = NetlinkMessage.string(kindAttribute);
        }
        return new Link(ifinfo.get(JAVA_INT, IFI_INDEX), name, kind, (ifinfo.get(JAVA_INT, IFI_FLAGS) & IFF_UP) != 0);
    }

    /** Sets the link administratively up ({@code ip link set ... up}): IFF_UP in ifi_flags, with ifi_change saying only that bit changes. */
    public void setLinkUp(int ifindex) {
        setUp(ifindex, true);
    }

    /** Sets the link administratively down. */
    public void setLinkDown(int ifindex) {
        setUp(ifindex, false);
    }

    private void setUp(int ifindex, boolean up) {
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, IFINFOMSG);
            MemorySegment ifinfo = request.header();
            ifinfo.set(JAVA_INT, IFI_INDEX, ifindex);
            ifinfo.set(JAVA_INT, IFI_FLAGS, up ? IFF_UP : 0);
            ifinfo.set(JAVA_INT, IFI_CHANGE, IFF_UP);
            socket.transact("RTM_NEWLINK set " + (up ? "up" : "down") + " ifindex " + ifindex, request, null);
        }
    }

    /** Deletes the link (and, for a veth, its peer wherever it is). */
    public void deleteLink(int ifindex) {
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, IFINFOMSG);
            request.header().set(JAVA_INT, IFI_INDEX, ifindex);
            socket.transact("RTM_DELLINK ifindex " + ifindex, request, null);
        }
    }

    /** Deletes the link by name in one request (IFLA_IFNAME); false if there is no such link. */
    public boolean deleteLink(String name) {
        checkLinkName(name);
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, IFINFOMSG);
            request.putString(IFLA_IFNAME, name);
            socket.transact("RTM_DELLINK " + name, request, null);
            return true;
        } catch (NetlinkException e) {
            if (e.errno() == ENODEV) return false;
            throw e;
        }
    }

    // ---- Addresses and routes -----------------------------------------------------------------------------------

    /**
     * Adds {@code address/prefixLength} to the link ({@code ip addr add}): IFA_LOCAL and IFA_ADDRESS both the address
     * (no point-to-point peer), and for IPv4 up to /30 the subnet's broadcast address (what {@code brd +} computes;
     * /31 and /32 have none). The kernel also adds the prefix route. IPv6 works the same, without broadcast.
     */
    public void addAddress(int ifindex, InetAddress address, int prefixLength) {
        byte[] bytes = address.getAddress();
        checkPrefix(bytes, prefixLength);
        String operation = "RTM_NEWADDR " + address.getHostAddress() + "/" + prefixLength + " dev ifindex " + ifindex;
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, IFADDRMSG);
            MemorySegment ifaddr = request.header();
            ifaddr.set(JAVA_BYTE, IFA_FAMILY, (byte) family(bytes));
            ifaddr.set(JAVA_BYTE, IFA_PREFIXLEN, (byte) prefixLength);
            ifaddr.set(JAVA_BYTE, IFA_SCOPE, (byte) RT_SCOPE_UNIVERSE);
            ifaddr.set(JAVA_INT, IFA_INDEX, ifindex);
            request.putBytes(IFA_LOCAL, bytes);
            request.putBytes(IFA_ADDRESS, bytes);
            if (address instanceof Inet4Address && prefixLength <= 30) request.putBytes(IFA_BROADCAST, broadcast(bytes, prefixLength));
            socket.transact(operation, request, null);
        }
    }

    /** A default route via {@code gateway} in the main table ({@code ip route add default via GATEWAY}). */
    public void addDefaultRoute(InetAddress gateway) {
        Objects.requireNonNull(gateway, "gateway");
        addRoute(unspecified(gateway), 0, gateway, 0);
    }

    /**
     * A unicast route to {@code dst/prefix} in the main table, protocol boot (what {@code ip route add} uses): via
     * {@code gateway} (nullable) and/or out of link {@code oifIndex} (0: let the kernel find it from the gateway).
     * Scope universe with a gateway; without one the destination is on the link, so scope link, as {@code ip} does.
     * {@code dst} must have no bits beyond the prefix (the kernel refuses 10.0.0.1/8).
     */
    public void addRoute(InetAddress dst, int prefix, InetAddress gateway, int oifIndex) {
        byte[] destination = dst.getAddress();
        checkPrefix(destination, prefix);
        if (gateway == null && oifIndex == 0) throw new IllegalArgumentException("a route needs a gateway or an output link");
        if (gateway != null && gateway.getAddress().length != destination.length) {
            throw new IllegalArgumentException("gateway " + gateway.getHostAddress() + " is not of the family of " + dst.getHostAddress());
        }
        String operation = "RTM_NEWROUTE " + (prefix == 0 ? "default" : dst.getHostAddress() + "/" + prefix)
                + (gateway != null ? " via " + gateway.getHostAddress() : "")
                + (oifIndex != 0 ? " dev ifindex " + oifIndex : "");
        try (Arena call = Arena.ofConfined()) {
            NetlinkMessage request = new NetlinkMessage(call, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, RTMSG);
            MemorySegment rtmsg = request.header();
            rtmsg.set(JAVA_BYTE, RTM_FAMILY, (byte) family(destination));
            rtmsg.set(JAVA_BYTE, RTM_DST_LEN, (byte) prefix);
            rtmsg.set(JAVA_BYTE, RTM_TABLE, (byte) RT_TABLE_MAIN);
            rtmsg.set(JAVA_BYTE, RTM_PROTOCOL, (byte) RTPROT_BOOT);
            rtmsg.set(JAVA_BYTE, RTM_SCOPE, (byte) (gateway != null ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK));
            rtmsg.set(JAVA_BYTE, RTM_TYPE, (byte) RTN_UNICAST);
            if (prefix > 0) request.putBytes(RTA_DST, destination);
            if (gateway != null) request.putBytes(RTA_GATEWAY, gateway.getAddress());
            if (oifIndex != 0) request.putInt(RTA_OIF, oifIndex);
            socket.transact(operation, request, null);
        }
    }

    /** Closes the socket, once; later requests fail with IllegalStateException. */
    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return socket.toString();
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    private static void checkLinkName(String name) {
        Objects.requireNonNull(name, "link name");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes >= IFNAMSIZ) {
            throw new IllegalArgumentException("link name \"" + name + "\" must have 1 to " + (IFNAMSIZ - 1) + " bytes");
        }
    }

    private static void checkPrefix(byte[] address, int prefix) {
        int bits = address.length * 8;
        if (prefix < 0 || prefix > bits) throw new IllegalArgumentException("prefix length " + prefix + " outside 0.." + bits);
    }

    private static int family(byte[] address) {
        return address.length == 4 ? AF_INET : AF_INET6;
    }

    // The address with all host bits set.
    private static byte[] broadcast(byte[] address, int prefix) {
        byte[] result = address.clone();
        for (int bit = prefix; bit < 32; bit++) result[bit / 8] |= (byte) (0x80 >>> (bit % 8));
        return result;
    }

    /** 0.0.0.0 or ::, of the family of {@code like}. */
    private static InetAddress unspecified(InetAddress like) {
        try {
            return InetAddress.getByAddress(new byte[like.getAddress().length]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);  // cannot happen: 4 or 16 bytes
        }
    }
}
