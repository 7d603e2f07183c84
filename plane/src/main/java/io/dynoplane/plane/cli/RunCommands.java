package io.dynoplane.plane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynoplane.plane.api.AttachFrames;
import io.dynoplane.plane.api.ControlClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.dynoplane.plane.cli.Cli.segment;

/** One-off dynos: {@code run} (attached: this process's streams and exit status) and {@code run:detached}. */
final class RunCommands {
    private RunCommands() {}

    static List<CommandDef> all() {
        return List.of(
                new CommandDef("run", "-- COMMAND...", "-a APP", "run a one-off dyno attached to this terminal; exits with the command's status", 0, Integer.MAX_VALUE,
                        Set.of("app"), Set.of(), true, RunCommands::attached),
                new CommandDef("run:detached", "-- COMMAND...", "-a APP [--json]", "run a one-off dyno in the background (output to the app's logs)", 0, Integer.MAX_VALUE,
                        Set.of("app"), Set.of("json"), true, RunCommands::detached));
    }

    /** The command: the words after {@code --}, or the positionals (heroku run bash -a APP). */
    private static String command(CommandDef def, Args args) {
        List<String> words = args.rest().isEmpty() ? args.positionals() : args.rest();
        if (!args.rest().isEmpty() && !args.positionals().isEmpty()) throw new UsageException(def.name() + ": unexpected argument '" + args.positionals().getFirst() + "' before '--'");
        if (words.isEmpty()) throw new UsageException(def.name() + ": missing the command; usage: " + def.usage());
        return String.join(" ", words);
    }

    private static int detached(CommandDef def, Args args, Cli.Context ctx) {
        String app = args.app(def);
        String command = command(def, args);
        JsonNode dyno = ctx.call("POST", "/apps/" + segment(app) + "/dynos", Map.of("command", command, "attach", false));
        if (args.flag("json")) {
            ctx.printJson(dyno);
            return Cli.OK;
        }
        String name = dyno.path("name").asText();
        ctx.out().println("Running `" + command + "` on " + app + "... up, " + name);
        ctx.out().println("Run ./dynoplane logs -a " + app + " --dyno " + name + " to see its output.");
        return Cli.OK;
    }

    private static int attached(CommandDef def, Args args, Cli.Context ctx) throws IOException {
        String app = args.app(def);
        String command = command(def, args);
        ControlClient.Head head = ctx.client().open("POST", "/apps/" + segment(app) + "/dynos", Map.of("command", command, "attach", true),
                Map.of("Upgrade", "dynoplane-attach", "Connection", "Upgrade"));
        try (var channel = head.channel()) {
            if (head.status() != 101) throw new IllegalStateException("the daemon did not attach (answered " + head.status() + ")");
            String name = head.headers().getOrDefault("dynoplane-dyno", "run");
            ctx.err().println("Running `" + command + "` on " + app + "... up, " + name);
            Thread.ofVirtual().name("run-stdin").start(() -> sendStdin(ctx.in(), head.out()));
            AttachFrames.Frame frame;
            while ((frame = AttachFrames.read(head.body())) != null) {
                switch (frame.stream()) {
                    case AttachFrames.STDOUT -> { ctx.out().write(frame.payload()); ctx.out().flush(); }
                    case AttachFrames.STDERR -> { ctx.err().write(frame.payload()); ctx.err().flush(); }
                    case AttachFrames.EXIT -> { return frame.exitStatus(); }
                    default -> throw new IOException("unexpected attach frame for stream " + frame.stream());
                }
            }
            throw new IllegalStateException("the connection to " + name + " ended before its exit status");
        }
    }

    /** This process's stdin to the dyno's; EOF here is an empty frame (EOF there). */
    private static void sendStdin(InputStream in, OutputStream out) {
        byte[] buffer = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (out) {
                    AttachFrames.write(out, AttachFrames.STDIN, buffer, 0, n);
                }
            }
            synchronized (out) {
                AttachFrames.write(out, AttachFrames.STDIN, buffer, 0, 0);
            }
        } catch (IOException e) {
            // The dyno is gone and the connection with it; the exit frame (or its absence) tells the story.
        }
    }
}
