package io.dynoplane.provisioner;

import java.nio.file.Path;

/**
 * Plane-wide settings of the dyno sandbox.
 *
 * @param runtimeRoot  where each dyno gets its runtime folder ({@code <runtimeRoot>/<netns name>}: the
 *                     launch script and the mount point of the dyno's root tmpfs), removed when it stops
 * @param uid          the unprivileged user every dyno runs as (not in /etc/passwd: owns nothing on the host)
 * @param gid          its group
 * @param cgroupParent the memory cgroup directory dyno cgroups are made in (v1 or v2, told apart by its
 *                     files); null for the current process's own memory cgroup
 */
public record DynoSandbox(Path runtimeRoot, int uid, int gid, Path cgroupParent) {
    public static final Path DEFAULT_RUNTIME_ROOT = Path.of("/run/dynoplane/dynos");
    /** Above the 0-65535 range Debian hands out, and not nobody (65534), which host daemons may use. */
    public static final int DEFAULT_UID = 100_000, DEFAULT_GID = 100_000;

    public DynoSandbox {
        if (!runtimeRoot.isAbsolute()) throw new IllegalArgumentException("runtime root must be absolute: " + runtimeRoot);
        if (uid <= 0 || gid <= 0) throw new IllegalArgumentException("a dyno must not run as root: uid " + uid + " gid " + gid);
    }

    public static DynoSandbox defaults() {
        return new DynoSandbox(DEFAULT_RUNTIME_ROOT, DEFAULT_UID, DEFAULT_GID, null);
    }

    public DynoSandbox withRuntimeRoot(Path root) { return new DynoSandbox(root, uid, gid, cgroupParent); }

    MemoryCgroup.Parent cgroupParentOrCurrent() {
        return cgroupParent != null ? MemoryCgroup.Parent.of(cgroupParent) : MemoryCgroup.Parent.ofCurrentProcess();
    }
}
