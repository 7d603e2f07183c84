package io.dynoplane.router;

import io.netty.channel.EventLoop;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** State shared by all of a router's channels. Event loops only read it (volatile snapshots). */
final class RouterRuntime {
    private final String routerName;
    private final RouterLimits limits;
    private final RouterMetrics metrics;
    private final LogSinks logs;
    private final Map<EventLoop, BackendPool> pools;
    private volatile RouteTable routes = RouteTable.empty();
    private volatile boolean draining;
    // Requests per app between routing and their end, across all event loops. Entries stay once
    // created (an app's gauge goes to 0 rather than vanishing).
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    // Dyno address → System.nanoTime() until which it is passed over.
    private final Map<java.net.InetSocketAddress, Long> quarantinedUntil = new ConcurrentHashMap<>();
    // Requests queued for a booting app, woken (each on its own loop) by the next publish.
    private final Set<Runnable> publishWaiters = ConcurrentHashMap.newKeySet();

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

    /** Tests only: requests for this Host make the router fail as a bug would (H99). Null: none. */
    private volatile String faultyHost;

    void failRequestsFor(String host) {
        faultyHost = host;
    }

    /** Throws, as a bug in the router would, for the host {@link #failRequestsFor} named. */
    void checkFault(String host) {
        String faulty = faultyHost;
        if (faulty != null && faulty.equalsIgnoreCase(host)) throw new IllegalStateException("fault injected for " + host);
    }

    void publish(RouteTable table) {
        routes = Objects.requireNonNull(table, "table");
        for (Runnable waiter : publishWaiters) {
            if (publishWaiters.remove(waiter)) {
                waiter.run(); // only hands the look over to the waiter's event loop
            }
        }
    }

    /**
     * Runs {@code waker} once a table other than {@code seen} is published (at once if one already
     * has been), so a request queued after looking at {@code seen} misses no publish.
     */
    void awaitPublish(Runnable waker, RouteTable seen) {
        publishWaiters.add(waker);
        if (routes != seen && publishWaiters.remove(waker)) {
            waker.run();
        }
    }

    void stopAwaitingPublish(Runnable waker) {
        publishWaiters.remove(waker);
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

    /**
     * Counts {@code rec} against its app's in-flight cap of {@code cap} requests; false (and not
     * counted) if the app is at its cap already. {@link #completed} uncounts it.
     */
    boolean enter(RequestRecord rec, String app, int cap) {
        AtomicInteger count = inFlight.computeIfAbsent(app, a -> new AtomicInteger());
        for (int n = count.get(); ; n = count.get()) {
            if (n >= cap) {
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                rec.inFlightApp = app;
                return true;
            }
        }
    }

    /** A dyno failed to connect: pass it over for {@link RouterLimits#quarantine()}. */
    void quarantine(java.net.InetSocketAddress dyno) {
        quarantinedUntil.put(dyno, System.nanoTime() + limits.quarantine().toNanos());
    }

    /** False while no dyno at all is quarantined (the usual case): routing can skip the per-dyno look. */
    boolean anyQuarantined() {
        return !quarantinedUntil.isEmpty();
    }

    boolean quarantined(java.net.InetSocketAddress dyno) {
        Long until = quarantinedUntil.get(dyno);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until < 0) {
            return true;
        }
        quarantinedUntil.remove(dyno, until); // expired (unless re-quarantined meanwhile)
        return false;
    }

    /** Requests in the router right now, per app. */
    Map<String, Integer> inFlight() {
        Map<String, Integer> copy = new java.util.TreeMap<>();
        inFlight.forEach((app, n) -> copy.put(app, n.get()));
        return copy;
    }

    /** One finished request: metrics, then the log line. */
    void completed(RequestRecord rec) {
        metrics.record(rec); // first: a scrape that sees the request leave in-flight sees it counted
        String app = rec.inFlightApp;
        if (app != null) {
            rec.inFlightApp = null; // at most once, whatever path ends the request
            inFlight.get(app).decrementAndGet();
        }
        if (!logs.isEmpty()) {
            logs.emit(rec.app, rec.logLine());
        }
    }
}
