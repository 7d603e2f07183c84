package io.dynoplane.provisioner;

/**
 * A wired dyno: its namespace, its veth (host side {@code hostVeth}, dyno side {@code eth0} inside
 * the namespace), its /30 and its running process.
 */
public record Dyno(DynoSpec spec, Subnet subnet, NetworkNamespace netns, String hostVeth, int hostIfindex, DynoProcess process) {
    /** Host-side veth name, within the kernel's 15 bytes, mapping back to the dyno's /30: {@code dp} + network in hex. */
    public static String hostVethName(Subnet subnet) {
        return "dp" + String.format("%08x", subnet.network());
    }

    /** The dyno's id in the isolation plane's counters: its /30, numbered ({@link Subnet#dynoId()}). */
    public int id() { return subnet.dynoId(); }

    public String address() { return Subnet.dotted(subnet.dynoAddress()); }
}
