package io.dynoplane.ffm;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Failures carry errno, the call and its object; namespace calls refuse virtual threads. */
class SyscallsTest {

    @Test
    void failuresNameTheCallTheObjectAndTheErrno() {
        String missing = "/run/netns/" + Shell.uniqueName("dpt");
        assertThatThrownBy(() -> Syscalls.open(missing, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC))
                .isInstanceOfSatisfying(SyscallException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Syscalls.ENOENT);
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e.operation()).isEqualTo("open");
                    assertThat(e.target()).isEqualTo(missing);
                })
                .hasMessage("open " + missing + " failed: ENOENT (No such file or directory)");

        assertThatThrownBy(() -> Syscalls.mount(missing, missing, null, Syscalls.MS_BIND | Syscalls.MS_REC, null))
                .isInstanceOf(SyscallException.class)
                .hasMessageContaining("mount " + missing).hasMessageContaining("MS_BIND|MS_REC").hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> Syscalls.umount2(missing, Syscalls.MNT_DETACH))
                .isInstanceOf(SyscallException.class).hasMessageContaining("umount2 " + missing + " (MNT_DETACH)");
        assertThatThrownBy(() -> Syscalls.close(-1))
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errnoName()).isEqualTo("EBADF"));
        assertThatThrownBy(() -> Syscalls.unshare(0x1))  // not a namespace flag
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errno()).isEqualTo(Syscalls.EINVAL));
    }

    @Test
    void setnsAndUnshareRefuseVirtualThreads() throws InterruptedException {
        AtomicReference<Throwable> refused = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                Syscalls.unshare(Syscalls.CLONE_NEWNET);
            } catch (Throwable t) {
                refused.set(t);
            }
        }).join();
        assertThat(refused.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("carrier");

        int fd = Syscalls.open("/proc/self/ns/net", Syscalls.O_RDONLY | Syscalls.O_CLOEXEC);
        try {
            Thread.ofVirtual().start(() -> {
                try {
                    Syscalls.setns(fd, Syscalls.CLONE_NEWNET);
                } catch (Throwable t) {
                    refused.set(t);
                }
            }).join();
        } finally {
            Syscalls.close(fd);
        }
        assertThat(refused.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("setns");
    }
}
