package io.dynoplane.plane.manager;

import io.dynoplane.plane.DynoState;
import io.dynoplane.plane.DynoStatus;
import io.dynoplane.plane.LogLine;
import io.dynoplane.provisioner.Dyno;
import io.dynoplane.provisioner.DynoSize;
import io.dynoplane.provisioner.DynoSpec;
import io.dynoplane.router.Backend;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One app's reconcile loop: a single thread owning the app's desired state, its dyno slots and its
 * one-off dynos. Every method named {@code on...} runs on it; the public-to-the-manager methods only queue.
 * After each event the loop reconciles (start what is missing, stop what is too many, roll stale
 * release), then publishes the app's routes and its {@code ps} snapshot.
 */
final class AppLoop {
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(ZoneOffset.UTC);

    /** Where a slot's dyno is in the loop's hands (the Heroku state shown is {@link Slot#state}). */
    enum Phase { IDLE, RUNNING, STOPPING, CLEANING, WAITING }

    /** One dyno of the formation ({@code web.2}) across its restarts. */
    static final class Slot {
        final String type;
        final int index;
        final String name;
        Phase phase = Phase.IDLE;
        DynoState state = DynoState.STARTING;
        Dyno dyno;
        AppState.Release release;
        int generation; // of the dyno now in the slot: events about an earlier one are dropped
        int crashes;    // in a row, for the back-off
        int restarts;
        boolean restartAfterStop;
        String killReason; // R10 / R15 when the manager killed it, else null: the exit is a plain crash
        long oomKillsSeen;
        Instant startedAt;
        long startedNanos;
        Instant crashedAt;
        ScheduledFuture<?> restartTimer, cycleTimer, goodStartTimer;

        Slot(String type, int index) {
            this.type = type;
            this.index = index;
            this.name = type + "." + index;
        }

        boolean isWeb() { return type.equals("web"); }

        void cancelTimers() {
            for (ScheduledFuture<?> t : new ScheduledFuture<?>[]{restartTimer, cycleTimer, goodStartTimer}) if (t != null) t.cancel(false);
            restartTimer = cycleTimer = goodStartTimer = null;
        }
    }

    private final DynoManager manager;
    private final String app;
    private final ScheduledThreadPoolExecutor loop;
    private final Map<String, Slot> slots = new TreeMap<>(Comparator.comparing((String n) -> n.substring(0, n.lastIndexOf('.')))
            .thenComparingInt(n -> Integer.parseInt(n.substring(n.lastIndexOf('.') + 1))));
    private final Map<String, OneOffDyno> oneOffs = new LinkedHashMap<>();
    private final AtomicInteger nextRun = new AtomicInteger(1);
    private AppState desired;
    private volatile AppState accepted;
    private volatile List<DynoStatus> snapshot = List.of();
    private volatile List<Dyno> running = List.of();
    private CompletableFuture<Void> destroyed;
    private final ScheduledFuture<?> memoryTimer;

