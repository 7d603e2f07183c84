package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import static io.dynoplane.ffm.Shell.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A dyno's wiring done entirely over rtnetlink: a veth whose peer is born inside a namespace of this run as eth0,
 * 198.18.X.1/30 on the root side (a link of this run, in the benchmark range), 198.18.X.2/30 on eth0, a default route
 * in the namespace, and a TCP connection across. {@code ip} is used only to look.
 */
class RtNetlinkTest {
    private String namespace;
    private String hostLink;
    private final List<RtNetlink> sockets = new ArrayList<>();

    @BeforeEach
    void createNamespace() {
        namespace = Shell.uniqueName("dpt");
        hostLink = Shell.uniqueName("dpt");
        NetworkNamespaces.create(namespace);
    }

    @AfterEach
    void cleanUp() {
        try {
            for (RtNetlink socket : sockets) socket.close();
        } finally {
            Shell.runQuietly("ip", "link", "del", hostLink);  // and its peer
            NetworkNamespaces.delete(namespace);
        }
    }

    private RtNetlink root() {
        RtNetlink socket = RtNetlink.open();
        sockets.add(socket);
        return socket;
    }

    private RtNetlink inNamespace() {
        RtNetlink socket = RtNetlink.openIn(namespace);
        sockets.add(socket);
        return socket;
    }

