package io.dynoplane.plane.api;

/** The answer to a detached {@code POST /apps/{app}/dynos}: the one-off dyno that was started. */
public record OneOffInfo(String name, String app, String command, boolean attach, String state) {
}
