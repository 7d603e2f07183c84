package io.dynoplane.provisioner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * One dyno's memory cgroup, cgroup v1 ({@code memory.limit_in_bytes}, {@code oom_kill} in
 * {@code memory.oom_control}) or v2 ({@code memory.max}, {@code oom_kill} in {@code memory.events}),
 * created as a child of a parent memory cgroup (by default the current process's own) and removed
 * once empty. Swap is not granted beyond the limit (v1 {@code memsw} = limit, v2 {@code swap.max} 0).
 */
final class MemoryCgroup {
    enum Version { V1, V2 }

    /** A memory cgroup directory that dyno cgroups are made in. */
    record Parent(Path dir, Version version) {
        /** The memory cgroup of the current process: its v1 memory hierarchy if one is mounted, else its v2 cgroup. */
        static Parent ofCurrentProcess() {
            try {
                return locate(Files.readAllLines(Path.of("/proc/self/cgroup")), Files.readAllLines(Path.of("/proc/self/mountinfo")));
            } catch (IOException e) {
                throw new ProvisioningException("reading /proc/self/cgroup and /proc/self/mountinfo: " + e.getMessage(), e);
            }
        }

        /** A given memory cgroup directory: v1 if it has {@code memory.limit_in_bytes}, else v2. */
        static Parent of(Path dir) {
            if (Files.exists(dir.resolve("memory.limit_in_bytes"))) return new Parent(dir, Version.V1);
            if (Files.exists(dir.resolve("cgroup.controllers"))) return new Parent(dir, Version.V2);
            throw new ProvisioningException(dir + " is not a memory cgroup (no memory.limit_in_bytes, no cgroup.controllers)");
        }

        /** From the contents of /proc/self/cgroup and /proc/self/mountinfo. */
        static Parent locate(List<String> procSelfCgroup, List<String> mountinfo) {
            String v1Path = null, v2Path = null;
            for (String line : procSelfCgroup) {
                String[] f = line.split(":", 3); // hierarchy-id:controllers:path
                if (f.length < 3) continue;
                if (List.of(f[1].split(",")).contains("memory")) v1Path = f[2];
                else if (f[0].equals("0") && f[1].isEmpty()) v2Path = f[2];
            }
            String v1Mount = null, v1Root = null, v2Mount = null, v2Root = null;
            for (String line : mountinfo) {
                // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
                String[] f = line.split(" ");
                int dash = List.of(f).indexOf("-");
                if (dash < 0 || f.length < dash + 3) continue;
                String fstype = f[dash + 1];
                if (fstype.equals("cgroup") && f.length > dash + 3 && List.of(f[dash + 3].split(",")).contains("memory")) {
                    v1Root = unescape(f[3]);
                    v1Mount = unescape(f[4]);
                } else if (fstype.equals("cgroup2") && v2Mount == null) {
                    v2Root = unescape(f[3]);
                    v2Mount = unescape(f[4]);
                }
            }
            if (v1Path != null && v1Mount != null) return new Parent(under(v1Mount, v1Root, v1Path), Version.V1);
            if (v2Path != null && v2Mount != null) return new Parent(under(v2Mount, v2Root, v2Path), Version.V2);
            throw new ProvisioningException("no memory cgroup for this process: neither a cgroup v1 memory hierarchy nor cgroup v2 is mounted"
                    + " (/proc/self/cgroup: " + procSelfCgroup + ")");
        }

        private static Path under(String mountPoint, String mountRoot, String cgroupPath) {
            String relative = cgroupPath;
            if (!mountRoot.equals("/") && (relative.equals(mountRoot) || relative.startsWith(mountRoot + "/"))) {
                relative = relative.substring(mountRoot.length());
            }
            Path dir = Path.of(mountPoint);
            for (String part : relative.split("/")) if (!part.isEmpty()) dir = dir.resolve(part);
            return dir;
        }

        /** mountinfo escapes space, tab, newline and backslash as \ooo. */
        private static String unescape(String field) {
            StringBuilder out = new StringBuilder(field.length());
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                    out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }

    private final Path dir;
    private final Version version;
    private final long limitBytes;
    private volatile long oomKillsAtRemoval = -1;

    private MemoryCgroup(Path dir, Version version, long limitBytes) {
        this.dir = dir;
        this.version = version;
        this.limitBytes = limitBytes;
    }

    /** Creates {@code parent/name} with a {@code limitBytes} memory limit. */
    static MemoryCgroup create(Parent parent, String name, long limitBytes) {
        if (limitBytes < 1 << 20) throw new IllegalArgumentException("memory limit below 1 MiB: " + limitBytes);
        if (name.isEmpty() || name.contains("/") || name.startsWith(".")) throw new IllegalArgumentException("bad cgroup name: " + name);
        if (parent.version() == Version.V2) enableMemoryController(parent.dir());
        Path dir = parent.dir().resolve(name);
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new ProvisioningException("creating memory cgroup " + dir + ": " + e, e);
        }
        MemoryCgroup cgroup = new MemoryCgroup(dir, parent.version(), limitBytes);
        try {
            String limit = Long.toString(limitBytes);
            if (parent.version() == Version.V1) {
                write(dir.resolve("memory.limit_in_bytes"), limit);
                // memsw exists only with swap accounting; where it does, the limit covers swap too
                if (Files.exists(dir.resolve("memory.memsw.limit_in_bytes"))) write(dir.resolve("memory.memsw.limit_in_bytes"), limit);
            } else {
                write(dir.resolve("memory.max"), limit);
                if (Files.exists(dir.resolve("memory.swap.max"))) write(dir.resolve("memory.swap.max"), "0");
            }
        } catch (RuntimeException e) {
            cgroup.remove(Duration.ZERO);
            throw e;
        }
        return cgroup;
    }

    /** A dyno cgroup made earlier (by a plane that died): to empty and remove. Its limit is not read back. */
    static MemoryCgroup existing(Path dir, Version version) {
        return new MemoryCgroup(dir, version, -1);
    }

    private static void enableMemoryController(Path parent) {
        try {
            if (List.of(Files.readString(parent.resolve("cgroup.subtree_control")).trim().split("\\s+")).contains("memory")) return;
            write(parent.resolve("cgroup.subtree_control"), "+memory");
        } catch (IOException | ProvisioningException e) {
            throw new ProvisioningException("cgroup v2: cannot enable the memory controller for the children of " + parent
                    + " (" + e.getMessage() + "). A cgroup with processes of its own cannot delegate controllers: run the plane in a"
                    + " leaf (e.g. <parent>/plane) and give the sandbox <parent> as its cgroup parent", e);
        }
    }

    Path dir() { return dir; }

    Version version() { return version; }

    long limitBytes() { return limitBytes; }

    /** Writing a pid here moves that process (and what it forks afterwards) into the cgroup. */
    Path procsFile() { return dir.resolve("cgroup.procs"); }

    /** The processes in the cgroup now (host pids); empty once removed. */
    List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(procsFile())) if (!line.isBlank()) pids.add(Long.parseLong(line.trim()));
        } catch (NoSuchFileException gone) {
            // removed
        } catch (IOException e) {
            throw new ProvisioningException("reading " + procsFile() + ": " + e.getMessage(), e);
        }
        return pids;
    }

    /** How many processes the kernel's OOM killer killed in this cgroup; the last count once removed. */
    long oomKills() {
        long cached = oomKillsAtRemoval;
        if (cached >= 0) return cached;
        Path file = dir.resolve(version == Version.V1 ? "memory.oom_control" : "memory.events");
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2 && f[0].equals("oom_kill")) return Long.parseLong(f[1]);
            }
            return 0; // kernels before 4.13 do not count v1 OOM kills
        } catch (IOException e) {
            return Math.max(oomKillsAtRemoval, 0);
        }
    }

    /**
     * The memory the cgroup's processes use now, page cache included, as the kernel charges it against the limit
     * (v2 {@code memory.current}, v1 {@code memory.usage_in_bytes}); 0 once the cgroup is removed.
     */
    long currentBytes() {
        Path file = dir.resolve(version == Version.V1 ? "memory.usage_in_bytes" : "memory.current");
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (NoSuchFileException removed) {
            return 0;
        } catch (IOException | NumberFormatException e) {
            throw new ProvisioningException("reading " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the cgroup, retrying while the kernel still reports it busy (its last tasks exiting)
     * up to {@code timeout}. Returns false if it is still there.
     */
    boolean remove(Duration timeout) {
        if (oomKillsAtRemoval < 0) oomKillsAtRemoval = oomKills();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Files.deleteIfExists(dir);
                return true;
            } catch (IOException busy) {
                if (System.nanoTime() >= deadline) return false;
                LockSupport.parkNanos(2_000_000);
            }
        }
    }

    private static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new ProvisioningException("writing " + value + " to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() { return dir + " (cgroup " + version.name().toLowerCase() + ", " + limitBytes + " bytes)"; }
}
