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
        LogPump pump = new LogPump(line -> {
            firstTaken.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            delivered.add(line.message());
        }, 2);
        pump.accept(LogLine.heroku("router", "first"));
        firstTaken.await(); // the sink holds "first"; the queue (2) is empty again
        for (int i = 0; i < 5; i++) pump.accept(LogLine.heroku("router", "line " + i)); // returns at once
        assertThat(pump.dropped()).isEqualTo(3);
        release.countDown();
        pump.close();
        assertThat(delivered).containsExactly("first", "line 0", "line 1");
    }
}
