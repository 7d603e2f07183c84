package io.dynoplane.provisioner;

import java.nio.ByteBuffer;

/** Crafted Ethernet frames for the edge's bpf_prog_test_run fixtures (checksums zero: the edge does not read them). */
final class EdgeFrames {
    private EdgeFrames() {}

    static final int TCP = 6, UDP = 17;
    static final int SYN = 0x02, ACK = 0x10;

    static byte[] tcp(String src, String dst, int dport, int flags) {
        ByteBuffer b = ipv4(src, dst, TCP, 20);
        b.putShort((short) 40000).putShort((short) dport).putInt(1).putInt(0)
                .put((byte) 0x50).put((byte) flags).putShort((short) 64240).putInt(0);
        return b.array();
    }

    static byte[] udp(String src, String dst, int dport) {
        ByteBuffer b = ipv4(src, dst, UDP, 12);
        b.putShort((short) 40000).putShort((short) dport).putShort((short) 12).putShort((short) 0).putInt(0x68690a00);
        return b.array();
    }

    static byte[] arp() {
        byte[] frame = new byte[42];
        frame[0] = frame[1] = frame[2] = frame[3] = frame[4] = frame[5] = (byte) 0xff;
        frame[12] = 0x08; frame[13] = 0x06;
        return frame;
    }

    static byte[] ipv6() {
        byte[] frame = new byte[14 + 40];
        frame[12] = (byte) 0x86; frame[13] = (byte) 0xdd;
        frame[14] = 0x60;
        return frame;
    }

    private static ByteBuffer ipv4(String src, String dst, int protocol, int l4Length) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4Length);
        b.put(new byte[] {2, 0, 0, 0, 0, 1}).put(new byte[] {2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4Length)).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) protocol).putShort((short) 0).putInt(Subnet.parse(src)).putInt(Subnet.parse(dst));
        return b;
    }
}
