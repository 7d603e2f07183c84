package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Test helper: asserts that no dyno of an app left sandbox state behind: no runtime folder
 * ({@code <runtime root>/dp-<app>-*}) and no memory cgroup ({@code dp-<app>-*.<hex>} under this
 * process's memory cgroup), hence no process in one either.
 */
final class SandboxLeftovers {
    private SandboxLeftovers() {}

    static void assertNoneFor(String app) {
        assertNoneFor(app, DynoSandbox.defaults());
    }

    static void assertNoneFor(String app, DynoSandbox sandbox) {
        String prefix = new DynoSpec(app, "web", 1, "true", Path.of("/"), java.util.Map.of(), null).netnsName();
        prefix = prefix.substring(0, prefix.length() - "web-1".length()); // dp-<app>-
        assertThat(entries(sandbox.runtimeRoot(), prefix)).as("dyno runtime folders of %s", app).isEmpty();
        assertThat(entries(sandbox.cgroupParentOrCurrent().dir(), prefix)).as("dyno memory cgroups of %s", app).isEmpty();
    }

    private static List<String> entries(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList();
        } catch (IOException e) {
            throw new AssertionError("listing " + dir, e);
        }
    }
}
