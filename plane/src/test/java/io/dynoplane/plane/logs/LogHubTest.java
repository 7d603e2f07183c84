package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogHubTest {
    private final LogHub hub = new LogHub((app, line) -> {});

    @Test
    void keepsTheLast1500LinesPerApp() {
        for (int i = 0; i < 2_000; i++) hub.accept("shop", LogLine.app("web.1", "line " + i));
        hub.accept("blog", LogLine.app("web.1", "blog's own"));

        List<LogLine> kept = hub.recent("shop", LogFilter.ALL, 1_500);

        assertThat(kept).hasSize(1_500);
        assertThat(kept.getFirst().message()).isEqualTo("line 500");
        assertThat(kept.getLast().message()).isEqualTo("line 1999");
        assertThat(hub.recent("shop", LogFilter.ALL, 3)).extracting(LogLine::message).containsExactly("line 1997", "line 1998", "line 1999");
        assertThat(hub.recent("blog", LogFilter.ALL, 100)).extracting(LogLine::message).containsExactly("blog's own");
        assertThat(hub.recent("nobody", LogFilter.ALL, 100)).isEmpty();
    }

    @Test
    void filtersByDynoTypeAndSource() {
        hub.accept("shop", LogLine.app("web.1", "a"));
        hub.accept("shop", LogLine.app("web.12", "b"));
        hub.accept("shop", LogLine.app("worker.1", "c"));
        hub.accept("shop", LogLine.heroku("router", "d"));
        hub.accept("shop", LogLine.heroku("web.1", "e"));
        hub.accept("shop", LogLine.app("webhook.1", "f"));

        assertThat(messages(LogFilter.of("web.1", null))).containsExactly("a", "e");
        assertThat(messages(LogFilter.of("web", null))).containsExactly("a", "b", "e");
        assertThat(messages(LogFilter.of(null, "heroku"))).containsExactly("d", "e");
        assertThat(messages(LogFilter.of("web", "app"))).containsExactly("a", "b");
        assertThat(messages(LogFilter.of("router", ""))).containsExactly("d");
        assertThat(hub.recent("shop", LogFilter.of("web", null), 2)).extracting(LogLine::message).containsExactly("b", "e");
    }

    @Test
    void badFiltersAndCountsAreRefusedByName() {
        assertThatThrownBy(() -> LogFilter.of(null, "dyno")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("source \"dyno\"").hasMessageContaining("app or heroku");
        assertThatThrownBy(() -> LogFilter.of("web 1", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dyno \"web 1\"");
        assertThatThrownBy(() -> hub.recent("shop", LogFilter.ALL, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lines 0").hasMessageContaining("1 to 1500");
        assertThatThrownBy(() -> hub.recent("shop", LogFilter.ALL, 1_501)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lines 1501");
    }

    @Test
    void aTailGetsTheBacklogThenNewMatchingLinesInOrder() throws InterruptedException {
        hub.accept("shop", LogLine.app("web.1", "old 1"));
        hub.accept("shop", LogLine.app("web.1", "old 2"));
        hub.accept("shop", LogLine.app("web.1", "old 3"));
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();

        try (LogTail tail = hub.tail("shop", LogFilter.of("web.1", null), 2, line -> seen.add(line.message()))) {
            hub.accept("shop", LogLine.app("worker.1", "not mine"));
            hub.accept("other", LogLine.app("web.1", "other app"));
            for (int i = 0; i < 100; i++) hub.accept("shop", LogLine.app("web.1", "new " + i));

            List<String> expected = Stream.concat(Stream.of("old 2", "old 3"), IntStream.range(0, 100).mapToObj(i -> "new " + i)).toList();
            for (String want : expected) assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo(want);
            assertThat(tail.dropped()).isZero();
        }
        hub.accept("shop", LogLine.app("web.1", "after close"));
        hub.accept("shop", LogLine.app("web.1", "after close 2"));
        assertThat(seen).isEmpty(); // closed: removed from the app, nothing more offered
    }

    @Test
    @Timeout(30) // a blocked producer fails the test instead of hanging the build
    void aTailThatStopsReadingCostsItsOwnDroppedLinesNotABlockedProducer() throws InterruptedException {
        LogHub small = new LogHub((app, line) -> {}, 1_500, 100);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        LogTail stuck = small.tail("shop", LogFilter.ALL, line -> {
            holding.countDown();
            try {
                never.await(); // a client that stopped reading
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        small.accept("shop", LogLine.app("web.1", "first"));
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue(); // the subscriber holds "first"; its queue is empty

        long started = System.nanoTime();
        for (int i = 0; i < 100_000; i++) small.accept("shop", LogLine.app("web.1", "line " + i));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(took).isLessThan(Duration.ofSeconds(5)); // microseconds a line; a blocked producer would never finish
        assertThat(stuck.dropped()).isEqualTo(100_000 - 100);
        assertThat(small.recent("shop", LogFilter.ALL, 1)).extracting(LogLine::message).containsExactly("line 99999");
        stuck.close();
        assertThat(stuck.isClosed()).isTrue();
    }

    @Test
    void forgettingAnAppDropsItsLinesAndEndsItsTails() {
        hub.accept("shop", LogLine.app("web.1", "a"));
        LogTail tail = hub.tail("shop", LogFilter.ALL, line -> {});

        hub.forget("shop");

        assertThat(hub.recent("shop", LogFilter.ALL, 10)).isEmpty();
        assertThat(tail.isClosed()).isTrue();
    }

    private List<String> messages(LogFilter filter) {
        return hub.recent("shop", filter, 1_500).stream().map(LogLine::message).toList();
    }
}
