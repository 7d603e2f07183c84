package io.dynoplane.provisioner;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bpf_prog_test_run fixtures for the NAT programs: crafted frames with real checksums in, the rewritten frame out,
 * every checksum (outer, quoted, ICMP) recomputed from scratch here. Edge cases real traffic rarely makes: fragments,
 * truncated headers, zero UDP checksums, quotes cut before the TCP checksum.
 */
class NatFramesTest {
    private static final int UNSPEC = -1, SHOT = 2; // TC_ACT_UNSPEC (tcx: next), TC_ACT_SHOT
    private static final int TCP = 6, UDP = 17, ICMP = 1;
    private static final String OUT = "198.51.100.1", DYNO = "172.16.0.2", REMOTE = "203.0.113.9";
    private static NatTable nat;

    @BeforeAll
    static void load() {
        nat = NatTable.load(OUT, "172.16.0.0/12", NatTable.Config.defaults());
    }

    @AfterAll
    static void close() {
        if (nat != null) nat.close();
    }

    @Test
    void udpOutAndBackWithValidChecksums() {
        byte[] out = run("nat_egress", UNSPEC, udp(DYNO, REMOTE, 5000, 53, "query", true));
        assertThat(addr(out, 26)).isEqualTo(OUT);
        int port = u16(out, 34);
        assertThat(port).isBetween(32768, 60999);
        assertValid(out);

        byte[] back = run("nat_ingress", UNSPEC, udp(REMOTE, OUT, 53, port, "answer", true));
        assertThat(addr(back, 30)).isEqualTo(DYNO);
        assertThat(u16(back, 36)).isEqualTo(5000);
        assertValid(back);
    }

    @Test
    void aZeroUdpChecksumStaysZero() {
        byte[] out = run("nat_egress", UNSPEC, udp(DYNO, REMOTE, 5001, 53, "nocsum", false));
        assertThat(u16(out, 40)).isZero();
        byte[] back = run("nat_ingress", UNSPEC, udp(REMOTE, OUT, 53, u16(out, 34), "nocsum", false));
        assertThat(u16(back, 40)).isZero();
        assertThat(ipChecksumOk(back, 14)).isTrue();
    }

    @Test
    void portUnreachableQuotingAWholeUdpDatagramIsRewrittenWithEveryChecksum() {
        byte[] out = run("nat_egress", UNSPEC, udp(DYNO, REMOTE, 5002, 9999, "hello?", true));
        byte[] error = icmpError(REMOTE, OUT, 3, 3, Arrays.copyOfRange(out, 14, out.length));
        long before = nat.count(NatCounter.ICMP_ERROR_IN);
        byte[] back = run("nat_ingress", UNSPEC, error);
        assertThat(nat.count(NatCounter.ICMP_ERROR_IN)).isEqualTo(before + 1);
        assertThat(addr(back, 30)).isEqualTo(DYNO);           // outer destination
        assertThat(addr(back, 42 + 12)).isEqualTo(DYNO);      // quoted source
        assertThat(u16(back, 42 + 20)).isEqualTo(5002);       // quoted source port
        assertValid(back);
        assertThat(ipChecksumOk(back, 42)).as("quoted IP checksum").isTrue();
        assertThat(l4ChecksumOk(back, 42)).as("quoted UDP checksum").isTrue();
    }

    @Test
    void aQuoteCutBeforeTheTcpChecksumStillComesOutRight() {
        byte[] out = run("nat_egress", UNSPEC, tcp(DYNO, REMOTE, 5003, 443, 0x02));
        byte[] quote = Arrays.copyOfRange(out, 14, 14 + 28); // IP header + 8 bytes: TCP checksum cut off
        byte[] back = run("nat_ingress", UNSPEC, icmpError(REMOTE, OUT, 3, 4, quote)); // frag needed
        assertThat(addr(back, 42 + 12)).isEqualTo(DYNO);
        assertThat(u16(back, 42 + 20)).isEqualTo(5003);
        assertValid(back);
        assertThat(ipChecksumOk(back, 42)).isTrue();
    }

