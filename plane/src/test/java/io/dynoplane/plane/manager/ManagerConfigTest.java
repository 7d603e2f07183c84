package io.dynoplane.plane.manager;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManagerConfigTest {
    @Test
    void herokusBackoffRestartsAtOnceThenCoolsOffUpToItsCap() {
        ManagerConfig c = ManagerConfig.defaults();
        assertThat(List.of(1, 2, 3, 4, 5, 6, 7, 50).stream().map(c::backoff).toList()).containsExactly(
                Duration.ZERO, Duration.ofMinutes(20), Duration.ofMinutes(40), Duration.ofMinutes(60),
                Duration.ofMinutes(180), Duration.ofMinutes(320), Duration.ofMinutes(320), Duration.ofMinutes(320));
        assertThat(c.memoryLimit()).isEqualTo(1L << 30); // R15 at twice standard-1x's 512 MiB
    }

    @Test
    void badSettingsAreRefusedNamingThem() {
        ManagerConfig c = ManagerConfig.defaults();
        assertThatThrownBy(() -> c.withBoot(Duration.ZERO)).hasMessageContaining("bootTimeout");
        assertThatThrownBy(() -> c.withStopGrace(Duration.ofSeconds(-1))).hasMessageContaining("stopGrace");
        assertThatThrownBy(() -> c.withCrashBackoff(List.of(), Duration.ofMinutes(1))).hasMessageContaining("crashBackoff");
        assertThatThrownBy(() -> c.withWebPort(70000)).hasMessageContaining("70000");
        assertThatThrownBy(() -> c.withMemory(1000, Duration.ofSeconds(1))).hasMessageContaining("memoryQuota");
    }
}
