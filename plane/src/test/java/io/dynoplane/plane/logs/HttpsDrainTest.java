package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HttpsDrainTest {
    private static TestCertificates certificates;

    @BeforeAll
    static void certificate(@TempDir Path dir) throws Exception {
        certificates = TestCertificates.create(dir);
    }

    private LogDrains drains;

    @AfterEach
    void closeDrains() {
        if (drains != null) drains.close(Duration.ZERO);
    }

    /** Batches of at most {@code lines}, lingering long enough that only a full batch or close sends one. */
    private LogDrains drains(int lines, int attempts) throws Exception {
        drains = new LogDrains(new DrainSettings(1_000, lines, Duration.ofMinutes(1), attempts, Duration.ofMillis(10),
                Duration.ofSeconds(5), certificates.trustingContext()), Duration.ofSeconds(5));
        return drains;
    }

    @Test
    void postsBatchesOfOctetCountedFramesAsLogplexDoes() throws Exception {
        try (HttpsLogListener listener = new HttpsLogListener(certificates.serverContext())) {
            DrainStatus drain = drains(5, 3).add("shop", listener.url("/logs"));
            Instant at = Instant.parse("2026-11-26T10:00:00.5Z");
            for (int i = 0; i < 10; i++) drains.accept("shop", new LogLine(at, "app", "web.1", "line " + i + " ✓"));

            for (int batch = 0; batch < 2; batch++) {
                HttpsLogListener.Post post = listener.next();
                assertThat(post.path()).isEqualTo("/logs");
                assertThat(post.headers().getFirst("Content-Type")).isEqualTo("application/logplex-1");
                assertThat(post.headers().getFirst("Logplex-Msg-Count")).isEqualTo("5");
                assertThat(post.headers().getFirst("Logplex-Drain-Token")).isEqualTo(drain.token());
                assertThat(post.headers().getFirst("Logplex-Frame-Id")).isNotBlank();
                assertThat(post.frames()).hasSize(5);
                for (int i = 0; i < 5; i++) {
                    assertThat(post.frames().get(i)).isEqualTo("<190>1 2026-11-26T10:00:00.500000+00:00 " + drain.token()
                            + " app web.1 - - line " + (batch * 5 + i) + " ✓");
                }
            }
            assertThat(drains.close(Duration.ofSeconds(5))).singleElement().satisfies(s -> assertThat(s.sent()).isEqualTo(10));
        }
    }

    @Test
    void closeSendsWhatIsQueuedWithoutWaitingForAFullBatch() throws Exception {
        try (HttpsLogListener listener = new HttpsLogListener(certificates.serverContext())) {
            drains(500, 3).add("shop", listener.url("/"));
            for (int i = 0; i < 3; i++) drains.accept("shop", LogLine.heroku("router", "at=info " + i));

            List<DrainStatus> closed = drains.close(Duration.ofSeconds(10));

            HttpsLogListener.Post post = listener.next();
            assertThat(post.headers().getFirst("Logplex-Msg-Count")).isEqualTo("3");
            assertThat(post.frames()).extracting(f -> f.substring(f.indexOf(" heroku "))).containsExactly(
                    " heroku router - - at=info 0", " heroku router - - at=info 1", " heroku router - - at=info 2");
            assertThat(closed).singleElement().satisfies(s -> assertThat(s.sent()).isEqualTo(3));
        }
    }

    @Test
    void aFailedBatchIsRetriedWithTheSameFrameId() throws Exception {
        try (HttpsLogListener listener = new HttpsLogListener(certificates.serverContext())) {
            listener.answer(503, 500);
            drains(2, 3).add("shop", listener.url("/"));
            drains.accept("shop", LogLine.app("web.1", "a"));
            drains.accept("shop", LogLine.app("web.1", "b"));

            HttpsLogListener.Post first = listener.next();
            HttpsLogListener.Post second = listener.next();
            HttpsLogListener.Post third = listener.next();

            String frameId = first.headers().getFirst("Logplex-Frame-Id");
            assertThat(List.of(second, third)).allSatisfy(p -> {
                assertThat(p.headers().getFirst("Logplex-Frame-Id")).isEqualTo(frameId);
                assertThat(p.frames()).isEqualTo(first.frames());
            });
            List<DrainStatus> closed = drains.close(Duration.ofSeconds(10));
            assertThat(closed).singleElement().satisfies(s -> {
                assertThat(s.sent()).isEqualTo(2);
                assertThat(s.errors()).isEqualTo(2);
                assertThat(s.dropped()).isZero();
            });
        }
    }

    @Test
    void aBatchThatFailsEveryTryIsDroppedAndCounted() throws Exception {
        try (HttpsLogListener listener = new HttpsLogListener(certificates.serverContext())) {
            listener.answer(500, 500);
            drains(2, 2).add("shop", listener.url("/"));
            drains.accept("shop", LogLine.app("web.1", "a"));
            drains.accept("shop", LogLine.app("web.1", "b"));
            listener.next();
            listener.next();
            drains.accept("shop", LogLine.app("web.1", "c"));
            drains.accept("shop", LogLine.app("web.1", "d"));

            assertThat(listener.next().frames()).extracting(f -> f.substring(f.length() - 1)).containsExactly("c", "d");
            List<DrainStatus> closed = drains.close(Duration.ofSeconds(10));
            assertThat(closed).singleElement().satisfies(s -> {
                assertThat(s.sent()).isEqualTo(2);
                assertThat(s.dropped()).isEqualTo(2);
                assertThat(s.errors()).isEqualTo(2);
            });
            assertThat(listener.pending()).isZero();
        }
    }

    @Test
    void aCertificateTheDrainDoesNotTrustIsAnErrorNotADelivery(@TempDir Path other) throws Exception {
        TestCertificates stranger = TestCertificates.create(other);
        try (HttpsLogListener listener = new HttpsLogListener(stranger.serverContext())) {
            drains(1, 2).add("shop", listener.url("/"));
            drains.accept("shop", LogLine.app("web.1", "secret"));

            List<DrainStatus> closed = drains.close(Duration.ofSeconds(10));

            assertThat(closed).singleElement().satisfies(s -> {
                assertThat(s.sent()).isZero();
                assertThat(s.dropped()).isEqualTo(1);
                assertThat(s.errors()).isEqualTo(2);
            });
            assertThat(listener.pending()).isZero();
        }
    }
}
