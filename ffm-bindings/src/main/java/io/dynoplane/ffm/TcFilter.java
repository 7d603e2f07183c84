package io.dynoplane.ffm;

/**
 * A BPF filter on a tc hook, as the kernel created it: handle and priority identify it for
 * {@link Libbpf#tcDetach(TcFilter)}; progId is the kernel's id of the attached program.
 */
public record TcFilter(int ifindex, TcAttachPoint point, int handle, int priority, int progId) {
    public TcHook hook() { return new TcHook(ifindex, point); }
}
