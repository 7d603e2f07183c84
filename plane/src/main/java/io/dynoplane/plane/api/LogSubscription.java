package io.dynoplane.plane.api;

/** A tailing log session; closing it stops lines from reaching its sink. */
@FunctionalInterface
public interface LogSubscription extends AutoCloseable {
    @Override
    void close();
}
