package io.dynoplane.plane;

import java.util.Locale;

/** Heroku's dyno states. */
public enum DynoState {
    STARTING, UP, CRASHED, DOWN;

    public String label() { return name().toLowerCase(Locale.ROOT); }
}
