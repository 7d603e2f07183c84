package io.dynoplane.provisioner;

import java.nio.file.Path;
import java.util.Map;

/**
 * A provisioner in a process of its own, for {@link ProvisionerCrashTest} to kill: provisions
 * {@code count} workers of {@code app} one after another, printing a line after each, then waits.
 * Args: pool stateDir releaseDir app count.
 */
public final class ProvisionerCrashDriver {
    public static void main(String[] args) throws InterruptedException {
        ProvisionerConfig config = new ProvisionerConfig(args[0], Path.of(args[1]));
        Path release = Path.of(args[2]);
        String app = args[3];
        int count = Integer.parseInt(args[4]);
        IsolationPlane isolation = IsolationPlane.open(config.bpfPins());
        Provisioner provisioner = new Provisioner(config, isolation);
        for (int i = 1; i <= count; i++) {
            provisioner.provision(new DynoSpec(app, "worker", i, "exec sleep 600", release, Map.of(), null), line -> {});
            System.out.println("provisioned worker." + i);
            System.out.flush();
        }
        Thread.currentThread().join(); // until killed
    }
}
