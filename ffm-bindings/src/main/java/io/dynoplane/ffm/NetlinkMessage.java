package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;

import static io.dynoplane.ffm.NetlinkStructs.NLA_HDRLEN;
import static io.dynoplane.ffm.NetlinkStructs.NLA_TYPE_MASK;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_FLAGS;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_HDRLEN;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_LEN;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_SEQ;
import static io.dynoplane.ffm.NetlinkStructs.NLMSG_TYPE;
import static io.dynoplane.ffm.NetlinkStructs.RTA_LEN;
import static io.dynoplane.ffm.NetlinkStructs.RTA_TYPE;
import static io.dynoplane.ffm.NetlinkStructs.align;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One netlink request, built in place in native memory of the caller's (confined, per-request) arena: the nlmsghdr,
 * the family header (ifinfomsg, ifaddrmsg, rtmsg), then attributes, each padded to 4 bytes. Nested attributes are
 * opened with {@link #begin(int)} and closed with {@link #end(int)}, which writes their length once the contents are
 * known. Also the read side: {@link #attributes} splits a run of attributes into a table indexed by type.
 */
final class NetlinkMessage {
    /** Room for one request; ours are a few hundred bytes at most. */
    private static final int CAPACITY = 4096;

    private final MemorySegment buffer;
    private final StructLayout familyHeader;
    private final long familyHeaderOffset;
    private int length;

    /** A request of {@code type} with {@code flags}, followed by a zeroed {@code familyHeader} struct. */
    NetlinkMessage(Arena arena, int type, int flags, StructLayout familyHeader) {
        this.buffer = arena.allocate(CAPACITY, 8);  // zeroed: unset struct fields and padding are 0
        buffer.set(JAVA_SHORT, NLMSG_TYPE, (short) type);
        buffer.set(JAVA_SHORT, NLMSG_FLAGS, (short) flags);
        this.length = NLMSG_HDRLEN;
        this.familyHeader = familyHeader;
        this.familyHeaderOffset = reserve(familyHeader);
    }

    /** The family header (ifinfomsg, ...) to fill in. */
    MemorySegment header() {
        return slice(familyHeaderOffset, familyHeader);
    }

    /** Appends a zeroed struct (a family header, or the ifinfomsg at the head of VETH_INFO_PEER); returns its offset. */
    long reserve(StructLayout struct) {
        long at = length;
        grow(align((int) struct.byteSize()));
        return at;
    }

    MemorySegment slice(long offset, StructLayout struct) {
        return buffer.asSlice(offset, struct.byteSize());
    }

    /** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND). */
    void putString(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        long payload = attribute(type, bytes.length + 1);
        MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, payload, bytes.length);  // the NUL is already there
    }

    /** A u32/s32 attribute in host order (IFLA_NET_NS_FD, RTA_OIF, IFLA_EXT_MASK). */
    void putInt(int type, int value) {
        buffer.set(JAVA_INT, attribute(type, Integer.BYTES), value);
    }

    /** Raw bytes (addresses, in network order). */
    void putBytes(int type, byte[] value) {
        MemorySegment.copy(value, 0, buffer, JAVA_BYTE, attribute(type, value.length), value.length);
    }

    /** Opens a nested attribute; returns the handle to pass to {@link #end(int)}. */
    int begin(int type) {
        int start = length;
        attribute(type, 0);
        return start;
    }

    /** Closes a nested attribute: its length covers everything appended since {@link #begin(int)}. */
    void end(int start) {
        buffer.set(JAVA_SHORT, start + RTA_LEN, (short) (length - start));
    }

    /** Stamps length and sequence number; returns exactly the bytes to send. */
    MemorySegment finish(int sequence) {
        buffer.set(JAVA_INT, NLMSG_LEN, length);
        buffer.set(JAVA_INT, NLMSG_SEQ, sequence);
        return buffer.asSlice(0, length);
    }

    // Writes an attribute header for a payload of payloadLength bytes, pads to 4; returns the payload's offset.
    private long attribute(int type, int payloadLength) {
        int start = length;
        grow(align(NLA_HDRLEN + payloadLength));
        buffer.set(JAVA_SHORT, start + RTA_LEN, (short) (NLA_HDRLEN + payloadLength));  // rta_len excludes padding
        buffer.set(JAVA_SHORT, start + RTA_TYPE, (short) type);
        return start + NLA_HDRLEN;
    }

    private void grow(int bytes) {
        if (length + bytes > CAPACITY) throw new IllegalStateException("netlink request larger than " + CAPACITY + " bytes");
        length += bytes;
    }

    // ---- Reading ------------------------------------------------------------------------------------------------

    /**
     * The attributes in {@code area} (a run of rtattr/nlattr, as after a family header), as payload slices indexed by
     * type up to {@code maxType}; absent or higher types are null. Like iproute2's parse_rtattr: a later duplicate
     * wins, the NLA_F_NESTED/NLA_F_NET_BYTEORDER bits are ignored, a truncated tail ends the walk.
     */
    static MemorySegment[] attributes(MemorySegment area, int maxType) {
        MemorySegment[] table = new MemorySegment[maxType + 1];
        long offset = 0;
        while (offset + NLA_HDRLEN <= area.byteSize()) {
            int length = Short.toUnsignedInt(area.get(JAVA_SHORT, offset + RTA_LEN));
            int type = Short.toUnsignedInt(area.get(JAVA_SHORT, offset + RTA_TYPE)) & NLA_TYPE_MASK;
            if (length < NLA_HDRLEN || offset + length > area.byteSize()) break;
            if (type <= maxType) table[type] = area.asSlice(offset + NLA_HDRLEN, length - NLA_HDRLEN);
            offset += align(length);
        }
        return table;
    }

    /** A string attribute's payload up to its NUL (or its end, if the sender left the NUL out). */
    static String string(MemorySegment payload) {
        long end = 0;
        while (end < payload.byteSize() && payload.get(JAVA_BYTE, end) != 0) end++;
        return new String(payload.asSlice(0, end).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** The attributes that follow a family header of {@code familyHeader} in a received message. */
    static MemorySegment attributesArea(MemorySegment message, StructLayout familyHeader) {
        long start = NLMSG_HDRLEN + align((int) familyHeader.byteSize());
        return start > message.byteSize() ? MemorySegment.NULL : message.asSlice(start);
    }

    static int type(MemorySegment message) {
        return Short.toUnsignedInt(message.get(JAVA_SHORT, NLMSG_TYPE));
    }

    static int flags(MemorySegment message) {
        return Short.toUnsignedInt(message.get(JAVA_SHORT, NLMSG_FLAGS));
    }

    static int sequence(MemorySegment message) {
        return message.get(JAVA_INT, NLMSG_SEQ);
    }
}
