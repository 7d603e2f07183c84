package io.dynoplane.bench;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** Ethernet/IPv4/TCP/UDP fixtures, as in IsolationGuardTest. */
final class Frames {
    static final int TCP = 6, UDP = 17, SYN = 0x02;

    private Frames() {}

    static byte[] frame(byte[] srcMac, byte[] ipPacket) {
        return ByteBuffer.allocate(14 + ipPacket.length).put(new byte[] {2, 0, 0, 0, 0, 1}).put(srcMac)
                .putShort((short) 0x0800).put(ipPacket).array();
    }

    static byte[] ipv4(int src, int dst, int proto, byte[] l4) {
        return ByteBuffer.allocate(20 + l4.length).put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 0)
                .putShort((short) 0x4000).put((byte) 64).put((byte) proto).putShort((short) 0).putInt(src).putInt(dst).put(l4).array();
    }

    /** An IPv4 packet with TCP {@code segment}, both checksums filled in (raw socket input). */
    static byte[] ipv4WithChecksums(int src, int dst, byte[] segment) {
        return ipv4WithChecksums(src, dst, TCP, segment);
    }

    /** An IPv4 packet with a TCP or UDP {@code segment}, the IP and the L4 checksum filled in (raw socket input). */
    static byte[] ipv4WithChecksums(int src, int dst, int proto, byte[] segment) {
        byte[] packet = ipv4(src, dst, proto, segment);
        ByteBuffer pseudo = ByteBuffer.allocate(12 + segment.length).putInt(src).putInt(dst).put((byte) 0).put((byte) proto)
                .putShort((short) segment.length).put(segment);
        int l4Sum = checksum(pseudo.array());
        if (proto == UDP && l4Sum == 0) l4Sum = 0xffff; // 0 means "no checksum" in UDP
        int at = 20 + (proto == TCP ? 16 : 6);
        packet[at] = (byte) (l4Sum >>> 8);
        packet[at + 1] = (byte) l4Sum;
        int ipSum = checksum(Arrays.copyOf(packet, 20));
        packet[10] = (byte) (ipSum >>> 8);
        packet[11] = (byte) ipSum;
        return packet;
    }

    /** A UDP datagram, checksum 0 (left to {@link #ipv4WithChecksums(int, int, int, byte[])}). */
    static byte[] udp(int sport, int dport, byte[] payload) {
        return ByteBuffer.allocate(8 + payload.length).putShort((short) sport).putShort((short) dport)
                .putShort((short) (8 + payload.length)).putShort((short) 0).put(payload).array();
    }

    static byte[] tcp(int sport, int dport, int flags) {
        return ByteBuffer.allocate(20).putShort((short) sport).putShort((short) dport).putInt(1).putInt(flags == SYN ? 0 : 1)
                .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putInt(0).array();
    }

    private static int checksum(byte[] bytes) {
        long sum = 0;
        for (int i = 0; i + 1 < bytes.length; i += 2) sum += ((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff);
        if ((bytes.length & 1) == 1) sum += (bytes[bytes.length - 1] & 0xff) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (int) (~sum & 0xffff);
    }
}
