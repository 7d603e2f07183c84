package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libbpf 1.1 option structs we fill, laid out as in {@code <bpf/libbpf.h>} and {@code <bpf/bpf.h>} on LP64
 * ({@code size_t} and pointers are 8 bytes). Layout and field names are the C ones, so StructLayoutTest can check
 * every named field against gcc's offsetof/sizeof. Each struct starts with {@code size_t sz}, which libbpf uses to
 * tell which fields the caller knows about: it must be the struct size.
 */
final class LibbpfStructs {
    private LibbpfStructs() {}

    static final StructLayout BPF_OBJECT_OPEN_OPTS = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            ADDRESS.withName("object_name"),
            JAVA_BOOLEAN.withName("relaxed_maps"),
            paddingLayout(7),
            ADDRESS.withName("pin_root_path"),
            paddingLayout(4),                       // __u32 :32, where the removed attach_prog_fd was
            paddingLayout(4),
            ADDRESS.withName("kconfig"),
            ADDRESS.withName("btf_custom_path"),
            ADDRESS.withName("kernel_log_buf"),
            JAVA_LONG.withName("kernel_log_size"),
            JAVA_INT.withName("kernel_log_level"),
            paddingLayout(4))                       // size_t :0 rounds the struct up to 8 bytes
            .withName("bpf_object_open_opts");
    static final long OPEN_OPTS_OBJECT_NAME = offset(BPF_OBJECT_OPEN_OPTS, "object_name");

    static final StructLayout BPF_TC_HOOK = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("attach_point"),      // enum bpf_tc_attach_point
            JAVA_INT.withName("parent"),
            paddingLayout(4))                       // size_t :0
            .withName("bpf_tc_hook");
    static final long TC_HOOK_IFINDEX = offset(BPF_TC_HOOK, "ifindex");
    static final long TC_HOOK_ATTACH_POINT = offset(BPF_TC_HOOK, "attach_point");

    static final StructLayout BPF_TC_OPTS = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            JAVA_INT.withName("prog_fd"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("prog_id"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("priority"),
            paddingLayout(4))                       // size_t :0
            .withName("bpf_tc_opts");
    static final long TC_OPTS_PROG_FD = offset(BPF_TC_OPTS, "prog_fd");
    static final long TC_OPTS_FLAGS = offset(BPF_TC_OPTS, "flags");
    static final long TC_OPTS_PROG_ID = offset(BPF_TC_OPTS, "prog_id");
    static final long TC_OPTS_HANDLE = offset(BPF_TC_OPTS, "handle");
    static final long TC_OPTS_PRIORITY = offset(BPF_TC_OPTS, "priority");

    static final StructLayout BPF_TEST_RUN_OPTS = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            ADDRESS.withName("data_in"),
            ADDRESS.withName("data_out"),
            JAVA_INT.withName("data_size_in"),
            JAVA_INT.withName("data_size_out"),     // in: capacity of data_out; out: bytes written
            ADDRESS.withName("ctx_in"),
            ADDRESS.withName("ctx_out"),
            JAVA_INT.withName("ctx_size_in"),
            JAVA_INT.withName("ctx_size_out"),
            JAVA_INT.withName("retval"),
            JAVA_INT.withName("repeat"),
            JAVA_INT.withName("duration"),          // out: average ns per repetition
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("cpu"),
            JAVA_INT.withName("batch_size"))
            .withName("bpf_test_run_opts");
    static final long TEST_RUN_DATA_IN = offset(BPF_TEST_RUN_OPTS, "data_in");
    static final long TEST_RUN_DATA_OUT = offset(BPF_TEST_RUN_OPTS, "data_out");
    static final long TEST_RUN_DATA_SIZE_IN = offset(BPF_TEST_RUN_OPTS, "data_size_in");
    static final long TEST_RUN_DATA_SIZE_OUT = offset(BPF_TEST_RUN_OPTS, "data_size_out");
    static final long TEST_RUN_RETVAL = offset(BPF_TEST_RUN_OPTS, "retval");
    static final long TEST_RUN_REPEAT = offset(BPF_TEST_RUN_OPTS, "repeat");
    static final long TEST_RUN_DURATION = offset(BPF_TEST_RUN_OPTS, "duration");

    /** Every layout above, for the test that compares them with the C compiler's view. */
    static final List<StructLayout> ALL = List.of(BPF_OBJECT_OPEN_OPTS, BPF_TC_HOOK, BPF_TC_OPTS, BPF_TEST_RUN_OPTS);

    /** A zeroed opts struct with {@code sz} set, as LIBBPF_OPTS() does in C. */
    static MemorySegment allocateOpts(Arena arena, StructLayout layout) {
        MemorySegment opts = arena.allocate(layout);
        opts.set(JAVA_LONG, 0, layout.byteSize());
        return opts;
    }

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }
}
