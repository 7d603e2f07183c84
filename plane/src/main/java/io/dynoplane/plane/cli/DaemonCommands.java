package io.dynoplane.plane.cli;

import java.util.List;
import java.util.Set;

/** {@code up} and {@code down}: the daemon itself. */
final class DaemonCommands {
    private DaemonCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("up", "", "[--state DIR] [--pool CIDR] [--port N] [--admin-port N] [--uplink IFACE] [--router-cpus LIST]",
                        "start the daemon in the foreground (root), until Ctrl-C or ./dynoplane down", 0, 0,
                        Set.of("state", "pool", "port", "admin-port", "uplink", "router-cpus"), Set.of(), false,
                        (def, args, ctx) -> ctx.up().run(args)),
                new CommandDef("down", "", "", "stop the running daemon (its dynos stop with it)", 0, 0, Set.of(), Set.of(), false,
                        (def, args, ctx) -> {
                            ctx.call("POST", "/actions/shutdown", null);
                            ctx.out().println("Stopping the daemon... done");
                            return Cli.OK;
                        }));
    }
}
