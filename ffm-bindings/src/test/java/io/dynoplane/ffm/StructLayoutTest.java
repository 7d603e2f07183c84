package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Java struct layouts against what gcc makes of libbpf's own headers: sizeof, and offsetof/sizeof of every field. */
class StructLayoutTest {

    @Test
    void layoutsMatchTheLibbpfHeaders(@TempDir Path dir) throws IOException {
        Map<String, Long> javaView = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <bpf/libbpf.h>
                #include <bpf/bpf.h>
                int main(void) {
                """);
        for (StructLayout struct : LibbpfStructs.ALL) {
            String name = struct.name().orElseThrow();
            javaView.put(name + " sizeof", struct.byteSize());
            c.append("  printf(\"%s sizeof %zu\\n\", \"").append(name).append("\", sizeof(struct ").append(name).append("));\n");
            long offset = 0;
            for (MemoryLayout member : struct.memberLayouts()) {
                if (!(member instanceof PaddingLayout)) {
                    String field = member.name().orElseThrow();
                    javaView.put(name + "." + field + " offsetof", offset);
                    javaView.put(name + "." + field + " sizeof", member.byteSize());
                    c.append("  printf(\"%s offsetof %zu\\n\", \"").append(name).append('.').append(field)
                            .append("\", offsetof(struct ").append(name).append(", ").append(field).append("));\n");
                    c.append("  printf(\"%s sizeof %zu\\n\", \"").append(name).append('.').append(field)
                            .append("\", sizeof(((struct ").append(name).append(" *)0)->").append(field).append("));\n");
                }
                offset += member.byteSize();
            }
        }
        c.append("  return 0;\n}\n");
        Path source = Files.writeString(dir.resolve("sizes.c"), c);
        Path binary = dir.resolve("sizes");
        Shell.run("gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString());

        Map<String, Long> cView = new LinkedHashMap<>();
        Shell.run(binary.toString()).lines().forEach(line -> {
            int lastSpace = line.lastIndexOf(' ');
            cView.put(line.substring(0, lastSpace), Long.parseLong(line.substring(lastSpace + 1)));
        });

        assertThat(javaView).isEqualTo(cView);
        assertThat(cView).containsEntry("bpf_object_open_opts sizeof", 80L)
                .containsEntry("bpf_tc_hook sizeof", 24L)
                .containsEntry("bpf_tc_opts sizeof", 32L)
                .containsEntry("bpf_test_run_opts sizeof", 80L);
    }
}
