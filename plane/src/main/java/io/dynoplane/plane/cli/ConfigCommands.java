package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** Config vars: {@code config}, {@code config:set}, {@code config:unset}; each change is a new release. */
final class ConfigCommands {
    private ConfigCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("config", "", "-a APP [--json]", "show an app's config vars", 0, 0, Set.of("app"), Set.of("json"), false, ConfigCommands::show),
                new CommandDef("config:set", "KEY=VALUE...", "-a APP [--json]", "set config vars (a new release; dynos restart)", 1, Integer.MAX_VALUE,
                        Set.of("app"), Set.of("json"), false, ConfigCommands::set),
                new CommandDef("config:unset", "KEY...", "-a APP [--json]", "unset config vars (a new release; dynos restart)", 1, Integer.MAX_VALUE,
                        Set.of("app"), Set.of("json"), false, ConfigCommands::unset));
    }

    private static int show(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        print(app, ctx.call("GET", "/apps/" + segment(app) + "/config-vars", null), args, ctx);
        return Cli.OK;
    }

    static Map<String, String> assignments(List<String> pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw new UsageException("config:set: bad argument '" + pair + "': use KEY=VALUE");
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return out;
    }

    private static int set(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        Map<String, String> changes = assignments(args.positionals());
        JsonNode config = ctx.call("PATCH", "/apps/" + segment(app) + "/config-vars", changes);
        if (!args.flag("json")) ctx.out().println("Setting " + String.join(", ", changes.keySet()) + " and restarting " + app + "... done");
        print(app, config, args, ctx);
        return Cli.OK;
    }

    private static int unset(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        Map<String, String> changes = new HashMap<>();
        for (String key : args.positionals()) changes.put(key, null);
        JsonNode config = ctx.call("PATCH", "/apps/" + segment(app) + "/config-vars", changes);
        if (args.flag("json")) ctx.printJson(config);
        else ctx.out().println("Unsetting " + String.join(", ", args.positionals()) + " and restarting " + app + "... done");
        return Cli.OK;
    }

    private static void print(String app, JsonNode config, Args args, Cli.Context ctx) {
        if (args.flag("json")) {
            ctx.printJson(config);
            return;
        }
        ctx.out().println("=== " + app + " Config Vars");
        List<String> keys = new ArrayList<>();
        config.fieldNames().forEachRemaining(keys::add);
        keys.sort(null);
        int width = keys.stream().mapToInt(String::length).max().orElse(0) + 1;
        for (String key : keys) ctx.out().println(key + ":" + " ".repeat(width - key.length()) + config.get(key).asText());
    }
}
