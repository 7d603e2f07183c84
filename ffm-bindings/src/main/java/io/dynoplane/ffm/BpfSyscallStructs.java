package io.dynoplane.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What {@link BpfSyscall} hands the kernel: the variants of {@code union bpf_attr} for the commands it makes, the
 * {@code bpf_*_info} structs BPF_OBJ_GET_INFO_BY_FD fills, and the {@code <linux/bpf.h>} enum values it uses. Names
 * are the C ones (a nested layout's name is the C member, e.g. {@code link_create.tcx.expected_revision}), so
 * BpfSyscallLayoutTest can check every field against gcc's offsetof/sizeof.
 *
 * <p>Each layout is the <em>prefix</em> of the C type that holds the fields we use, not the whole thing: bpf(2) takes
 * the size of what we pass and treats everything after it as zero, and BPF_OBJ_GET_INFO_BY_FD fills only
 * {@code info_len} bytes. So a newer kernel with a bigger union or bigger info structs is no problem, and an older
 * one only has to know the fields we actually set.
 *
 * <p>The tcx fields are UAPI since Linux 6.6 ("bpf: Add fd-based tcx multi-prog infra with link support"). Debian 12's linux-libc-dev (6.1) does not have them; the offsets here are the kernel's, checked by
 * BpfSyscallLayoutTest against the running kernel's BTF when bpftool is there, and by the tcx tests in practice.
 */
final class BpfSyscallStructs {
    private BpfSyscallStructs() {}

    // ---- enum bpf_cmd ---------------------------------------------------------------------------------------------
    static final int BPF_PROG_LOAD = 5;
    static final int BPF_OBJ_PIN = 6;
    static final int BPF_OBJ_GET = 7;
    static final int BPF_PROG_GET_FD_BY_ID = 13;
    static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    static final int BPF_LINK_CREATE = 28;
    static final int BPF_LINK_UPDATE = 29;
    static final int BPF_LINK_DETACH = 34;

    // ---- enum bpf_attach_type -----------------------------------------------------------------------------------
    static final int BPF_CGROUP_INET4_GETPEERNAME = 29;
    static final int BPF_CGROUP_INET6_GETPEERNAME = 30;

    // ---- enum bpf_attach_type (the tcx ones since 6.6, after BPF_STRUCT_OPS = 44 and BPF_NETFILTER = 45) ----------
    static final int BPF_TCX_INGRESS = 46;
    static final int BPF_TCX_EGRESS = 47;

    // ---- enum bpf_link_type -----------------------------------------------------------------------------------------
    static final int BPF_LINK_TYPE_XDP = 6;
    static final int BPF_LINK_TYPE_TCX = 11;   // since 6.6, after BPF_LINK_TYPE_NETFILTER = 10

    // ---- enum bpf_prog_type -----------------------------------------------------------------------------------------
    static final int BPF_PROG_TYPE_SCHED_CLS = 3;

    static final int BPF_OBJ_NAME_LEN = 16;
    static final int BPF_TAG_SIZE = 8;

    // ---- union bpf_attr variants ----------------------------------------------------------------------------------

    /** BPF_OBJ_PIN, BPF_OBJ_GET: an anonymous struct of the union. {@code pathname} is a user pointer as __u64. */
    static final StructLayout ATTR_OBJ = MemoryLayout.structLayout(
            JAVA_LONG.withName("pathname"),
            JAVA_INT.withName("bpf_fd"),
            JAVA_INT.withName("file_flags"));      // BPF_F_RDONLY/BPF_F_WRONLY for OBJ_GET; 0 for read-write
    static final long OBJ_PATHNAME = offset(ATTR_OBJ, "pathname");
    static final long OBJ_BPF_FD = offset(ATTR_OBJ, "bpf_fd");

    /** BPF_LINK_CREATE, up to the tcx member of its trailing union (since 6.6). */
    static final StructLayout ATTR_LINK_CREATE = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_fd"),          // union with map_fd (struct_ops links)
            JAVA_INT.withName("target_ifindex"),   // union with target_fd
            JAVA_INT.withName("attach_type"),      // enum bpf_attach_type
            JAVA_INT.withName("flags"),            // BPF_F_BEFORE/AFTER/ID/LINK (0: append)
            MemoryLayout.structLayout(
                    JAVA_INT.withName("relative_fd"),  // union with relative_id
                    paddingLayout(4),
                    JAVA_LONG.withName("expected_revision"))
                    .withName("tcx"))
            .withName("link_create");
    static final long LINK_CREATE_PROG_FD = offset(ATTR_LINK_CREATE, "prog_fd");
    static final long LINK_CREATE_TARGET_IFINDEX = offset(ATTR_LINK_CREATE, "target_ifindex");
    static final long LINK_CREATE_ATTACH_TYPE = offset(ATTR_LINK_CREATE, "attach_type");

    /** BPF_LINK_DETACH. */
    static final StructLayout ATTR_LINK_DETACH = MemoryLayout.structLayout(
            JAVA_INT.withName("link_fd"))
            .withName("link_detach");
    static final long LINK_DETACH_LINK_FD = offset(ATTR_LINK_DETACH, "link_fd");

    /** BPF_LINK_UPDATE: swaps the link's program; with BPF_F_REPLACE only if it still runs old_prog_fd. */
    static final StructLayout ATTR_LINK_UPDATE = MemoryLayout.structLayout(
            JAVA_INT.withName("link_fd"),
            JAVA_INT.withName("new_prog_fd"),      // union with new_map_fd (struct_ops links)
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("old_prog_fd"))      // union with old_map_fd
            .withName("link_update");
    static final long LINK_UPDATE_LINK_FD = offset(ATTR_LINK_UPDATE, "link_fd");
    static final long LINK_UPDATE_NEW_PROG_FD = offset(ATTR_LINK_UPDATE, "new_prog_fd");

    /** BPF_OBJ_GET_INFO_BY_FD: {@code info} points at a bpf_*_info of {@code info_len} bytes; the kernel writes back both. */
    static final StructLayout ATTR_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("bpf_fd"),
            JAVA_INT.withName("info_len"),
            JAVA_LONG.withName("info"))
            .withName("info");
    static final long INFO_BPF_FD = offset(ATTR_INFO, "bpf_fd");
    static final long INFO_INFO_LEN = offset(ATTR_INFO, "info_len");
    static final long INFO_INFO = offset(ATTR_INFO, "info");

    /** BPF_*_GET_FD_BY_ID: an anonymous struct; the id is a union of start_id/prog_id/map_id/btf_id/link_id. */
    static final StructLayout ATTR_GET_ID = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_id"),
            JAVA_INT.withName("next_id"),
            JAVA_INT.withName("open_flags"));
    static final long GET_ID_PROG_ID = offset(ATTR_GET_ID, "prog_id");

    /** BPF_PROG_LOAD, only as far as the tcx probe needs: type, instructions, license. */
    static final StructLayout ATTR_PROG_LOAD = MemoryLayout.structLayout(
            JAVA_INT.withName("prog_type"),
            JAVA_INT.withName("insn_cnt"),
            JAVA_LONG.withName("insns"),           // const struct bpf_insn *
            JAVA_LONG.withName("license"));        // const char *
    static final long PROG_LOAD_PROG_TYPE = offset(ATTR_PROG_LOAD, "prog_type");
    static final long PROG_LOAD_INSN_CNT = offset(ATTR_PROG_LOAD, "insn_cnt");
    static final long PROG_LOAD_INSNS = offset(ATTR_PROG_LOAD, "insns");
    static final long PROG_LOAD_LICENSE = offset(ATTR_PROG_LOAD, "license");

    // ---- BPF_OBJ_GET_INFO_BY_FD results ------------------------------------------------------------------------------

    /** struct bpf_link_info up to the tcx member of its union (at 16: the union holds __u64s). */
    static final StructLayout BPF_LINK_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),             // enum bpf_link_type
            JAVA_INT.withName("id"),
            JAVA_INT.withName("prog_id"),
            paddingLayout(4),
            MemoryLayout.structLayout(
                    JAVA_INT.withName("ifindex"),      // 0 once the device is gone or the link is detached
                    JAVA_INT.withName("attach_type"))
                    .withName("tcx"))
            .withName("bpf_link_info");
    static final long LINK_INFO_TYPE = offset(BPF_LINK_INFO, "type");
    static final long LINK_INFO_ID = offset(BPF_LINK_INFO, "id");
    static final long LINK_INFO_PROG_ID = offset(BPF_LINK_INFO, "prog_id");
    static final long LINK_INFO_TCX_IFINDEX = BPF_LINK_INFO.byteOffset(groupElement("tcx"), groupElement("ifindex"));
    static final long LINK_INFO_TCX_ATTACH_TYPE = BPF_LINK_INFO.byteOffset(groupElement("tcx"), groupElement("attach_type"));

    /**
     * struct bpf_prog_info up to name and ifindex. The pointer/length pairs stay 0, so the kernel only reports lengths
     * and copies no arrays.
     */
    static final StructLayout BPF_PROG_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("id"),
            sequenceLayout(BPF_TAG_SIZE, JAVA_BYTE).withName("tag"),
            JAVA_INT.withName("jited_prog_len"),
            JAVA_INT.withName("xlated_prog_len"),
            JAVA_LONG.withName("jited_prog_insns"),
            JAVA_LONG.withName("xlated_prog_insns"),
            JAVA_LONG.withName("load_time"),
            JAVA_INT.withName("created_by_uid"),
            JAVA_INT.withName("nr_map_ids"),
            JAVA_LONG.withName("map_ids"),
            sequenceLayout(BPF_OBJ_NAME_LEN, JAVA_BYTE).withName("name"),
            JAVA_INT.withName("ifindex"),
            paddingLayout(4))                      // __u32 gpl_compatible:1, :31
            .withName("bpf_prog_info");
    static final long PROG_INFO_TYPE = offset(BPF_PROG_INFO, "type");
    static final long PROG_INFO_ID = offset(BPF_PROG_INFO, "id");
    static final long PROG_INFO_TAG = offset(BPF_PROG_INFO, "tag");
    static final long PROG_INFO_NAME = offset(BPF_PROG_INFO, "name");

    /** struct bpf_map_info up to btf_vmlinux_value_type_id. */
    static final StructLayout BPF_MAP_INFO = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("id"),
            JAVA_INT.withName("key_size"),
            JAVA_INT.withName("value_size"),
            JAVA_INT.withName("max_entries"),
            JAVA_INT.withName("map_flags"),
            sequenceLayout(BPF_OBJ_NAME_LEN, JAVA_BYTE).withName("name"),
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("btf_vmlinux_value_type_id"))
            .withName("bpf_map_info");
    static final long MAP_INFO_TYPE = offset(BPF_MAP_INFO, "type");
    static final long MAP_INFO_ID = offset(BPF_MAP_INFO, "id");
    static final long MAP_INFO_KEY_SIZE = offset(BPF_MAP_INFO, "key_size");
    static final long MAP_INFO_VALUE_SIZE = offset(BPF_MAP_INFO, "value_size");
    static final long MAP_INFO_MAX_ENTRIES = offset(BPF_MAP_INFO, "max_entries");
    static final long MAP_INFO_MAP_FLAGS = offset(BPF_MAP_INFO, "map_flags");
    static final long MAP_INFO_NAME = offset(BPF_MAP_INFO, "name");

    /**
     * Where a layout sits in C, for the layout test: its field {@code f} is {@code offsetof(container, member.f)}, or
     * {@code offsetof(container, f)} when member is empty (an info struct, or one of bpf_attr's anonymous structs,
     * whose fields are members of the union itself).
     */
    record CPlacement(String container, String member, StructLayout layout) {}

    static final List<CPlacement> ALL = List.of(
            new CPlacement("union bpf_attr", "", ATTR_OBJ),
            new CPlacement("union bpf_attr", "link_create", ATTR_LINK_CREATE),
            new CPlacement("union bpf_attr", "link_detach", ATTR_LINK_DETACH),
            new CPlacement("union bpf_attr", "link_update", ATTR_LINK_UPDATE),
            new CPlacement("union bpf_attr", "info", ATTR_INFO),
            new CPlacement("union bpf_attr", "", ATTR_GET_ID),
            new CPlacement("union bpf_attr", "", ATTR_PROG_LOAD),
            new CPlacement("struct bpf_link_info", "", BPF_LINK_INFO),
            new CPlacement("struct bpf_prog_info", "", BPF_PROG_INFO),
            new CPlacement("struct bpf_map_info", "", BPF_MAP_INFO));

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }
}
