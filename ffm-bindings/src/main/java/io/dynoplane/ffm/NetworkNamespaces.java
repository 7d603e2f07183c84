package io.dynoplane.ffm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static io.dynoplane.ffm.Syscalls.CLONE_NEWNET;
import static io.dynoplane.ffm.Syscalls.EINVAL;
import static io.dynoplane.ffm.Syscalls.LOCK_EX;
import static io.dynoplane.ffm.Syscalls.LOCK_UN;
import static io.dynoplane.ffm.Syscalls.MNT_DETACH;
import static io.dynoplane.ffm.Syscalls.MS_BIND;
import static io.dynoplane.ffm.Syscalls.MS_REC;
import static io.dynoplane.ffm.Syscalls.MS_SHARED;
import static io.dynoplane.ffm.Syscalls.O_CLOEXEC;
import static io.dynoplane.ffm.Syscalls.O_CREAT;
import static io.dynoplane.ffm.Syscalls.O_DIRECTORY;
import static io.dynoplane.ffm.Syscalls.O_EXCL;
import static io.dynoplane.ffm.Syscalls.O_RDONLY;

/**
 * Named network namespaces where {@code ip netns} keeps them: a namespace is pinned by bind-mounting its nsfs file
 * onto an empty file {@code /run/netns/NAME}, so it outlives every process in it, {@code ip netns list} and
 * {@code ip -n NAME} see it, and opening the file gives a descriptor for setns(2) or IFLA_NET_NS_FD.
 *
 * <p>Namespaces belong to OS threads, not processes, and the JVM multiplexes work over threads. So every namespace
 * change here happens on a platform thread of its own, never a pooled or virtual one: {@link #createWithNetlink} on
 * one long-lived maker thread that returns to its home namespace after each namespace (or is retired if it cannot),
 * {@link #create} and {@link #inside} on a thread started for that one job and discarded with it.
 */
public final class NetworkNamespaces {
    /** iproute2's NETNS_RUN_DIR ({@code /var/run/netns}; /var/run is a symlink to /run). */
    public static final Path RUN_DIR = Path.of("/run/netns");

    private static final int RUN_DIR_MODE = 0755;  // S_IRWXU|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH, as iproute2
    private static final int NAME_MAX = 255;

    private NetworkNamespaces() {}

    /**
     * Creates an empty network namespace (only a down {@code lo}) named {@code name}, like {@code ip netns add}.
     *
     * @throws SyscallException with EEXIST if {@code /run/netns/NAME} already exists, or for whichever step failed
     */
    public static void create(String name) {
        create(RUN_DIR, name);
    }

    /**
     * Creates the namespace like {@link #create(String)} and returns a netlink socket inside it, opened by the very
     * thread that made it: one thread and one setns fewer than {@code create} then {@link RtNetlink#openIn}.
     * The caller closes the socket (it keeps the namespace alive while open).
     */
    public static RtNetlink createWithNetlink(String name) {
        return create(RUN_DIR, name, true, RtNetlink::open);
    }

    // The steps of iproute2's netns_add, in its order; runDir is a parameter only so tests can use a directory that
    // is not yet a mount point (the EINVAL path) inside a private mount namespace.
    static void create(Path runDir, String name) {
        create(runDir, name, false, () -> null);
    }

