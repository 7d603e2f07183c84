package io.dynoplane.plane.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dynoplane.plane.Procfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The store as files under one folder: {@code state.json} (the whole state, replaced atomically
 * on every write) and {@code slugs/APP/vN/} (each release's copy of the deployed folder).
 * Writers are serialised by one lock; a write works on a copy and becomes visible only once it is
 * on disk, so a failed write changes nothing. Leftovers of a crash (temp files, half-copied or
 * unreferenced slugs) are removed when the store opens.
 */
public final class FileStore implements Store {
    public static final Path DEFAULT = Path.of("/var/lib/dynoplane/store");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final Path stateFile;
    private final Path slugs;
    private final Object lock = new Object();
    private StoreState state;

    private FileStore(Path dir, StoreState state) {
        this.dir = dir;
        this.stateFile = dir.resolve("state.json");
        this.slugs = dir.resolve("slugs");
        this.state = state;
    }

    /** Opens (creating if needed, mode 0700) the store in {@code dir}. */
    public static FileStore open(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Path file = dir.resolve("state.json");
            StoreState state = Files.exists(file) ? read(file) : new StoreState();
            FileStore store = new FileStore(dir, state);
            store.removeLeftovers();
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the store in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static StoreState read(Path file) throws IOException {
        try {
            return JSON.readValue(file.toFile(), StoreState.class);
        } catch (IOException e) {
            throw new IllegalStateException("the store file " + file + " is not readable state (" + e.getMessage() + "); restore it from a backup", e);
        }
    }

    public Path dir() { return dir; }

    private void removeLeftovers() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(AtomicFile.TEMP_SUFFIX)).toList()) Files.delete(p);
        }
        if (!Files.isDirectory(slugs)) return;
        try (Stream<Path> apps = Files.list(slugs)) {
            for (Path appDir : apps.toList()) {
                StoreState.AppEntry entry = state.apps.get(appDir.getFileName().toString());
                if (entry == null) {
                    SlugCopier.deleteTree(appDir);
                    continue;
                }
                try (Stream<Path> versions = Files.list(appDir)) {
                    for (Path v : versions.toList()) {
                        String name = v.getFileName().toString();
                        boolean referenced = entry.releases.stream().anyMatch(r -> slugName(r.version()).equals(name));
                        if (!referenced) SlugCopier.deleteTree(v);
                    }
                }
            }
        }
    }

    private static String slugName(int version) { return "v" + version; }

    private static String now() { return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(); }

    // ---- reads

    private <T> T read(Function<StoreState, T> reader) {
        synchronized (lock) {
            return reader.apply(state);
        }
    }

    private static StoreState.AppEntry entry(StoreState s, String app) {
        StoreState.AppEntry entry = s.apps.get(app);
        if (entry == null) throw StoreException.notFound("no app named '" + app + "'");
        return entry;
    }

    @Override public List<App> apps() { return read(s -> s.apps.values().stream().map(e -> e.app).toList()); }

    @Override public App app(String name) { return read(s -> entry(s, name).app); }

    @Override public List<Release> releases(String app) { return read(s -> List.copyOf(entry(s, app).releases)); }

    @Override
    public Release release(String app, int version) {
        return read(s -> entry(s, app).releases.stream().filter(r -> r.version() == version).findFirst()
                .orElseThrow(() -> StoreException.notFound("app '" + app + "' has no release v" + version)));
    }

    @Override
    public Optional<Release> currentRelease(String app) {
        return read(s -> entry(s, app).releases.stream().filter(r -> r.status() == Release.Status.SUCCEEDED).max(Comparator.comparingInt(Release::version)));
    }

    @Override public Map<String, String> config(String app) { return read(s -> Map.copyOf(entry(s, app).config)); }

    @Override public Map<String, Integer> formation(String app) { return read(s -> Map.copyOf(entry(s, app).formation)); }

    @Override public List<Drain> drains(String app) { return read(s -> List.copyOf(entry(s, app).drains)); }

    @Override public List<Space> spaces() { return read(s -> List.copyOf(s.spaces.values())); }

    @Override public Space space(String name) { return read(s -> space(s, name)); }

    private static Space space(StoreState s, String name) {
        Space space = s.spaces.get(name);
        if (space == null) throw StoreException.notFound("no space named '" + name + "'");
        return space;
    }

    // ---- writes

    /** Applies {@code change} to a copy of the state, writes the copy, then makes it the state. */
    private <T> T write(Function<StoreState, T> change) {
        synchronized (lock) {
            StoreState copy = JSON.convertValue(state, StoreState.class);
            T result = change.apply(copy);
            try {
                AtomicFile.write(stateFile, JSON.writeValueAsBytes(copy));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the store file " + stateFile + ": " + e.getMessage(), e);
            }
            state = copy;
            return result;
        }
    }

    @Override
    public App createApp(String name, String space, boolean internal) {
        Names.app(name);
        if (space != null) Names.space(space);
        if (internal && space == null) throw StoreException.invalid("an internal app needs a space (app '" + name + "')");
        return write(s -> {
            if (s.apps.containsKey(name)) throw StoreException.conflict("an app named '" + name + "' already exists");
            if (space != null) space(s, space);
            StoreState.AppEntry entry = new StoreState.AppEntry();
            entry.app = new App(name, space, internal, now());
            s.apps.put(name, entry);
            return entry.app;
        });
    }

    @Override
    public App destroyApp(String name) {
        App gone = write(s -> {
            App app = entry(s, name).app;
            s.apps.remove(name);
            return app;
        });
        try {
            SlugCopier.deleteTree(slugs.resolve(name));
        } catch (IOException e) {
            // The app is gone from the state; the next open removes its unreferenced slugs.
            System.getLogger(FileStore.class.getName()).log(System.Logger.Level.WARNING, "cannot delete the slugs of " + name + " yet", e);
        }
        return gone;
    }

    @Override
    public Release deploy(String app, Path dir) {
        if (dir == null || !dir.isAbsolute()) throw StoreException.invalid("deploy needs an absolute folder, got '" + dir + "'");
        if (!Files.isDirectory(dir)) throw StoreException.invalid("no folder at '" + dir + "'");
        Procfile procfile;
        try {
            procfile = Procfile.read(dir);
        } catch (IllegalArgumentException e) {
            throw StoreException.invalid("cannot deploy '" + dir + "': " + e.getMessage());
        }
        synchronized (lock) {
            int version = entry(state, app).releases.size() + 1;
            Path slug = slugs.resolve(app).resolve(slugName(version));
            try {
                SlugCopier.copy(dir, slug);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy '" + dir + "' into the store: " + e.getMessage(), e);
            }
            return write(s -> {
                StoreState.AppEntry entry = entry(s, app);
                for (String type : procfile.commands().keySet()) {
                    if (!type.equals("release")) entry.formation.putIfAbsent(type, type.equals("web") ? 1 : 0);
                }
                return addRelease(entry, slug.toString(), "Deploy");
            });
        }
    }

    private static Release addRelease(StoreState.AppEntry entry, String slug, String description) {
        Release release = new Release(entry.app.name(), entry.releases.size() + 1, slug, entry.config, description, Release.Status.PENDING, now());
        entry.releases.add(release);
        return release;
    }

    @Override
    public Release setConfig(String app, Map<String, String> changes) {
        if (changes.isEmpty()) throw StoreException.invalid("no config vars to change for app '" + app + "'");
        changes.keySet().forEach(Names::configKey);
        return write(s -> {
            StoreState.AppEntry entry = entry(s, app);
            changes.forEach((k, v) -> {
                if (v == null) entry.config.remove(k);
                else entry.config.put(k, v);
            });
            String slug = entry.releases.isEmpty() ? null : entry.releases.getLast().slug();
            List<String> set = changes.entrySet().stream().filter(e -> e.getValue() != null).map(Map.Entry::getKey).sorted().toList();
            List<String> unset = changes.entrySet().stream().filter(e -> e.getValue() == null).map(Map.Entry::getKey).sorted().toList();
            String description = Stream.of(set.isEmpty() ? null : "Set " + String.join(", ", set) + " config vars",
                    unset.isEmpty() ? null : "Remove " + String.join(", ", unset) + " config vars").filter(d -> d != null).reduce((a, b) -> a + "; " + b).orElseThrow();
            return addRelease(entry, slug, description);
        });
    }

    @Override
    public Release markRelease(String app, int version, Release.Status status) {
        if (status == Release.Status.PENDING) throw StoreException.invalid("a release can only be marked succeeded or failed, not pending");
        return write(s -> {
            List<Release> releases = entry(s, app).releases;
            for (int i = 0; i < releases.size(); i++) {
                Release r = releases.get(i);
                if (r.version() != version) continue;
                if (r.status() != Release.Status.PENDING) throw StoreException.conflict("release v" + version + " of '" + app + "' is already " + r.status().name().toLowerCase(java.util.Locale.ROOT));
                releases.set(i, r.withStatus(status));
                return releases.get(i);
            }
            throw StoreException.notFound("app '" + app + "' has no release v" + version);
        });
    }

    @Override
    public Map<String, Integer> scale(String app, Map<String, Integer> updates) {
        if (updates.isEmpty()) throw StoreException.invalid("no process types to scale for app '" + app + "'");
        updates.forEach((type, quantity) -> {
            Names.processType(type);
            if (quantity == null || quantity < 0) throw StoreException.invalid("bad quantity " + quantity + " for process type '" + type + "': use 0 or more");
        });
        return write(s -> {
            StoreState.AppEntry entry = entry(s, app);
            Optional<Release> current = entry.releases.stream().filter(r -> r.slug() != null).reduce((a, b) -> b);
            if (current.isEmpty()) throw StoreException.invalid("app '" + app + "' has no code yet: deploy before scaling");
            for (String type : updates.keySet()) {
                if (!entry.formation.containsKey(type)) {
                    throw StoreException.invalid("no process type '" + type + "' in the Procfile of '" + app + "' (it has " + String.join(", ", entry.formation.keySet()) + ")");
                }
            }
            entry.formation.putAll(updates);
            return Map.copyOf(entry.formation);
        });
    }

    @Override
    public Drain addDrain(String app, String url) {
        Names.drainUrl(url);
        return write(s -> {
            StoreState.AppEntry entry = entry(s, app);
            if (entry.drains.stream().anyMatch(d -> d.url().equals(url))) throw StoreException.conflict("app '" + app + "' already drains to '" + url + "'");
            String id = UUID.randomUUID().toString();
            Drain drain = new Drain(id, url, "d." + id); // the token the drain's lines carry, as LogDrains makes it
            entry.drains.add(drain);
            return drain;
        });
    }

    @Override
    public Drain removeDrain(String app, String id) {
        return write(s -> {
            List<Drain> drains = entry(s, app).drains;
            Drain drain = drains.stream().filter(d -> d.id().equals(id) || d.url().equals(id)).findFirst()
                    .orElseThrow(() -> StoreException.notFound("app '" + app + "' has no drain '" + id + "'"));
            drains.remove(drain);
            return drain;
        });
    }

    @Override
    public Space createSpace(String name) {
        Names.space(name);
        return write(s -> {
            if (s.spaces.containsKey(name)) throw StoreException.conflict("a space named '" + name + "' already exists");
            s.lastSpaceId++;
            Space space = new Space(name, s.lastSpaceId, List.of(), now());
            s.spaces.put(name, space);
            return space;
        });
    }

    @Override
    public Space addTrustedCidr(String space, String cidr) {
        Names.cidr(cidr);
        return write(s -> {
            Space old = space(s, space);
            if (old.trustedCidrs().contains(cidr)) return old;
            List<String> cidrs = Stream.concat(old.trustedCidrs().stream(), Stream.of(cidr)).toList();
            Space updated = new Space(old.name(), old.id(), cidrs, old.createdAt());
            s.spaces.put(space, updated);
            return updated;
        });
    }

    @Override
    public void close() {
        // Every write is already on disk; nothing is buffered.
    }
}
