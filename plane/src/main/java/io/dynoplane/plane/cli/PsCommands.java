package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** Dynos: {@code ps}, {@code ps:scale}, {@code ps:restart}, {@code ps:stop}. */
final class PsCommands {
    private PsCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("ps", "", "[-a APP] [--json]", "list the dynos (of one app, or of all)", 0, 0, Set.of("app"), Set.of("json"), false, PsCommands::ps),
                new CommandDef("ps:scale", "TYPE=N...", "-a APP [--json]", "set how many dynos of each process type run", 1, Integer.MAX_VALUE,
                        Set.of("app"), Set.of("json"), false, PsCommands::scale),
                new CommandDef("ps:restart", "[DYNO|TYPE]", "-a APP", "restart all dynos, a process type (web) or one dyno (web.1)", 0, 1,
                        Set.of("app"), Set.of("json"), false, PsCommands::restart),
                new CommandDef("ps:stop", "DYNO|TYPE", "-a APP", "stop a dyno or a process type (the formation starts replacements)", 1, 1,
                        Set.of("app"), Set.of("json"), false, PsCommands::stop));
    }

    private static int ps(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.option("app");
        JsonNode dynos = ctx.call("GET", app == null ? "/dynos" : "/apps/" + segment(app) + "/dynos", null);
        if (args.flag("json")) {
            ctx.printJson(dynos);
            return Cli.OK;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode d : dynos) {
            rows.add(List.of(d.path("name").asText(), d.path("app").asText(), d.path("state").asText(), d.path("address").asText(""),
                    d.path("netns").asText(""), d.path("pid").asText(""), d.path("release").isNumber() ? "v" + d.path("release").asInt() : "",
                    d.path("restarts").asText("0"), d.path("started_at").asText("")));
        }
        Table.print(ctx.out(), List.of("DYNO", "APP", "STATE", "ADDRESS", "NETNS", "PID", "RELEASE", "RESTARTS", "STARTED"), rows);
        return Cli.OK;
    }

    /** {@code web=2 worker=0}: each a process type and a quantity of 0 or more. */
    static Map<String, Integer> quantities(List<String> pairs) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            Integer n = null;
            if (eq > 0) {
                try {
                    n = Integer.parseInt(pair.substring(eq + 1));
                } catch (NumberFormatException ignored) {
                    // reported below, naming the argument
                }
            }
            if (n == null || n < 0) throw new UsageException("ps:scale: bad argument '" + pair + "': use TYPE=N with N 0 or more (web=2)");
            out.put(pair.substring(0, eq), n);
        }
        return out;
    }

    private static int scale(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        List<Map<String, Object>> updates = new ArrayList<>();
        quantities(args.positionals()).forEach((type, n) -> updates.add(Map.of("type", type, "quantity", n)));
        JsonNode formation = ctx.call("PATCH", "/apps/" + segment(app) + "/formation", Map.of("updates", updates));
        if (args.flag("json")) {
            ctx.printJson(formation);
            return Cli.OK;
        }
        List<String> now = new ArrayList<>();
        for (JsonNode f : formation) now.add(f.path("type").asText() + " at " + f.path("quantity").asInt());
        ctx.out().println("Scaling dynos on " + app + "... done, now running " + String.join(", ", now));
        return Cli.OK;
    }

    private static int restart(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        String target = args.positionals().isEmpty() ? null : args.positionals().getFirst();
        ctx.call("DELETE", "/apps/" + segment(app) + "/dynos" + (target == null ? "" : "/" + segment(target)), null);
        ctx.out().println("Restarting " + (target == null ? "all" : target) + " dynos on " + app + "... done");
        return Cli.OK;
    }

    private static int stop(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        String target = args.positionals().getFirst();
        ctx.call("POST", "/apps/" + segment(app) + "/dynos/" + segment(target) + "/actions/stop", null);
        ctx.out().println("Stopping " + target + " on " + app + "... done");
        return Cli.OK;
    }
}
