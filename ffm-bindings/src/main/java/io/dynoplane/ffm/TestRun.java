package io.dynoplane.ffm;

/**
 * The outcome of {@link Libbpf#testRun}: the program's return value (its verdict), the packet as the program left
 * it, and the kernel's average duration of one run.
 */
public record TestRun(int retval, byte[] dataOut, int durationNs) {}
