package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;

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
        try {
            IpCommand.run("link", "add", link, "type", "veth", "peer", "name", link + "p");
            IpCommand.run("addr", "add", "198.18." + third + ".1/30", "dev", link);
            IpCommand.run("link", "set", link, "up");
            Ipam ipam = new Ipam(network + "/29");
            assertThat(ipam.allocate().toString()).isEqualTo("198.18." + third + ".4/30");
            assertThatThrownBy(ipam::allocate).hasMessageContaining("exhausted");
        } finally {
            IpCommand.runQuietly("link", "delete", link);
        }
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
