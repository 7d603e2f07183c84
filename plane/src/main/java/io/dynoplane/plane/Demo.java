package io.dynoplane.plane;

import io.dynoplane.plane.store.StoreException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code ./dynoplane demo}: what a newcomer would type, done for them: the daemon up, an app created,
 * examples/hello deployed and scaled to 2 web + 1 worker dynos; then it serves until Ctrl-C.
 */
final class Demo {
    record Options(DaemonSettings daemon, int web, Path appDir) {
        static Options parse(Deque<String> args) {
            Map<String, String> daemonOptions = new HashMap<>();
            int web = 2;
            Path app = Path.of("examples/hello");
            while (!args.isEmpty()) {
                String flag = args.pop();
                if (args.isEmpty()) throw new IllegalArgumentException("demo: " + flag + " needs a value");
                String value = args.pop();
                switch (flag) {
                    case "--port", "--admin-port", "--state", "--pool", "--uplink", "--router-cpus" -> daemonOptions.put(flag.substring(2), value);
                    case "--web" -> web = parseInt(flag, value, 1, 100);
                    case "--app" -> app = Path.of(value);
                    default -> throw new IllegalArgumentException("demo: unknown option '" + flag + "'");
                }
            }
            if (!Files.isRegularFile(app.resolve("Procfile"))) throw new IllegalArgumentException("demo: " + app + " has no Procfile");
            return new Options(DaemonSettings.defaults().with(daemonOptions, "demo"), web, app.toAbsolutePath());
        }

        private static int parseInt(String flag, String value, int min, int max) {
            try {
                int n = Integer.parseInt(value);
                if (n >= min && n <= max) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the error naming the input
            }
            throw new IllegalArgumentException("demo: " + flag + " must be a number from " + min + " to " + max + ", got '" + value + "'");
        }
    }

    private Demo() {}

    static void run(Options options) {
        String app = options.appDir().getFileName().toString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        Daemon daemon = options.daemon().start("demo");
        try {
            try {
                daemon.app(app);
            } catch (StoreException missing) {
                daemon.createApp(app, null, false);
            }
            daemon.deploy(app, options.appDir());
            Map<String, Integer> formation = new LinkedHashMap<>();
            formation.put("web", options.web());
            if (Procfile.read(options.appDir()).commands().containsKey("worker")) formation.put("worker", 1);
            var up = daemon.plane().awaitUp(app, options.web());
            daemon.scale(app, formation);
            up.get(daemon.plane().bootTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
            String why = e instanceof ExecutionException ee ? ee.getCause().getMessage() : e instanceof TimeoutException ? "web dynos did not boot in time" : e.getMessage();
            System.err.println("dynoplane: demo: " + app + ": " + why);
            System.exit(1); // the shutdown hook tears down what was started
        }
        for (DynoStatus d : daemon.dynos(app)) {
            System.out.println("  " + app + "/" + d.name() + " " + d.state() + " at " + d.address() + (d.port() == null ? "" : ":" + d.port())
                    + " (netns " + d.netns() + ", veth " + d.hostVeth() + ")");
        }
        int port = daemon.plane().router().port();
        System.out.println();
        System.out.println("Try:  curl -H 'Host: " + daemon.plane().hostOf(app) + "' http://127.0.0.1:" + port + "/");
        System.out.println("      ./dynoplane ps -a " + app + "            (--json for scripts)");
        System.out.println("      ./dynoplane logs -a " + app + " --tail");
        System.out.println("      ./dynoplane ps:scale web=3 -a " + app);
        System.out.println("Press Ctrl-C to stop.");
        daemon.stopped().join();
        System.exit(0);
    }
}
