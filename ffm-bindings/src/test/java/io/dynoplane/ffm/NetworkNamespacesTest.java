package io.dynoplane.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static io.dynoplane.ffm.Shell.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Named namespaces made over FFM must be indistinguishable from {@code ip netns add}'s: listed by {@code ip netns list},
 * usable by {@code ip -n}, and gone without a trace (file or mount) after delete.
 */
class NetworkNamespacesTest {
    private final List<String> created = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (String name : created) Shell.runQuietly("ip", "netns", "del", name);
    }

    private String newName() {
        String name = Shell.uniqueName("dpt");
        created.add(name);
        return name;
    }

    @Test
    void createdNamespaceIsWhatIpNetnsSeesAndDeleteLeavesNothing() throws IOException {
        String name = newName();
        NetworkNamespaces.create(name);

        assertThat(NetworkNamespaces.exists(name)).isTrue();
        assertThat(NetworkNamespaces.list()).contains(name);
        assertThat(run("ip", "netns", "list")).containsPattern("(?m)^" + name + "( |$)");
        assertThat(run("ip", "-n", name, "link", "show", "lo")).contains("lo:").contains("state DOWN");
        assertThat(mountsMentioning(name)).singleElement().asString().contains("/run/netns/" + name).contains("nsfs");

        // A thread inside it is in the namespace pinned by the file: same nsfs inode.
        long pinned = (long) Files.getAttribute(NetworkNamespaces.RUN_DIR.resolve(name), "unix:ino");
        String inside = NetworkNamespaces.inside(name, () -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
        assertThat(inside).isEqualTo("net:[" + pinned + "]");
        assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isNotEqualTo(inside);

        assertThat(NetworkNamespaces.delete(name)).isTrue();
        assertThat(NetworkNamespaces.exists(name)).isFalse();
        assertThat(Files.exists(NetworkNamespaces.RUN_DIR.resolve(name))).isFalse();
        assertThat(NetworkNamespaces.list()).doesNotContain(name);
        assertThat(run("ip", "netns", "list")).doesNotContainPattern("(?m)^" + name + "( |$)");
        assertThat(mountsMentioning(name)).isEmpty();
        assertThat(NetworkNamespaces.delete(name)).isFalse();
    }

    @Test
    void creatingAnExistingNameFailsNamingItAndLeavesTheNamespaceAlone() {
        String name = newName();
        NetworkNamespaces.create(name);

        assertThatThrownBy(() -> NetworkNamespaces.create(name))
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errno()).isEqualTo(Syscalls.EEXIST))
                .hasMessageContaining("/run/netns/" + name)
                .hasMessageContaining("EEXIST");
        assertThat(run("ip", "-n", name, "link", "show", "lo")).contains("lo:");
        assertThat(NetworkNamespaces.delete(name)).isTrue();
    }

    @Test
    void insideRunsOnAFreshPlatformThreadThatEndsAndPropagatesFailures() {
        String name = newName();
        NetworkNamespaces.create(name);

        AtomicReference<Thread> worker = new AtomicReference<>();
        NetworkNamespaces.inside(name, () -> worker.getAndSet(Thread.currentThread()));
        assertThat(worker.get()).isNotSameAs(Thread.currentThread());
        assertThat(worker.get().isVirtual()).isFalse();
        assertThat(worker.get().isAlive()).isFalse();

        IllegalStateException thrown = new IllegalStateException("boom");
        assertThatThrownBy(() -> NetworkNamespaces.inside(name, () -> { throw thrown; })).isSameAs(thrown);
        IOException io = new IOException("io boom");
        assertThatThrownBy(() -> NetworkNamespaces.inside(name, () -> { throw io; }))
                .isInstanceOf(UncheckedIOException.class).hasCause(io);

        String missing = Shell.uniqueName("dpt");
        assertThatThrownBy(() -> NetworkNamespaces.inside(missing, () -> null))
                .isInstanceOfSatisfying(SyscallException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Syscalls.ENOENT);
                    assertThat(e.operation()).isEqualTo("open");
                })
                .hasMessageContaining("/run/netns/" + missing)
                .hasMessageContaining("No such file or directory");
        assertThatThrownBy(() -> NetworkNamespaces.create("../etc")).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * iproute2's other branch: the run directory is not a mount point yet, so making it shared fails with EINVAL and
     * it is first bind-mounted onto itself. Tried on a fresh directory in a private mount namespace of a throwaway
     * thread, so nothing of it can reach the host's mount table and it all goes when the thread ends.
     */
    @Test
    void runDirThatIsNotAMountPointIsBindMountedOntoItselfAndMadeShared() throws Exception {
        Path runDir = Files.createTempDirectory("dpt");
        String name = Shell.uniqueName("dpt");
        try {
            List<String> mounts = onThrowawayThreadInPrivateMountNamespace(() -> {
                NetworkNamespaces.create(runDir, name);
                List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/mountinfo"));
                NetworkNamespaces.removePin(runDir.resolve(name).toString());
                Syscalls.umount2(runDir.toString(), Syscalls.MNT_DETACH);
                return lines;
            });
            String dir = runDir.toString();
            assertThat(mounts).anySatisfy(line -> assertThat(line.split(" ")[4]).isEqualTo(dir))
                    .filteredOn(line -> line.split(" ")[4].equals(dir))
                    .allSatisfy(line -> assertThat(line).contains("shared:"));
            assertThat(mounts).anySatisfy(line -> {
                assertThat(line.split(" ")[4]).isEqualTo(dir + "/" + name);
                assertThat(line).contains("nsfs");
            });
            assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo"))).noneMatch(line -> line.contains(dir));
        } finally {
            Files.deleteIfExists(runDir.resolve(name));
            Files.deleteIfExists(runDir);
        }
    }

    private static <T> T onThrowawayThreadInPrivateMountNamespace(java.util.concurrent.Callable<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("dpt private mounts").start(() -> {
            try {
                Syscalls.unshare(Syscalls.CLONE_NEWNS);
                Syscalls.mount(null, "/", null, Syscalls.MS_REC | Syscalls.MS_PRIVATE, null);  // like unshare -m
                result.set(work.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        thread.join();
        if (failure.get() instanceof Exception e) throw e;
        if (failure.get() instanceof Error e) throw e;
        return result.get();
    }

    private static List<String> mountsMentioning(String name) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(line -> line.contains(name)).toList();
    }
}
