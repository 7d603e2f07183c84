package io.dynoplane.provisioner;

import io.dynoplane.ffm.NetworkNamespaces;
import io.dynoplane.ffm.RtNetlink;
import io.dynoplane.ffm.Syscalls;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Wires and unwires dynos over rtnetlink: namespace, veth pair (peer created straight inside the
 * namespace), /30, routes, the isolation guard, then the process. A dyno is never reachable before
 * its guard is attached: the process starts last. Every /30 is journaled before any kernel object
 * is made for it, so {@link #reconcile()} after a crash finds everything a previous run left.
 */
public final class Provisioner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Provisioner.class.getName());
    private static final Pattern HOST_VETH = Pattern.compile("dp[0-9a-f]{8}");

    private final Ipam ipam;
    private final DynoSandbox sandbox;
    private final IsolationPlane isolation;
    private final RtNetlink rtnl;

    /** Opens the lease journal and a netlink socket in the calling thread's (the host's) namespace. */
    public Provisioner(ProvisionerConfig config, IsolationPlane isolation) {
        this.ipam = new Ipam(config.pool(), config.leaseJournal());
        this.sandbox = config.sandbox();
        this.isolation = isolation;
        this.rtnl = RtNetlink.open();
    }

    public IsolationPlane isolation() { return isolation; }

    /** Current leases: subnet to the namespace it was leased for. */
    public Map<Subnet, String> leases() { return ipam.leases(); }

    /**
     * Wires a dyno and starts its process. On failure, undoes what it did and throws naming the
     * dyno; nothing already running is touched.
     */
    public Dyno provision(DynoSpec spec, Consumer<String> logLine) {
        return provision(spec, spec.size().memoryBytes(), false, logLine);
    }

    /**
     * {@link #provision(DynoSpec, Consumer)} with a memory limit of its own ({@code memoryLimitBytes}, e.g. the
     * R15 ceiling above the size's quota, so use over the quota is observable) and, {@code attached}, the
     * command's standard streams left to the caller ({@link DynoProcess#stdin()}...) instead of the log.
     */
    public Dyno provision(DynoSpec spec, long memoryLimitBytes, boolean attached, Consumer<String> logLine) {
        DynoNetwork network = wire(spec);
        try {
            DynoProcess process = DynoProcess.start(spec, network.netns(), sandbox, memoryLimitBytes, attached, logLine);
            return new Dyno(spec, network.subnet(), network.netns(), network.hostVeth(), network.hostIfindex(), process);
        } catch (RuntimeException e) {
            try {
                unwire(network);
            } catch (RuntimeException undoFailed) {
                e.addSuppressed(undoFailed);
            }
            throw new ProvisioningException("starting " + spec.app() + "/" + spec.name() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The network half of {@link #provision}: lease, namespace, veth pair (peer straight into the
     * namespace as eth0), addresses, routes, links up, guard attached. On failure, undoes what it
     * did and throws naming the dyno.
     */
    public DynoNetwork wire(DynoSpec spec) {
        NetworkNamespace netns = new NetworkNamespace(spec.netnsName());
        if (netns.exists()) throw new ProvisioningException("network namespace " + netns.name() + " already exists: is another plane running this app?");
        Subnet subnet = ipam.allocate(netns.name());
        String veth = Dyno.hostVethName(subnet);
        List<Runnable> undo = new ArrayList<>();
        undo.add(() -> ipam.release(subnet));
        try {
            RtNetlink inside = NetworkNamespaces.createWithNetlink(netns.name());
            undo.add(() -> NetworkNamespaces.delete(netns.name()));
            undo.add(inside::close);
            int netnsFd = Syscalls.open(netns.pin().toString(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC);
            try {
                rtnl.createVethPair(veth, "eth0", netnsFd, subnet.dynoMac()); // the guard checks frames come from this MAC
            } finally {
                Syscalls.close(netnsFd);
            }
            undo.add(() -> rtnl.deleteLink(veth));
            int ifindex = rtnl.linkIndex(veth);
            undo.set(undo.size() - 1, () -> { // the guard's attachment is released after its veth is gone
                rtnl.deleteLink(veth);
                isolation.release(ifindex);
            });
            rtnl.addAddress(ifindex, subnet.hostInet(), 30);
            // Dyno traffic is routed by the host (to NAT egress, later); the guard decides what may pass.
            enableForwarding(veth);
            try (inside) {
                int eth0 = inside.linkIndex("eth0");
                inside.addAddress(eth0, subnet.dynoInet(), 30);
                inside.setLinkUp(1); // lo is always ifindex 1 in a new namespace
                inside.setLinkUp(eth0);
                rtnl.setLinkUp(ifindex); // the route below needs the link up at both ends
                inside.addDefaultRoute(subnet.hostInet());
            }
            undo.add(() -> {
                isolation.forget(subnet);
                isolation.forgetIfindex(ifindex);
            });
            isolation.guard(IsolationPlane.DynoPolicy.of(spec, subnet, ifindex));
            return new DynoNetwork(netns, subnet, veth, ifindex);
        } catch (RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).run();
                } catch (RuntimeException undoFailed) {
                    e.addSuppressed(undoFailed);
                }
            }
            throw new ProvisioningException("provisioning " + spec.app() + "/" + spec.name() + " failed: " + e.getMessage(), e);
        }
    }

    /** Removes a dyno's wiring (its processes must be gone): guard entries, veth, namespace, lease. */
    public void unwire(DynoNetwork network) {
        isolation.forget(network.subnet());
        isolation.forgetIfindex(network.hostIfindex());
        unwire(network.netns(), network.subnet(), network.hostIfindex());
    }

    /** Stops the dyno's processes (SIGTERM, SIGKILL after {@code grace}) and removes everything it was wired with. */
    public void teardown(Dyno dyno, Duration grace) {
        teardown(dyno, grace, () -> { });
    }

    /** {@link #teardown(Dyno, Duration)}; {@code graceExpired} runs just before the SIGKILL if the grace ran out (R12). */
    public void teardown(Dyno dyno, Duration grace, Runnable graceExpired) {
        dyno.process().stop(grace, graceExpired);
        unwire(new DynoNetwork(dyno.netns(), dyno.subnet(), dyno.hostVeth(), dyno.hostIfindex()));
    }

    /**
     * Takes over what a previous run of this plane left (after a crash or a kill): the guard's veths move to this
     * process's programs with no rule lost ({@link IsolationPlane#adopt()}), and every leased dyno whose namespace,
     * veth and guard entries are all still in place is returned, its processes still running. What is only half
     * there (a lease without its veth, a veth without a lease or a guard entry) is removed.
     */
    public List<DynoNetwork> adopt() {
        return adopt(new ArrayList<>());
    }

    /** {@link #adopt()}, adding what it removed as half-made to {@code removed}. */
    private List<DynoNetwork> adopt(List<String> removed) {
        Map<Integer, Integer> guarded = isolation.adopt(); // host ifindex -> dyno address
        Map<Integer, Integer> ifindexByAddress = new HashMap<>();
        guarded.forEach((ifindex, address) -> ifindexByAddress.put(address, ifindex));
        List<DynoNetwork> adopted = new ArrayList<>();
        int before = removed.size();
        Map<Subnet, String> leased = ipam.leases();
        for (Map.Entry<Subnet, String> lease : leased.entrySet()) {
            Subnet subnet = lease.getKey();
            NetworkNamespace netns = new NetworkNamespace(lease.getValue());
            String veth = Dyno.hostVethName(subnet);
            Integer ifindex = ifindexByAddress.get(subnet.dynoAddress());
            if (ifindex != null && netns.exists() && rtnl.findLink(veth).filter(ifindex::equals).isPresent()) {
                adopted.add(new DynoNetwork(netns, subnet, veth, ifindex));
            } else {
                remove(netns, subnet, ifindex == null ? 0 : ifindex);
                removed.add(netns.name());
            }
        }
        for (RtNetlink.Link link : rtnl.links()) {
            if (!HOST_VETH.matcher(link.name()).matches()) continue;
            Subnet subnet = new Subnet((int) Long.parseLong(link.name().substring(2), 16));
            if (ipam.contains(subnet) && !leased.containsKey(subnet)) {
                isolation.forgetIfindex(link.index());
                rtnl.deleteLink(link.name());
                isolation.release(link.index());
                removed.add(link.name());
            }
        }
        if (removed.size() > before) LOG.log(Level.INFO, "removed what a previous run left half-made: {0}", removed.subList(before, removed.size()));
        if (!adopted.isEmpty()) LOG.log(Level.INFO, "adopted {0} dynos of a previous run, guard on {1}", adopted.size(), isolation.attachment());
        return adopted;
    }

    /**
     * Removes everything a previous run left: {@link #adopt()}, then every adopted dyno's processes, runtime
     * folder, guard entries, veth and namespace. Returns the namespaces and veths it removed. (What a plane
     * restarted with a formation to keep does instead is adopt.)
     */
    public List<String> reconcile() {
        List<String> removed = new ArrayList<>();
        for (DynoNetwork network : adopt(removed)) {
            remove(network.netns(), network.subnet(), network.hostIfindex());
            removed.add(network.netns().name());
        }
        if (!removed.isEmpty()) LOG.log(Level.INFO, "reconcile removed the dynos of a previous run: {0}", removed);
        return removed;
    }

    /** A leftover dyno, whatever is left of it: processes, runtime folder, cgroup, guard entries, veth, namespace, lease. */
    private void remove(NetworkNamespace netns, Subnet subnet, int hostIfindex) {
        List<ProcessHandle> survivors = netns.killAll(Duration.ofSeconds(5));
        if (!survivors.isEmpty()) LOG.log(Level.WARNING, "processes {0} in {1} survive SIGKILL", survivors.stream().map(ProcessHandle::pid).toList(), netns.name());
        DynoProcess.removeLeftovers(netns, sandbox);
        isolation.forget(subnet);
        if (hostIfindex != 0) isolation.forgetIfindex(hostIfindex);
        unwire(netns, subnet, hostIfindex);
    }

    /**
     * Deletes the host veth (taking its peer, qdisc and filter with it) before the namespace:
     * deleting only the namespace would leave the veth to the kernel's asynchronous netns cleanup.
     * Its guard attachment is released once the veth is gone, never before: the veth is guarded to the end.
     */
    private void unwire(NetworkNamespace netns, Subnet subnet, int hostIfindex) {
        try {
            rtnl.deleteLink(Dyno.hostVethName(subnet));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "deleting veth " + Dyno.hostVethName(subnet) + ": " + e.getMessage());
        }
        if (hostIfindex != 0) isolation.release(hostIfindex);
        try {
            NetworkNamespaces.delete(netns.name());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "deleting netns " + netns.name() + ": " + e.getMessage());
        }
        ipam.release(subnet);
    }

    @Override
    public void close() {
        rtnl.close();
        ipam.close();
    }

    /**
     * IPv4 forwarding for packets arriving on {@code iface} (net.ipv4.conf.IFACE.forwarding): dyno veths,
     * and the uplink, whose NAT replies the host routes on to dynos.
     */
    public static void enableForwarding(String iface) {
        Path knob = Path.of("/proc/sys/net/ipv4/conf", iface, "forwarding");
        try {
            Files.writeString(knob, "1");
        } catch (IOException e) {
            throw new ProvisioningException("enabling forwarding on " + iface + " (" + knob + "): " + e.getMessage(), e);
        }
    }
}
