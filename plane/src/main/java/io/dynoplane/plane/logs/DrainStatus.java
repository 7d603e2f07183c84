package io.dynoplane.plane.logs;

/**
 * A drain as {@code drains} lists it, with its counters: lines sent, lines dropped (queue full, or a batch
 * that failed every try), errors (failed connects, writes and POSTs).
 */
public record DrainStatus(String id, String token, String app, String url, long sent, long dropped, long errors, int queued) {}
