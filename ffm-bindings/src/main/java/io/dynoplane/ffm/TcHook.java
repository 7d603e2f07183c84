package io.dynoplane.ffm;

/** A tc hook: one side of the clsact qdisc of an interface ({@code struct bpf_tc_hook}). */
public record TcHook(int ifindex, TcAttachPoint attachPoint) {}
