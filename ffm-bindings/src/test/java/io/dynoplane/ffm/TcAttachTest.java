package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.dynoplane.ffm.Shell.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** tc hooks and filters on a throwaway veth pair in the root namespace, checked with the tc command. */
class TcAttachTest {
    private String veth;
    private int ifindex;
    private BpfObject object;

    @BeforeEach
    void createVeth() {
        veth = Shell.uniqueName("dpt");
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p");
        ifindex = Libbpf.ifindex(veth);
        object = Fixtures.load("tc_verdict");
    }

    @AfterEach
    void deleteVeth() {
        if (object != null) object.close();
        Shell.runQuietly("ip", "link", "del", veth); // takes the peer, the qdisc and its filters with it
    }

    @Test
    void attachShowsUpInTcAndDetachRemovesIt() {
        assertThat(Libbpf.tcHookCreate(ifindex, TcAttachPoint.INGRESS)).isTrue();
        assertThat(Libbpf.tcHookCreate(ifindex, TcAttachPoint.INGRESS)).as("second create: EEXIST is fine").isFalse();

        TcFilter filter = Libbpf.tcAttach(ifindex, TcAttachPoint.INGRESS, object.program("tc_verdict").fd(), 1, 1);

        assertThat(filter).extracting(TcFilter::ifindex, TcFilter::point, TcFilter::handle, TcFilter::priority)
                .containsExactly(ifindex, TcAttachPoint.INGRESS, 1, 1);
        assertThat(filter.progId()).isPositive();
        assertThat(run("tc", "filter", "show", "dev", veth, "ingress"))
                .contains("bpf")
                .contains("tc_verdict:[" + filter.progId() + "]")
                .contains("direct-action")
                .contains("handle 0x1");

        Libbpf.tcDetach(filter);

        assertThat(run("tc", "filter", "show", "dev", veth, "ingress")).doesNotContain("tc_verdict");
        LibbpfException again = catchThrowableOfType(LibbpfException.class, () -> Libbpf.tcDetach(filter));
        assertThat(again.errnoName()).isEqualTo("ENOENT");
        assertThat(again.operation()).isEqualTo("bpf_tc_detach");
    }

    @Test
    void kernelChoosesHandleAndPriorityWhenAskedWithZero() {
        Libbpf.tcHookCreate(ifindex, TcAttachPoint.EGRESS);

        TcFilter filter = Libbpf.tcAttach(ifindex, TcAttachPoint.EGRESS, object.program("tc_verdict").fd(), 0, 0);

        assertThat(filter.handle()).isPositive();
        assertThat(filter.priority()).isPositive();
        assertThat(run("tc", "filter", "show", "dev", veth, "egress")).contains("tc_verdict:[" + filter.progId() + "]");
        Libbpf.tcDetach(filter);
        assertThat(run("tc", "filter", "show", "dev", veth, "egress")).doesNotContain("tc_verdict");
    }

    @Test
    void hookDestroyFlushesFiltersAndQdiscDestroyRemovesClsact() {
        Libbpf.tcHookCreate(ifindex, TcAttachPoint.INGRESS);
        Libbpf.tcAttach(ifindex, TcAttachPoint.INGRESS, object.program("tc_verdict").fd(), 1, 1);

        Libbpf.tcHookDestroy(ifindex, TcAttachPoint.INGRESS);

        assertThat(run("tc", "filter", "show", "dev", veth, "ingress")).doesNotContain("tc_verdict");
        assertThat(run("tc", "qdisc", "show", "dev", veth)).contains("clsact");

        Libbpf.tcQdiscDestroy(ifindex);

        assertThat(run("tc", "qdisc", "show", "dev", veth)).doesNotContain("clsact");
    }
}
