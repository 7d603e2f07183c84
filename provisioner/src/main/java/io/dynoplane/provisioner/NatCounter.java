package io.dynoplane.provisioner;

/** PLACEHOLDER for the BPF SNAT's counters (see NatTable); the real enum replaces this file at merge. */
public enum NatCounter {
}
