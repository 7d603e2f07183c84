package io.dynoplane.plane.manager;

import io.dynoplane.provisioner.DynoSize;

import java.time.Duration;
import java.util.List;

/**
 * The dyno manager's timings and limits, Heroku's by default ({@link #defaults()}); every one a
 * {@link Duration} so tests run the same rules on a fast clock.
 *
 * @param bootTimeout    a web dyno must bind $PORT within this (R10)
 * @param stopGrace      SIGTERM to SIGKILL (R12)
 * @param crashBackoff   delay before restart after the 1st, 2nd, ... crash in a row; the last entry repeats
 * @param goodStart      a dyno up this long has started well: its crash count goes back to 0
 * @param cyclePeriod    every dyno is restarted ("Cycling") once per period...
 * @param cycleJitter    ...plus a random delay up to this, drawn per dyno
 * @param memoryCheck    how often dynos' memory use is compared with the quota (R14)
 * @param bootPoll       how often a booting web dyno's sockets are looked at (the kernel has no "bound" event)
 * @param webPort        $PORT of web dynos
 * @param memoryQuota    the dyno size's memory quota in bytes: above it, R14
 * @param r15Factor      R15 (killed, restarted) at this multiple of the quota: the dyno's hard memory limit
 */
public record ManagerConfig(Duration bootTimeout, Duration stopGrace, List<Duration> crashBackoff, Duration goodStart,
                            Duration cyclePeriod, Duration cycleJitter, Duration memoryCheck, Duration bootPoll,
                            int webPort, long memoryQuota, double r15Factor) {
    public ManagerConfig {
        positive("bootTimeout", bootTimeout);
        notNegative("stopGrace", stopGrace);
        if (crashBackoff == null || crashBackoff.isEmpty()) throw new IllegalArgumentException("crashBackoff needs at least one delay");
        crashBackoff = List.copyOf(crashBackoff);
        for (int i = 0; i < crashBackoff.size(); i++) notNegative("crashBackoff[" + i + "]", crashBackoff.get(i));
        positive("goodStart", goodStart);
        positive("cyclePeriod", cyclePeriod);
        notNegative("cycleJitter", cycleJitter);
        positive("memoryCheck", memoryCheck);
        positive("bootPoll", bootPoll);
        if (webPort < 1 || webPort > 65535) throw new IllegalArgumentException("webPort out of range 1-65535: " + webPort);
        if (memoryQuota < 1 << 20) throw new IllegalArgumentException("memoryQuota below 1 MiB: " + memoryQuota);
        if (!(r15Factor >= 1)) throw new IllegalArgumentException("r15Factor must be >= 1: " + r15Factor);
    }

    /**
     * Heroku's numbers: boot 60 s, grace 30 s, restart at once after a first crash then after 20, 40, 60,
     * 180 and every 320 minutes; a start is good after 10 minutes up; cycling every 24 h + up to 216 min;
     * memory looked at every 20 s; $PORT 5000; standard-1x (512 MiB), R15 at twice that.
     */
    public static ManagerConfig defaults() {
        return new ManagerConfig(Duration.ofSeconds(60), Duration.ofSeconds(30),
                List.of(Duration.ZERO, Duration.ofMinutes(20), Duration.ofMinutes(40), Duration.ofMinutes(60), Duration.ofMinutes(180), Duration.ofMinutes(320)),
                Duration.ofMinutes(10), Duration.ofHours(24), Duration.ofMinutes(216), Duration.ofSeconds(20), Duration.ofMillis(20),
                5000, DynoSize.DEFAULT.memoryBytes(), 2.0);
    }

    public ManagerConfig withBoot(Duration bootTimeout) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    public ManagerConfig withStopGrace(Duration stopGrace) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    public ManagerConfig withCrashBackoff(List<Duration> crashBackoff, Duration goodStart) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    public ManagerConfig withCycling(Duration cyclePeriod, Duration cycleJitter) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    public ManagerConfig withMemory(long memoryQuota, Duration memoryCheck) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    public ManagerConfig withSize(DynoSize size) {
        return withMemory(size.memoryBytes(), memoryCheck);
    }

    public ManagerConfig withWebPort(int webPort) {
        return new ManagerConfig(bootTimeout, stopGrace, crashBackoff, goodStart, cyclePeriod, cycleJitter, memoryCheck, bootPoll, webPort, memoryQuota, r15Factor);
    }

    /** The delay before restarting after the {@code crashes}-th crash in a row (1-based). */
    public Duration backoff(int crashes) {
        return crashBackoff.get(Math.min(Math.max(crashes, 1), crashBackoff.size()) - 1);
    }

    /** The dyno's hard memory limit: past it the kernel's OOM killer acts, and the manager logs R15. */
    public long memoryLimit() { return (long) (memoryQuota * r15Factor); }

    private static void positive(String name, Duration d) {
        if (d == null || !d.isPositive()) throw new IllegalArgumentException(name + " must be a positive duration: " + d);
    }

    private static void notNegative(String name, Duration d) {
        if (d == null || d.isNegative()) throw new IllegalArgumentException(name + " must not be negative: " + d);
    }
}
