package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Java side writes into and reads from the guard's maps, against bpf/include/dynoplane.h as
 * gcc lays it out (x86-64 and BPF agree on these plain structs): struct sizes and offsets, the
 * verdict and flow timeout ordinals, the default timeouts.
 */
class GuardLayoutTest {
    private static final Path HEADER = Path.of("..", "bpf", "include", "dynoplane.h").toAbsolutePath().normalize();

    @Test
    void javaMatchesDynoplaneH(@TempDir Path dir) throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder();
        expect(java, c, "sizeof(struct dyno_info)", IsolationPlane.DYNO_INFO_SIZE);
        expect(java, c, "offsetof(struct dyno_info, gen)", IsolationPlane.DYNO_INFO_GEN);
        expect(java, c, "offsetof(struct dyno_info, gateway)", 20);
        expect(java, c, "sizeof(struct flow_key)", 16);
        expect(java, c, "offsetof(struct flow_key, dyno)", 4);
        expect(java, c, "sizeof(struct flow_value)", IsolationPlane.FLOW_VALUE_SIZE);
        expect(java, c, "offsetof(struct flow_value, state)", IsolationPlane.FLOW_VALUE_STATE);
        expect(java, c, "offsetof(struct flow_value, gen)", IsolationPlane.FLOW_VALUE_GEN);
        expect(java, c, "offsetof(struct flow_value, last_seen_ns)", IsolationPlane.FLOW_VALUE_LAST_SEEN);
        expect(java, c, "FLOW_S_DYNO", FlowTimeout.S_DYNO);
        expect(java, c, "FLOW_S_REMOTE", FlowTimeout.S_REMOTE);
        expect(java, c, "FLOW_S_FIN_DYNO", FlowTimeout.S_FIN_DYNO);
        expect(java, c, "FLOW_S_FIN_REMOTE", FlowTimeout.S_FIN_REMOTE);
        expect(java, c, "sizeof(struct listener_key)", IsolationPlane.listenerKey(new java.net.InetSocketAddress("0.0.0.0", 1)).length);
        expect(java, c, "offsetof(struct listener_key, port)", 4);
        for (Verdict v : Verdict.values()) expect(java, c, "VERDICT_" + v.name(), v.ordinal());
        expect(java, c, "VERDICT_MAX", Verdict.values().length);
        for (FlowTimeout t : FlowTimeout.values()) {
            expect(java, c, "FLOW_T_" + t.name(), t.ordinal());
            expect(java, c, "FLOW_TIMEOUT_" + t.name() + "_S", t.defaultTimeout().toSeconds());
        }
        expect(java, c, "FLOW_T_MAX", FlowTimeout.values().length);

        Path source = Files.writeString(dir.resolve("layouts.c"), "#include <stdio.h>\n#include <stddef.h>\n#include \"" + HEADER
                + "\"\nint main(void) {\n" + c + "  return 0;\n}\n");
        Path binary = dir.resolve("layouts");
        run("gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        Map<String, Long> fromC = new LinkedHashMap<>();
        run(binary.toString()).lines().forEach(line -> {
            int tab = line.lastIndexOf('\t');
            fromC.put(line.substring(0, tab), Long.parseLong(line.substring(tab + 1)));
        });
        assertThat(fromC).containsExactlyEntriesOf(java);
    }

    private static void expect(Map<String, Long> java, StringBuilder c, String expression, long value) {
        java.put(expression, value);
        c.append("  printf(\"%s\\t%lld\\n\", \"").append(expression).append("\", (long long) (").append(expression).append("));\n");
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", command) + ": " + out);
        return out;
    }
}
