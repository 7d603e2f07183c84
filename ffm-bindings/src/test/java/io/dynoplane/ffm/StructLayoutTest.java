package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Java struct layouts against what gcc makes of libbpf's own headers: sizeof, and offsetof/sizeof of every field. */
class StructLayoutTest {

    @Test
    void layoutsMatchTheLibbpfHeaders(@TempDir Path dir) throws IOException {
        CLayouts layouts = new CLayouts().structs(LibbpfStructs.ALL);
        Map<String, Long> cView = layouts.cView(dir, """
                #include <stddef.h>
                #include <stdio.h>
                #include <bpf/libbpf.h>
                #include <bpf/bpf.h>
                """);

        assertThat(layouts.javaView).isEqualTo(cView);
        assertThat(cView).containsEntry("bpf_object_open_opts sizeof", 80L)
                .containsEntry("bpf_tc_hook sizeof", 24L)
                .containsEntry("bpf_tc_opts sizeof", 32L)
                .containsEntry("bpf_test_run_opts sizeof", 80L);
    }
}
