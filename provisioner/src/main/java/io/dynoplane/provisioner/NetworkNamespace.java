package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
}
