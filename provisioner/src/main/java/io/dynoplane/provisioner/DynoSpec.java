package io.dynoplane.provisioner;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What to run as one dyno: the app's process type and index ({@code web.1}), its command, the
 * release directory it runs in, its config vars, {@code $PORT} for web dynos (null otherwise), and
 * its size (the memory limit), its private space ({@code 0}: the Common Runtime) and whether its app
 * is internal (its web dynos accept only their space, never the router).
 */
public record DynoSpec(String app, String type, int index, String command, Path releaseDir, Map<String, String> config, Integer port,
                       DynoSize size, int spaceId, boolean internal) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,29}");

    public DynoSpec {
        if (!NAME.matcher(app).matches()) throw new IllegalArgumentException("app name must be 1-30 of a-z 0-9 '-', starting with a letter: '" + app + "'");
        if (!NAME.matcher(type).matches()) throw new IllegalArgumentException("process type must be 1-30 of a-z 0-9 '-', starting with a letter: '" + type + "'");
        if (index < 1) throw new IllegalArgumentException("dyno index must be >= 1: " + index);
        if (command == null || command.isBlank()) throw new IllegalArgumentException("dyno " + type + "." + index + " of " + app + " has no command");
        if (port != null && (port < 1 || port > 65535)) throw new IllegalArgumentException("PORT out of range: " + port);
        config = Map.copyOf(config);
        if (size == null) size = DynoSize.DEFAULT;
        if (spaceId < 0) throw new IllegalArgumentException("space id must be >= 0 (0: Common Runtime): " + spaceId);
        if (internal && spaceId == 0) throw new IllegalArgumentException("an internal app lives in a private space (space id > 0)");
    }

    /** A Common Runtime dyno. */
    public DynoSpec(String app, String type, int index, String command, Path releaseDir, Map<String, String> config, Integer port,
                    DynoSize size) {
        this(app, type, index, command, releaseDir, config, port, size, 0, false);
    }

    /** A dyno of the default size. */
    public DynoSpec(String app, String type, int index, String command, Path releaseDir, Map<String, String> config, Integer port) {
        this(app, type, index, command, releaseDir, config, port, DynoSize.DEFAULT);
    }

    /** {@code web.1}: the dyno's name within its app, and its {@code $DYNO}. */
    public String name() { return type + "." + index; }

    public boolean isWeb() { return "web".equals(type); }

    /** This dyno in private space {@code spaceId} (0: Common Runtime), internal or not. */
    public DynoSpec inSpace(int spaceId, boolean internal) {
        return new DynoSpec(app, type, index, command, releaseDir, config, port, size, spaceId, internal);
    }

    /** The port the guard lets the router open connections to: $PORT for web dynos, else 0 (no inbound). */
    public int inboundPort() { return isWeb() && port != null ? port : 0; }

    /** Namespace name operators use with {@code ip netns exec}: {@code dp-<app>-<type>-<n>}. */
    public String netnsName() { return "dp-" + app + "-" + type + "-" + index; }
}
