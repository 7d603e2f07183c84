package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynoplane.plane.api.ControlClient;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** Logs and drains: {@code logs}, {@code drains}, {@code drains:add}, {@code drains:remove}. */
final class LogCommands {
    private LogCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("logs", "", "-a APP [-t|--tail] [--dyno web.1|web] [--source app|heroku] [-n|--num N]",
                        "show an app's recent log lines (default 100, at most 1500); --tail keeps following", 0, 0,
                        Set.of("app", "dyno", "source", "num"), Set.of("tail"), false, LogCommands::logs),
                new CommandDef("drains", "", "-a APP [--json]", "list an app's log drains", 0, 0, Set.of("app"), Set.of("json"), false, LogCommands::drains),
                new CommandDef("drains:add", "URL", "-a APP [--json]", "send an app's logs to syslog://HOST:PORT (or syslog+tcp://), syslog+tls://... or https://...", 1, 1,
                        Set.of("app"), Set.of("json"), false, LogCommands::add),
                new CommandDef("drains:remove", "ID|URL", "-a APP", "stop sending an app's logs to a drain", 1, 1, Set.of("app"), Set.of("json"), false, LogCommands::remove));
    }

    private static int logs(CommandDef def, Args args, Cli.Context ctx) throws IOException {
        String app = args.app(def);
        StringBuilder query = new StringBuilder("?tail=").append(args.flag("tail"));
        String num = args.option("num");
        if (num != null) {
            try {
                if (Integer.parseInt(num) < 0) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new UsageException("logs: bad -n '" + num + "': use a number of lines, 0 or more");
            }
            query.append("&lines=").append(num);
        }
        String source = args.option("source");
        if (source != null && !source.equals("app") && !source.equals("heroku")) throw new UsageException("logs: bad --source '" + source + "': use app or heroku");
        if (source != null) query.append("&source=").append(source);
        if (args.option("dyno") != null) query.append("&dyno=").append(URLEncoder.encode(args.option("dyno"), StandardCharsets.UTF_8));
        ControlClient.Head head = ctx.client().open("GET", "/apps/" + segment(app) + "/log-sessions" + query, null, Map.of());
        try (var channel = head.channel()) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = head.body().read(buffer)) >= 0) {
                ctx.out().write(buffer, 0, n);
                ctx.out().flush();
            }
        }
        return Cli.OK;
    }

    private static int drains(CommandDef def, Args args, Cli.Context ctx) {
        JsonNode drains = ctx.call("GET", "/apps/" + segment(args.app(def)) + "/log-drains", null);
        if (args.flag("json")) {
            ctx.printJson(drains);
            return Cli.OK;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode d : drains) rows.add(List.of(d.path("id").asText(), d.path("url").asText(), d.path("token").asText()));
        Table.print(ctx.out(), List.of("ID", "URL", "TOKEN"), rows);
        return Cli.OK;
    }

    private static int add(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        JsonNode drain = ctx.call("POST", "/apps/" + segment(app) + "/log-drains", Map.of("url", args.positionals().getFirst()));
        if (args.flag("json")) ctx.printJson(drain);
        else ctx.out().println("Successfully added drain " + drain.path("url").asText() + " (id " + drain.path("id").asText() + ", token " + drain.path("token").asText() + ")");
        return Cli.OK;
    }

    private static int remove(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        JsonNode drain = ctx.call("DELETE", "/apps/" + segment(app) + "/log-drains/" + segment(args.positionals().getFirst()), null);
        if (args.flag("json")) ctx.printJson(drain);
        else ctx.out().println("Successfully removed drain " + drain.path("url").asText());
        return Cli.OK;
    }
}
