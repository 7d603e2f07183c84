package io.dynoplane.plane;

import io.dynoplane.provisioner.Dyno;

import java.util.concurrent.CompletableFuture;

/** A provisioned dyno and the state the plane last saw it in. */
final class RunningDyno {
    final Dyno dyno;
    final CompletableFuture<Void> up = new CompletableFuture<>();
    private volatile DynoState state = DynoState.STARTING;
    volatile boolean stopping;

    RunningDyno(Dyno dyno) { this.dyno = dyno; }

    DynoState state() { return state; }

    /** Returns the previous state. */
    DynoState moveTo(DynoState next) {
        DynoState previous = state;
        state = next;
        return previous;
    }
}
