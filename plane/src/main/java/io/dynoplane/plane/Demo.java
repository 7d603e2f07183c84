package io.dynoplane.plane;

import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.ProvisionerConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;

/** {@code ./dynoplane demo}: the plane on its embedded defaults, serving examples/hello until Ctrl-C. */
final class Demo {
    record Options(int port, int adminPort, int web, Path appDir, ProvisionerConfig provisioner, String uplink) {
        static Options parse(Deque<String> args) {
            int port = 8080;
            int adminPort = 9080;
            int web = 2;
            Path app = Path.of("examples/hello");
            ProvisionerConfig provisioner = ProvisionerConfig.defaults();
            String uplink = null;
            while (!args.isEmpty()) {
                String flag = args.pop();
                if (args.isEmpty()) throw new IllegalArgumentException("demo: " + flag + " needs a value");
                String value = args.pop();
                switch (flag) {
                    case "--port" -> port = parseInt(flag, value, 0, 65535);
                    case "--admin-port" -> adminPort = parseInt(flag, value, 0, 65535);
                    case "--uplink" -> uplink = value;
                    case "--web" -> web = parseInt(flag, value, 1, 100);
                    case "--app" -> app = Path.of(value);
                    case "--state" -> provisioner = new ProvisionerConfig(provisioner.pool(), Path.of(value));
                    case "--pool" -> provisioner = new ProvisionerConfig(value, provisioner.stateDir(), provisioner.sandbox(), provisioner.bpfPins());
                    default -> throw new IllegalArgumentException("demo: unknown option '" + flag + "'");
                }
            }
            if (!Files.isRegularFile(app.resolve("Procfile"))) throw new IllegalArgumentException("demo: " + app + " has no Procfile");
            return new Options(port, adminPort, web, app, provisioner, uplink);
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
        if (!Main.isRoot()) throw new IllegalStateException("the demo wires network namespaces and loads BPF programs: run it as root (sudo ./dynoplane demo)");
        String app = options.appDir().getFileName().toString().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        Plane[] planeRef = new Plane[1];
        ControlSocket control;
        try {
            control = ControlSocket.listen(ControlSocket.path(), resource -> resource.equals("/dynos") && planeRef[0] != null ? Main.toJson(planeRef[0].dynos()) : null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the control socket " + ControlSocket.path() + ": " + e.getMessage());
        }
        Plane plane;
        try {
            plane = Plane.start(Plane.Config.defaults(options.port(), line -> System.out.println(line)).withProvisioner(options.provisioner()).withAdminPort(options.adminPort()));
        } catch (RuntimeException e) {
            control.close();
            throw new IllegalStateException(e.getMessage(), e);
        }
        planeRef[0] = plane;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping: tearing down dynos, router and isolation...");
            try {
                plane.close();
            } finally {
                control.close();
            }
            System.out.println("Stopped; nothing left behind.");
        }, "demo-shutdown"));

        int port = plane.router().port();
        System.out.println("Router listening on http://127.0.0.1:" + port + " (transport " + plane.router().transportName() + ")");
        System.out.println("Metrics on http://127.0.0.1:" + plane.adminPort() + "/metrics");
        if (options.uplink() != null) {
            try {
                plane.guardUplink(options.uplink(), java.util.List.of("0.0.0.0/0"));
            } catch (RuntimeException e) {
                System.err.println("dynoplane: cannot guard uplink " + options.uplink() + ": " + e.getMessage());
                System.exit(1); // the shutdown hook tears down what was started
            }
        }
        try {
            for (Dyno d : plane.deploy(app, options.appDir(), options.web())) {
                System.out.println("  " + app + "/" + d.spec().name() + " up at " + d.address() + ":" + d.spec().port()
                        + " (netns " + d.netns().name() + ", veth " + d.hostVeth() + ")");
            }
        } catch (RuntimeException e) {
            System.err.println("dynoplane: " + e.getMessage());
            System.exit(1); // the shutdown hook tears down what was started
        }
        System.out.println();
        System.out.println("Try:  curl -H 'Host: " + plane.hostOf(app) + "' http://127.0.0.1:" + port + "/");
        System.out.println("      ./dynoplane ps --json");
        System.out.println("Press Ctrl-C to stop.");
        Main.awaitForever();
    }
}
