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

    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    @Test
    void raisesForTheDynosAndPutsBackWhatItRaised() throws IOException {
        long soft = read(SOFT), hard = read(HARD);
        int dynos = (int) Math.max(soft, hard); // surely above both: 2x and 4x of it
        try (NeighbourTable table = NeighbourTable.reserve(dynos, tmp.resolve("neighbours"))) {
            assertThat(read(SOFT)).isEqualTo(2L * dynos);
            assertThat(read(HARD)).isEqualTo(4L * dynos);
            assertThat(table.raised()).containsOnlyKeys("net.ipv4.neigh.default.gc_thresh2", "net.ipv4.neigh.default.gc_thresh3");
        }
        assertThat(read(SOFT)).isEqualTo(soft);
        assertThat(read(HARD)).isEqualTo(hard);
        assertThat(tmp.resolve("neighbours")).doesNotExist();
    }

    @Test
    void aKilledPlanesRaiseIsPutBackByTheNextPlanesStop() throws IOException {
        long soft = read(SOFT), hard = read(HARD);
        int dynos = (int) Math.max(soft, hard);
        Path journal = tmp.resolve("neighbours");
        NeighbourTable.reserve(dynos, journal); // never closed: the plane was SIGKILLed
        try {
            assertThat(read(HARD)).isEqualTo(4L * dynos);
            try (NeighbourTable next = NeighbourTable.reserve(dynos, journal)) { // the next plane: nothing left to raise
                assertThat(read(HARD)).isEqualTo(4L * dynos);
            }
            assertThat(read(SOFT)).isEqualTo(soft);
            assertThat(read(HARD)).isEqualTo(hard);
        } finally {
            Files.writeString(HARD, Long.toString(hard));
            Files.writeString(SOFT, Long.toString(soft));
        }
    }

    @Test
    void neverLowersALimitAlreadyHighEnough() throws IOException {
        long soft = read(SOFT), hard = read(HARD);
        try (NeighbourTable table = NeighbourTable.reserve(1, tmp.resolve("neighbours"))) {
            assertThat(table.raised()).isEmpty();
            assertThat(read(SOFT)).isEqualTo(soft);
            assertThat(read(HARD)).isEqualTo(hard);
        }
    }

    private static long read(Path knob) throws IOException {
        return Long.parseLong(Files.readAllLines(knob).getFirst().strip()); // readString stops after one byte of a sysctl file
    }
}
