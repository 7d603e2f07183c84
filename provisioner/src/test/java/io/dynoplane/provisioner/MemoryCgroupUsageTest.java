package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A real memory cgroup's current usage: a process in it that writes 64 MiB is charged for them. */
class MemoryCgroupUsageTest {
    @Test
    void chargesWhatTheProcessesInItUse() throws Exception {
        MemoryCgroup cgroup = MemoryCgroup.create(MemoryCgroup.Parent.ofCurrentProcess(),
                "dpt-usage-test." + ProcessHandle.current().pid() + "." + System.nanoTime(), 256L << 20);
        Process p = null;
        try {
            assertThat(cgroup.currentBytes()).isLessThan(1L << 20);
            p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec python3 -c \"$1\"", cgroup.procsFile().toString(),
                    "import sys\nb = b'x' * (64 << 20)\nprint('filled', flush=True)\nsys.stdin.read()")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertThat(line).isEqualTo("filled");
            assertThat(cgroup.currentBytes()).isBetween(64L << 20, 256L << 20);
        } finally {
            if (p != null) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            assertThat(cgroup.remove(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(cgroup.currentBytes()).isZero();
    }
}
