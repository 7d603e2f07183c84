package io.dynoplane.router;

import io.netty.channel.EventLoop;

import java.util.Map;
import java.util.Objects;

/** State shared by all of a router's channels. Event loops only read it (volatile snapshots). */
final class RouterRuntime {
    private final String routerName;
    private final RouterLimits limits;
    private final RouterMetrics metrics;
    private final LogSinks logs;
    private final Map<EventLoop, BackendPool> pools;
    private volatile RouteTable routes = RouteTable.empty();
    private volatile boolean draining;

    RouterRuntime(String routerName, RouterLimits limits, RouterMetrics metrics, LogSinks logs,
                  Map<EventLoop, BackendPool> pools) {
        this.routerName = routerName;
        this.limits = limits;
        this.metrics = metrics;
        this.logs = logs;
        this.pools = Map.copyOf(pools);
    }

    String routerName() {
        return routerName;
    }

    RouterLimits limits() {
        return limits;
    }

    RouteTable routes() {
        return routes;
    }

    void publish(RouteTable table) {
        routes = Objects.requireNonNull(table, "table");
    }

    boolean draining() {
        return draining;
    }

    void startDraining() {
        draining = true;
    }

    BackendPool pool(EventLoop loop) {
        BackendPool pool = pools.get(loop);
        if (pool == null) {
            throw new IllegalStateException("no backend pool for " + loop);
        }
        return pool;
    }

    /** One finished request: metrics, then the log line. */
    void completed(RequestRecord rec) {
        metrics.record(rec);
        if (!logs.isEmpty()) {
            logs.emit(rec.logLine());
        }
    }
}
