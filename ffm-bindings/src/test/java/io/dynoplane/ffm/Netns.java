package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Runs code inside a named network namespace ({@code ip netns add NAME}): on a platform thread of its own that
 * calls setns(2) and then ends, since setns moves only the calling thread. Sockets, if_nametoindex and libbpf's
 * netlink calls made there all happen in that namespace; a socket stays in it after the thread is gone.
 */
final class Netns {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    // int open(const char *pathname, int flags, ...): called without the optional mode.
    private static final MethodHandle OPEN = LINKER.downcallHandle(LIBC.findOrThrow("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Libc.CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    // int setns(int fd, int nstype)
    private static final MethodHandle SETNS = LINKER.downcallHandle(LIBC.findOrThrow("setns"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Libc.CAPTURE_ERRNO);
    // int close(int fd)
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LIBC.findOrThrow("close"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private Netns() {}

    static <T> T inside(String namespace, Callable<T> task) {
        FutureTask<T> future = new FutureTask<>(() -> {
            enter(namespace);
            return task.call();
        });
        Thread.ofPlatform().name("netns " + namespace).start(future);
        try {
            return future.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error r) throw r;
            throw new IllegalStateException("in netns " + namespace, e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("in netns " + namespace, e);
        }
    }

    static void run(String namespace, Runnable task) {
        inside(namespace, () -> {
            task.run();
            return null;
        });
    }

    private static void enter(String namespace) {
        String path = "/run/netns/" + namespace;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            int fd = (int) OPEN.invokeExact(callState, call.allocateFrom(path), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw new LibbpfException("open", path, Libc.errno(callState), "");
            try {
                if ((int) SETNS.invokeExact(callState, fd, CLONE_NEWNET) != 0) {
                    throw new LibbpfException("setns", path, Libc.errno(callState), "");
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable t) {
            throw Libc.propagate(t);
        }
    }
}
