package io.dynoplane.provisioner;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** Packet fixtures in, tc action and verdict counter out (bpf_prog_test_run on the real guard). */
class IsolationGuardTest {
    private static final int TC_ACT_OK = 0, TC_ACT_SHOT = 2;
    private static final int TEST_RUN_IFINDEX = 1; // test runs carry loopback's ifindex

    private final Subnet self = new Subnet(Subnet.parse("172.16.0.0"));
    private final Subnet other = new Subnet(Subnet.parse("172.16.0.4"));
    private IsolationPlane plane;

    @BeforeEach
    void load() {
        plane = IsolationPlane.load();
        plane.admit(self, 1);
        plane.admit(other, 2);
    }

    @AfterEach
    void close() { plane.close(); }

    @Test
    void dropsAndCountsPacketsToAnotherDyno() {
        assertThat(plane.verdictOf(ipv4(self.dynoAddress(), other.dynoAddress()))).isEqualTo(TC_ACT_SHOT);
        assertThat(plane.count(TEST_RUN_IFINDEX, Verdict.DROP_TO_DYNO)).isEqualTo(1);
    }

    @Test
    void passesRepliesToTheDynosGateway() {
        assertThat(plane.verdictOf(ipv4(self.dynoAddress(), self.hostAddress()))).isEqualTo(TC_ACT_OK);
        assertThat(plane.count(TEST_RUN_IFINDEX, Verdict.PASS)).isEqualTo(1);
    }

    @Test
    void dropsEgressOutsideTheDynoRangeUntilNatExists() {
        assertThat(plane.verdictOf(ipv4(self.dynoAddress(), Subnet.parse("198.51.100.7")))).isEqualTo(TC_ACT_SHOT);
        assertThat(plane.count(TEST_RUN_IFINDEX, Verdict.DROP_NO_EGRESS)).isEqualTo(1);
    }

    @Test
    void aForgottenDynoIsNoLongerProtected() {
        plane.forget(other);
        assertThat(plane.verdictOf(ipv4(self.dynoAddress(), other.dynoAddress()))).isEqualTo(TC_ACT_OK);
    }

    @Test
    void nonIpv4FramesPass() {
        byte[] arp = new byte[42];
        arp[12] = 0x08; arp[13] = 0x06;
        assertThat(plane.verdictOf(arp)).isEqualTo(TC_ACT_OK);
    }

    /** Ethernet + IPv4 + UDP (port 5000), checksums left zero: the guard does not look at them. */
    private static byte[] ipv4(int src, int dst) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 4);
        b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 32).putShort((short) 0).putShort((short) 0)
                .put((byte) 64).put((byte) 17).putShort((short) 0).putInt(src).putInt(dst);
        b.putShort((short) 40000).putShort((short) 5000).putShort((short) 12).putShort((short) 0).putInt(0x68690a00);
        return b.array();
    }
}
