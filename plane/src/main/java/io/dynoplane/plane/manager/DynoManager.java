package io.dynoplane.plane.manager;

import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.LogLine;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.Provisioner;
import io.dynoplane.router.Backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Keeps each app's formation running on the provisioner, the way Heroku's dyno manager does: boot check
 * (R10), crash restarts with back-off, scale, rolling restarts onto a new release, stop with a grace
 * period (R12), daily cycling, memory quota (R14/R15), one-off dynos.
 *
 * <p>Each app has one loop ({@link AppLoop}), a single thread that owns all of the app's state: every
 * event (a call here, a process exit, a dyno bound $PORT, a timer) is queued to it, so every change has one
 * writer. Slow work (stopping a dyno through its grace period, the boot check's polling) runs on threads of
 * its own and reports back to the loop.
 *
 * <p>{@code logs} gets Heroku's lines ({@code heroku[web.1]: State changed from starting to up}) and each
 * dyno's output ({@code app[web.1]: ...}), from several threads. {@code routes} gets, whenever it changes,
 * the web dynos of every app that takes router traffic (internal apps never do): per app, its web dynos
 * with their state (UP ones take requests, STARTING ones make the router queue, CRASHED ones mean H10).
 */
public final class DynoManager implements DynoControl {
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,29}");
    static final int MAX_PER_TYPE = 100;

    final Provisioner provisioner;
    final ManagerConfig config;
    final BiConsumer<String, LogLine> logs;
    final ManagerMetrics metrics;
    private final Consumer<Map<String, List<Backend>>> routes;
    private final ConcurrentHashMap<String, AppLoop> apps = new ConcurrentHashMap<>();
    private final Map<String, List<Backend>> published = new TreeMap<>(); // guarded by itself
    private volatile boolean closed;

    public DynoManager(Provisioner provisioner, ManagerConfig config, BiConsumer<String, LogLine> logs,
                       Consumer<Map<String, List<Backend>>> routes) {
        this.provisioner = Objects.requireNonNull(provisioner, "provisioner");
        this.config = Objects.requireNonNull(config, "config");
        this.logs = Objects.requireNonNull(logs, "logs");
        this.routes = Objects.requireNonNull(routes, "routes");
        this.metrics = new ManagerMetrics(() -> dynos(null));
    }

    /** The manager's Prometheus collector, to register once. */
    public ManagerMetrics metrics() { return metrics; }

    public ManagerConfig config() { return config; }

    @Override
    public void apply(AppState desired) {
        validate(desired);
        open();
        apps.computeIfAbsent(desired.app(), a -> new AppLoop(this, a)).apply(desired);
    }

    @Override
    public void destroy(String app) {
        AppLoop loop = apps.get(app);
        if (loop == null) return; // nothing runs: already as asked
        loop.destroy().join();
        apps.remove(app, loop);
        publish(app, null);
    }

    @Override
    public void restart(String app, String target) {
        loop(app).restart(target);
    }

    @Override
    public void stop(String app, String target) {
        if (target == null || target.isBlank()) throw new IllegalArgumentException("stop needs a process type (web) or a dyno (web.1) of " + app);
        loop(app).stop(target);
    }

    @Override
    public List<DynoStatus> dynos(String app) {
        if (app != null) {
            AppLoop loop = apps.get(app);
            return loop == null ? List.of() : loop.snapshot();
        }
        List<DynoStatus> all = new ArrayList<>();
        new TreeMap<>(apps).values().forEach(l -> all.addAll(l.snapshot()));
        return all;
    }

    /** Every wired dyno of every app (formation and one-off), for per-dyno metrics. */
    public List<Dyno> running() {
        List<Dyno> all = new ArrayList<>();
        apps.values().forEach(l -> all.addAll(l.running()));
        return all;
    }

    @Override
    public OneOff run(String app, AppState.Release release, String command, boolean attached) {
        if (command == null || command.isBlank()) throw new IllegalArgumentException("run needs a command for app " + app);
        open();
        AppLoop loop = release == null ? loop(app) : apps.computeIfAbsent(requireName(app), a -> new AppLoop(this, a));
        return loop.run(release, command, attached);
    }

    /** Stops every dyno of every app, all at once (one grace period, not one per dyno). */
    @Override
    public void close() {
        closed = true;
        List<CompletableFuture<Void>> gone = new ArrayList<>();
        for (AppLoop loop : apps.values()) gone.add(loop.destroy());
        CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new)).join();
        for (String app : List.copyOf(apps.keySet())) publish(app, null);
        apps.clear();
    }

    /** Waits until {@code app}'s loop has handled every event queued so far (tests, and callers that read {@link #dynos}). */
    public void sync(String app, long timeout, TimeUnit unit) throws TimeoutException {
        AppLoop loop = apps.get(app);
        if (loop != null) loop.sync(timeout, unit);
    }

    /** Called by an app's loop with its web dynos (null: the app is gone, or takes no router traffic). */
    void publish(String app, List<Backend> webDynos) {
        synchronized (published) {
            List<Backend> before = webDynos == null ? published.remove(app) : published.put(app, List.copyOf(webDynos));
            if (Objects.equals(before, webDynos)) return;
            routes.accept(Map.copyOf(published));
        }
    }

    void log(String app, LogLine line) {
        logs.accept(app, line);
    }

    private AppLoop loop(String app) {
        AppLoop loop = apps.get(app);
        if (loop == null) throw new IllegalArgumentException("no app named '" + app + "' runs here");
        return loop;
    }

    private void open() {
        if (closed) throw new IllegalStateException("the dyno manager is closed");
    }

    private static String requireName(String app) {
        if (app == null || !NAME.matcher(app).matches()) {
            throw new IllegalArgumentException("app name must be 1-30 of a-z 0-9 '-', starting with a letter: '" + app + "'");
        }
        return app;
    }

    /** Everything that would make a dyno fail to start is refused here, naming the input. */
    static void validate(AppState desired) {
        Objects.requireNonNull(desired, "desired app state");
        String app = requireName(desired.app());
        if (desired.spaceId() < 0) throw new IllegalArgumentException("space id of " + app + " must be >= 0 (0: Common Runtime): " + desired.spaceId());
        if (desired.internal() && desired.spaceId() == 0) throw new IllegalArgumentException("app " + app + " is internal but in no private space (space id 0)");
        desired.formation().forEach((type, quantity) -> {
            if (type == null || !NAME.matcher(type).matches()) throw new IllegalArgumentException("process type of " + app + " must be 1-30 of a-z 0-9 '-': '" + type + "'");
            if (type.equals("run")) throw new IllegalArgumentException("process type 'run' of " + app + " is reserved for one-off dynos");
            if (quantity == null || quantity < 0 || quantity > MAX_PER_TYPE) {
                throw new IllegalArgumentException("formation " + type + "=" + quantity + " of " + app + ": quantity must be 0-" + MAX_PER_TYPE);
            }
            if (quantity > 0) {
                if (desired.release() == null) throw new IllegalArgumentException("app " + app + " has no release to run " + type + "=" + quantity + " with");
                if (!desired.release().procfile().commands().containsKey(type)) {
                    throw new IllegalArgumentException("formation " + type + "=" + quantity + " of " + app + ": release v" + desired.release().version()
                            + " has no '" + type + "' process type (Procfile has: " + desired.release().procfile().commands().keySet() + ")");
                }
            }
        });
        if (desired.release() != null) validate(app, desired.release());
    }

    static void validate(String app, AppState.Release release) {
        if (release.dir() == null || !java.nio.file.Files.isDirectory(release.dir())) {
            throw new IllegalArgumentException("release v" + release.version() + " of " + app + ": not a directory: " + release.dir());
        }
        release.config().forEach((name, value) -> {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw new IllegalArgumentException("config var name '" + name + "' of " + app + " is not a valid environment variable name");
            if (value.indexOf('\0') >= 0) throw new IllegalArgumentException("config var " + name + " of " + app + " contains a NUL byte");
        });
    }
}
