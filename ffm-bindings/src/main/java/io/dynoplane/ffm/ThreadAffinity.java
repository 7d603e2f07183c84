package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CPUs the calling thread may run on ({@code sched_setaffinity(2)} with pid 0: this thread only, not the
 * process). A proxy pins its event loop to a core of its own so that the JVM's other threads (collector, compilers)
 * cannot take that core from it for a scheduler slice of milliseconds.
 */
public final class ThreadAffinity {
    /** Room for 4,096 CPUs: the kernel refuses a mask smaller than its own {@code nr_cpu_ids} bits. */
    private static final int MASK_BYTES = 4096 / 8;

    private ThreadAffinity() {}

    /** Restricts the calling thread to {@code cpus}; a CPU that does not exist or is not allowed is EINVAL. */
    public static void pinCurrentThread(BitSet cpus) {
        if (cpus.isEmpty() || cpus.length() > MASK_BYTES * 8) {
            throw new IllegalArgumentException("CPU set must name 1 to " + MASK_BYTES * 8 + " CPUs: " + cpus);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment mask = call.allocate(MASK_BYTES, 8);
            long[] words = cpus.toLongArray();
            MemorySegment.copy(words, 0, mask, JAVA_LONG, 0, words.length);
            MemorySegment state = call.allocate(Libc.CALL_STATE);
            if (Libc.sched_setaffinity(state, 0, mask) != 0) {
                throw new SyscallException("sched_setaffinity", "CPUs " + cpus, Libc.errno(state));
            }
        }
    }

    /** The CPUs the calling thread may run on now. */
    public static BitSet currentThreadCpus() {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment mask = call.allocate(MASK_BYTES, 8);
            MemorySegment state = call.allocate(Libc.CALL_STATE);
            if (Libc.sched_getaffinity(state, 0, mask) != 0) {
                throw new SyscallException("sched_getaffinity", "this thread", Libc.errno(state));
            }
            return BitSet.valueOf(mask.toArray(JAVA_LONG));
        }
    }
}
