package io.dynoplane.plane;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

class LogPumpTest {
    @Test
    void aStalledSinkCostsDroppedLinesNeverABlockedCaller() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstTaken = new CountDownLatch(1);
        List<String> delivered = new ArrayList<>();
        List<String> ofNoApp = new ArrayList<>();
        LogPump pump = new LogPump(line -> ofNoApp.add(line.message()), (app, line) -> {
            firstTaken.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            delivered.add(app + ": " + line.message());
        }, 2);
        pump.accept("shop", LogLine.heroku("router", "first"));
        firstTaken.await(); // the sink holds "first"; the queue (2) is empty again
        for (int i = 0; i < 5; i++) pump.accept("shop", LogLine.heroku("router", "line " + i)); // returns at once
        assertThat(pump.dropped()).isEqualTo(3);
        release.countDown();
        pump.close();
        assertThat(delivered).containsExactly("shop: first", "shop: line 0", "shop: line 1");
        assertThat(ofNoApp).isEmpty();
    }

    @Test
    void aLineOfNoAppGoesToThePlanesSink() {
        List<String> ofNoApp = new ArrayList<>();
        List<String> ofApps = new ArrayList<>();
        LogPump pump = new LogPump(line -> ofNoApp.add(line.message()), (app, line) -> ofApps.add(app), 10);
        pump.accept(null, LogLine.heroku("router", "no such app"));
        pump.accept("shop", LogLine.heroku("router", "routed"));
        pump.close();
        assertThat(ofNoApp).containsExactly("no such app");
        assertThat(ofApps).containsExactly("shop");
    }
}
