package io.dynoplane.plane;

import io.dynoplane.plane.api.ApiException;
import io.dynoplane.plane.api.ControlApi;
import io.dynoplane.plane.api.ControlBackend;
import io.dynoplane.plane.api.FormationEntry;
import io.dynoplane.plane.api.LogQuery;
import io.dynoplane.plane.api.LogSubscription;
import io.dynoplane.plane.logs.DrainSettings;
import io.dynoplane.plane.logs.LogDrainMetrics;
import io.dynoplane.plane.logs.LogDrains;
import io.dynoplane.plane.logs.LogFilter;
import io.dynoplane.plane.logs.LogHub;
import io.dynoplane.plane.logs.LogTail;
import io.dynoplane.plane.manager.AppState;
import io.dynoplane.plane.manager.OneOff;
import io.dynoplane.plane.store.App;
import io.dynoplane.plane.store.Drain;
import io.dynoplane.plane.store.FileStore;
import io.dynoplane.plane.store.Release;
import io.dynoplane.plane.store.Space;
import io.dynoplane.plane.store.Store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The daemon: the store (desired state) on top of the plane (actual state), the logs, and the control
 * API serving both. On start it converges the plane onto the store: every app's current release and
 * formation, every drain; what a previous run left running was removed by the plane's reconcile.
 * One writer per app for the store's changes: deploys and config changes of an app are serialised.
 */
public final class Daemon implements ControlBackend, AutoCloseable {
    /** How long a release phase may run before the rollout is abandoned. */
    static final Duration RELEASE_PHASE_TIMEOUT = Duration.ofMinutes(60);

    private final Store store;
    private final Plane plane;
    private final LogHub logs;
    private final LogDrains drains;
    private final Consumer<LogLine> echo;
    private final ControlApi api;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Map<String, Object> appLocks = new ConcurrentHashMap<>();

    private Daemon(Store store, Plane plane, LogHub logs, LogDrains drains, Consumer<LogLine> echo, Path socket) throws IOException {
        this.store = store;
        this.plane = plane;
        this.logs = logs;
        this.drains = drains;
        this.echo = echo;
        this.api = ControlApi.listen(socket, this);
    }

    /**
     * Opens the store under {@code storeDir}, starts the plane with {@code planeConfig} (its app lines
     * go to the logs and drains; {@code echo} also gets every line, e.g. standard output), converges it
     * onto the store and serves the control API on {@code socket}.
     */
    public static Daemon start(Path storeDir, Plane.Config planeConfig, Path socket, Consumer<LogLine> echo) {
        Store store = FileStore.open(storeDir);
        LogDrains drains = new LogDrains(DrainSettings.defaults(), Duration.ofSeconds(5));
        LogHub logs = new LogHub((app, line) -> {
            drains.accept(app, line);
            echo.accept(line);
        });
        Plane plane;
        try {
            plane = Plane.start(planeConfig.withAppLogs(logs::accept), expectedApps(store));
        } catch (RuntimeException e) {
            drains.close();
            store.close();
            throw e;
        }
        try {
            Daemon daemon = new Daemon(store, plane, logs, drains, echo, socket);
            plane.registry().register(new LogDrainMetrics(drains));
            daemon.converge();
            return daemon;
        } catch (IOException | RuntimeException e) {
            plane.close();
            drains.close();
            store.close();
            throw e instanceof IOException io ? new IllegalStateException("control API on " + socket + ": " + io.getMessage(), io) : (RuntimeException) e;
        }
    }

    /** The apps whose web dynos the router should show as booting from its first moment: routed, deployed, web > 0. */
    private static Map<String, Plane.ExpectedApp> expectedApps(Store store) {
        Map<String, Plane.ExpectedApp> expected = new LinkedHashMap<>();
        for (App app : store.apps()) {
            int web = store.formation(app.name()).getOrDefault("web", 0);
            if (app.internal() || web == 0 || store.currentRelease(app.name()).filter(r -> r.slug() != null).isEmpty()) continue;
            List<String> trusted = app.space() == null ? List.of() : store.space(app.space()).trustedCidrs();
            expected.put(app.name(), new Plane.ExpectedApp(web, trusted));
        }
        return expected;
    }

