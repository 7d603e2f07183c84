package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every app's drains ({@code drains:add}, {@code drains:remove}, {@code drains}). {@link #accept} only
 * offers the line to each drain's bounded queue, so it can be called from any thread.
 */
public final class LogDrains implements AutoCloseable {
    private final DrainSettings settings;
    private final Duration closeDeadline;
    private final Map<String, List<LogDrain>> apps = new ConcurrentHashMap<>();

    /** {@code closeDeadline}: how long {@link #close()} may spend sending what is queued. */
    public LogDrains(DrainSettings settings, Duration closeDeadline) {
        this.settings = settings;
        this.closeDeadline = closeDeadline;
    }

    /** Refuses, naming it, a URL that is not a drain this class can send to. */
    public static void check(String url) {
        DrainUrl.parse(url);
    }

    /**
     * Starts draining {@code app}'s lines to {@code url}.
     *
     * @throws IllegalArgumentException for a URL that is not a syslog or https drain, or one the app already has
     */
    public DrainStatus add(String app, String url) {
        return add(app, url, UUID.randomUUID().toString());
    }

    /** As {@link #add(String, String)}, with the drain's id given (its token is {@code d.<id>}): the store's, so a restart keeps it. */
    public DrainStatus add(String app, String url, String id) {
        DrainUrl parsed = DrainUrl.parse(url);
        LogDrain[] added = new LogDrain[1];
        // compute, so that a concurrent forget(app) cannot leave the new drain in a list nobody holds
        apps.compute(app, (a, drains) -> {
            List<LogDrain> list = drains == null ? new CopyOnWriteArrayList<>() : drains;
            if (list.stream().anyMatch(d -> d.url.uri().equals(parsed.uri()))) {
                throw new IllegalArgumentException("drain URL \"" + url + "\": app " + app + " already drains there");
            }
            added[0] = LogDrain.open(id, app, parsed, settings);
            list.add(added[0]);
            return list;
        });
        return added[0].status();
    }

    /** Removes the drain named by its id, token or URL; lines still queued are dropped. False if there is none. */
    public boolean remove(String app, String idTokenOrUrl) {
        List<LogDrain> drains = apps.getOrDefault(app, List.of());
        for (LogDrain drain : drains) {
            if (drain.id.equals(idTokenOrUrl) || drain.token.equals(idTokenOrUrl) || drain.url.uri().toString().equals(idTokenOrUrl)) {
                drains.remove(drain);
                closeAll(List.of(drain), Duration.ZERO);
                return true;
            }
        }
        return false;
    }

    public List<DrainStatus> list(String app) {
        return apps.getOrDefault(app, List.of()).stream().map(LogDrain::status).toList();
    }

    public List<DrainStatus> all() {
        return apps.values().stream().flatMap(List::stream).map(LogDrain::status).toList();
    }

    /** Never blocks: each drain queues the line or drops and counts it. */
    public void accept(String app, LogLine line) {
        List<LogDrain> drains = apps.get(app);
        if (drains != null) for (LogDrain drain : drains) drain.offer(line);
    }

    /** The app is gone: its drains stop at once. */
    public void forget(String app) {
        List<LogDrain> drains = apps.remove(app);
        if (drains != null) closeAll(drains, Duration.ZERO);
    }

    /**
     * Sends what is queued, all drains at once, for at most {@code deadline}; the rest is dropped.
     * Returns the drains' final counts (for a last log line at shutdown).
     */
    public List<DrainStatus> close(Duration deadline) {
        List<LogDrain> drains = apps.values().stream().flatMap(List::stream).toList();
        apps.clear();
        closeAll(drains, deadline);
        return drains.stream().map(LogDrain::status).toList();
    }

    @Override
    public void close() { close(closeDeadline); }

    private static void closeAll(List<LogDrain> drains, Duration deadline) {
        Instant until = Instant.now().plus(deadline);
        drains.forEach(LogDrain::beginClose);
        drains.forEach(d -> d.awaitClose(until));
    }
}
