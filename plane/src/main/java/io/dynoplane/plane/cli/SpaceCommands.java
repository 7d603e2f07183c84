package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** Private spaces: {@code spaces}, {@code spaces:create}, {@code spaces:trusted-ips:add}. */
final class SpaceCommands {
    private SpaceCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("spaces", "", "[--json]", "list the private spaces", 0, 0, Set.of(), Set.of("json"), false, SpaceCommands::list),
                new CommandDef("spaces:create", "NAME", "[--json]", "create a private space (its dynos reach each other; stable egress)", 1, 1,
                        Set.of(), Set.of("json"), false, SpaceCommands::create),
                new CommandDef("spaces:trusted-ips:add", "CIDR", "--space S [--json]", "let a source range reach the space's apps through the router", 1, 1,
                        Set.of("space"), Set.of("json"), false, SpaceCommands::trust));
    }

    private static int list(CommandDef def, Args args, Cli.Context ctx) {
        JsonNode spaces = ctx.call("GET", "/spaces", null);
        if (args.flag("json")) {
            ctx.printJson(spaces);
            return Cli.OK;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode s : spaces) {
            List<String> cidrs = new ArrayList<>();
            s.path("trusted_cidrs").forEach(c -> cidrs.add(c.asText()));
            rows.add(List.of(s.path("name").asText(), s.path("id").asText(), String.join(",", cidrs), s.path("created_at").asText()));
        }
        Table.print(ctx.out(), List.of("NAME", "ID", "TRUSTED IPS", "CREATED"), rows);
        return Cli.OK;
    }

    private static int create(CommandDef def, Args args, Cli.Context ctx) {
        JsonNode space = ctx.call("POST", "/spaces", Map.of("name", args.positionals().getFirst()));
        if (args.flag("json")) ctx.printJson(space);
        else ctx.out().println("Creating space " + space.path("name").asText() + "... done, id " + space.path("id").asInt());
        return Cli.OK;
    }

    private static int trust(CommandDef def, Args args, Cli.Context ctx) {
        String space = args.option("space");
        if (space == null) throw new UsageException("spaces:trusted-ips:add: missing --space S (which space?)");
        String cidr = args.positionals().getFirst();
        JsonNode updated = ctx.call("POST", "/spaces/" + segment(space) + "/trusted-ips", Map.of("cidrs", List.of(cidr)));
        if (args.flag("json")) ctx.printJson(updated);
        else ctx.out().println("Added " + cidr + " to the trusted IPs of " + space);
        return Cli.OK;
    }
}
