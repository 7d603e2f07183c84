package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The bpf(2) layouts and constants of BpfSyscallStructs against gcc: offsetof/sizeof of every field (a field
 * {@code f} of the link_create variant is {@code offsetof(union bpf_attr, link_create.f)}) and every enum value.
 * Twice: against this machine's {@code <linux/bpf.h>}, which may predate tcx, and against the running kernel's own
 * types, dumped from its BTF by bpftool.
 */
class BpfSyscallLayoutTest {
    /**
     * What tcx added to the UAPI in Linux 6.6, at the kernel's offsets (include/uapi/linux/bpf.h of 6.6+). A header
     * without {@code BPF_F_BEFORE} (also new in 6.6, a macro, so the preprocessor can tell) has none of it.
     */
    private static final Map<String, Long> SINCE_6_6 = Map.ofEntries(
            Map.entry("union bpf_attr link_create.tcx.relative_fd offsetof", 16L),
            Map.entry("union bpf_attr link_create.tcx.relative_fd sizeof", 4L),
            Map.entry("union bpf_attr link_create.tcx.expected_revision offsetof", 24L),
            Map.entry("union bpf_attr link_create.tcx.expected_revision sizeof", 8L),
            Map.entry("struct bpf_link_info tcx.ifindex offsetof", 16L),
            Map.entry("struct bpf_link_info tcx.ifindex sizeof", 4L),
            Map.entry("struct bpf_link_info tcx.attach_type offsetof", 20L),
            Map.entry("struct bpf_link_info tcx.attach_type sizeof", 4L),
            Map.entry("BPF_TCX_INGRESS", 46L),
            Map.entry("BPF_TCX_EGRESS", 47L),
            Map.entry("BPF_LINK_TYPE_TCX", 11L));

    /** Macros, not enum values: BTF does not have them. */
    private static final Set<String> MACROS = Set.of("BPF_OBJ_NAME_LEN", "BPF_TAG_SIZE");

    @Test
    void layoutsMatchTheInstalledUapiHeaderAndItsGapsAreTheDocumentedOffsets(@TempDir Path dir)
            throws IOException, IllegalAccessException {
        Map<String, Long> javaView = javaView();
        StringBuilder c = new StringBuilder("""
                #include <stdio.h>
                #include <sys/syscall.h>
                #include <linux/bpf.h>
                int main(void) {
                  printf("SYS_BPF %lld\\n", (long long) __NR_bpf);
                """);
        appendPrints(c, javaView, true);
        c.append("  return 0;\n}\n");
        Map<String, Long> cView = compileAndRun(dir, "uapi_sizes", c.toString());

        Map<String, Long> expected = new LinkedHashMap<>(javaView);
        expected.put("SYS_BPF", BpfSyscall.SYS_BPF);
        boolean headerHasTcx = cView.containsKey("BPF_TCX_INGRESS");
        if (!headerHasTcx) expected.keySet().removeAll(SINCE_6_6.keySet());
        assertThat(cView).isEqualTo(expected);
        // Whatever the header, the tcx fields sit where the kernel documents them.
        assertThat(javaView).containsAllEntriesOf(SINCE_6_6);
        assertThat(javaView).containsEntry("union bpf_attr link_create.prog_fd offsetof", 0L)
                .containsEntry("union bpf_attr link_create.target_ifindex offsetof", 4L)
                .containsEntry("union bpf_attr link_create.attach_type offsetof", 8L)
                .containsEntry("union bpf_attr link_create.flags offsetof", 12L)
                .containsEntry("struct bpf_prog_info name offsetof", 64L);
    }

