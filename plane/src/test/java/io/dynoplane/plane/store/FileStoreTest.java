package io.dynoplane.plane.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileStoreTest {
    @TempDir Path tmp;

    private Path appDir(String procfile) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "app");
        Files.writeString(dir.resolve("Procfile"), procfile);
        Files.writeString(dir.resolve("server.sh"), "echo v1");
        return dir;
    }

    @Test
    void roundTripOfEveryKindOfState() throws Exception {
        try (FileStore store = FileStore.open(tmp.resolve("store"))) {
            Space space = store.createSpace("eu");
            assertThat(space.id()).isEqualTo(1);
            assertThat(store.addTrustedCidr("eu", "10.0.0.0/8").trustedCidrs()).containsExactly("10.0.0.0/8");
            App app = store.createApp("shop", "eu", true);
            assertThat(app).extracting(App::name, App::space, App::internal).containsExactly("shop", "eu", true);

            Release v1 = store.deploy("shop", appDir("web: ./server.sh\nworker: ./work.sh\n"));
            assertThat(v1.version()).isEqualTo(1);
            assertThat(v1.status()).isEqualTo(Release.Status.PENDING);
            assertThat(v1.description()).isEqualTo("Deploy");
            assertThat(store.currentRelease("shop")).isEmpty();
            store.markRelease("shop", 1, Release.Status.SUCCEEDED);
            assertThat(store.currentRelease("shop")).get().extracting(Release::version).isEqualTo(1);
            assertThat(store.formation("shop")).isEqualTo(Map.of("web", 1, "worker", 0));

            Release v2 = store.setConfig("shop", Map.of("FOO", "bar"));
            assertThat(v2.version()).isEqualTo(2);
            assertThat(v2.slug()).isEqualTo(v1.slug());
            assertThat(v2.config()).isEqualTo(Map.of("FOO", "bar"));
            assertThat(v2.description()).isEqualTo("Set FOO config vars");
            Map<String, String> unset = new HashMap<>();
            unset.put("FOO", null);
            assertThat(store.setConfig("shop", unset).config()).isEmpty();

            assertThat(store.scale("shop", Map.of("worker", 3))).isEqualTo(Map.of("web", 1, "worker", 3));
            Drain drain = store.addDrain("shop", "syslog://logs.example:514");
            assertThat(store.drains("shop")).containsExactly(drain);
        }
        try (FileStore reopened = FileStore.open(tmp.resolve("store"))) {
            assertThat(reopened.apps()).extracting(App::name).containsExactly("shop");
            assertThat(reopened.releases("shop")).extracting(Release::version, Release::status)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(1, Release.Status.SUCCEEDED),
                            org.assertj.core.groups.Tuple.tuple(2, Release.Status.PENDING),
                            org.assertj.core.groups.Tuple.tuple(3, Release.Status.PENDING));
            assertThat(reopened.formation("shop")).isEqualTo(Map.of("web", 1, "worker", 3));
            assertThat(reopened.drains("shop")).hasSize(1);
            assertThat(reopened.space("eu").trustedCidrs()).containsExactly("10.0.0.0/8");
            assertThat(reopened.createSpace("us").id()).isEqualTo(2);
        }
    }

    @Test
    void aReleaseIsACopyLaterEditsOfTheFolderDoNotChangeIt() throws Exception {
        try (FileStore store = FileStore.open(tmp.resolve("store"))) {
            store.createApp("shop", null, false);
            Path dir = appDir("web: ./server.sh\n");
            Release v1 = store.deploy("shop", dir);
            Files.writeString(dir.resolve("server.sh"), "echo edited");
            assertThat(Path.of(v1.slug())).startsWith(tmp.resolve("store").resolve("slugs/shop/v1"));
            assertThat(Files.readString(Path.of(v1.slug()).resolve("server.sh"))).isEqualTo("echo v1");
        }
    }

    @Test
    void errorsNameTheInput() throws Exception {
        try (FileStore store = FileStore.open(tmp.resolve("store"))) {
            store.createApp("shop", null, false);
            assertThatThrownBy(() -> store.createApp("shop", null, false)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("'shop'").extracting(e -> ((StoreException) e).kind()).isEqualTo(StoreException.Kind.CONFLICT);
            assertThatThrownBy(() -> store.app("nope")).hasMessageContaining("'nope'")
                    .extracting(e -> ((StoreException) e).kind()).isEqualTo(StoreException.Kind.NOT_FOUND);
            assertThatThrownBy(() -> store.createApp("Bad_Name", null, false)).hasMessageContaining("'Bad_Name'");
            assertThatThrownBy(() -> store.createApp("x", "nospace", false)).hasMessageContaining("'nospace'");
            store.createSpace("eu");
            assertThatThrownBy(() -> store.addTrustedCidr("eu", "10.0.0.0/33")).hasMessageContaining("'10.0.0.0/33'");
            assertThatThrownBy(() -> store.addTrustedCidr("eu", "banana")).hasMessageContaining("'banana'");
            store.deploy("shop", appDir("web: ./server.sh\n"));
            assertThatThrownBy(() -> store.scale("shop", Map.of("web", -1))).hasMessageContaining("-1").hasMessageContaining("'web'");
            assertThatThrownBy(() -> store.scale("shop", Map.of("wrk", 1))).hasMessageContaining("'wrk'");
            assertThatThrownBy(() -> store.scale("shop", Map.of("We b", 1))).hasMessageContaining("'We b'");
            assertThatThrownBy(() -> store.deploy("shop", tmp.resolve("missing"))).hasMessageContaining("missing");
            assertThatThrownBy(() -> store.deploy("shop", Path.of("relative"))).hasMessageContaining("'relative'");
            assertThatThrownBy(() -> store.addDrain("shop", "ftp://x")).hasMessageContaining("\"ftp://x\"");
            assertThatThrownBy(() -> store.setConfig("shop", Map.of("1X", "y"))).hasMessageContaining("'1X'");
            // Nothing of the failed writes reached the state.
            assertThat(store.formation("shop")).isEqualTo(Map.of("web", 1));
            assertThat(store.releases("shop")).hasSize(1);
        }
    }

    @Test
    void aTornTempFileLeftBehindIsIgnoredAndRemoved() throws Exception {
        Path dir = tmp.resolve("store");
        try (FileStore store = FileStore.open(dir)) {
            store.createApp("shop", null, false);
        }
        // What a crash during a write leaves: a half-written temp file and a half-copied slug.
        Path torn = dir.resolve("state.json.123.1.tmp");
        Files.writeString(torn, "{\"apps\":{\"gho");
        Path halfSlug = Files.createDirectories(dir.resolve("slugs/shop/v1.tmp"));
        Files.writeString(halfSlug.resolve("Procfile"), "web: x");
        try (FileStore store = FileStore.open(dir)) {
            assertThat(store.apps()).extracting(App::name).containsExactly("shop");
            assertThat(torn).doesNotExist();
            assertThat(halfSlug).doesNotExist();
            Release v1 = store.deploy("shop", appDir("web: ./server.sh\n"));
            assertThat(v1.version()).isEqualTo(1);
        }
    }

    @Test
    void concurrentWritersFromThreadsLoseNoUpdate() throws Exception {
        Path dir = tmp.resolve("store");
        int threads = 8, perThread = 15;
        try (FileStore store = FileStore.open(dir); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            store.createApp("shop", null, false);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        store.createApp("app-" + id + "-" + i, null, false);
                        store.setConfig("shop", Map.of("K" + id + "_" + i, "v"));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) f.get();
        }
        try (FileStore reopened = FileStore.open(dir)) {
            assertThat(reopened.apps()).hasSize(1 + threads * perThread);
            assertThat(reopened.config("shop")).hasSize(threads * perThread);
            assertThat(reopened.releases("shop")).extracting(Release::version)
                    .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, threads * perThread).boxed().toList());
        }
    }

    /** A writer in another JVM is SIGKILLed mid-stream; every write it acknowledged is there after reopening. */
    @Test
    void survivesSigkillOfTheWriter() throws Exception {
        Path dir = tmp.resolve("store");
        Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StoreWriterProcess.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int acknowledged = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream()))) {
            String line;
            while (acknowledged < 40 && (line = out.readLine()) != null) acknowledged = Integer.parseInt(line);
            writer.destroyForcibly(); // SIGKILL, while it keeps writing
            writer.waitFor();
        }
        assertThat(acknowledged).isEqualTo(40);
        try (FileStore reopened = FileStore.open(dir)) {
            int written = reopened.apps().size();
            assertThat(written).isGreaterThanOrEqualTo(acknowledged);
            for (int i = 1; i <= written; i++) assertThat(reopened.app("a" + i).name()).isEqualTo("a" + i);
        }
    }
}