    @Test
    void pingOutAndBack() {
        byte[] out = run("nat_egress", UNSPEC, echo(DYNO, REMOTE, 8, 0x1234));
        assertThat(addr(out, 26)).isEqualTo(OUT);
        assertValid(out);
        byte[] back = run("nat_ingress", UNSPEC, echo(REMOTE, OUT, 0, u16(out, 38)));
        assertThat(addr(back, 30)).isEqualTo(DYNO);
        assertThat(u16(back, 38)).isEqualTo(0x1234);
        assertValid(back);
    }

    @Test
    void whatCannotBeTranslatedFromADynoIsDroppedAndCounted() {
        byte[] fragment = udp(DYNO, REMOTE, 5004, 53, "frag", true);
        fragment[20] = 0x20; // MF
        expectDrop(fragment, NatCounter.FRAGMENT);
        byte[] later = udp(DYNO, REMOTE, 5004, 53, "frag", true);
        later[20] = 0x00; later[21] = 0x10; // offset 128
        expectDrop(later, NatCounter.FRAGMENT);
        expectDrop(Arrays.copyOf(tcp(DYNO, REMOTE, 5005, 443, 0x02), 14 + 20 + 10), NatCounter.MALFORMED); // TCP cut short
        byte[] badIhl = udp(DYNO, REMOTE, 5006, 53, "x", true);
        badIhl[14] = 0x44;
        expectDrop(badIhl, NatCounter.MALFORMED);
        expectDrop(echo(DYNO, REMOTE, 13, 1), NatCounter.UNSUPPORTED); // ICMP timestamp
        byte[] gre = udp(DYNO, REMOTE, 5007, 53, "gre", true);
        gre[23] = 47;
        expectDrop(gre, NatCounter.UNSUPPORTED);
    }

    @Test
    void whatIsNotTheNatsPassesUntouched() {
        byte[] host = udp("198.51.100.1", REMOTE, 40000, 53, "host", true);
        assertThat(runRaw("nat_egress", host)).isEqualTo(UNSPEC);
        byte[] inbound = udp(REMOTE, OUT, 53, 61000, "nobody", true); // no flow on that port
        assertThat(runRaw("nat_ingress", inbound)).isEqualTo(UNSPEC);
        byte[] arp = new byte[42];
        arp[12] = 0x08; arp[13] = 0x06;
        assertThat(runRaw("nat_egress", arp)).isEqualTo(UNSPEC);
    }

    // ---- Running ------------------------------------------------------------------------------------------------

    private static void expectDrop(byte[] frame, NatCounter counter) {
        long before = nat.count(counter);
        assertThat(runRaw("nat_egress", frame)).isEqualTo(SHOT);
        assertThat(nat.count(counter)).isEqualTo(before + 1);
    }

    private static int runRaw(String program, byte[] frame) {
        return nat.testRun(program, frame);
    }

    private static byte[] run(String program, int expected, byte[] frame) {
        var r = io.dynoplane.ffm.Libbpf.testRun(programFd(program), frame, 1);
        assertThat(r.retval()).as(program + " verdict, counts " + nat.counts()).isEqualTo(expected);
        return r.dataOut();
    }

    private static int programFd(String program) {
        return nat.programFd(program);
    }

    // ---- Frames with real checksums ---------------------------------------------------------------------------

    static byte[] udp(String src, String dst, int sport, int dport, String text, boolean checksum) {
        byte[] data = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ByteBuffer l4 = ByteBuffer.allocate(8 + data.length);
        l4.putShort((short) sport).putShort((short) dport).putShort((short) (8 + data.length)).putShort((short) 0).put(data);
        byte[] frame = frame(src, dst, UDP, l4.array());
        if (checksum) {
            int c = l4Checksum(frame, 14);
            putU16(frame, 40, c == 0 ? 0xffff : c);
        }
        return frame;
    }

