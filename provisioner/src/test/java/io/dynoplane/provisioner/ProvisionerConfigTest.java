package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ProvisionerConfigTest {
    @Test
    void statefoldersOfOneNameInDifferentPlacesGetGuardsOfTheirOwn() {
        Path a = new ProvisionerConfig("172.16.0.0/24", Path.of("/a/state")).bpfPins();
        Path b = new ProvisionerConfig("172.16.0.0/24", Path.of("/b/state")).bpfPins();
        assertThat(a).isNotEqualTo(b);
        assertThat(a.getParent()).isEqualTo(Path.of("/sys/fs/bpf/dynoplane"));
        // What a shell computes: printf %s /a/state | sha256sum | cut -c1-8
        assertThat(a.getFileName().toString()).isEqualTo("state-" + sha8("/a/state"));
        assertThat(new ProvisionerConfig("172.16.0.0/24", Path.of("/a/./x.y/../state")).bpfPins()).isEqualTo(a);
        assertThat(new ProvisionerConfig("172.16.0.0/24", Path.of("/srv/plane.1")).bpfPins().getFileName().toString()).startsWith("plane_1-");
    }

    private static String sha8(String path) {
        try {
            Process p = new ProcessBuilder("sh", "-c", "printf %s \"$0\" | sha256sum | cut -c1-8", path).start();
            return new String(p.getInputStream().readAllBytes()).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
