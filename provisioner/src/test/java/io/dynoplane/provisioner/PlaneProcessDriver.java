package io.dynoplane.provisioner;

import java.nio.file.Path;
import java.util.Map;

/**
 * A plane's provisioner in a process of its own, for a test to kill: opens the guard on the config's pins (tcx or
 * legacy tc), provisions the dynos {@link IsolationRestartTest} names, prints "wired NETNS ADDRESS" for each, then
 * "ready", and waits to be killed. Args: pool stateDir releaseDir app tcx|clsact.
 */
public final class PlaneProcessDriver {
    static final int PORT = 5000;

    /** The formation: a Common Runtime web and worker, and a web and worker of private space 7. */
    static DynoSpec[] formation(String app, Path release) {
        return new DynoSpec[] {
                new DynoSpec(app, "web", 1, "exec sleep 600", release, Map.of(), PORT),
                new DynoSpec(app, "worker", 1, "exec sleep 600", release, Map.of(), null),
                new DynoSpec(app, "web", 2, "exec sleep 600", release, Map.of(), PORT).inSpace(7, false),
                new DynoSpec(app, "worker", 2, "exec sleep 600", release, Map.of(), null).inSpace(7, false),
        };
    }

    public static void main(String[] args) throws InterruptedException {
        ProvisionerConfig config = new ProvisionerConfig(args[0], Path.of(args[1]));
        IsolationPlane isolation = IsolationPlane.open(config.bpfPins(), args[4].equals("tcx"));
        Provisioner provisioner = new Provisioner(config, isolation);
        for (DynoSpec spec : formation(args[3], Path.of(args[2]))) {
            Dyno dyno = provisioner.provision(spec, line -> {});
            System.out.println("wired " + dyno.netns().name() + " " + dyno.address());
        }
        System.out.println("ready");
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }
}
