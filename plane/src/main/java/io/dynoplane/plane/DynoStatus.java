package io.dynoplane.plane;

/** One row of {@code ./dynoplane ps --json}. */
public record DynoStatus(String name, String app, String type, String state, String address, String netns,
                         long pid, Integer port, String hostVeth) {
}
