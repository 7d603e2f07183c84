package io.dynoplane.plane.logs;

import io.dynoplane.plane.LogLine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SyslogDrainTest {
    private static final DrainSettings FAST = new DrainSettings(1_000, 500, Duration.ofSeconds(1), 3,
            Duration.ofMillis(20), Duration.ofSeconds(5), null);

    private LogDrains drains = new LogDrains(FAST, Duration.ofSeconds(5));

    @AfterEach
    void closeDrains() { drains.close(Duration.ZERO); }

    @Test
    void sendsOctetCountedRfc5424FramesInOrder() throws Exception {
        try (SyslogListener listener = new SyslogListener()) {
            DrainStatus drain = drains.add("shop", listener.url("syslog+tcp"));
            String multibyte = "héllo → ✓ 日本語 🚀";
            LogLine app = new LogLine(Instant.parse("2026-11-26T10:00:00.123456Z"), "app", "web.1", multibyte);
            LogLine router = new LogLine(Instant.parse("2026-11-26T10:00:01Z"), "heroku", "router", "at=info method=GET path=\"/\" status=200");
            drains.accept("shop", app);
            drains.accept("other", LogLine.app("web.1", "not this app's drain"));
            drains.accept("shop", router);
            for (int i = 0; i < 50; i++) drains.accept("shop", LogLine.app("worker.2", "n" + i));

            try (SyslogListener.Connection peer = listener.accept()) {
                // readFrame reads exactly LEN bytes: a length counted in chars, not bytes, would break the next frame
                assertThat(peer.readFrame()).isEqualTo("<190>1 2026-11-26T10:00:00.123456+00:00 " + drain.token() + " app web.1 - - " + multibyte);
                assertThat(peer.readFrame()).isEqualTo("<158>1 2026-11-26T10:00:01.000000+00:00 " + drain.token() + " heroku router - - at=info method=GET path=\"/\" status=200");
                for (int i = 0; i < 50; i++) assertThat(peer.readFrame()).endsWith(" app worker.2 - - n" + i);
            }
            assertThat(drain.token()).startsWith("d.");
        }
    }

    @Test
    void theLengthPrefixCountsUtf8Bytes() {
        LogLine line = new LogLine(Instant.parse("2026-11-26T10:00:00Z"), "app", "web.1", "日本");
        byte[] framed = SyslogFrame.frames(List.of(line), "d.x");
        String message = "<190>1 2026-11-26T10:00:00.000000+00:00 d.x app web.1 - - 日本";
        int bytes = message.getBytes(StandardCharsets.UTF_8).length;
        assertThat(bytes).isGreaterThan(message.length());
        assertThat(new String(framed, StandardCharsets.UTF_8)).isEqualTo(bytes + " " + message);
    }

    @Test
    void reconnectsAfterThePeerClosesTheConnection() throws Exception {
        try (SyslogListener listener = new SyslogListener()) {
            DrainStatus drain = drains.add("shop", listener.url("syslog"));
            for (int i = 1; i <= 3; i++) drains.accept("shop", LogLine.app("web.1", "before " + i));
            try (SyslogListener.Connection first = listener.accept()) {
                for (int i = 1; i <= 3; i++) assertThat(first.readFrame()).endsWith("- - before " + i);
            } // the peer hangs up

            try (SyslogListener.Connection second = listener.accept()) { // the drain dials again on its own
                for (int i = 1; i <= 3; i++) drains.accept("shop", LogLine.app("web.1", "after " + i));
                for (int i = 1; i <= 3; i++) assertThat(second.readFrame()).endsWith("- - after " + i);
            }
            assertThat(drains.close(Duration.ofSeconds(5))).singleElement().satisfies(s -> { // final counts
                assertThat(s.id()).isEqualTo(drain.id());
                assertThat(s.sent()).isEqualTo(6);
                assertThat(s.dropped()).isZero();
            });
        }
    }

    @Test
    void sendsOverTlsTrustingTheConfiguredCertificate(@TempDir Path dir) throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        drains = new LogDrains(FAST.withSsl(certificates.trustingContext()), Duration.ofSeconds(5));
        try (SyslogListener listener = new SyslogListener(certificates.serverContext().getServerSocketFactory(), 0)) {
            drains.add("shop", listener.url("syslog+tls"));
            drains.accept("shop", LogLine.app("web.1", "over tls ✓"));
            try (SyslogListener.Connection peer = listener.accept()) {
                assertThat(peer.readFrame()).endsWith(" app web.1 - - over tls ✓");
            }
        }
    }

    @Test
    @Timeout(30) // a blocked producer fails the test instead of hanging the build
    void aPeerThatNeverReadsCostsDroppedLinesNeverABlockedDyno() throws Exception {
        // a small receive window on the peer, 1 KB lines: the connection fills within a few MB
        try (SyslogListener listener = new SyslogListener(javax.net.ServerSocketFactory.getDefault(), 4096)) {
            drains.add("shop", listener.url("syslog+tcp"));
            String kilobyte = "x".repeat(1024);
            drains.accept("shop", LogLine.app("web.1", "first"));
            try (SyslogListener.Connection peer = listener.accept()) { // accepted, never read
                long started = System.nanoTime();
                for (int i = 0; i < 100_000; i++) drains.accept("shop", LogLine.app("web.1", kilobyte));
                Duration took = Duration.ofNanos(System.nanoTime() - started);

                assertThat(took).isLessThan(Duration.ofSeconds(5)); // 100 MB cannot have gone through: lines were dropped, not waited for
                DrainStatus stuck = drains.list("shop").getFirst();
                assertThat(stuck.dropped()).isGreaterThan(90_000);

                List<DrainStatus> closed = drains.close(Duration.ofMillis(200)); // gives up on the stuck write at the deadline
                assertThat(drains.list("shop")).isEmpty();
                assertThat(closed).singleElement().satisfies(s -> { // every line accounted for: sent, or dropped and counted
                    assertThat(s.sent() + s.dropped()).isEqualTo(100_001);
                    assertThat(s.queued()).isZero();
                });
            }
        }
    }

    @Test
    void aBadDrainUrlIsRefusedNamingTheUrlAndWhatIsAccepted() {
        assertThatThrownBy(() -> drains.add("shop", "ftp://logs.example:21"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"ftp://logs.example:21\"").hasMessageContaining("syslog+tls://host:port").hasMessageContaining("https://");
        assertThatThrownBy(() -> drains.add("shop", "syslog://logs.example"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a port");
        assertThatThrownBy(() -> drains.add("shop", "not a url"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"not a url\"");
        assertThatThrownBy(() -> drains.add("shop", "")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }

    @Test
    void theSameUrlTwiceIsRefusedAndRemoveStopsTheDrain() throws Exception {
        try (SyslogListener listener = new SyslogListener()) {
            DrainStatus drain = drains.add("shop", listener.url("syslog"));
            assertThatThrownBy(() -> drains.add("shop", listener.url("syslog"))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("already drains there");
            assertThat(drains.remove("shop", drain.token())).isTrue();
            assertThat(drains.remove("shop", drain.token())).isFalse();
            assertThat(drains.list("shop")).isEmpty();
        }
    }
}
