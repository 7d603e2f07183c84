package io.dynoplane.plane.cli;

/** The command line itself is wrong (exit status 2); the message names the bad input. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) { super(message); }
}
