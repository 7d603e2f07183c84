package io.dynoplane.bench;

import io.dynoplane.router.AppRoute;
import io.dynoplane.router.Backend;
import io.dynoplane.router.RouteTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/** Cost of the router's per-request route lookup (Host header to app) in a table of 1,000 apps. */
@State(Scope.Benchmark)
public class RouteTableBench {
    private RouteTable table;
    private String hostHeader;

    @Setup
    public void setup() {
        RouteTable t = RouteTable.empty();
        for (int i = 0; i < 1_000; i++) {
            t = t.with("app" + i + ".localhost", new AppRoute("app" + i, List.of(new Backend("web.1", InetSocketAddress.createUnresolved("172.16.0.2", 5000)))));
        }
        table = t;
        hostHeader = "App4242.localhost:8080";
    }

    @Benchmark
    public Optional<AppRoute> lookup() {
        return table.lookup(hostHeader);
    }
}
