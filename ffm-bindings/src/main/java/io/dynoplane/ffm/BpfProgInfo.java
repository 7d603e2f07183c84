package io.dynoplane.ffm;

/**
 * What the kernel says about a loaded program ({@code struct bpf_prog_info}, by {@link BpfSyscall#progInfo(int)}).
 *
 * @param type {@code enum bpf_prog_type}, e.g. 3 for BPF_PROG_TYPE_SCHED_CLS
 * @param id   the program's id, system-wide, as in {@link BpfLinkInfo#progId()}
 * @param name the name given at load: libbpf uses the C function's, cut to 15 bytes
 * @param tag  the kernel's hash of the instructions as 16 hex digits (as bpftool prints it): the same program
 *             loaded again has the same tag
 */
public record BpfProgInfo(int type, int id, String name, String tag) {}