    @Test
    void vethIntoTheNamespaceAddressesRouteAndATcpConnectionAcross() throws Exception {
        int x = unusedSubnet();
        InetAddress hostAddress = InetAddress.getByName("198.18." + x + ".1");
        InetAddress dynoAddress = InetAddress.getByName("198.18." + x + ".2");
        RtNetlink root = root();
        RtNetlink dyno = inNamespace();

        int netnsFd = Syscalls.open("/run/netns/" + namespace, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC);
        try {
            root.createVethPair(hostLink, "eth0", netnsFd);
        } finally {
            Syscalls.close(netnsFd);
        }
        assertThat(run("ip", "link", "show", hostLink)).contains(hostLink + "@");
        assertThat(run("ip", "-n", namespace, "link", "show", "eth0")).contains("eth0@");
        assertThat(dyno.findLink("eth0")).isPresent();
        assertThat(root.links()).noneMatch(link -> link.name().equals("eth0") && "veth".equals(link.kind()));  // born in the namespace

        int hostIndex = root.linkIndex(hostLink);
        int eth0 = dyno.linkIndex("eth0");
        assertThat(hostIndex).isEqualTo(sysfsIndex(hostLink));
        root.addAddress(hostIndex, hostAddress, 30);
        dyno.addAddress(eth0, dynoAddress, 30);
        root.setLinkUp(hostIndex);
        dyno.setLinkUp(eth0);
        dyno.setLinkUp(dyno.linkIndex("lo"));
        dyno.addDefaultRoute(hostAddress);

        assertThat(run("ip", "-n", namespace, "route")).contains("default via " + hostAddress.getHostAddress() + " dev eth0");
        assertThat(run("ip", "-n", namespace, "-4", "addr", "show", "eth0"))
                .contains("inet " + dynoAddress.getHostAddress() + "/30 brd 198.18." + x + ".3");
        assertThat(dyno.links()).contains(new RtNetlink.Link(eth0, "eth0", "veth", true), new RtNetlink.Link(1, "lo", null, true));
        assertThat(root.links()).contains(new RtNetlink.Link(hostIndex, hostLink, "veth", true));

        // A listener in the root namespace, a client socket made inside the dyno's namespace.
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(hostAddress, 0));
            server.setSoTimeout(5_000);
            try (Socket client = NetworkNamespaces.inside(namespace, () -> {
                Socket socket = new Socket();
                socket.connect(new InetSocketAddress(hostAddress, server.getLocalPort()), 5_000);
                return socket;
            }); Socket accepted = server.accept()) {
                assertThat(accepted.getInetAddress()).isEqualTo(dynoAddress);
                client.getOutputStream().write(42);
                assertThat(accepted.getInputStream().read()).isEqualTo(42);
            }
            // And from a process in the namespace, the way a dyno would connect.
            run("ip", "netns", "exec", namespace, "bash", "-c",
                    "exec 3<>/dev/tcp/" + hostAddress.getHostAddress() + "/" + server.getLocalPort() + " && echo hi >&3");
            try (Socket accepted = server.accept()) {
                assertThat(accepted.getInetAddress()).isEqualTo(dynoAddress);
            }
        }

        root.deleteLink(hostIndex);
        assertThat(root.findLink(hostLink)).isEmpty();
        assertThat(dyno.findLink("eth0")).isEmpty();
        assertThat(Shell.exec("ip", "-n", namespace, "link", "show", "eth0").exitCode()).isNotZero();
        assertThat(Shell.exec("ip", "link", "show", hostLink).exitCode()).isNotZero();
        assertThat(run("ip", "-n", namespace, "route")).doesNotContain("default");
    }

    @Test
    void refusalsNameTheOperationTheObjectAndTheErrno() throws UnknownHostException {
        RtNetlink dyno = inNamespace();
        dyno.createVethPair("a0", "b0");
        assertThat(dyno.links()).extracting(RtNetlink.Link::name).contains("a0", "b0");

        assertThatThrownBy(() -> dyno.createVethPair("a0", "c0"))
                .isInstanceOfSatisfying(NetlinkException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Syscalls.EEXIST);
                    assertThat(e.errnoName()).isEqualTo("EEXIST");
                    assertThat(e.operation()).startsWith("RTM_NEWLINK veth a0");
                })
                .hasMessageContaining("a0").hasMessageContaining("File exists");

        assertThatThrownBy(() -> dyno.linkIndex("nonexistent0"))
                .isInstanceOfSatisfying(NetlinkException.class, e -> assertThat(e.errno()).isEqualTo(Syscalls.ENODEV))
                .hasMessageContaining("RTM_GETLINK nonexistent0").hasMessageContaining("ENODEV");
        assertThat(dyno.findLink("nonexistent0")).isEmpty();
        assertThat(dyno.deleteLink("nonexistent0")).isFalse();

        InetAddress address = InetAddress.getByName("198.18.0.1");
        assertThatThrownBy(() -> dyno.addAddress(999_999, address, 30))
                .isInstanceOfSatisfying(NetlinkException.class, e -> assertThat(e.errno()).isEqualTo(Syscalls.ENODEV))
                .hasMessageContaining("RTM_NEWADDR 198.18.0.1/30 dev ifindex 999999");
        assertThatThrownBy(() -> dyno.deleteLink(999_999))
                .isInstanceOf(NetlinkException.class).hasMessageContaining("RTM_DELLINK ifindex 999999");

        // The kernel's own words come along (extended ACK).
        int a0 = dyno.linkIndex("a0");
        assertThatThrownBy(() -> dyno.addRoute(InetAddress.getByName("198.18.7.1"), 24, null, a0))
                .isInstanceOfSatisfying(NetlinkException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Syscalls.EINVAL);
                    assertThat(e.kernelMessage()).isNotBlank();
                })
                .hasMessageContaining("RTM_NEWROUTE 198.18.7.1/24 dev ifindex " + a0);

        assertThatThrownBy(() -> dyno.addRoute(InetAddress.getByName("198.18.7.0"), 24, null, a0))
                .isInstanceOfSatisfying(NetlinkException.class, e -> assertThat(e.errnoName()).isEqualTo("ENETDOWN"))
                .hasMessageContaining("Device for nexthop is not up");
        dyno.setLinkUp(a0);
        dyno.setLinkUp(dyno.linkIndex("b0"));
        assertThat(dyno.links()).contains(new RtNetlink.Link(a0, "a0", "veth", true));
        dyno.addRoute(InetAddress.getByName("198.18.7.0"), 24, null, a0);
        assertThat(run("ip", "-n", namespace, "route")).contains("198.18.7.0/24 dev a0 scope link");
        dyno.addAddress(a0, InetAddress.getByName("fd00:dd::1"), 64);
        assertThat(run("ip", "-n", namespace, "-6", "addr", "show", "a0")).contains("inet6 fd00:dd::1/64");

        assertThatThrownBy(() -> dyno.createVethPair("this-name-is-too-long", "b1")).isInstanceOf(IllegalArgumentException.class);
        assertThat(dyno.deleteLink("a0")).isTrue();
        assertThat(dyno.links()).extracting(RtNetlink.Link::name).containsExactly("lo");

        dyno.close();
        assertThatThrownBy(dyno::links).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aSocketInTheNamespaceKeepsItAliveUntilClosed() throws InterruptedException {
        RtNetlink root = root();
        RtNetlink dyno = inNamespace();
        int netnsFd = Syscalls.open("/run/netns/" + namespace, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC);
        try {
            root.createVethPair(hostLink, "eth0", netnsFd);
        } finally {
            Syscalls.close(netnsFd);
        }
        assertThat(NetworkNamespaces.delete(namespace)).isTrue();
        Thread.sleep(200);  // time enough for the kernel's cleanup_net, were the namespace unreferenced
        assertThat(dyno.links()).extracting(RtNetlink.Link::name).contains("eth0");
        assertThat(root.findLink(hostLink)).isPresent();

        dyno.close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (root.findLink(hostLink).isPresent()) {
            assertThat(System.nanoTime()).as("veth still there 10 s after the last socket closed").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void oneSocketSharedByManyThreads() throws Exception {
        RtNetlink dyno = inNamespace();
        dyno.createVethPair("a0", "b0");
        int a0 = dyno.linkIndex("a0");
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                work.add(threads.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        assertThat(dyno.linkIndex("a0")).isEqualTo(a0);
                        assertThat(dyno.links()).hasSize(3);
                        assertThat(dyno.findLink("nonexistent0")).isEmpty();
                    }
                    return null;
                }));
            }
            for (Future<?> future : work) future.get();
        }
    }

    // 198.18.X.0/24 with no address of the root namespace in it yet (other tests may be using the range too).
    private static int unusedSubnet() {
        String addresses = run("ip", "-4", "-o", "addr", "show");
        for (int attempt = 0; attempt < 100; attempt++) {
            int x = ThreadLocalRandom.current().nextInt(1, 255);
            if (!addresses.contains(" 198.18." + x + ".")) return x;
        }
        throw new IllegalStateException("no free 198.18.X.0/24");
    }

    private static int sysfsIndex(String link) throws IOException {
        return Integer.parseInt(Files.readString(Path.of("/sys/class/net/" + link + "/ifindex")).strip());
    }
}