    AppLoop(DynoManager manager, String app) {
        this.manager = manager;
        this.app = app;
        this.loop = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("manager-" + app).factory());
        loop.setRemoveOnCancelPolicy(true);
        long check = manager.config.memoryCheck().toNanos();
        this.memoryTimer = loop.scheduleWithFixedDelay(() -> event(this::onMemoryCheck), check, check, TimeUnit.NANOSECONDS);
    }

    // --- queued from other threads ---

    void apply(AppState state) {
        accepted = state; // run() uses what was last accepted, even before the loop got to it
        post(() -> onApply(state));
    }

    void restart(String target) {
        requireTarget(target, false);
        post(() -> onRestart(target));
    }

    void stop(String target) {
        requireTarget(target, true);
        post(() -> onStop(target));
    }

    CompletableFuture<Void> destroy() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            loop.execute(() -> event(() -> {
                if (destroyed == null) destroyed = new CompletableFuture<>();
                destroyed.whenComplete((v, e) -> done.complete(null));
                for (OneOffDyno o : oneOffs.values()) o.stop();
            }));
        } catch (RejectedExecutionException alreadyGone) {
            done.complete(null);
        }
        return done.thenRun(() -> {
            memoryTimer.cancel(false);
            loop.shutdownNow();
        });
    }

    List<DynoStatus> snapshot() { return snapshot; }

    /** The app's wired dynos (formation and one-off), for the per-dyno metrics. */
    List<Dyno> running() { return running; }

    void sync(long timeout, TimeUnit unit) throws TimeoutException {
        try {
            loop.submit(() -> { }).get(timeout, unit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | RejectedExecutionException e) {
            // a loop that is gone has nothing queued
        }
    }

    OneOff run(AppState.Release release, String command, boolean attached) {
        AppState current = accepted;
        AppState.Release r = release != null ? release : current == null ? null : current.release();
        if (r == null) throw new IllegalArgumentException("app " + app + " has no release to run `" + command + "` in");
        DynoManager.validate(app, r);
        int index = nextRun.getAndIncrement();
        DynoSpec spec = new DynoSpec(app, "run", index, command, r.dir(), r.config(), null, DynoSize.DEFAULT,
                current == null ? 0 : current.spaceId(), current != null && current.internal());
        log(spec.name(), "Starting process with command `" + command + "`");
        Dyno dyno = manager.provisioner.provision(spec, manager.config.memoryLimit(), attached,
                line -> manager.log(app, LogLine.app(spec.name(), line)));
        OneOffDyno oneOff = new OneOffDyno(spec.name(), dyno, r, attached);
        if (!post(() -> onOneOffStarted(oneOff))) {
            manager.provisioner.teardown(dyno, Duration.ZERO); // the app went while it started: no one would stop it
            throw new IllegalStateException("app " + app + " was destroyed while " + spec.name() + " started");
        }
        return oneOff;
    }

    // --- the loop ---

    /** Queues an event; false if the app's loop is gone (destroyed): nothing left to change. */
    private boolean post(Runnable task) {
        try {
            loop.execute(() -> event(task));
            return true;
        } catch (RejectedExecutionException gone) {
            return false;
        }
    }

    private void schedule(Runnable task, Duration delay, java.util.function.Consumer<ScheduledFuture<?>> keep) {
        keep.accept(loop.schedule(() -> event(task), delay.toNanos(), TimeUnit.NANOSECONDS));
    }

    /** Runs one event, then converges and publishes: the loop's only entry point. */
    private void event(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log("manager", "Error: " + e.getMessage());
        }
        try {
            reconcile();
            publish();
        } catch (RuntimeException e) {
            // never out of the loop: a periodic task that throws is never run again
            log("manager", "Error: " + e.getMessage());
        }
    }

    private void onApply(AppState state) {
        AppState.Release before = desired == null ? null : desired.release();
        desired = state;
        if (state.release() != null && before != null && !state.release().equals(before)) {
            // A new release resets the back-off and starts crashed dynos at once, on the new release.
            for (Slot s : slots.values()) {
                s.crashes = 0;
                if (s.phase == Phase.WAITING) {
                    s.cancelTimers();
                    s.phase = Phase.IDLE;
                }
            }
        }
    }

    private void onRestart(String target) {
        for (Slot s : matching(target)) {
            s.crashes = 0;
            if (s.phase == Phase.RUNNING) {
                log(s.name, "Restarting");
                restartFor(s, "manual");
            } else if (s.phase == Phase.WAITING) {
                s.cancelTimers();
                s.phase = Phase.IDLE;
            }
        }
    }

    private void onStop(String target) {
        for (Slot s : matching(target)) if (s.phase == Phase.RUNNING) stopDyno(s, false);
        for (OneOffDyno o : oneOffs.values()) if (matches(target, "run", o.name)) o.stop();
    }

    private List<Slot> matching(String target) {
        return slots.values().stream().filter(s -> matches(target, s.type, s.name)).toList();
    }

    private static boolean matches(String target, String type, String name) {
        return target == null || target.equals(type) || target.equals(name);
    }

    private void requireTarget(String target, boolean oneOffsToo) {
        if (target == null) return;
        boolean known = snapshot.stream().anyMatch(d -> (oneOffsToo || !d.type().equals("run")) && (target.equals(d.type()) || target.equals(d.name())));
        AppState d = accepted;
        if (!known && d != null && target.matches("[a-z][a-z0-9-]*") && d.formation().getOrDefault(target, 0) > 0) known = true;
        if (!known) throw new IllegalArgumentException("app " + app + " has no dyno or process type '" + target + "'");
    }

    /** Desired against actual: starts missing dynos, stops surplus ones (highest index first), rolls a stale release. */
    private void reconcile() {
        Map<String, Integer> want = new TreeMap<>();
        if (destroyed == null && desired != null && desired.release() != null) want.putAll(desired.formation());
        want.forEach((type, n) -> {
            for (int i = 1; i <= n; i++) slots.computeIfAbsent(type + "." + i, name -> new Slot(type, Integer.parseInt(name.substring(type.length() + 1))));
        });
        List<Slot> descending = new ArrayList<>(slots.values());
        java.util.Collections.reverse(descending);
        for (Slot s : descending) {
            boolean wanted = s.index <= want.getOrDefault(s.type, 0);
            if (wanted) {
                if (s.phase == Phase.IDLE) start(s);
                continue;
            }
            switch (s.phase) {
                case RUNNING -> stopDyno(s, false);
                case STOPPING -> s.restartAfterStop = false;
                case WAITING, IDLE -> {
                    s.cancelTimers();
                    if (s.state != DynoState.DOWN && s.dyno == null && s.startedAt != null) changeState(s, DynoState.DOWN);
                    slots.remove(s.name);
                }
                case CLEANING -> { } // removed once its dyno is unwired
            }
        }
        if (destroyed == null) roll(want);
        if (destroyed != null && slots.isEmpty() && oneOffs.isEmpty()) destroyed.complete(null);
    }

    /**
     * Moves running dynos onto the desired release. Web dynos of an app with more than one roll one at a
     * time, the next only once the previous is up on the new release, so some web dyno always serves; the
     * rest restart at once.
     */
    private void roll(Map<String, Integer> want) {
        AppState.Release target = desired == null ? null : desired.release();
        if (target == null) return;
        Map<String, List<Slot>> byType = new TreeMap<>();
        for (Slot s : slots.values()) if (s.index <= want.getOrDefault(s.type, 0)) byType.computeIfAbsent(s.type, t -> new ArrayList<>()).add(s);
        byType.forEach((type, ofType) -> {
            List<Slot> stale = ofType.stream().filter(s -> s.phase == Phase.RUNNING && !target.equals(s.release)).toList();
            if (stale.isEmpty()) return;
            if (type.equals("web") && want.getOrDefault(type, 0) > 1) {
                // Busy: a dyno is being restarted, or one on the new release is not up (booting, or crashing: a
                // release that does not boot stops the roll, and the old release's dynos keep serving).
                boolean rolling = ofType.stream().anyMatch(s -> (s.phase == Phase.STOPPING && s.restartAfterStop)
                        || (target.equals(s.release) && !(s.phase == Phase.RUNNING && s.state == DynoState.UP)));
                if (!rolling) stale = stale.subList(0, 1);
                else stale = List.of();
            }
            for (Slot s : stale) {
                log(s.name, "Restarting");
                restartFor(s, "release");
            }
        });
    }

    private void start(Slot s) {
        AppState.Release release = desired.release();
        String command = release.procfile().command(s.type);
        DynoSpec spec = new DynoSpec(app, s.type, s.index, command, release.dir(), release.config(),
                s.isWeb() ? manager.config.webPort() : null, DynoSize.DEFAULT, desired.spaceId(), desired.internal());
        if (s.state != DynoState.STARTING) changeState(s, DynoState.STARTING);
        log(s.name, "Starting process with command `" + command + "`");
        s.generation++;
        s.killReason = null;
        s.oomKillsSeen = 0;
        s.release = release;
        s.startedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        s.startedNanos = System.nanoTime();
        Dyno dyno;
        try {
            dyno = manager.provisioner.provision(spec, manager.config.memoryLimit(), false, line -> manager.log(app, LogLine.app(s.name, line)));
        } catch (RuntimeException e) {
            log(s.name, "Error starting process: " + e.getMessage());
            s.dyno = null;
            crashed(s, "crash");
            afterCleanup(s);
            post(() -> { }); // reconcile again: this pass is past the slot
            return;
        }
        s.dyno = dyno;
        s.phase = Phase.RUNNING;
        int generation = s.generation;
        dyno.process().onExit().whenComplete((p, e) -> post(() -> onExit(s, generation)));
        long cycle = manager.config.cyclePeriod().toNanos() + (manager.config.cycleJitter().isZero() ? 0
                : ThreadLocalRandom.current().nextLong(manager.config.cycleJitter().toNanos() + 1));
        schedule(() -> onCycle(s, generation), Duration.ofNanos(cycle), t -> s.cycleTimer = t);
        if (s.isWeb()) {
            watchBoot(s, dyno, generation);
        } else {
            up(s); // workers have no boot check
        }
    }

    /** Polls the namespace's sockets until $PORT is bound: the kernel has no event for it. Off the loop. */
    private void watchBoot(Slot s, Dyno dyno, int generation) {
        long deadline = s.startedNanos + manager.config.bootTimeout().toNanos();
        int port = manager.config.webPort();
        Thread.ofVirtual().name("boot-" + app + "-" + s.name).start(() -> {
            while (dyno.process().isAlive()) {
                if (dyno.process().listensOn(port)) {
                    post(() -> onBound(s, generation));
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    post(() -> onBootTimeout(s, generation));
                    return;
                }
                try {
                    dyno.process().onExit().get(Math.min(left, manager.config.bootPoll().toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException lookAgain) {
                    // not bound yet
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    private void onBound(Slot s, int generation) {
        if (s.generation != generation || s.phase != Phase.RUNNING || s.state != DynoState.STARTING) return;
        manager.metrics.booted(app, Duration.ofNanos(System.nanoTime() - s.startedNanos));
        up(s);
    }

    private void up(Slot s) {
        changeState(s, DynoState.UP);
        int generation = s.generation;
        schedule(() -> {
            if (s.generation == generation && s.state == DynoState.UP) s.crashes = 0;
        }, manager.config.goodStart(), t -> s.goodStartTimer = t);
    }

    private void onBootTimeout(Slot s, int generation) {
        if (s.generation != generation || s.phase != Phase.RUNNING || s.state != DynoState.STARTING) return;
        log(s.name, "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within " + seconds(manager.config.bootTimeout()) + " of launch");
        log(s.name, "Stopping process with SIGKILL");
        s.killReason = "R10";
        Dyno dyno = s.dyno;
        Thread.ofVirtual().name("r10-" + app + "-" + s.name).start(() -> dyno.process().stop(Duration.ZERO)); // its exit is the crash
    }

    private void onExit(Slot s, int generation) {
        if (s.generation != generation || s.phase != Phase.RUNNING) return; // a stop logs its own exit
        Dyno dyno = s.dyno;
        String reason = s.killReason != null ? s.killReason : dyno.process().oomKills() > s.oomKillsSeen ? "R15" : "crash";
        if (reason.equals("R15") && s.killReason == null) log(s.name, "Error R15 (Memory quota vastly exceeded)");
        log(s.name, "Process exited with status " + exitStatus(dyno));
        crashed(s, reason);
        s.phase = Phase.CLEANING;
        Thread.ofVirtual().name("unwire-" + app + "-" + s.name).start(() -> {
            teardown(s, dyno, Duration.ZERO);
            post(() -> {
                s.dyno = null;
                afterCleanup(s);
            });
        });
    }

    private void crashed(Slot s, String reason) {
        s.cancelTimers();
        changeState(s, DynoState.CRASHED);
        s.crashes++;
        s.restarts++;
        s.crashedAt = Instant.now();
        manager.metrics.restarted(app, reason);
    }

    /** A crashed dyno is unwired: restart it after its back-off (the first at once), if still wanted. */
    private void afterCleanup(Slot s) {
        Duration delay = manager.config.backoff(s.crashes).minus(Duration.between(s.crashedAt, Instant.now()));
        if (!delay.isPositive() || destroyed != null) {
            s.phase = Phase.IDLE;
            return;
        }
        s.phase = Phase.WAITING;
        schedule(() -> {
            if (s.phase == Phase.WAITING) s.phase = Phase.IDLE;
        }, delay, t -> s.restartTimer = t);
    }

    private void onCycle(Slot s, int generation) {
        if (s.generation != generation || s.phase != Phase.RUNNING) return;
        log(s.name, "Cycling");
        restartFor(s, "cycle");
    }

    private void restartFor(Slot s, String reason) {
        s.restarts++;
        manager.metrics.restarted(app, reason);
        stopDyno(s, true);
    }

    /** SIGTERM to every process of the dyno, SIGKILL after the grace (R12), on a thread of its own; the loop hears when it is gone. */
    private void stopDyno(Slot s, boolean restart) {
        s.cancelTimers();
        s.phase = Phase.STOPPING;
        s.restartAfterStop = restart;
        if (restart && s.state != DynoState.STARTING) changeState(s, DynoState.STARTING);
        publish(); // out of the router before the SIGTERM
        log(s.name, "Stopping all processes with SIGTERM");
        Dyno dyno = s.dyno;
        Thread.ofVirtual().name("stop-" + app + "-" + s.name).start(() -> {
            teardown(s, dyno, manager.config.stopGrace());
            post(() -> onStopped(s, dyno));
        });
    }

    private void teardown(Slot s, Dyno dyno, Duration grace) {
        try {
            manager.provisioner.teardown(dyno, grace, () -> {
                log(s.name, "Error R12 (Exit timeout) -> At least one process failed to exit within " + seconds(grace) + " of SIGTERM");
                log(s.name, "Stopping remaining processes with SIGKILL");
            });
        } catch (RuntimeException e) {
            log(s.name, "Error stopping process: " + e.getMessage());
        }
    }

    private void onStopped(Slot s, Dyno dyno) {
        log(s.name, "Process exited with status " + exitStatus(dyno));
        s.dyno = null;
        s.phase = Phase.IDLE;
        if (!s.restartAfterStop) changeState(s, DynoState.DOWN);
        // reconcile starts it again (restart, or a stopped dyno the formation still wants) or removes it
    }

    private void onMemoryCheck() {
        long quota = manager.config.memoryQuota();
        for (Slot s : slots.values()) {
            if (s.phase != Phase.RUNNING || s.dyno == null) continue;
            long used = s.dyno.process().memoryBytes();
            if (used > quota) { // as on Heroku, logged at every check while over
                log(s.name, "Process running mem=" + (used >> 20) + "M(" + (used * 100 / quota) + "%)");
                log(s.name, "Error R14 (Memory quota exceeded)");
            }
            long oomKills = s.dyno.process().oomKills();
            if (oomKills > s.oomKillsSeen) {
                // The kernel's OOM killer acted at the hard limit (the R15 ceiling): Heroku kills and restarts the dyno.
                s.oomKillsSeen = oomKills;
                log(s.name, "Error R15 (Memory quota vastly exceeded)");
                log(s.name, "Stopping process with SIGKILL");
                s.killReason = "R15";
                Dyno dyno = s.dyno;
                Thread.ofVirtual().name("r15-" + app + "-" + s.name).start(() -> {
                    // The OOM killer's victim is usually the command itself, whose exit ends the dyno: a SIGKILL
                    // racing that exit would only blur its status. A dyno that runs on is killed.
                    try {
                        dyno.process().onExit().get(1, TimeUnit.SECONDS);
                    } catch (TimeoutException | ExecutionException stillRunning) {
                        dyno.process().stop(Duration.ZERO);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }

    // --- one-off dynos ---

    private void onOneOffStarted(OneOffDyno o) {
        oneOffs.put(o.name, o);
        o.state = DynoState.UP;
        log(o.name, "State changed from starting to up");
        o.dyno.process().onExit().whenComplete((p, e) -> post(() -> onOneOffExited(o)));
        if (destroyed != null) o.stop();
    }

    private void onOneOffExited(OneOffDyno o) {
        if (o.finishing) return;
        o.finishing = true;
        Thread.ofVirtual().name("unwire-" + app + "-" + o.name).start(() -> {
            o.awaitStop();
            try {
                manager.provisioner.teardown(o.dyno, Duration.ZERO);
            } catch (RuntimeException e) {
                log(o.name, "Error stopping process: " + e.getMessage());
            }
            post(() -> {
                int status = exitStatus(o.dyno);
                log(o.name, "Process exited with status " + status);
                log(o.name, "State changed from up to complete");
                oneOffs.remove(o.name);
                o.exit.complete(status);
            });
        });
    }

    /** A one-off dyno: never restarted; its exit status completes {@link #exit()} once it is unwired. */
    final class OneOffDyno implements OneOff {
        final String name;
        final Dyno dyno;
        final AppState.Release release;
        final boolean attached;
        final Instant startedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        final CompletableFuture<Integer> exit = new CompletableFuture<>();
        private final CompletableFuture<Void> stopped = new CompletableFuture<>();
        private final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        volatile DynoState state = DynoState.STARTING;
        boolean finishing;

        OneOffDyno(String name, Dyno dyno, AppState.Release release, boolean attached) {
            this.name = name;
            this.dyno = dyno;
            this.release = release;
            this.attached = attached;
        }

        @Override public String name() { return name; }

        @Override public OutputStream stdin() { return attached ? dyno.process().stdin() : OutputStream.nullOutputStream(); }

        @Override public InputStream stdout() { return attached ? dyno.process().stdout() : InputStream.nullInputStream(); }

        @Override public InputStream stderr() { return attached ? dyno.process().stderr() : InputStream.nullInputStream(); }

        @Override public CompletableFuture<Integer> exit() { return exit; }

        @Override
        public void stop() {
            if (!stopping.compareAndSet(false, true)) return;
            log(name, "Stopping all processes with SIGTERM");
            Thread.ofVirtual().name("stop-" + app + "-" + name).start(() -> {
                try {
                    dyno.process().stop(manager.config.stopGrace(), () -> {
                        log(name, "Error R12 (Exit timeout) -> At least one process failed to exit within " + seconds(manager.config.stopGrace()) + " of SIGTERM");
                        log(name, "Stopping remaining processes with SIGKILL");
                    });
                } finally {
                    stopped.complete(null);
                }
            });
        }

        /** The unwiring waits for a stop in progress, so that its grace and R12 are the stop's, not a SIGKILL's. */
        void awaitStop() {
            if (stopping.get()) stopped.join();
        }
    }

    // --- output ---

    private void changeState(Slot s, DynoState next) {
        if (s.state == next) return;
        log(s.name, "State changed from " + s.state.label() + " to " + next.label());
        s.state = next;
    }

    private void log(String process, String message) {
        manager.log(app, LogLine.heroku(process, message));
    }

    /** The exit status; -1 if the launcher is somehow still alive (a teardown that failed half-way). */
    private static int exitStatus(Dyno dyno) {
        return dyno.process().isAlive() ? -1 : dyno.process().exitValue();
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms + " milliseconds";
        return ms == 1000 ? "1 second" : (ms / 1000) + " seconds";
    }

    private void publish() {
        List<DynoStatus> rows = new ArrayList<>();
        String space = desired == null || desired.spaceId() == 0 ? null : Integer.toString(desired.spaceId());
        List<Backend> web = new ArrayList<>();
        for (Slot s : slots.values()) {
            Dyno d = s.dyno;
            rows.add(new DynoStatus(s.name, app, s.type, s.state.label(), d == null ? null : d.address(), d == null ? null : d.netns().name(),
                    d == null ? 0 : d.process().pid(), d == null ? null : d.spec().port(), d == null ? null : d.hostVeth(),
                    s.release == null ? null : s.release.version(), space, s.restarts, s.startedAt == null ? null : RFC3339.format(s.startedAt)));
            if (!s.isWeb()) continue;
            Backend.State routing = switch (s.phase) {
                case RUNNING -> s.state == DynoState.UP ? Backend.State.UP : Backend.State.STARTING;
                case STOPPING -> s.restartAfterStop ? Backend.State.STARTING : null;
                case IDLE -> Backend.State.STARTING;
                case CLEANING, WAITING -> Backend.State.CRASHED;
            };
            if (routing == null) continue;
            // The address is the last dyno's; no request goes to a dyno that is not UP.
            InetSocketAddress address = d != null ? new InetSocketAddress(d.subnet().dynoInet(), manager.config.webPort())
                    : InetSocketAddress.createUnresolved("0.0.0.0", manager.config.webPort());
            web.add(new Backend(s.name, address, routing));
        }
        for (OneOffDyno o : oneOffs.values()) {
            rows.add(new DynoStatus(o.name, app, "run", o.state.label(), o.dyno.address(), o.dyno.netns().name(), o.dyno.process().pid(),
                    null, o.dyno.hostVeth(), o.release.version(), space, 0, RFC3339.format(o.startedAt)));
        }
        snapshot = List.copyOf(rows);
        List<Dyno> wired = new ArrayList<>();
        for (Slot s : slots.values()) if (s.dyno != null) wired.add(s.dyno);
        for (OneOffDyno o : oneOffs.values()) wired.add(o.dyno);
        running = List.copyOf(wired);
        boolean routed = desired != null && !desired.internal() && destroyed == null;
        manager.publish(app, routed ? web : null);
    }
}
