package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.time.Duration;

import static io.dynoplane.ffm.Fixtures.counter;
import static io.dynoplane.ffm.Shell.run;
import static io.dynoplane.ffm.VethBetweenNamespaces.awaitAtLeast;
import static io.dynoplane.ffm.VethBetweenNamespaces.receive;
import static io.dynoplane.ffm.VethBetweenNamespaces.receivesAnything;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * tcx links made with bpf(BPF_LINK_CREATE) on the receiving end of a veth between two namespaces, checked with real
 * datagrams: UDP to port 9 dropped (never reaches a socket bound to it), other ports delivered, the programs' counters
 * moving accordingly. The programs are plain {@code SEC("tc")} objects as libbpf 1.1 loads them (SCHED_CLS without
 * an expected attach type), which tcx accepts.
 */
class TcxLinkTest {
    static final int DISCARD = 9;
    private static final int DATAGRAMS = 3;
    private static final Duration QUIET = Duration.ofMillis(200);

    // tc_verdict's keys are its verdicts; tcx_verdict counts what it hands on and what it drops.
    private static final int TC_ACT_OK = 0;
    private static final int TC_ACT_SHOT = 2;
    static final int HANDED_ON = 0;
    static final int DROPPED = 1;

    @Test
    void tcxSupportedOnThisKernel() {
        assertThat(BpfSyscall.tcxSupported()).isTrue();
        assertThat(BpfSyscall.tcxSupported()).as("cached").isTrue();
    }

