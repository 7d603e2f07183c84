package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The neighbour table's limits are raised for the dynos asked for, never lowered, and put back on close. */
class NeighbourTableTest {
    private static final Path SOFT = Path.of("/proc/sys/net/ipv4/neigh/default/gc_thresh2");
    private static final Path HARD = Path.of("/proc/sys/net/ipv4/neigh/default/gc_thresh3");

    @Test
    void raisesForTheDynosAndPutsBackWhatItRaised() throws IOException {
        long soft = read(SOFT), hard = read(HARD);
        int dynos = (int) Math.max(soft, hard); // surely above both: 2x and 4x of it
        try (NeighbourTable table = NeighbourTable.reserve(dynos)) {
            assertThat(read(SOFT)).isEqualTo(2L * dynos);
            assertThat(read(HARD)).isEqualTo(4L * dynos);
            assertThat(table.raised()).containsOnlyKeys("net.ipv4.neigh.default.gc_thresh2", "net.ipv4.neigh.default.gc_thresh3");
        }
        assertThat(read(SOFT)).isEqualTo(soft);
        assertThat(read(HARD)).isEqualTo(hard);
    }

    @Test
    void neverLowersALimitAlreadyHighEnough() throws IOException {
        long soft = read(SOFT), hard = read(HARD);
        try (NeighbourTable table = NeighbourTable.reserve(1)) {
            assertThat(table.raised()).isEmpty();
            assertThat(read(SOFT)).isEqualTo(soft);
            assertThat(read(HARD)).isEqualTo(hard);
        }
    }

    private static long read(Path knob) throws IOException {
        return Long.parseLong(Files.readAllLines(knob).getFirst().strip()); // readString stops after one byte of a sysctl file
    }
}
