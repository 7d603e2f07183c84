package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.dynoplane.ffm.Fixtures.counter;
import static org.assertj.core.api.Assertions.assertThat;

/** Packet fixture in, verdict out: tc_verdict run by bpf_prog_test_run_opts on crafted frames, no interface involved. */
class TestRunVerdictTest {
    private static final int TC_ACT_OK = 0;
    private static final int TC_ACT_SHOT = 2;

    private static BpfObject object;
    private static BpfProgram program;
    private static BpfMap verdicts;

    @BeforeAll
    static void load() {
        object = Fixtures.load("tc_verdict");
        program = object.program("tc_verdict");
        verdicts = object.map("verdicts");
    }

    @AfterAll
    static void close() {
        if (object != null) object.close();
    }

    @Test
    void udpToDiscardPortIsShotAndCounted() {
        long shotBefore = counter(verdicts, TC_ACT_SHOT);
        long okBefore = counter(verdicts, TC_ACT_OK);
        byte[] packet = Packets.udp4(40000, 9, "drop me".getBytes());

        TestRun run = Libbpf.testRun(program.fd(), packet, 1);

        assertThat(run.retval()).isEqualTo(TC_ACT_SHOT);
        assertThat(run.dataOut()).isEqualTo(packet);
        assertThat(counter(verdicts, TC_ACT_SHOT)).isEqualTo(shotBefore + 1);
        assertThat(counter(verdicts, TC_ACT_OK)).isEqualTo(okBefore);
    }

    @Test
    void udpToDnsPassesAndIsCounted() {
        long shotBefore = counter(verdicts, TC_ACT_SHOT);
        long okBefore = counter(verdicts, TC_ACT_OK);

        TestRun run = Libbpf.testRun(program.fd(), Packets.udp4(40000, 53, "query".getBytes()), 1);

        assertThat(run.retval()).isEqualTo(TC_ACT_OK);
        assertThat(counter(verdicts, TC_ACT_OK)).isEqualTo(okBefore + 1);
        assertThat(counter(verdicts, TC_ACT_SHOT)).isEqualTo(shotBefore);
    }

    @Test
    void repeatRunsTheProgramThatManyTimes() {
        long shotBefore = counter(verdicts, TC_ACT_SHOT);

        TestRun run = Libbpf.testRun(program.fd(), Packets.udp4(40000, 9, new byte[0]), 100);

        assertThat(run.retval()).isEqualTo(TC_ACT_SHOT);
        assertThat(run.durationNs()).isPositive();
        assertThat(counter(verdicts, TC_ACT_SHOT)).isEqualTo(shotBefore + 100);
    }
}
