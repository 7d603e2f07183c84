package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.dynoplane.ffm.Fixtures.asU64;
import static io.dynoplane.ffm.Fixtures.u32;
import static io.dynoplane.ffm.Fixtures.u64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Failures named and typed; map semantics at their edges. */
class ErrorCasesTest {

    @Test
    void unknownInterfaceIsNamed() {
        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> Libbpf.ifindex("no-such-if0"));

        assertThat(e.getMessage()).contains("no-such-if0").contains("ENODEV");
        assertThat(e.operation()).isEqualTo("if_nametoindex");
        assertThat(e.errnoName()).isEqualTo("ENODEV");
    }

    @Test
    void loopbackHasAnIndex() {
        assertThat(Libbpf.ifindex("lo")).isPositive();
    }

    @Test
    void garbageIsNotAnObject() {
        byte[] garbage = "this is not an ELF file, only words".getBytes();

        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> Libbpf.openObject("garbage", garbage));

        assertThat(e.errno()).isEqualTo(4001); // LIBBPF_ERRNO__FORMAT
        assertThat(e.errnoName()).isEqualTo("LIBBPF_ERRNO__FORMAT");
        assertThat(e.operation()).isEqualTo("bpf_object__open_mem");
        assertThat(e.getMessage()).contains("object garbage");
        assertThat(e.libbpfLog()).contains("not a proper ELF object");
    }

    @Test
    void emptyBytesAreRejected() {
        LibbpfException e = catchThrowableOfType(LibbpfException.class, () -> Libbpf.openObject("empty", new byte[0]));

        assertThat(e.errnoName()).isEqualTo("EINVAL");
    }

    @Test
    void unknownProgramAndMapAreNamed() {
        try (BpfObject object = Libbpf.openObject("xdp_count", Fixtures.elf("xdp_count"))) {
            assertThatThrownBy(() -> object.program("nope")).isInstanceOf(LibbpfException.class)
                    .hasMessageContaining("program nope of object xdp_count").hasMessageContaining("ENOENT");
            assertThatThrownBy(() -> object.map("nope")).isInstanceOf(LibbpfException.class)
                    .hasMessageContaining("map nope of object xdp_count").hasMessageContaining("ENOENT");
        }
    }

    @Test
    void mapEntriesComeAndGo() {
        try (BpfObject object = Fixtures.load("tc_verdict")) {
            BpfMap verdicts = object.map("verdicts");
            assertThat(verdicts.name()).isEqualTo("verdicts");
            assertThat(verdicts.keySize()).isEqualTo(4);
            assertThat(verdicts.valueSize()).isEqualTo(8);
            assertThat(verdicts.fd()).isPositive();

            verdicts.update(u32(1), u64(42), BpfMap.BPF_ANY);
            assertThat(verdicts.lookup(u32(1)).map(Fixtures::asU64)).contains(42L);
            assertThat(verdicts.lookup(u32(3))).as("past the end of the array").isEmpty();
            assertThat(verdicts.keys()).extracting(Arrays::toString)
                    .containsExactly(Arrays.toString(u32(0)), Arrays.toString(u32(1)), Arrays.toString(u32(2)));

            LibbpfException noexist = catchThrowableOfType(LibbpfException.class,
                    () -> verdicts.update(u32(1), u64(1), BpfMap.BPF_NOEXIST));
            assertThat(noexist.errnoName()).isEqualTo("EEXIST");
            assertThat(noexist.getMessage()).contains("bpf_map_update_elem").contains("map verdicts of object tc_verdict");

            assertThatThrownBy(() -> verdicts.lookup(new byte[2])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("key is 2 bytes");
        }
    }

    @Test
    void missingKeyOfAHashIsEmptyAndDeleteSaysFalse() {
        try (BpfObject object = Fixtures.load("xdp_count")) {
            BpfMap perCpu = object.map("packets_percpu");
            assertThat(perCpu.perCpu()).isTrue();
            perCpu.update(u32(0), u64(7), BpfMap.BPF_ANY);
            List<byte[]> values = perCpu.lookupPerCpu(u32(0)).orElseThrow();
            assertThat(values).hasSize(Libbpf.numPossibleCpus()).allSatisfy(v -> assertThat(asU64(v)).isEqualTo(7));
            assertThatThrownBy(() -> perCpu.lookup(u32(0))).isInstanceOf(IllegalStateException.class);
        }
        try (BpfObject object = Fixtures.load("maps")) {
            BpfMap hash = object.map("hash");
            assertThat(hash.lookup(u32(7))).isEmpty();
            assertThat(hash.delete(u32(7))).isFalse();
            assertThat(hash.keys()).isEmpty();

            hash.update(u32(7), u64(70), BpfMap.BPF_NOEXIST);
            hash.update(u32(8), u64(80), BpfMap.BPF_ANY);
            assertThat(hash.keys()).extracting(Arrays::toString)
                    .containsExactlyInAnyOrder(Arrays.toString(u32(7)), Arrays.toString(u32(8)));
            assertThat(hash.delete(u32(7))).isTrue();
            assertThat(hash.lookup(u32(7))).isEmpty();
            assertThat(hash.lookup(u32(8)).map(Fixtures::asU64)).contains(80L);
        }
    }

    @Test
    void fdsExistOnlyOnceLoaded() {
        try (BpfObject object = Libbpf.openObject("xdp_count", Fixtures.elf("xdp_count"))) {
            assertThatThrownBy(() -> object.map("packets").fd()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("map packets of object xdp_count").hasMessageContaining("load");
            assertThatThrownBy(() -> object.program("xdp_count").fd()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("program xdp_count of object xdp_count");
            object.load();
            assertThat(object.map("packets").fd()).isPositive();
            assertThat(object.program("xdp_count").fd()).isPositive();
        }
    }

    @Test
    void closedObjectCannotBeUsed() {
        BpfObject object = Fixtures.load("tc_verdict");
        BpfMap verdicts = object.map("verdicts");
        BpfProgram program = object.program("tc_verdict");
        object.close();
        object.close(); // idempotent

        assertThatThrownBy(verdicts::fd).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> verdicts.lookup(u32(0))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(program::fd).isInstanceOf(IllegalStateException.class);
    }
}
