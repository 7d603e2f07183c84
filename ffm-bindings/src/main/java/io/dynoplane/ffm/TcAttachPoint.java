package io.dynoplane.ffm;

/** Where a tc program runs: {@code enum bpf_tc_attach_point} (the clsact qdisc's two hooks). */
public enum TcAttachPoint {
    INGRESS(1),
    EGRESS(2);

    private final int value;

    TcAttachPoint(int value) { this.value = value; }

    /** BPF_TC_INGRESS or BPF_TC_EGRESS. */
    public int value() { return value; }
}
