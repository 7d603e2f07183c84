package io.dynoplane.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Proves the leak check can fail: leak one buffer on purpose and watch it get reported. */
class LeakDetectionSelfTest {

    @Test
    void aDeliberateLeakIsReported() throws InterruptedException {
        assertThat(LeakRecordingDetector.installed()).isTrue();
        leakOneBuffer();
        List<String> ours = List.of();
        for (int attempt = 0; attempt < 5 && ours.isEmpty(); attempt++) {
            LeakRecordingDetector.collectGarbageAndPoll();
            ours = LeakRecordingDetector.drain(leak -> leak.contains("leakOneBuffer"));
        }
        assertThat(ours).isNotEmpty();
        assertThat(ours.getFirst()).contains("LEAK: ByteBuf");
    }

    private static void leakOneBuffer() {
        ByteBuf leaked = ByteBufAllocator.DEFAULT.buffer(16).writeLong(42);
        assertThat(leaked.refCnt()).isEqualTo(1); // and then drop it unreleased
    }
}
