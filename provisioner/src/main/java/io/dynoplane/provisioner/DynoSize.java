package io.dynoplane.provisioner;

import java.util.Locale;

/** Heroku dyno sizes and the memory limit each one's cgroup gets. */
public enum DynoSize {
    STANDARD_1X("standard-1x", 512L << 20),
    STANDARD_2X("standard-2x", 1L << 30),
    PERFORMANCE_M("performance-m", 5L << 29), // 2.5 GiB
    PERFORMANCE_L("performance-l", 14L << 30);

    public static final DynoSize DEFAULT = STANDARD_1X;

    private final String label;
    private final long memoryBytes;

    DynoSize(String label, long memoryBytes) {
        this.label = label;
        this.memoryBytes = memoryBytes;
    }

    /** {@code standard-1x}: the name {@code heroku ps:type} uses. */
    public String label() { return label; }

    public long memoryBytes() { return memoryBytes; }

    /** Parses a label ({@code standard-2x}, case-insensitive; {@code 1X}/{@code 2X} as Heroku's shorthands). */
    public static DynoSize of(String label) {
        String l = label.trim().toLowerCase(Locale.ROOT);
        if (l.equals("1x")) return STANDARD_1X;
        if (l.equals("2x")) return STANDARD_2X;
        for (DynoSize size : values()) if (size.label.equals(l)) return size;
        throw new IllegalArgumentException("unknown dyno size '" + label + "' (standard-1x, standard-2x, performance-m, performance-l)");
    }
}
