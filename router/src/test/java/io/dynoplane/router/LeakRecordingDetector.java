package io.dynoplane.router;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Netty's leak detector, but every "LEAK:" report is also kept so tests can fail on it. Installed
 * through the {@code io.netty.customResourceLeakDetector} system property (see the router pom).
 */
public final class LeakRecordingDetector<T> extends ResourceLeakDetector<T> {
    private static final ConcurrentLinkedQueue<String> LEAKS = new ConcurrentLinkedQueue<>();
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        INSTALLED.set(true);
    }

    public LeakRecordingDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    @Override
    protected boolean needReport() {
        return true; // report even if Netty's logger happens to be quiet
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add("LEAK: " + resourceType + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add("LEAK: " + resourceType + " (untraced)");
        super.reportUntracedLeak(resourceType);
    }

    static boolean installed() {
        return INSTALLED.get();
    }

    /**
     * Makes pending leaks visible: a GC enqueues unreachable tracked buffers, and Netty only looks
     * at its queue when it tracks a new buffer, so allocate one afterwards.
     */
    static void collectGarbageAndPoll() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
            System.gc();
            // Await the GC's reference processing rather than sleeping for it.
            queue.remove(TimeUnit.SECONDS.toMillis(2));
            sentinel.clear();
            ByteBufAllocator.DEFAULT.buffer(1).release();
            ByteBufAllocator.DEFAULT.compositeBuffer().release();
        }
    }

    /** Removes and returns the recorded leaks matching {@code filter}. */
    static List<String> drain(Predicate<String> filter) {
        List<String> taken = new ArrayList<>();
        LEAKS.removeIf(leak -> {
            if (filter.test(leak)) {
                taken.add(leak);
                return true;
            }
            return false;
        });
        return taken;
    }

    static void assertNoLeaks() throws InterruptedException {
        assertThat(installed()).as("LeakRecordingDetector installed via io.netty.customResourceLeakDetector").isTrue();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        collectGarbageAndPoll();
        assertThat(drain(leak -> true)).as("Netty buffer leaks").isEmpty();
    }
}
