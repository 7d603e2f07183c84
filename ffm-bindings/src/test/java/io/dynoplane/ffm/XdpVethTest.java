package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static io.dynoplane.ffm.Fixtures.counter;
import static io.dynoplane.ffm.Fixtures.u32;
import static io.dynoplane.ffm.Shell.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real packets across a veth pair between two namespaces of this run: the sender's end has 192.0.2.1/30, the
 * receiver's end 192.0.2.2/30 and xdp_count. Nothing is added to the root namespace (whose own uplink may well use
 * the documentation range too). Datagrams go from bash's /dev/udp in the sender namespace to a socket of this test
 * in the receiver namespace; receiving all of them is the event that says they crossed, and XDP sees a packet before
 * the stack does.
 */
class XdpVethTest {
    private static final int DATAGRAMS = 5;

    private String sender;
    private String receiver;
    private String receiverLink;
    private BpfObject object;
    private Integer attachedIfindex;

    @BeforeEach
    void buildTopology() {
        String suffix = Shell.uniqueName("");
        sender = "dpt-" + suffix + "-a";
        receiver = "dpt-" + suffix + "-b";
        receiverLink = "dpt" + suffix + "b";
        run("ip", "netns", "add", sender);
        run("ip", "netns", "add", receiver);
        run("ip", "link", "add", "dpt" + suffix + "a", "netns", sender, "type", "veth", "peer", "name", receiverLink, "netns", receiver);
        run("ip", "-n", sender, "addr", "add", "192.0.2.1/30", "dev", "dpt" + suffix + "a");
        run("ip", "-n", sender, "link", "set", "dpt" + suffix + "a", "up");
        run("ip", "-n", receiver, "addr", "add", "192.0.2.2/30", "dev", receiverLink);
        run("ip", "-n", receiver, "link", "set", receiverLink, "up");
        object = Fixtures.load("xdp_count");
    }

    @AfterEach
    void tearDown() {
        try {
            if (attachedIfindex != null) Netns.run(receiver, () -> Libbpf.xdpDetach(attachedIfindex, Libbpf.XDP_FLAGS_DRV_MODE));
        } finally {
            if (object != null) object.close();
            Shell.runQuietly("ip", "-n", receiver, "link", "del", receiverLink); // and its peer
            Shell.runQuietly("ip", "netns", "del", sender);
            Shell.runQuietly("ip", "netns", "del", receiver);
        }
    }

    @Test
    void counterMovesWithPacketsAcrossTheVeth() throws IOException {
        BpfMap packets = object.map("packets");
        BpfMap perCpu = object.map("packets_percpu");
        long before = counter(packets, 0);
        long perCpuBefore = sum(perCpu.lookupPerCpu(u32(0)).orElseThrow());
        int progFd = object.program("xdp_count").fd(); // fds are per process, not per namespace

        // The ifindex, the netlink attach and the socket all belong to the receiver namespace.
        try (DatagramSocket socket = Netns.inside(receiver, () -> {
            int ifindex = Libbpf.ifindex(receiverLink);
            Libbpf.xdpAttach(ifindex, progFd, Libbpf.XDP_FLAGS_DRV_MODE);
            attachedIfindex = ifindex;
            return new DatagramSocket(new InetSocketAddress(InetAddress.getByName("192.0.2.2"), 0));
        })) {
            assertThat(run("ip", "-n", receiver, "link", "show", receiverLink)).contains("xdp");
            socket.setSoTimeout(5_000);
            run("ip", "netns", "exec", sender, "bash", "-c",
                    "for i in $(seq " + DATAGRAMS + "); do echo hello $i > /dev/udp/192.0.2.2/" + socket.getLocalPort() + "; done");
            for (int i = 0; i < DATAGRAMS; i++) socket.receive(new DatagramPacket(new byte[64], 64));
        }

        assertThat(counter(packets, 0) - before).isGreaterThanOrEqualTo(DATAGRAMS);
        assertThat(sum(perCpu.lookupPerCpu(u32(0)).orElseThrow()) - perCpuBefore).isGreaterThanOrEqualTo(DATAGRAMS);

        Netns.run(receiver, () -> Libbpf.xdpDetach(attachedIfindex, Libbpf.XDP_FLAGS_DRV_MODE));
        attachedIfindex = null;
        assertThat(run("ip", "-n", receiver, "link", "show", receiverLink)).doesNotContain("xdp");
    }

    private static long sum(List<byte[]> perCpuValues) {
        return perCpuValues.stream().mapToLong(Fixtures::asU64).sum();
    }
}
