package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** A named network namespace pinned under /run/netns, where {@code ip netns} finds it. */
public record NetworkNamespace(String name) {
    private static final Path PINS = Path.of("/run/netns");

    public Path pin() { return PINS.resolve(name); }

    public boolean exists() { return Files.exists(pin()); }

    /**
     * Every process whose network namespace is this one, found by the namespace inode (what
     * {@code ip netns pids} does): a dyno's children and grandchildren included, whoever forked them.
     */
    public List<ProcessHandle> processes() {
        List<ProcessHandle> found = new ArrayList<>();
        String target;
        try {
            target = "net:[" + Files.getAttribute(pin(), "unix:ino") + "]";
        } catch (IOException e) {
            return found; // no pin, no namespace to look for
        }
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path pidDir : proc) {
                try {
                    if (target.equals(Files.readSymbolicLink(pidDir.resolve("ns/net")).toString())) {
                        ProcessHandle.of(Long.parseLong(pidDir.getFileName().toString())).ifPresent(found::add);
                    }
                } catch (IOException raceWithExit) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new ProvisioningException("listing /proc for processes in netns " + name, e);
        }
        return found;
    }

    /**
     * SIGKILLs every process in this namespace, again until none is left or {@code timeout} passes (a process
     * may fork while we look), and returns those still there. Never waits on one process: a dyno's pid 1 whose
     * launcher died first goes to the host's init, which reaps it on its own time.
     */
    public List<ProcessHandle> killAll(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ProcessHandle> left = processes();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            left.forEach(ProcessHandle::destroyForcibly);
            LockSupport.parkNanos(2_000_000);
            left = processes().stream().filter(ProcessHandle::isAlive).toList();
        }
        return left;
    }
}
