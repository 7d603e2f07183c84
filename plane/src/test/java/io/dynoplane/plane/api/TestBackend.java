package io.dynoplane.plane.api;

import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.manager.OneOff;
import io.dynoplane.plane.store.App;
import io.dynoplane.plane.store.Drain;
import io.dynoplane.plane.store.FileStore;
import io.dynoplane.plane.store.Release;
import io.dynoplane.plane.store.Space;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The backend the API and CLI tests serve: a real {@link FileStore} for the desired state, canned
 * dynos, log lines the test publishes, and one-offs that are real {@code sh -c} processes.
 */
public final class TestBackend implements ControlBackend {
    public final FileStore store;
    public final List<DynoStatus> dynos = new CopyOnWriteArrayList<>();
    public final List<String> logLines = new CopyOnWriteArrayList<>();
    public final List<String> actions = new CopyOnWriteArrayList<>();
    public final LinkedBlockingQueue<Process> oneOffs = new LinkedBlockingQueue<>();
    /** Completes (once per subscription) when a tailing session is closed. */
    public final LinkedBlockingQueue<String> sessionsClosed = new LinkedBlockingQueue<>();
    public final CompletableFuture<Void> shutdown = new CompletableFuture<>();
    private final List<Consumer<String>> tails = new CopyOnWriteArrayList<>();
    private final AtomicInteger runs = new AtomicInteger();

    public TestBackend(Path storeDir) { this.store = FileStore.open(storeDir); }

    /** A new log line: kept for later sessions and sent to the tailing ones. */
    public void publish(String line) {
        logLines.add(line);
        tails.forEach(t -> t.accept(line));
    }

    public int tailing() { return tails.size(); }

    @Override public List<App> apps() { return store.apps(); }
    @Override public App app(String app) { return store.app(app); }
    @Override public App createApp(String name, String space, boolean internal) { return store.createApp(name, space, internal); }
    @Override public App destroyApp(String app) { return store.destroyApp(app); }
    @Override public List<Release> releases(String app) { return store.releases(app); }

    @Override
    public Release deploy(String app, Path dir) {
        Release release = store.deploy(app, dir);
        return store.markRelease(app, release.version(), Release.Status.SUCCEEDED);
    }

    @Override
    public List<FormationEntry> formation(String app) {
        return store.formation(app).entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> new FormationEntry(e.getKey(), e.getValue(), "./" + e.getKey())).toList();
    }

    @Override
    public List<FormationEntry> scale(String app, Map<String, Integer> updates) {
        store.scale(app, updates);
        return formation(app);
    }

    @Override
    public List<DynoStatus> dynos(String app) {
        if (app != null) store.app(app);
        return dynos.stream().filter(d -> app == null || d.app().equals(app)).toList();
    }

    @Override
    public void restart(String app, String target) {
        store.app(app);
        actions.add("restart " + app + " " + target);
    }

    @Override
    public void stop(String app, String target) {
        store.app(app);
        if (target.equals("nope.1")) throw ApiException.notFound("no dyno 'nope.1' in app '" + app + "'");
        actions.add("stop " + app + " " + target);
    }

    @Override
    public OneOff run(String app, String command, boolean attach) {
        store.app(app);
        try {
            Process process = new ProcessBuilder("sh", "-c", command).start();
            oneOffs.add(process);
            String name = "run." + runs.incrementAndGet();
            return new OneOff() {
                @Override public String name() { return name; }
                @Override public OutputStream stdin() { return process.getOutputStream(); }
                @Override public InputStream stdout() { return process.getInputStream(); }
                @Override public InputStream stderr() { return process.getErrorStream(); }
                @Override public CompletableFuture<Integer> exit() { return process.onExit().thenApply(Process::exitValue); }
                @Override public void stop() { process.destroy(); }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public Map<String, String> config(String app) { return store.config(app); }

    @Override
    public Map<String, String> updateConfig(String app, Map<String, String> changes) {
        store.setConfig(app, changes);
        return store.config(app);
    }

    @Override public List<Drain> drains(String app) { return store.drains(app); }
    @Override public Drain addDrain(String app, String url) { return store.addDrain(app, url); }
    @Override public Drain removeDrain(String app, String id) { return store.removeDrain(app, id); }

    @Override
    public LogSubscription logs(String app, LogQuery query, Consumer<String> sink) {
        store.app(app);
        List<String> matching = new ArrayList<>();
        for (String line : logLines) if (matches(line, query)) matching.add(line);
        matching.subList(0, Math.max(0, matching.size() - query.lines())).clear();
        matching.forEach(sink);
        if (!query.tail()) return () -> {};
        Consumer<String> tail = line -> { if (matches(line, query)) sink.accept(line); };
        tails.add(tail);
        return () -> {
            tails.remove(tail);
            sessionsClosed.add(app);
        };
    }

    private static boolean matches(String line, LogQuery query) {
        return (query.source() == null || line.contains(" " + query.source() + "["))
                && (query.dyno() == null || line.contains("[" + query.dyno() + "]") || line.contains("[" + query.dyno() + "."));
    }

    @Override public List<Space> spaces() { return store.spaces(); }
    @Override public Space createSpace(String name) { return store.createSpace(name); }

    @Override
    public Space addTrustedIps(String space, List<String> cidrs) {
        Space out = store.space(space);
        for (String cidr : cidrs) out = store.addTrustedCidr(space, cidr);
        return out;
    }

    @Override public void shutdown() { shutdown.complete(null); }
}