    /** Everything the store says runs: drains first, so the first lines already reach them. */
    private void converge() {
        for (App app : store.apps()) {
            for (Drain drain : store.drains(app.name())) {
                try {
                    drains.add(app.name(), drain.url(), drain.id());
                } catch (IllegalArgumentException e) {
                    echo.accept(LogLine.heroku("plane", "Drain " + drain.url() + " of " + app.name() + " not restored: " + e.getMessage()));
                }
            }
            spaceOf(app).ifPresent(space -> plane.trustedSources(app.name(), space.trustedCidrs()));
            apply(app.name());
        }
    }

    public Plane plane() { return plane; }

    /** Completes when {@code ./dynoplane down} asks the daemon to stop. */
    public CompletableFuture<Void> stopped() { return stopped; }

    // ---- apps

    @Override
    public List<App> apps() { return store.apps(); }

    @Override
    public App app(String app) { return store.app(app); }

    @Override
    public App createApp(String name, String space, boolean internal) {
        if (internal && space == null) throw ApiException.invalid("an internal app lives in a private space: add --space SPACE");
        App app = store.createApp(name, space, internal);
        spaceOf(app).ifPresent(s -> plane.trustedSources(name, s.trustedCidrs()));
        return app;
    }

    @Override
    public App destroyApp(String app) {
        synchronized (lock(app)) {
            App gone = store.app(app);
            plane.manager().destroy(app);
            plane.forgetExpected(app);
            plane.trustedSources(app, List.of());
            drains.forget(app);
            logs.forget(app);
            return store.destroyApp(gone.name());
        }
    }

    // ---- releases

    @Override
    public List<Release> releases(String app) { return store.releases(app); }

    @Override
    public Release deploy(String app, Path dir) {
        synchronized (lock(app)) {
            Procfile.read(dir); // a folder without a valid Procfile is refused before it becomes a release
            return rollOut(store.deploy(app, dir));
        }
    }

    @Override
    public Map<String, String> config(String app) { return store.config(app); }

    @Override
    public Map<String, String> updateConfig(String app, Map<String, String> changes) {
        synchronized (lock(app)) {
            Release release = store.setConfig(app, changes);
            if (release.slug() != null) rollOut(release);
            return store.config(app);
        }
    }

    /**
     * A new release goes out only once its {@code release} command (if the Procfile has one) exits 0 in a
     * one-off dyno; otherwise it is marked failed and the current release keeps running.
     */
    private Release rollOut(Release release) {
        String app = release.app();
        Procfile procfile = Procfile.read(Path.of(release.slug()));
        String command = procfile.commands().get("release");
        if (command != null) {
            AppState.Release candidate = new AppState.Release(release.version(), Path.of(release.slug()), release.config(), procfile);
            int status = runReleasePhase(app, candidate, command);
            if (status != 0) {
                store.markRelease(app, release.version(), Release.Status.FAILED);
                String message = "release command of v" + release.version() + " failed with status " + status + "; "
                        + store.currentRelease(app).map(r -> "v" + r.version() + " keeps running").orElse("nothing runs yet");
                logs.accept(app, LogLine.heroku("release." + release.version(), message));
                throw new ApiException(422, "release_failed", message);
            }
        }
        Release succeeded = store.markRelease(app, release.version(), Release.Status.SUCCEEDED);
        apply(app);
        return succeeded;
    }

