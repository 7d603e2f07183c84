package io.dynoplane.ffm;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * libbpf's print callback: every message goes to the System.Logger "libbpf", and this thread's WARN and INFO lines
 * are kept until the end of the current call so that a failure can carry them (a verifier rejection's log arrives
 * this way). DEBUG lines, which libbpf's own default printer drops, only go to the logger, and only when enabled.
 */
final class LibbpfLog {
    private static final System.Logger LOGGER = System.getLogger("libbpf");

    // enum libbpf_print_level
    private static final int LIBBPF_WARN = 0;
    private static final int LIBBPF_INFO = 1;

    // libbpf prints synchronously on the thread that called into it, so a thread-local holds exactly that call's lines.
    private static final ThreadLocal<List<String>> LINES = ThreadLocal.withInitial(ArrayList::new);

    /**
     * {@code int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *fmt, va_list ap)}. libbpf keeps the
     * pointer for the life of the process, hence the global arena.
     */
    static final MemorySegment PRINT_FN;

    static {
        try {
            PRINT_FN = Linker.nativeLinker().upcallStub(
                    MethodHandles.lookup().findStatic(LibbpfLog.class, "print",
                            MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class)),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
                    Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private LibbpfLog() {}

    /** Starts a libbpf call on this thread: forgets lines printed before it. */
    static void begin() {
        List<String> lines = LINES.get();
        if (!lines.isEmpty()) lines.clear();
    }

    /** The lines printed since {@link #begin()}, one per line, and forgets them. */
    static String take() {
        List<String> lines = LINES.get();
        String log = String.join("\n", lines);
        lines.clear();
        return log;
    }

    private static int print(int level, MemorySegment format, MemorySegment args) {
        // Nothing may be thrown back into C: an exception escaping an upcall ends the JVM.
        try {
            Level javaLevel = switch (level) {
                case LIBBPF_WARN -> Level.WARNING;
                case LIBBPF_INFO -> Level.INFO;
                default -> Level.DEBUG;
            };
            boolean keep = level == LIBBPF_WARN || level == LIBBPF_INFO;
            if (!keep && !LOGGER.isLoggable(javaLevel)) return 0;
            String message = Libc.vformat(format, args).stripTrailing();
            LOGGER.log(javaLevel, message);
            if (keep) LINES.get().addAll(message.lines().toList());
        } catch (Throwable t) {
            try {
                LOGGER.log(Level.ERROR, "libbpf print callback failed", t);
            } catch (Throwable ignored) {
                // Logging itself failed; dropping the message is all that is left.
            }
        }
        return 0;
    }
}
