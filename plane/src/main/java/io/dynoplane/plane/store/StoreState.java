package io.dynoplane.plane.store;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** What {@link FileStore} writes to disk: the whole desired state, one JSON document. */
final class StoreState {
    public TreeMap<String, AppEntry> apps = new TreeMap<>();
    public TreeMap<String, Space> spaces = new TreeMap<>();
    /** Space ids are never reused: the kernel may still hold maps keyed by an old one. */
    public int lastSpaceId;

    /** One app and everything that hangs off it. */
    static final class AppEntry {
        public App app;
        public List<Release> releases = new ArrayList<>();
        public TreeMap<String, Integer> formation = new TreeMap<>();
        public TreeMap<String, String> config = new TreeMap<>();
        public List<Drain> drains = new ArrayList<>();
    }
}
