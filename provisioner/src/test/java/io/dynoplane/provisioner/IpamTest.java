package io.dynoplane.provisioner;

import io.dynoplane.ffm.RtNetlink;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IpamTest {
    // 198.18.0.0/15 is the benchmarking range: no host route here overlaps it.
    @Test
    void handsOutDistinctSlash30sWithHostDotOneAndDynoDotTwo() {
        Ipam ipam = new Ipam("198.18.0.0/28");
        Set<Subnet> leased = new HashSet<>();
        for (int i = 0; i < 4; i++) leased.add(ipam.allocate());
        assertThat(leased).hasSize(4).extracting(Subnet::toString)
                .containsExactlyInAnyOrder("198.18.0.0/30", "198.18.0.4/30", "198.18.0.8/30", "198.18.0.12/30");
        Subnet first = new Subnet(Subnet.parse("198.18.0.4"));
        assertThat(first.hostCidr()).isEqualTo("198.18.0.5/30");
        assertThat(first.dynoCidr()).isEqualTo("198.18.0.6/30");
    }

    @Test
    void exhaustionIsAClearErrorAndReleaseMakesRoom() {
        Ipam ipam = new Ipam("198.18.0.0/29");
        Subnet a = ipam.allocate();
        ipam.allocate();
        assertThatThrownBy(ipam::allocate).hasMessageContaining("198.18.0.0").hasMessageContaining("exhausted");
        ipam.release(a);
        assertThat(ipam.allocate()).isEqualTo(a);
    }

    @Test
    void skipsSubnetsTheHostAlreadyRoutes() throws Exception {
        // A veth of this run's own puts a connected route on the pool's first /30.
        String link = "dpt" + java.util.HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextInt()).substring(0, 6);
        int third = java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 255);
        String network = "198.18." + third + ".0";
        try (RtNetlink rtnl = RtNetlink.open()) {
            try {
                rtnl.createVethPair(link, link + "p");
                int ifindex = rtnl.linkIndex(link);
                rtnl.addAddress(ifindex, java.net.InetAddress.getByName("198.18." + third + ".1"), 30);
                rtnl.setLinkUp(ifindex);
                Ipam ipam = new Ipam(network + "/29");
                assertThat(ipam.allocate().toString()).isEqualTo("198.18." + third + ".4/30");
                assertThatThrownBy(ipam::allocate).hasMessageContaining("exhausted");
            } finally {
                rtnl.deleteLink(link);
            }
        }
    }

    @Test
    void aRestartedPoolHandsOutNoLeasedSubnetTwice(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path journal = dir.resolve("leases");
        Subnet a, b;
        try (Ipam ipam = new Ipam("198.18.0.0/28", journal)) {
            a = ipam.allocate("dp-app-web-1");
            b = ipam.allocate("dp-app-web-2");
            ipam.release(a);
        }
        // A crash mid-write leaves a torn last line: its lease never reached the kernel.
        Files.writeString(journal, "+ 198.18", StandardOpenOption.APPEND);
        try (Ipam restarted = new Ipam("198.18.0.0/28", journal)) {
            assertThat(restarted.leases()).containsExactly(java.util.Map.entry(b, "dp-app-web-2"));
            Set<Subnet> next = new HashSet<>();
            for (int i = 0; i < 3; i++) next.add(restarted.allocate("x" + i));
            assertThat(next).hasSize(3).doesNotContain(b);
            assertThatThrownBy(() -> restarted.allocate("y")).hasMessageContaining("exhausted");
        }
        assertThat(Files.readAllLines(journal)).noneMatch(l -> l.startsWith("- ")).hasSize(1 + 3);
    }

    @Test
    void badPoolsAndAddressesNameTheInput() {
        assertThatThrownBy(() -> new Ipam("172.16.0.0")).hasMessageContaining("'172.16.0.0'");
        assertThatThrownBy(() -> new Ipam("172.16.0.0/31")).hasMessageContaining("/31");
        assertThatThrownBy(() -> Subnet.parse("172.16.300.1")).hasMessageContaining("'172.16.300.1'");
        assertThatThrownBy(() -> new Subnet(Subnet.parse("172.16.0.1"))).hasMessageContaining("172.16.0.1");
    }

    @Test
    void hostVethNamesFitTheKernelLimitAndMapBackToTheLease() {
        Subnet last = new Subnet(Subnet.parse("172.31.255.252"));
        assertThat(Dyno.hostVethName(last)).isEqualTo("dpac1ffffc").hasSizeLessThanOrEqualTo(15);
    }
}
