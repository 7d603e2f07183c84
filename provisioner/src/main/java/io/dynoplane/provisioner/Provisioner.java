package io.dynoplane.provisioner;

import io.dynoplane.ffm.Libbpf;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Wires and unwires dynos: namespace, veth pair, /30, routes, isolation, then the process. A dyno
 * is never reachable before its guard is attached: the process starts last.
 */
public final class Provisioner {
    private static final System.Logger LOG = System.getLogger(Provisioner.class.getName());

    private final Ipam ipam;
    private final IsolationPlane isolation;
    private final AtomicInteger dynoIds = new AtomicInteger();

    public Provisioner(Ipam ipam, IsolationPlane isolation) {
        this.ipam = ipam;
        this.isolation = isolation;
    }

    public IsolationPlane isolation() { return isolation; }

    /**
     * Wires a dyno and starts its process. On failure, undoes what it did and throws naming the
     * dyno; nothing already running is touched.
     */
    public Dyno provision(DynoSpec spec, Consumer<String> logLine) {
        NetworkNamespace netns = new NetworkNamespace(spec.netnsName());
        if (netns.exists()) throw new ProvisioningException("network namespace " + netns.name() + " already exists: is another plane running this app?");
        Subnet subnet = ipam.allocate();
        String veth = Dyno.hostVethName(subnet);
        List<Runnable> undo = new ArrayList<>();
        undo.add(() -> ipam.release(subnet));
        try {
            IpCommand.run("netns", "add", netns.name());
            undo.add(() -> IpCommand.runQuietly("netns", "delete", netns.name()));
            IpCommand.run("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns.name());
            undo.add(() -> IpCommand.runQuietly("link", "delete", veth));
            IpCommand.run("addr", "add", subnet.hostCidr(), "dev", veth);
            // Dyno traffic is routed by the host (to NAT egress, later); the guard decides what may pass.
            enableForwarding(veth);
            IpCommand.run("link", "set", veth, "up");
            IpCommand.run("-n", netns.name(), "addr", "add", subnet.dynoCidr(), "dev", "eth0");
            IpCommand.run("-n", netns.name(), "link", "set", "eth0", "up");
            IpCommand.run("-n", netns.name(), "link", "set", "lo", "up");
            IpCommand.run("-n", netns.name(), "route", "add", "default", "via", Subnet.dotted(subnet.hostAddress()));

            int ifindex = Libbpf.ifindex(veth);
            isolation.guard(ifindex);
            isolation.admit(subnet, dynoIds.incrementAndGet());
            undo.add(() -> isolation.forget(subnet));

            DynoProcess process = DynoProcess.start(spec, netns, logLine);
            return new Dyno(spec, subnet, netns, veth, ifindex, process);
        } catch (RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) undo.get(i).run();
            throw new ProvisioningException("provisioning " + spec.app() + "/" + spec.name() + " failed: " + e.getMessage(), e);
        }
    }

    /** Stops the dyno's processes (SIGTERM, SIGKILL after {@code grace}) and removes everything it was wired with. */
    public void teardown(Dyno dyno, Duration grace) {
        dyno.process().stop(grace);
        isolation.forget(dyno.subnet());
        isolation.forgetCounters(dyno.hostIfindex());
        // Deleting the host side takes the peer, the clsact qdisc and its filter with it.
        String linkError = IpCommand.runQuietly("link", "delete", dyno.hostVeth());
        String netnsError = IpCommand.runQuietly("netns", "delete", dyno.netns().name());
        ipam.release(dyno.subnet());
        if (linkError != null && linkExists(dyno.hostVeth())) LOG.log(Level.WARNING, linkError);
        if (netnsError != null && dyno.netns().exists()) LOG.log(Level.WARNING, netnsError);
    }

    private static boolean linkExists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    private static void enableForwarding(String veth) {
        Path knob = Path.of("/proc/sys/net/ipv4/conf", veth, "forwarding");
        try {
            Files.writeString(knob, "1");
        } catch (IOException e) {
            throw new ProvisioningException("enabling forwarding on " + veth + " (" + knob + "): " + e.getMessage(), e);
        }
    }
}
