package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Pins real threads and reads the result back from the kernel ({@code /proc/thread-self/status}). */
class ThreadAffinityTest {
    /** What /proc says the calling thread may run on, e.g. "0-1" or "1". */
    private static String procCpus() throws Exception {
        return Files.readAllLines(Path.of("/proc/thread-self/status")).stream()
                .filter(line -> line.startsWith("Cpus_allowed_list:"))
                .map(line -> line.substring(line.indexOf(':') + 1).strip())
                .findFirst().orElseThrow();
    }

    /** Runs {@code body} on a new platform thread (so pinning it cannot leak into the test runner's threads). */
    private static <T> T onNewThread(java.util.concurrent.Callable<T> body) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                result.complete(body.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void pinsOnlyTheCallingThread() throws Exception {
        BitSet allowed = ThreadAffinity.currentThreadCpus();
        assertEquals(Runtime.getRuntime().availableProcessors(), allowed.cardinality(), "this thread's CPUs: " + allowed);
        int last = allowed.length() - 1;
        String pinned = onNewThread(() -> {
            BitSet one = new BitSet();
            one.set(last);
            ThreadAffinity.pinCurrentThread(one);
            assertEquals(one, ThreadAffinity.currentThreadCpus());
            return procCpus();
        });
        assertEquals(Integer.toString(last), pinned, "the kernel's view of the pinned thread");
        assertEquals(allowed, ThreadAffinity.currentThreadCpus(), "the calling thread of the test is untouched");
    }

    @Test
    void aCpuTheMachineLacksIsRefusedByName() throws Exception {
        SyscallException e = onNewThread(() -> {
            BitSet missing = new BitSet();
            missing.set(4000);
            BitSet before = ThreadAffinity.currentThreadCpus();
            SyscallException thrown = assertThrows(SyscallException.class, () -> ThreadAffinity.pinCurrentThread(missing));
            assertEquals(before, ThreadAffinity.currentThreadCpus(), "a refused pin changes nothing");
            return thrown;
        });
        assertEquals("EINVAL", e.errnoName());
        assertEquals(true, e.getMessage().contains("4000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadAffinity.pinCurrentThread(new BitSet()));
    }
}
