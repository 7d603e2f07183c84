package io.dynoplane.ffm;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helper for the layout tests: the Java view of struct layouts ({@code name sizeof}, {@code name.field
 * offsetof}, {@code name.field sizeof}) and the C program that prints the same keys, compiled with gcc and run.
 */
final class CLayouts {
    final Map<String, Long> javaView = new LinkedHashMap<>();
    private final StringBuilder main = new StringBuilder();

    /** Adds every struct: its size, and offset and size of each named (non-padding) member. */
    CLayouts structs(List<StructLayout> structs) {
        for (StructLayout struct : structs) {
            String name = struct.name().orElseThrow();
            print(name + " sizeof", struct.byteSize(), "sizeof(struct " + name + ")");
            long offset = 0;
            for (MemoryLayout member : struct.memberLayouts()) {
                if (!(member instanceof PaddingLayout)) {
                    String field = member.name().orElseThrow();
                    print(name + "." + field + " offsetof", offset, "offsetof(struct " + name + ", " + field + ")");
                    print(name + "." + field + " sizeof", member.byteSize(), "sizeof(((struct " + name + " *)0)->" + field + ")");
                }
                offset += member.byteSize();
            }
        }
        return this;
    }

    /** Adds one key: the Java value and the C expression that must print the same number. */
    CLayouts print(String key, long javaValue, String cExpression) {
        javaView.put(key, javaValue);
        main.append("  printf(\"%s %lld\\n\", \"").append(key).append("\", (long long) (").append(cExpression).append("));\n");
        return this;
    }

    /** Compiles {@code headers} plus the collected printfs with gcc -Wall -Werror in {@code dir}, runs it, parses its output. */
    Map<String, Long> cView(Path dir, String headers) throws IOException {
        Path source = Files.writeString(dir.resolve("layouts.c"), headers + "\nint main(void) {\n" + main + "  return 0;\n}\n");
        Path binary = dir.resolve("layouts");
        Shell.run("gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        Map<String, Long> cView = new LinkedHashMap<>();
        Shell.run(binary.toString()).lines().forEach(line -> {
            int lastSpace = line.lastIndexOf(' ');
            cView.put(line.substring(0, lastSpace), Long.parseLong(line.substring(lastSpace + 1)));
        });
        return cView;
    }
}