    private int runReleasePhase(String app, AppState.Release candidate, String command) {
        OneOff oneOff = plane.manager().run(app, candidate, command, false);
        try {
            return oneOff.exit().get(RELEASE_PHASE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            oneOff.stop();
            return -1;
        } catch (ExecutionException e) {
            throw new IllegalStateException("release phase of " + app + " v" + candidate.version() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            oneOff.stop();
            return -1;
        }
    }

    /** Hands the app's desired state, as the store has it, to the manager. */
    private void apply(String app) {
        App a = store.app(app);
        AppState.Release release = store.currentRelease(app)
                .filter(r -> r.slug() != null)
                .map(r -> {
                    Path slug = Path.of(r.slug());
                    return new AppState.Release(r.version(), slug, r.config(), Procfile.read(slug));
                })
                .orElse(null);
        int spaceId = spaceOf(a).map(Space::id).orElse(0);
        plane.manager().apply(new AppState(app, spaceId, a.internal(), release, store.formation(app)));
    }

    private Optional<Space> spaceOf(App app) {
        return app.space() == null ? Optional.empty() : Optional.of(store.space(app.space()));
    }

    // ---- formation and dynos

    @Override
    public List<FormationEntry> formation(String app) {
        Map<String, String> commands = store.currentRelease(app).filter(r -> r.slug() != null)
                .map(r -> Procfile.read(Path.of(r.slug())).commands()).orElse(Map.of());
        Map<String, Integer> quantities = new LinkedHashMap<>();
        commands.keySet().stream().filter(t -> !t.equals("release")).forEach(t -> quantities.put(t, 0));
        quantities.putAll(store.formation(app));
        List<FormationEntry> entries = new ArrayList<>();
        quantities.forEach((type, n) -> entries.add(new FormationEntry(type, n, commands.get(type))));
        return entries;
    }

    @Override
    public List<FormationEntry> scale(String app, Map<String, Integer> updates) {
        synchronized (lock(app)) {
            if (updates.containsKey("release")) throw ApiException.invalid("the release process type runs once per release; it cannot be scaled");
            store.scale(app, updates);
            apply(app);
            return formation(app);
        }
    }

    @Override
    public List<DynoStatus> dynos(String app) {
        if (app != null) store.app(app); // 404 for an unknown app
        return plane.manager().dynos(app);
    }

    @Override
    public void restart(String app, String target) {
        store.app(app);
        plane.manager().restart(app, target);
    }

    @Override
    public void stop(String app, String target) {
        store.app(app);
        plane.manager().stop(app, target);
    }

    @Override
    public OneOff run(String app, String command, boolean attach) {
        store.app(app);
        if (store.currentRelease(app).filter(r -> r.slug() != null).isEmpty()) {
            throw ApiException.invalid("app " + app + " has no release to run: deploy it first (./dynoplane deploy DIR -a " + app + ")");
        }
        return plane.manager().run(app, null, command, attach);
    }

    // ---- logs and drains

    @Override
    public List<Drain> drains(String app) { return store.drains(app); }

    @Override
    public Drain addDrain(String app, String url) {
        synchronized (lock(app)) {
            store.app(app);
            Drain drain = store.addDrain(app, url);
            try {
                drains.add(app, url, drain.id());
            } catch (IllegalArgumentException e) {
                store.removeDrain(app, drain.id());
                throw e;
            }
            return drain;
        }
    }

    @Override
    public Drain removeDrain(String app, String id) {
        synchronized (lock(app)) {
            Drain drain = store.removeDrain(app, id);
            drains.remove(app, drain.id());
            return drain;
        }
    }

    @Override
    public LogSubscription logs(String app, LogQuery query, Consumer<String> sink) {
        store.app(app);
        LogFilter filter = LogFilter.of(query.dyno(), query.source());
        if (!query.tail()) {
            logs.recent(app, filter, query.lines()).forEach(line -> sink.accept(line.toString()));
            return () -> {};
        }
        LogTail tail = logs.tail(app, filter, query.lines(), line -> sink.accept(line.toString()));
        return tail::close;
    }

    // ---- spaces

    @Override
    public List<Space> spaces() { return store.spaces(); }

    @Override
    public Space createSpace(String name) { return store.createSpace(name); }

    @Override
    public Space addTrustedIps(String space, List<String> cidrs) {
        Space updated = store.space(space);
        for (String cidr : cidrs) updated = store.addTrustedCidr(space, cidr);
        for (App app : store.apps()) {
            if (space.equals(app.space())) plane.trustedSources(app.name(), updated.trustedCidrs());
        }
        return updated;
    }

    @Override
    public void shutdown() {
        stopped.complete(null);
    }

    private Object lock(String app) {
        return appLocks.computeIfAbsent(app, a -> new Object());
    }

    /** Stops serving the API, then the plane (router drained, dynos stopped), then flushes the drains. */
    @Override
    public void close() {
        api.close();
        try {
            plane.close();
        } finally {
            drains.close();
            store.close();
            stopped.complete(null);
        }
    }
}
