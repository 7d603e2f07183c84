package io.dynoplane.plane.store;

/** A log drain of an app: where its log lines are also sent, and the token they carry. */
public record Drain(String id, String url, String token) {
}
