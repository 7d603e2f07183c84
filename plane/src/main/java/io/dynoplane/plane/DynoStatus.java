package io.dynoplane.plane;

/**
 * One row of {@code ./dynoplane ps --json}: the demo's fields ({@code name}, {@code app}, {@code type},
 * {@code state}, {@code address}, {@code netns}, {@code pid}) and the manager's ({@code release},
 * {@code space}, {@code restarts}, {@code started_at} as RFC 3339).
 */
public record DynoStatus(String name, String app, String type, String state, String address, String netns,
                         long pid, Integer port, String hostVeth, Integer release, String space, int restarts,
                         @com.fasterxml.jackson.annotation.JsonProperty("started_at") String startedAt) {
}
