package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** bpf(2) failures come back as LibbpfException with the command, the errno and what it was applied to. */
class BpfSyscallErrorsTest {
    private static final int NO_SUCH_IFINDEX = Integer.MAX_VALUE - 7;

    @Test
    void tcxAttachToAMissingInterfaceIsEnodevNamingTheIfindex() {
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            int progFd = object.program("tcx_verdict").fd();

            LibbpfException e = catchThrowableOfType(LibbpfException.class,
                    () -> BpfSyscall.tcxAttach(progFd, NO_SUCH_IFINDEX, TcxDirection.EGRESS));

            assertThat(e.errnoName()).isEqualTo("ENODEV");
            assertThat(e.operation()).isEqualTo("bpf(BPF_LINK_CREATE)");
            assertThat(e.target()).contains("ifindex " + NO_SUCH_IFINDEX).contains("tcx egress");
            assertThat(e.getMessage()).contains("ifindex " + NO_SUCH_IFINDEX).contains("ENODEV");
        }
    }

    @Test
    void tcxAttachOfANonTcProgramIsEinval() {
        try (BpfObject object = Fixtures.load("xdp_count")) {
            int xdpFd = object.program("xdp_count").fd();

            // The program type is checked before the interface is looked up.
            LibbpfException e = catchThrowableOfType(LibbpfException.class,
                    () -> BpfSyscall.tcxAttach(xdpFd, NO_SUCH_IFINDEX, TcxDirection.INGRESS));

            assertThat(e.errnoName()).isEqualTo("EINVAL");
        }
    }

    @Test
    void objGetOfAMissingPinIsEnoentNamingThePath() {
        String path = "/sys/fs/bpf/" + Shell.uniqueName("dpt-") + "-missing";

        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> BpfSyscall.objGet(path));

        assertThat(e.errnoName()).isEqualTo("ENOENT");
        assertThat(e.operation()).isEqualTo("bpf(BPF_OBJ_GET)");
        assertThat(e.getMessage()).contains(path);
        assertThat(BpfSyscall.objUnpin(path)).isFalse();
    }

    @Test
    void pinOutsideBpffsIsEperm() {
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            int mapFd = object.map("tcx_counts").fd();
            String path = "/tmp/" + Shell.uniqueName("dpt-");

            LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> BpfSyscall.objPin(mapFd, path));

            assertThat(e.errnoName()).isEqualTo("EPERM");
            assertThat(e.getMessage()).contains(path).contains("fd " + mapFd);
        }
    }

    @Test
    void unknownProgramIdIsEnoent() {
        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> BpfSyscall.progGetFdById(Integer.MAX_VALUE));

        assertThat(e.errnoName()).isEqualTo("ENOENT");
        assertThat(e.getMessage()).contains("prog id " + Integer.MAX_VALUE);
    }

    @Test
    void infoOfTheWrongKindOfFdIsRefusedBeforeTheKernelMisfillsIt() {
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            int mapFd = object.map("tcx_counts").fd();
            int progFd = object.program("tcx_verdict").fd();

            assertThatThrownBy(() -> BpfSyscall.linkInfo(mapFd)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("fd " + mapFd).hasMessageContaining("bpf-map").hasMessageContaining("not a BPF link");
            assertThatThrownBy(() -> BpfSyscall.mapInfo(progFd)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bpf-prog");
            assertThat(BpfSyscall.mapInfo(mapFd).name()).isEqualTo("tcx_counts");
            assertThat(BpfSyscall.progInfo(progFd).name()).isEqualTo("tcx_verdict");
        }
    }

    @Test
    void mapPinningThroughLibbpfNamesTheMapAndPath() {
        try (BpfObject object = Fixtures.load("tcx_verdict")) {
            BpfMap map = object.map("tcx_counts");
            String path = "/tmp/" + Shell.uniqueName("dpt-");

            LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> map.pin(path));

            assertThat(e.operation()).isEqualTo("bpf_map__pin");
            assertThat(e.getMessage()).contains("map tcx_counts of object tcx_verdict").contains(path);
        }
    }
}
