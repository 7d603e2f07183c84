package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynoplane.plane.api.ApiException;
import io.dynoplane.plane.api.ControlClient;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The heroku-shaped CLI behind {@code ./dynoplane}: finds the command, parses its arguments, runs
 * it against the daemon, and turns the outcome into an exit status ({@link #OK}, {@link #ERROR},
 * {@link #USAGE}, {@link #NOT_RUNNING}). Errors go to stderr, prefixed {@code dynoplane:}.
 */
public final class Cli {
    public static final int OK = 0, ERROR = 1, USAGE = 2, NOT_RUNNING = 3;

    /** What commands use: the daemon's client, the standard streams, and how to start the daemon. */
    public record Context(ControlClient client, InputStream in, PrintStream out, PrintStream err, Up up) {
        static final ObjectMapper JSON = new ObjectMapper();

        public JsonNode call(String method, String path, Object body) { return client.call(method, path, body); }

        public void printJson(JsonNode node) { out.println(node.toString()); }
    }

    /** Runs the daemon in the foreground ({@code ./dynoplane up}); returns its exit status. */
    @FunctionalInterface
    public interface Up {
        int run(Args args) throws Exception;
    }

    private final Map<String, CommandDef> commands = new LinkedHashMap<>();

    public Cli() {
        List<CommandDef> all = new ArrayList<>();
        all.addAll(DaemonCommands.all());
        all.addAll(AppCommands.all());
        all.addAll(PsCommands.all());
        all.addAll(ConfigCommands.all());
        all.addAll(RunCommands.all());
        all.addAll(LogCommands.all());
        all.addAll(SpaceCommands.all());
        for (CommandDef def : all) commands.put(def.name(), def);
    }

    /** Every command's name, in help order. */
    public List<String> commandNames() { return List.copyOf(commands.keySet()); }

    /** Runs {@code argv} (command first); returns the exit status. */
    public int run(List<String> argv, Context context) {
        String name = argv.isEmpty() ? "help" : argv.getFirst();
        List<String> tokens = argv.isEmpty() ? List.of() : argv.subList(1, argv.size());
        if (name.equals("help") || name.equals("--help") || name.equals("-h")) return help(tokens, context);
        CommandDef def = commands.get(name);
        try {
            if (def == null) throw new UsageException("unknown command '" + name + "'; try ./dynoplane help");
            Args args = Args.parse(def, tokens);
            if (args.flag("help")) {
                printCommandHelp(def, context.out());
                return OK;
            }
            return def.action().run(def, args, context);
        } catch (UsageException e) {
            context.err().println("dynoplane: " + e.getMessage());
            return USAGE;
        } catch (ControlClient.NotRunning e) {
            context.err().println("dynoplane: " + e.getMessage());
            return NOT_RUNNING;
        } catch (ApiException e) {
            context.err().println("dynoplane: " + name + ": " + e.getMessage() + " (" + e.id() + ")");
            return ERROR;
        } catch (UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            context.err().println("dynoplane: " + name + ": " + e.getMessage());
            return ERROR;
        } catch (Exception e) {
            context.err().println("dynoplane: " + name + ": " + e);
            return ERROR;
        }
    }

    private int help(List<String> tokens, Context context) {
        if (!tokens.isEmpty()) {
            CommandDef def = commands.get(tokens.getFirst());
            if (def == null) {
                context.err().println("dynoplane: help: unknown command '" + tokens.getFirst() + "'; try ./dynoplane help");
                return USAGE;
            }
            printCommandHelp(def, context.out());
            return OK;
        }
        PrintStream out = context.out();
        out.println("usage: ./dynoplane COMMAND [ARGS] [OPTIONS]     (./dynoplane COMMAND --help for one command)");
        out.println();
        int width = commands.values().stream().mapToInt(d -> (d.name() + " " + d.args()).length()).max().orElse(20) + 2;
        for (CommandDef def : commands.values()) line(out, width, (def.name() + " " + def.args()).strip(), def.summary());
        // Handled by ./dynoplane and Main before the CLI: listed so that help is the whole list.
        line(out, width, "demo [--port N] ...", "run the plane with the example app until Ctrl-C");
        line(out, width, "test", "run every test");
        line(out, width, "bench NAME", "run a benchmark");
        out.println();
        out.println("Most commands take -a APP, --json (machine-readable output) and --help.");
        out.println("The daemon's control socket: $DYNOPLANE_CONTROL_SOCKET, or /run/dynoplane/control.sock (root only).");
        out.println();
        out.println("exit status: 0 ok, 1 the daemon refused or failed (its message on stderr), 2 usage error,");
        out.println("             3 no daemon running; run, attached, exits with the command's own status.");
        return OK;
    }

    private static void line(PrintStream out, int width, String head, String summary) {
        out.println("  " + head + " ".repeat(Math.max(1, width - head.length())) + summary);
    }

    private static void printCommandHelp(CommandDef def, PrintStream out) {
        out.println("usage: " + def.usage());
        out.println();
        out.println("  " + def.summary());
    }

    /** A path segment from user input, encoded so that it cannot change the path's shape. */
    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
