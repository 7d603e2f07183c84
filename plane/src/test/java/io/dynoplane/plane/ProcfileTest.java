package io.dynoplane.plane;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcfileTest {
    @Test
    void readsTypesInOrderSkippingBlanksAndComments() {
        Procfile p = Procfile.parse("Procfile", List.of("# comment", "web: python3 server.py --port $PORT", "", "worker:   ./work"));
        assertThat(p.commands()).containsExactly(
                java.util.Map.entry("web", "python3 server.py --port $PORT"), java.util.Map.entry("worker", "./work"));
    }

    @Test
    void malformedLinesAndDuplicatesNameFileAndLine() {
        assertThatThrownBy(() -> Procfile.parse("app/Procfile", List.of("web python3"))).hasMessageContaining("app/Procfile:1").hasMessageContaining("'web python3'");
        assertThatThrownBy(() -> Procfile.parse("Procfile", List.of("web: a", "web: b"))).hasMessageContaining("Procfile:2").hasMessageContaining("twice");
        assertThatThrownBy(() -> Procfile.parse("Procfile", List.of("worker: a")).command("web")).hasMessageContaining("no 'web'");
    }

    @Test
    void logLinesUseHerokusFormat() {
        LogLine line = new LogLine(java.time.Instant.parse("2026-11-26T10:00:00.123456Z"), "app", "web.1", "hello");
        assertThat(line).hasToString("2026-11-26T10:00:00.123456+00:00 app[web.1]: hello");
    }
}