    /**
     * @param onMaker run on the long-lived maker thread (the provisioning hot path) rather than a fresh thread; the
     *                maker lives in the mount namespace of the thread that first used it, a fresh thread in the caller's
     */
    private static <T> T create(Path runDir, String name, boolean onMaker, java.util.function.Supplier<T> insideNew) {
        validate(name);
        String dir = runDir.toString();
        String path = runDir.resolve(name).toString();
        Syscalls.mkdir(dir, RUN_DIR_MODE);
        makeRunDirShared(dir);

        // The file the namespace is bound onto; O_EXCL is what makes an existing name an error.
        Syscalls.close(Syscalls.open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
        try {
            Callable<T> unshare = () -> {
                Syscalls.unshare(CLONE_NEWNET);
                // thread-self, not self: in the JVM, /proc/self/ns/net is the main thread's namespace.
                Syscalls.mount("/proc/thread-self/ns/net", path, "none", MS_BIND, null);
                return insideNew.get();
            };
            return onMaker ? Maker.run("netns add " + name, unshare) : onDedicatedThread("netns add " + name, unshare);
        } catch (RuntimeException | Error e) {
            removePin(path);  // iproute2's out_delete: no half-made namespace file stays behind
            throw e;
        }
    }

    /**
     * Makes the run directory a shared mount, as iproute2 does, so a namespace unmounted in one mount namespace is
     * unmounted in all of them and can be freed. The directory must be a mount point for that: if it is not (EINVAL),
     * bind-mount it onto itself once and retry. An exclusive flock on the directory keeps concurrent creators (other
     * ip processes, other threads here) from stacking bind mounts (https://bugs.debian.org/949235); like iproute2, we
     * go on without the lock if flock fails.
     */
    private static void makeRunDirShared(String dir) {
        int lock = Syscalls.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        boolean locked = false;
        try {
            try {
                Syscalls.flock(lock, LOCK_EX, dir);
                locked = true;
            } catch (SyscallException e) {
                // iproute2 only warns here; the lock is a courtesy between creators.
            }
            boolean madeMountPoint = false;
            while (true) {
                try {
                    Syscalls.mount("", dir, "none", MS_SHARED | MS_REC, null);  // mount --make-rshared DIR
                    return;
                } catch (SyscallException e) {
                    if (e.errno() != EINVAL || madeMountPoint) throw e;
                }
                Syscalls.mount(dir, dir, "none", MS_BIND | MS_REC, null);       // mount --rbind DIR DIR
                madeMountPoint = true;
            }
        } finally {
            try {
                if (locked) Syscalls.flock(lock, LOCK_UN, dir);
            } finally {
                Syscalls.close(lock);
            }
        }
    }

    /**
     * Deletes the namespace's name, like {@code ip netns delete}: lazily unmounts {@code /run/netns/NAME} and removes
     * the file. The namespace itself goes when nothing else holds it (processes, open descriptors, sockets).
     *
     * @return false if there was no such name
     */
    public static boolean delete(String name) {
        validate(name);
        return removePin(RUN_DIR.resolve(name).toString());
    }

    static boolean removePin(String path) {
        try {
            Syscalls.umount2(path, MNT_DETACH);
        } catch (SyscallException e) {
            // Not mounted (EINVAL) or absent (ENOENT): iproute2 ignores this too; unlink decides.
        }
        return Syscalls.unlink(path);
    }

    /** Whether {@code /run/netns/NAME} exists. */
    public static boolean exists(String name) {
        validate(name);
        return Files.exists(RUN_DIR.resolve(name));
    }

    /** The names in {@code /run/netns}, sorted; empty if the directory does not exist. */
    public static List<String> list() {
        try (Stream<Path> entries = Files.list(RUN_DIR)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs {@code work} inside the named namespace and returns its result: on a new platform thread that setns(2)s
     * into {@code /run/netns/NAME}, runs the work and ends. Sockets created there (netlink included) stay bound to that
     * namespace after the thread is gone and can be used from any thread.
     *
     * <p>Threads started by {@code work} inherit the namespace. So {@code work} must not start threads or lazily
     * create thread pools that outlive it (the common ForkJoinPool, virtual-thread carriers, HTTP client selectors):
     * they would stay in the namespace and run unrelated work there.
     *
     * <p>Unchecked exceptions and errors from {@code work} propagate unchanged; an IOException comes out as
     * UncheckedIOException, any other checked exception wrapped in IllegalStateException. The caller waits until the
     * work is done even if interrupted (its interrupt status is kept), so nothing it made is left behind.
     *
     * @throws SyscallException if the namespace cannot be opened or entered (ENOENT: no such name)
     */
    public static <T> T inside(String name, Callable<T> work) {
        validate(name);
        Objects.requireNonNull(work, "work");
        String path = RUN_DIR.resolve(name).toString();
        return onDedicatedThread("netns " + name, () -> {
            int fd = Syscalls.open(path, O_RDONLY | O_CLOEXEC);
            try {
                Syscalls.setns(fd, CLONE_NEWNET);
            } finally {
                Syscalls.close(fd);
            }
            return work.call();
        });
    }

    /**
     * As {@link #inside(String, Callable)}, for a namespace given by the path of its pin ({@code /run/netns/NAME},
     * {@code /proc/PID/ns/net}): same throwaway platform thread, same rules for {@code work}.
     *
     * @throws SyscallException naming {@code pin}: ENOENT if there is no such file, EINVAL if it is no network namespace
     */
    public static <T> T insidePin(Path pin, Callable<T> work) {
        Objects.requireNonNull(pin, "pin");
        Objects.requireNonNull(work, "work");
        String path = pin.toString();
        return onDedicatedThread("netns " + path, () -> {
            int fd = Syscalls.open(path, O_RDONLY | O_CLOEXEC);
            try {
                Syscalls.setns(fd, CLONE_NEWNET);
            } catch (SyscallException e) {
                throw new SyscallException("setns", path + " (CLONE_NEWNET)", e.errno());
            } finally {
                Syscalls.close(fd);
            }
            return work.call();
        });
    }

    /** Runs {@code task} on a fresh platform thread, waits for it uninterruptibly, and hands back its outcome. */
    private static <T> T onDedicatedThread(String threadName, Callable<T> task) {
        Outcome<T> outcome = new Outcome<>();
        Thread thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(() -> {
            try {
                outcome.value = task.call();
            } catch (Throwable t) {
                outcome.failure = t;
            }
        });
        thread.start();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        // join() is a happens-before edge: the thread's writes to outcome are visible here.
        Throwable failure = outcome.failure;
        if (failure == null) return outcome.value;
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
        if (failure instanceof IOException e) throw new UncheckedIOException(threadName + ": " + e.getMessage(), e);
        throw new IllegalStateException(threadName + ": " + failure, failure);
    }

    /**
     * The one long-lived platform thread that makes namespaces: it unshares into each new namespace, then setns()es
     * back to the namespace it was started in (the creator's, normally the host's), so a namespace costs no thread
     * start (~0.3 ms, as much as the unshare itself). A thread that cannot get back is retired, never reused. Tasks
     * run here must not start threads (they would inherit the new namespace).
     */
    private static final class Maker {
        private static ExecutorService thread;
        private static int homeFd = -1;

        static synchronized <T> T run(String what, Callable<T> task) {
            if (thread == null) {
                thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("netns-maker").daemon(true).unstarted(r));
                homeFd = await(what, thread.submit(() -> Syscalls.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)));
            }
            int home = homeFd;
            boolean[] lost = new boolean[1];
            try {
                return await(what, thread.submit(() -> {
                    try {
                        return task.call();
                    } finally {
                        try {
                            Syscalls.setns(home, CLONE_NEWNET);
                        } catch (SyscallException e) {
                            lost[0] = true;
                        }
                    }
                }));
            } finally {
                if (lost[0]) retire();
            }
        }

        private static void retire() {
            thread.shutdownNow();
            thread = null;
            Syscalls.close(homeFd);
            homeFd = -1;
        }

        /** Waits uninterruptibly (a namespace half made is worse than a late interrupt) and unwraps the outcome. */
        private static <T> T await(String what, Future<T> future) {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return future.get();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (ExecutionException e) {
                        Throwable failure = e.getCause();
                        if (failure instanceof RuntimeException r) throw r;
                        if (failure instanceof Error r) throw r;
                        if (failure instanceof IOException io) throw new UncheckedIOException(what + ": " + io.getMessage(), io);
                        throw new IllegalStateException(what + ": " + failure, failure);
                    }
                }
            } finally {
                if (interrupted) Thread.currentThread().interrupt();
            }
        }
    }

    private static final class Outcome<T> {
        T value;
        Throwable failure;
    }

    // iproute2's invalid_name: the name is one path component.
    private static void validate(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.length() > NAME_MAX || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0
                || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid network namespace name \"" + name + "\"");
        }
    }
}