    @Test
    void linkDropsPortNineUntilDetached() throws Exception {
        try (VethBetweenNamespaces net = VethBetweenNamespaces.create(); BpfObject object = Fixtures.load("tc_verdict")) {
            BpfMap verdicts = object.map("verdicts");
            int progFd = object.program("tc_verdict").fd();
            DatagramSocket discard = net.receiverSocket(DISCARD);
            DatagramSocket open = net.receiverSocket(0);
            int ifindex = net.receiverIfindex();
            int linkFd = NetworkNamespaces.inside(net.receiver, () -> BpfSyscall.tcxAttach(progFd, ifindex, TcxDirection.INGRESS));
            try {
                BpfLinkInfo link = BpfSyscall.linkInfo(linkFd);
                assertThat(link.isTcx()).isTrue();
                assertThat(link.isAttachedTcx()).isTrue();
                assertThat(link.ifindex()).isEqualTo(ifindex);
                assertThat(link.attachType()).isEqualTo(46);
                assertThat(link.tcxDirection()).contains(TcxDirection.INGRESS);
                assertThat(link.progId()).isEqualTo(BpfSyscall.progInfo(progFd).id());
                assertThat(link.id()).isPositive();

                net.send(DISCARD, DATAGRAMS);
                net.send(open.getLocalPort(), DATAGRAMS);
                receive(open, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(verdicts, TC_ACT_SHOT), DATAGRAMS)).isEqualTo(DATAGRAMS);
                assertThat(receivesAnything(discard, QUIET)).as("port 9 behind the tcx program").isFalse();
                assertThat(counter(verdicts, TC_ACT_OK)).isGreaterThanOrEqualTo(DATAGRAMS);

                BpfSyscall.linkDetach(linkFd);

                BpfLinkInfo detached = BpfSyscall.linkInfo(linkFd);
                assertThat(detached.ifindex()).as("a detached tcx link has no device").isZero();
                assertThat(detached.isAttachedTcx()).isFalse();
                assertThat(detached.tcxDirection()).contains(TcxDirection.INGRESS);
                net.send(DISCARD, DATAGRAMS);
                receive(discard, DATAGRAMS);
                assertThat(counter(verdicts, TC_ACT_SHOT)).isEqualTo(DATAGRAMS);
            } finally {
                Syscalls.close(linkFd);
            }
        }
    }

    /**
     * Two tcx programs and a classic clsact filter on one ingress hook. tcx runs first, in attach order; tcx_verdict
     * says TCX_NEXT for what it lets through, so everything behind it still sees that, and nothing removes anything
     * else. tc_verdict, which says TC_ACT_OK (= TCX_PASS), ends processing at itself when it runs as tcx.
     */
    @Test
    void tcxProgramsStackInFrontOfClassicFiltersWithoutRemovingThem() throws Exception {
        try (VethBetweenNamespaces net = VethBetweenNamespaces.create();
             BpfObject first = Fixtures.load("tcx_verdict");
             BpfObject second = Fixtures.load("tcx_verdict");
             BpfObject classic = Fixtures.load("tc_verdict");
             BpfObject passing = Fixtures.load("tc_verdict")) {
            BpfMap firstCounts = first.map("tcx_counts");
            BpfMap secondCounts = second.map("tcx_counts");
            BpfMap classicVerdicts = classic.map("verdicts");
            BpfMap passingVerdicts = passing.map("verdicts");
            DatagramSocket discard = net.receiverSocket(DISCARD);
            DatagramSocket open = net.receiverSocket(0);
            int ifindex = net.receiverIfindex();
            int[] links = NetworkNamespaces.inside(net.receiver, () -> {
                Libbpf.tcHookCreate(ifindex, TcAttachPoint.INGRESS);
                Libbpf.tcAttach(ifindex, TcAttachPoint.INGRESS, classic.program("tc_verdict").fd(), 1, 1);
                return new int[] {
                        BpfSyscall.tcxAttach(first.program("tcx_verdict").fd(), ifindex, TcxDirection.INGRESS),
                        BpfSyscall.tcxAttach(second.program("tcx_verdict").fd(), ifindex, TcxDirection.INGRESS)};
            });
            int passingLink = -1;
            try {
                LibbpfException twice = catchThrowableOfType(LibbpfException.class, () -> NetworkNamespaces.inside(net.receiver,
                        () -> BpfSyscall.tcxAttach(first.program("tcx_verdict").fd(), ifindex, TcxDirection.INGRESS)));
                assertThat(twice.errnoName()).as("one program once per hook").isEqualTo("EEXIST");

                // Let through: every program sees it.
                net.send(open.getLocalPort(), DATAGRAMS);
                receive(open, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(classicVerdicts, TC_ACT_OK), DATAGRAMS)).isGreaterThanOrEqualTo(DATAGRAMS);
                assertThat(counter(firstCounts, HANDED_ON)).isGreaterThanOrEqualTo(DATAGRAMS);
                assertThat(counter(secondCounts, HANDED_ON)).isGreaterThanOrEqualTo(DATAGRAMS);

                // Port 9: the first tcx program drops it, nothing behind it sees it.
                net.send(DISCARD, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(firstCounts, DROPPED), DATAGRAMS)).isEqualTo(DATAGRAMS);
                assertThat(counter(secondCounts, DROPPED)).isZero();
                assertThat(counter(classicVerdicts, TC_ACT_SHOT)).isZero();

                // Without the first, the second drops it.
                BpfSyscall.linkDetach(links[0]);
                net.send(DISCARD, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(secondCounts, DROPPED), DATAGRAMS)).isEqualTo(DATAGRAMS);
                assertThat(counter(firstCounts, DROPPED)).isEqualTo(DATAGRAMS);

                // Without either, the classic filter still is there and drops it.
                BpfSyscall.linkDetach(links[1]);
                net.send(DISCARD, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(classicVerdicts, TC_ACT_SHOT), DATAGRAMS)).isEqualTo(DATAGRAMS);
                assertThat(receivesAnything(discard, QUIET)).isFalse();
                assertThat(run("ip", "netns", "exec", net.receiver, "tc", "filter", "show", "dev", net.receiverLink, "ingress"))
                        .contains("tc_verdict");

                // A tcx program that says TC_ACT_OK hides the packet from the classic filter behind it.
                // The classic count is read once the tcx program is in front: it counts every frame it sees (ARP and
                // IPv6 neighbour traffic too), and one could arrive between a read before the attach and the attach.
                int passingFd = passing.program("tc_verdict").fd();
                passingLink = NetworkNamespaces.inside(net.receiver, () -> BpfSyscall.tcxAttach(passingFd, ifindex, TcxDirection.INGRESS));
                long classicOk = counter(classicVerdicts, TC_ACT_OK);
                net.send(open.getLocalPort(), DATAGRAMS);
                receive(open, DATAGRAMS);
                assertThat(awaitAtLeast(() -> counter(passingVerdicts, TC_ACT_OK), DATAGRAMS)).isGreaterThanOrEqualTo(DATAGRAMS);
                assertThat(counter(classicVerdicts, TC_ACT_OK)).isEqualTo(classicOk);
            } finally {
                Syscalls.close(links[0]);
                Syscalls.close(links[1]);
                if (passingLink >= 0) Syscalls.close(passingLink);
            }
        }
    }
}
