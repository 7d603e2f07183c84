package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.dynoplane.ffm.Fixtures.counter;
import static io.dynoplane.ffm.Fixtures.u32;
import static io.dynoplane.ffm.Fixtures.u64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Pinning maps and programs in bpffs, and using a pinned map by fd alone; no network involved. */
class BpfPinTest {
    private final String dir = "/sys/fs/bpf/" + Shell.uniqueName("dpt-");

    @AfterEach
    void removePins() throws IOException {
        for (String pin : new String[] {"map", "again", "prog"}) BpfSyscall.objUnpin(dir + "/" + pin);
        Files.deleteIfExists(Path.of(dir));
    }

    @Test
    void aPinnedMapIsTheSameMapByFdAndPinsComeAndGo() {
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            BpfMap map = object.map("tcx_counts");
            map.pin(dir + "/map"); // libbpf makes the directory
            BpfProgram program = object.program("tcx_verdict");
            program.pin(dir + "/prog");
            assertThat(Files.isDirectory(Path.of(dir))).isTrue();

            int fd = BpfSyscall.objGet(dir + "/map");
            try {
                BpfMap byFd = BpfMap.fromFd(fd);
                assertThat(byFd.fd()).isEqualTo(fd);
                assertThat(byFd.toString()).contains("tcx_counts").contains("fd " + fd);
                byFd.update(u32(1), u64(42), BpfMap.BPF_ANY);
                assertThat(counter(map, 1)).as("written through the pin, read through the object").isEqualTo(42);
                assertThat(byFd.keys()).hasSize(2);

                byFd.pin(dir + "/again");
                int again = BpfSyscall.objGet(dir + "/again");
                try {
                    assertThat(BpfSyscall.mapInfo(again).id()).isEqualTo(BpfSyscall.mapInfo(map.fd()).id());
                } finally {
                    Syscalls.close(again);
                }
                byFd.unpin(dir + "/again");
                LibbpfException gone = catchThrowableOfType(LibbpfException.class, () -> byFd.unpin(dir + "/again"));
                assertThat(gone.errnoName()).isEqualTo("ENOENT");
                assertThatThrownBy(() -> byFd.reuseFd(fd)).isInstanceOf(IllegalStateException.class);
            } finally {
                Syscalls.close(fd);
            }

            LibbpfException taken = catchThrowableOfType(LibbpfException.class, () -> BpfSyscall.objPin(map.fd(), dir + "/prog"));
            assertThat(taken.errnoName()).isEqualTo("EEXIST");

            program.unpin(dir + "/prog");
            map.unpin(dir + "/map");
            assertThat(Files.exists(Path.of(dir + "/prog"))).isFalse();
            assertThat(Files.exists(Path.of(dir + "/map"))).isFalse();
        }
    }
}