    static byte[] tcp(String src, String dst, int sport, int dport, int flags) {
        ByteBuffer l4 = ByteBuffer.allocate(20);
        l4.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0).put((byte) 0x50).put((byte) flags)
                .putShort((short) 64240).putInt(0);
        byte[] frame = frame(src, dst, TCP, l4.array());
        putU16(frame, 34 + 16, l4Checksum(frame, 14));
        return frame;
    }

    static byte[] echo(String src, String dst, int type, int id) {
        ByteBuffer l4 = ByteBuffer.allocate(16);
        l4.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) 1).putLong(42);
        byte[] frame = frame(src, dst, ICMP, l4.array());
        putU16(frame, 36, checksum(frame, 34, frame.length - 34, 0));
        return frame;
    }

    static byte[] icmpError(String src, String dst, int type, int code, byte[] quote) {
        ByteBuffer l4 = ByteBuffer.allocate(8 + quote.length);
        l4.put((byte) type).put((byte) code).putShort((short) 0).putShort((short) 0).putShort((short) (code == 4 ? 1400 : 0)).put(quote);
        byte[] frame = frame(src, dst, ICMP, l4.array());
        putU16(frame, 36, checksum(frame, 34, frame.length - 34, 0));
        return frame;
    }

    private static byte[] frame(String src, String dst, int protocol, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 1}).put(new byte[] {2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 7).putShort((short) 0x4000)
                .put((byte) 64).put((byte) protocol).putShort((short) 0).putInt(NatTable.ipv4(src)).putInt(NatTable.ipv4(dst));
        b.put(l4);
        byte[] frame = b.array();
        putU16(frame, 24, checksum(frame, 14, 20, 0));
        return frame;
    }

    // ---- Checking ---------------------------------------------------------------------------------------------

    /** The outer IP checksum and the L4 one (TCP/UDP with pseudo-header, ICMP over the whole message). */
    private static void assertValid(byte[] frame) {
        assertThat(ipChecksumOk(frame, 14)).as("IP checksum").isTrue();
        assertThat(l4ChecksumOk(frame, 14)).as("L4 checksum").isTrue();
    }

    private static boolean ipChecksumOk(byte[] b, int ip) {
        return checksum(b, ip, (b[ip] & 0xf) * 4, 0) == 0;
    }

    private static boolean l4ChecksumOk(byte[] b, int ip) {
        int ihl = (b[ip] & 0xf) * 4, total = u16(b, ip + 2), proto = b[ip + 9] & 0xff;
        int l4 = ip + ihl, len = total - ihl;
        if (proto == ICMP) return checksum(b, l4, len, 0) == 0;
        if (proto == UDP && u16(b, l4 + 6) == 0) return true;
        return checksum(b, l4, len, pseudo(b, ip, proto, len)) == 0;
    }

    private static int l4Checksum(byte[] b, int ip) {
        int ihl = (b[ip] & 0xf) * 4, total = u16(b, ip + 2), proto = b[ip + 9] & 0xff;
        return checksum(b, ip + ihl, total - ihl, pseudo(b, ip, proto, total - ihl));
    }

    private static long pseudo(byte[] b, int ip, int proto, int len) {
        return u16(b, ip + 12) + u16(b, ip + 14) + u16(b, ip + 16) + u16(b, ip + 18) + proto + len;
    }

    private static int checksum(byte[] b, int off, int len, long initial) {
        long sum = initial;
        for (int i = 0; i < len; i += 2) sum += ((b[off + i] & 0xff) << 8) | (i + 1 < len ? b[off + i + 1] & 0xff : 0);
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (int) (~sum & 0xffff);
    }

    private static int u16(byte[] b, int off) { return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff); }

    private static void putU16(byte[] b, int off, int v) { b[off] = (byte) (v >> 8); b[off + 1] = (byte) v; }

    private static String addr(byte[] b, int off) {
        return (b[off] & 0xff) + "." + (b[off + 1] & 0xff) + "." + (b[off + 2] & 0xff) + "." + (b[off + 3] & 0xff);
    }
}
