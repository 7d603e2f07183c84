package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** Apps and their releases: {@code apps}, {@code apps:create}, {@code apps:destroy}, {@code deploy}, {@code releases}. */
final class AppCommands {
    private AppCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("apps", "", "[--json]", "list the apps", 0, 0, Set.of(), Set.of("json"), false, AppCommands::apps),
                new CommandDef("apps:create", "NAME", "[--space S] [--internal] [--json]",
                        "create an app (in a private space; internal: reachable only from its space)", 1, 1,
                        Set.of("space"), Set.of("internal", "json"), false, AppCommands::create),
                new CommandDef("apps:destroy", "NAME", "--confirm NAME", "stop an app's dynos and delete it with its releases", 1, 1,
                        Set.of("confirm"), Set.of("json"), false, AppCommands::destroy),
                new CommandDef("deploy", "DIR", "-a APP [--json]", "deploy a folder with a Procfile as a new release (copied: later edits do not change it)", 1, 1,
                        Set.of("app"), Set.of("json"), false, AppCommands::deploy),
                new CommandDef("releases", "", "-a APP [--json]", "list an app's releases, newest first", 0, 0,
                        Set.of("app"), Set.of("json"), false, AppCommands::releases));
    }

    private static int apps(CommandDef def, Args args, Cli.Context ctx) {
        JsonNode apps = ctx.call("GET", "/apps", null);
        if (args.flag("json")) {
            ctx.printJson(apps);
            return Cli.OK;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode a : apps) rows.add(List.of(a.path("name").asText(), a.path("space").asText(""), a.path("internal").asBoolean() ? "yes" : "", a.path("created_at").asText()));
        Table.print(ctx.out(), List.of("NAME", "SPACE", "INTERNAL", "CREATED"), rows);
        return Cli.OK;
    }

    private static int create(CommandDef def, Args args, Cli.Context ctx) {
        Map<String, Object> body = new HashMap<>();
        body.put("name", args.positionals().getFirst());
        if (args.option("space") != null) body.put("space", args.option("space"));
        if (args.flag("internal")) body.put("internal", true);
        JsonNode app = ctx.call("POST", "/apps", body);
        if (args.flag("json")) ctx.printJson(app);
        else ctx.out().println("Creating " + app.path("name").asText() + "... done" + (app.path("space").isTextual() ? ", in space " + app.path("space").asText() : ""));
        return Cli.OK;
    }

    private static int destroy(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.positionals().getFirst();
        if (!app.equals(args.option("confirm"))) {
            throw new UsageException("apps:destroy: this stops and deletes '" + app + "' with its releases; confirm with --confirm " + app);
        }
        JsonNode gone = ctx.call("DELETE", "/apps/" + segment(app), null);
        if (args.flag("json")) ctx.printJson(gone);
        else ctx.out().println("Destroying " + app + " (including all its dynos)... done");
        return Cli.OK;
    }

    private static int deploy(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        Path dir = Path.of(args.positionals().getFirst()).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("no folder at '" + args.positionals().getFirst() + "'");
        JsonNode release = ctx.call("POST", "/apps/" + segment(app) + "/releases", Map.of("dir", dir.toString()));
        if (args.flag("json")) ctx.printJson(release);
        else ctx.out().println("Deploying " + dir + " to " + app + "... done, v" + release.path("version").asInt() + " (" + release.path("status").asText() + ")");
        return Cli.OK;
    }

    private static int releases(CommandDef def, Args args, Cli.Context ctx) {
        JsonNode releases = ctx.call("GET", "/apps/" + segment(args.app(def)) + "/releases", null);
        if (args.flag("json")) {
            ctx.printJson(releases);
            return Cli.OK;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode r : releases) rows.addFirst(List.of("v" + r.path("version").asInt(), r.path("description").asText(), r.path("status").asText(), r.path("created_at").asText()));
        Table.print(ctx.out(), List.of("VERSION", "DESCRIPTION", "STATUS", "CREATED"), rows);
        return Cli.OK;
    }
}
