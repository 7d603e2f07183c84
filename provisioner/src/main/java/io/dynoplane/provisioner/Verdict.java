package io.dynoplane.provisioner;

/** Verdicts of the per-dyno isolation program; ordinals match {@code enum dyno_verdict} in bpf/include/dynoplane.h. */
public enum Verdict {
    PASS,
    DROP_TO_DYNO,
    DROP_NO_EGRESS;

    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
}
