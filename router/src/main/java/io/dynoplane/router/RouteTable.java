package io.dynoplane.router;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Immutable snapshot mapping a host (lower-case, no port) to its app. The router reads one snapshot
 * per request and never locks; writers build a new table and {@link Router#publish publish} it.
 */
public final class RouteTable {
    private static final RouteTable EMPTY = new RouteTable(Map.of());

    private final Map<String, AppRoute> byHost;

    private RouteTable(Map<String, AppRoute> byHost) {
        this.byHost = byHost;
    }

    public static RouteTable empty() {
        return EMPTY;
    }

    /**
     * A table of every {@code host} to its route at once (hosts normalised like Host headers): one copy, where adding
     * them one by one with {@link #with} copies the table once per host.
     */
    public static RouteTable of(Map<String, AppRoute> routes) {
        Map<String, AppRoute> byHost = new HashMap<>();
        routes.forEach((host, route) -> {
            Objects.requireNonNull(route, "route");
            String key = normalizeHost(host);
            if (key == null) throw new IllegalArgumentException("not a host: '" + host + "'");
            byHost.put(key, route);
        });
        return new RouteTable(Map.copyOf(byHost));
    }

    /** A copy of this table with {@code host} (normalised like a Host header) routed to {@code route}. */
    public RouteTable with(String host, AppRoute route) {
        Objects.requireNonNull(route, "route");
        String key = normalizeHost(host);
        if (key == null) {
            throw new IllegalArgumentException("not a host: '" + host + "'");
        }
        Map<String, AppRoute> copy = new HashMap<>(byHost);
        copy.put(key, route);
        return new RouteTable(Map.copyOf(copy));
    }

    /** A copy of this table without {@code host}. */
    public RouteTable without(String host) {
        String key = normalizeHost(host);
        if (key == null || !byHost.containsKey(key)) {
            return this;
        }
        Map<String, AppRoute> copy = new HashMap<>(byHost);
        copy.remove(key);
        return new RouteTable(Map.copyOf(copy));
    }

    /** Looks up a raw Host header value: strips any {@code :port}, ignores case. */
    public Optional<AppRoute> lookup(String hostHeader) {
        String key = normalizeHost(hostHeader);
        return key == null ? Optional.empty() : Optional.ofNullable(byHost.get(key));
    }

    /** Unmodifiable host → route view. */
    public Map<String, AppRoute> routes() {
        return byHost;
    }

    public int size() {
        return byHost.size();
    }

    @Override
    public String toString() {
        return "RouteTable" + byHost;
    }

    /**
     * Host header → table key: trimmed, lower-case, without port or trailing dot; IPv6 literals keep
     * their brackets. Returns null when nothing usable is left.
     */
    static String normalizeHost(String hostHeader) {
        if (hostHeader == null) {
            return null;
        }
        String host = hostHeader.strip();
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close < 0 ? host : host.substring(0, close + 1);
        } else {
            int colon = host.indexOf(':');
            if (colon >= 0) {
                host = host.substring(0, colon);
            }
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        return host.isEmpty() ? null : host.toLowerCase(Locale.ROOT);
    }
}