    @Test
    void layoutsMatchTheRunningKernelsBtf(@TempDir Path dir) throws IOException, IllegalAccessException {
        assumeTrue(Files.isReadable(Path.of("/sys/kernel/btf/vmlinux")), "kernel without BTF");
        Shell.Result dump = Shell.exec("bash", "-c", "command -v bpftool && bpftool btf dump file /sys/kernel/btf/vmlinux format c > "
                + dir.resolve("vmlinux.h"));
        assumeTrue(dump.exitCode() == 0, "no bpftool to dump the kernel's BTF: " + dump.output());

        Map<String, Long> javaView = javaView();
        // vmlinux.h defines what libc headers define too (wchar_t, ...): declare printf ourselves, no includes.
        StringBuilder c = new StringBuilder("""
                #include "vmlinux.h"
                int printf(const char *format, ...);
                int main(void) {
                """);
        appendPrints(c, javaView, false);
        c.append("  return 0;\n}\n");
        Map<String, Long> cView = compileAndRun(dir, "btf_sizes", c.toString());

        Map<String, Long> expected = new LinkedHashMap<>(javaView);
        expected.keySet().removeAll(MACROS);
        assertThat(cView).isEqualTo(expected);
    }

    // ---- The two views ----------------------------------------------------------------------------------------------

    /** "CONTAINER FIELD offsetof|sizeof" for every field of every layout, and "NAME" for every int constant. */
    private static Map<String, Long> javaView() throws IllegalAccessException {
        Map<String, Long> view = new LinkedHashMap<>();
        for (BpfSyscallStructs.CPlacement placement : BpfSyscallStructs.ALL) {
            addFields(view, placement.container(), placement.member(), placement.layout(), 0);
        }
        for (Field field : BpfSyscallStructs.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers) && field.getType() == int.class) {
                field.setAccessible(true);
                view.put(field.getName(), ((Number) field.get(null)).longValue());
            }
        }
        return view;
    }

    private static void addFields(Map<String, Long> view, String container, String path, GroupLayout group, long base) {
        long offset = base;
        for (MemoryLayout member : group.memberLayouts()) {
            if (!(member instanceof PaddingLayout)) {
                String name = member.name().orElseThrow();
                String field = path.isEmpty() ? name : path + "." + name;
                if (member instanceof GroupLayout nested) {
                    addFields(view, container, field, nested, offset);
                } else {
                    view.put(container + " " + field + " offsetof", offset);
                    view.put(container + " " + field + " sizeof", member.byteSize());
                }
            }
            offset += member.byteSize();
        }
    }

    /** A printf per key; with {@code guardTcx}, the 6.6 additions only where the header has them. */
    private static void appendPrints(StringBuilder c, Map<String, Long> javaView, boolean guardTcx) {
        for (String key : javaView.keySet()) {
            String[] parts = key.split(" ");
            String print;
            if (parts.length == 1) {
                if (!guardTcx && MACROS.contains(key)) continue;
                print = "printf(\"%s %lld\\n\", \"" + key + "\", (long long) (" + key + "));";
            } else {
                // "union bpf_attr link_create.prog_fd offsetof"
                String container = parts[0] + " " + parts[1];
                String field = parts[2];
                String value = parts[3].equals("offsetof")
                        ? "__builtin_offsetof(" + container + ", " + field + ")"
                        : "sizeof(((" + container + " *) 0)->" + field + ")";
                print = "printf(\"%s %lld\\n\", \"" + key + "\", (long long) " + value + ");";
            }
            if (guardTcx && SINCE_6_6.containsKey(key)) print = "\n#ifdef BPF_F_BEFORE\n  " + print + "\n#endif\n";
            c.append("  ").append(print).append('\n');
        }
    }

    private static Map<String, Long> compileAndRun(Path dir, String name, String source) throws IOException {
        Path file = Files.writeString(dir.resolve(name + ".c"), source);
        Path binary = dir.resolve(name);
        Shell.run("gcc", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-I", dir.toString(), "-o", binary.toString(), file.toString());
        Map<String, Long> view = new LinkedHashMap<>();
        Shell.run(binary.toString()).lines().forEach(line -> {
            int lastSpace = line.lastIndexOf(' ');
            view.put(line.substring(0, lastSpace), Long.parseLong(line.substring(lastSpace + 1)));
        });
        return view;
    }
}
