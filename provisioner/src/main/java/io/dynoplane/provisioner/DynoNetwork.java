package io.dynoplane.provisioner;

/** A dyno's wiring without its process: namespace, /30, host-side veth, guard attached. */
public record DynoNetwork(NetworkNamespace netns, Subnet subnet, String hostVeth, int hostIfindex) {
    /** The dyno's id in the isolation plane's counters. */
    public int id() { return subnet.dynoId(); }
}
