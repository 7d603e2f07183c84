package io.dynoplane.router;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** This JVM's router event loop threads as the kernel sees them: tid → {@code /proc/self/task/<tid>}. */
final class EventLoopThreads {
    private EventLoopThreads() {}

    static Map<String, Path> list() throws IOException {
        Map<String, Path> threads = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readAllLines(task.resolve("comm")).getFirst().startsWith("router-")) {
                        threads.put(task.getFileName().toString(), task);
                    }
                } catch (NoSuchFileException exited) {
                    // a thread that ended while we listed
                }
            }
        }
        return threads;
    }
}
