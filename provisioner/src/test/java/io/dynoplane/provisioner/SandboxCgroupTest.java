package io.dynoplane.provisioner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sandbox's pure parts: finding the memory cgroup (v1 and v2), sizes, the environment script, hostnames. */
class SandboxCgroupTest {
    private static final List<String> HYBRID_MOUNTS = List.of(
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");

    @Test
    void findsTheV1MemoryHierarchyOfAHybridSetup() {
        MemoryCgroup.Parent parent = MemoryCgroup.Parent.locate(
                List.of("9:name=systemd:/", "4:memory:/process_api/fb02c70a", "1:cpu:/", "0::/"), HYBRID_MOUNTS);
        assertThat(parent).isEqualTo(new MemoryCgroup.Parent(Path.of("/sys/fs/cgroup/memory/process_api/fb02c70a"), MemoryCgroup.Version.V1));
    }

    @Test
    void findsTheV2CgroupOnAUnifiedSetup() {
        MemoryCgroup.Parent parent = MemoryCgroup.Parent.locate(List.of("0::/system.slice/dynoplane.service"),
                List.of("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate"));
        assertThat(parent).isEqualTo(new MemoryCgroup.Parent(Path.of("/sys/fs/cgroup/system.slice/dynoplane.service"), MemoryCgroup.Version.V2));
    }

    @Test
    void mapsTheCgroupPathThroughTheMountsRootAndUnescapesMountPoints() {
        // a container whose memory hierarchy is mounted from /docker/abc, at a mount point with a space
        MemoryCgroup.Parent parent = MemoryCgroup.Parent.locate(List.of("4:memory:/docker/abc/plane"),
                List.of("35 31 0:32 /docker/abc /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory"));
        assertThat(parent.dir()).isEqualTo(Path.of("/sys/fs/cgroup/mem ory/plane"));
    }

    @Test
    void thisMachinesOwnMemoryCgroupExists() {
        MemoryCgroup.Parent parent = MemoryCgroup.Parent.ofCurrentProcess();
        assertThat(parent.dir()).isDirectory();
        assertThat(MemoryCgroup.Parent.of(parent.dir())).isEqualTo(parent);
    }

    @Test
    void createsLimitsAndRemovesARealCgroup() throws IOException {
        MemoryCgroup.Parent parent = MemoryCgroup.Parent.ofCurrentProcess();
        MemoryCgroup cgroup = MemoryCgroup.create(parent, "dpt-cgroup-test." + ProcessHandle.current().pid(), 64L << 20);
        try {
            String limitFile = parent.version() == MemoryCgroup.Version.V1 ? "memory.limit_in_bytes" : "memory.max";
            assertThat(Files.readString(cgroup.dir().resolve(limitFile)).trim()).isEqualTo(Long.toString(64L << 20));
            assertThat(cgroup.pids()).isEmpty();
            assertThat(cgroup.oomKills()).isZero();
        } finally {
            assertThat(cgroup.remove(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(cgroup.dir()).doesNotExist();
        assertThat(cgroup.pids()).isEmpty();
    }

    @Test
    void v2EnablesTheMemoryControllerWritesMemoryMaxAndCountsOomKillsFromMemoryEvents(@TempDir Path fakeCgroupFs) throws IOException {
        Files.writeString(fakeCgroupFs.resolve("cgroup.controllers"), "cpu memory pids\n");
        Files.writeString(fakeCgroupFs.resolve("cgroup.subtree_control"), "\n");
        MemoryCgroup cgroup = MemoryCgroup.create(MemoryCgroup.Parent.of(fakeCgroupFs), "dp-x-web-1.abcdef", 512L << 20);
        assertThat(Files.readString(fakeCgroupFs.resolve("cgroup.subtree_control"))).isEqualTo("+memory");
        assertThat(Files.readString(cgroup.dir().resolve("memory.max"))).isEqualTo(Long.toString(512L << 20));
        Files.writeString(cgroup.dir().resolve("memory.events"), "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n");
        assertThat(cgroup.oomKills()).isEqualTo(2);
        assertThat(cgroup.version()).isEqualTo(MemoryCgroup.Version.V2);
    }

    @Test
    void dynoSizes() {
        assertThat(DynoSize.DEFAULT).isEqualTo(DynoSize.STANDARD_1X);
        assertThat(DynoSize.STANDARD_1X.memoryBytes()).isEqualTo(512L * 1024 * 1024);
        assertThat(DynoSize.STANDARD_2X.memoryBytes()).isEqualTo(1024L * 1024 * 1024);
        assertThat(DynoSize.PERFORMANCE_M.memoryBytes()).isEqualTo(2560L * 1024 * 1024);
        assertThat(DynoSize.PERFORMANCE_L.memoryBytes()).isEqualTo(14L * 1024 * 1024 * 1024);
        assertThat(DynoSize.of("Performance-M")).isEqualTo(DynoSize.PERFORMANCE_M);
        assertThat(DynoSize.of("2X")).isEqualTo(DynoSize.STANDARD_2X);
        assertThatThrownBy(() -> DynoSize.of("hobby")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void environmentScriptQuotesValuesAndRejectsBadNames() {
        DynoSpec spec = new DynoSpec("app", "web", 3, "true", Path.of("/tmp"), Map.of("Q", "a'b"), 5000);
        assertThat(DynoProcess.environmentScript(spec)).isEqualTo("""
                export PATH='/usr/local/bin:/usr/bin:/bin'
                export HOME='/app'
                export Q='a'\\''b'
                export DYNO='web.3'
                export PORT='5000'
                """);
        DynoSpec bad = new DynoSpec("app", "web", 1, "true", Path.of("/tmp"), Map.of("A=B; rm -rf /", "x"), null);
        assertThatThrownBy(() -> DynoProcess.environmentScript(bad)).isInstanceOf(ProvisioningException.class);
    }

    @Test
    void hostnameIsAppTypeIndexWithinTheKernelsLimit() {
        assertThat(DynoProcess.hostnameOf(new DynoSpec("shop", "web", 2, "true", Path.of("/tmp"), Map.of(), null))).isEqualTo("shop.web.2");
        String longName = DynoProcess.hostnameOf(new DynoSpec("a".repeat(30), "b".repeat(30), 12345, "true", Path.of("/tmp"), Map.of(), null));
        assertThat(longName).hasSizeLessThanOrEqualTo(64).startsWith("b".repeat(30) + ".12345.");
    }
}
