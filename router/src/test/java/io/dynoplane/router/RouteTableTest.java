package io.dynoplane.router;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouteTableTest {
    private static final AppRoute HELLO = new AppRoute("hello",
            List.of(new Backend("web.1", new InetSocketAddress(InetAddress.getLoopbackAddress(), 5000))));

    @Test
    void lookupIgnoresCaseAndPort() {
        RouteTable table = RouteTable.empty().with("hello.localhost", HELLO);
        assertThat(table.lookup("hello.localhost")).contains(HELLO);
        assertThat(table.lookup("HELLO.LocalHost:8080")).contains(HELLO);
        assertThat(table.lookup(" hello.localhost. ")).contains(HELLO);
        assertThat(table.lookup("other.localhost")).isEmpty();
        assertThat(table.lookup(null)).isEmpty();
        assertThat(table.lookup(":80")).isEmpty();
    }

    @Test
    void keysAreNormalisedToo() {
        RouteTable table = RouteTable.empty().with("Hello.Localhost:443", HELLO);
        assertThat(table.routes()).containsOnlyKeys("hello.localhost");
        assertThatThrownBy(() -> table.with("", HELLO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aWholeTableAtOnceIsNormalisedLikeOneHostAtATime() {
        RouteTable table = RouteTable.of(java.util.Map.of("Hello.Localhost:443", HELLO, "other.localhost", HELLO));
        assertThat(table.routes()).containsOnlyKeys("hello.localhost", "other.localhost");
        assertThat(table.lookup("HELLO.localhost:8080")).contains(HELLO);
        assertThatThrownBy(() -> RouteTable.of(java.util.Map.of("", HELLO))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ipv6LiteralsKeepTheirBrackets() {
        RouteTable table = RouteTable.empty().with("[::1]", HELLO);
        assertThat(table.lookup("[::1]:8080")).contains(HELLO);
    }

    @Test
    void withAndWithoutReturnCopies() {
        RouteTable empty = RouteTable.empty();
        RouteTable one = empty.with("a.localhost", HELLO);
        RouteTable two = one.with("b.localhost", HELLO);
        assertThat(empty.size()).isZero();
        assertThat(one.size()).isEqualTo(1);
        assertThat(two.size()).isEqualTo(2);
        assertThat(two.without("a.localhost").routes()).containsOnlyKeys("b.localhost");
        assertThat(two.size()).isEqualTo(2);
        assertThatThrownBy(() -> two.routes().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void appRouteCopiesItsDynoList() {
        List<Backend> dynos = new ArrayList<>(HELLO.webDynos());
        AppRoute route = new AppRoute("hello", dynos);
        dynos.clear();
        assertThat(route.webDynos()).hasSize(1);
    }

    @Test
    void backendsMustBeResolvedOrIpLiterals() throws Exception {
        assertThatThrownBy(() -> new Backend("web.1", InetSocketAddress.createUnresolved("dyno.internal", 5000)))
                .isInstanceOf(IllegalArgumentException.class);
        Backend literal = new Backend("web.1", InetSocketAddress.createUnresolved("172.16.0.2", 5000));
        assertThat(literal.address().isUnresolved()).isFalse();
        assertThat(literal.address()).isEqualTo(new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 172, 16, 0, 2}), 5000));
    }

    @Test
    void routerNameMustBeAToken() {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        assertThatThrownBy(() -> new RouterConfig(any, "has space", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RouterConfig(any, "r", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new RouterConfig(any, "router-1.us", 0).ioThreads()).isZero();
    }
}
