package io.dynoplane.ffm;

import java.nio.ByteBuffer;

/** Crafted frames for bpf_prog_test_run: Ethernet + IPv4 + UDP, 192.0.2.2 to 192.0.2.1. */
final class Packets {
    private Packets() {}

    private static final int ETH_P_IP = 0x0800;
    private static final int IPPROTO_UDP = 17;

    static byte[] udp4(int sourcePort, int destinationPort, byte[] payload) {
        int udpLength = 8 + payload.length;
        int ipLength = 20 + udpLength;
        ByteBuffer frame = ByteBuffer.allocate(14 + ipLength); // network byte order
        frame.put(new byte[] {0x02, 0, 0, 0, 0, 0x01});        // destination MAC (locally administered)
        frame.put(new byte[] {0x02, 0, 0, 0, 0, 0x02});        // source MAC
        frame.putShort((short) ETH_P_IP);
        int ip = frame.position();
        frame.put((byte) 0x45).put((byte) 0)                   // version 4, IHL 5; DSCP/ECN
                .putShort((short) ipLength).putShort((short) 0).putShort((short) 0x4000) // id; DF
                .put((byte) 64).put((byte) IPPROTO_UDP).putShort((short) 0)          // TTL; protocol; checksum later
                .put(new byte[] {(byte) 192, 0, 2, 2}).put(new byte[] {(byte) 192, 0, 2, 1});
        frame.putShort(ip + 10, ipChecksum(frame, ip));
        frame.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) udpLength).putShort((short) 0);
        frame.put(payload);
        return frame.array();
    }

    private static short ipChecksum(ByteBuffer frame, int offset) {
        int sum = 0;
        for (int i = 0; i < 20; i += 2) sum += frame.getShort(offset + i) & 0xffff;
        while ((sum >>> 16) != 0) sum = (sum & 0xffff) + (sum >>> 16);
        return (short) ~sum;
    }
}
