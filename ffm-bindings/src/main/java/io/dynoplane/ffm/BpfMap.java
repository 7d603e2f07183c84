package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static io.dynoplane.ffm.Libbpf.ENOENT;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A map of a {@link BpfObject} ({@code struct bpf_map}), read and written from user space through its fd; usable
 * while the object is open. Keys and values are raw bytes in the kernel's layout (host byte order for integers),
 * and must be exactly {@link #keySize()} and {@link #valueSize()} long: the kernel copies that many bytes.
 *
 * <p>Or a map known only by an fd ({@link #fromFd(int)}), typically one pinned by an earlier process and opened with
 * {@link BpfSyscall#objGet(String)}: the same reads and writes, with sizes and type from the kernel; usable while
 * that fd is open.
 */
public final class BpfMap {
    /** Update flags, {@code <linux/bpf.h>}: create or replace, create only, replace only. */
    public static final int BPF_ANY = 0;
    public static final int BPF_NOEXIST = 1;
    public static final int BPF_EXIST = 2;

    // enum bpf_map_type values whose entries hold one value per possible CPU.
    private static final int BPF_MAP_TYPE_PERCPU_HASH = 5;
    private static final int BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    private static final int BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
    private static final int BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;

    private final MemorySegment map; // struct bpf_map *, bound to the object's arena; NULL for a map from an fd
    private final int borrowedFd;    // the fd a map from an fd uses (the caller's); -1 for an object's map
    private final String name;
    private final String target;
    private final int keySize;
    private final int valueSize;
    private final boolean perCpu;
    private final int type;

    BpfMap(MemorySegment map, String objectName) {
        this.map = map;
        this.borrowedFd = -1;
        this.name = Libc.string(Libbpf.bpf_map__name(map));
        this.target = "map " + name + " of object " + objectName;
        this.keySize = Libbpf.bpf_map__key_size(map);
        this.valueSize = Libbpf.bpf_map__value_size(map);
        this.type = Libbpf.bpf_map__type(map);
        this.perCpu = isPerCpu(type);
    }

    private BpfMap(int fd, BpfMapInfo info) {
        this.map = MemorySegment.NULL;
        this.borrowedFd = fd;
        this.name = info.name();
        this.target = "map " + name + " (id " + info.id() + ", fd " + fd + ")";
        this.keySize = info.keySize();
        this.valueSize = info.valueSize();
        this.type = info.type();
        this.perCpu = isPerCpu(type);
    }

    /**
     * The map behind an fd, e.g. one from {@link BpfSyscall#objGet(String)} of a pinned map, with its name, type and
     * sizes asked of the kernel (BPF_OBJ_GET_INFO_BY_FD). The fd stays the caller's: keep it open while using the
     * map, close it afterwards. {@link #reuseFd} is for an object's maps only.
     */
    public static BpfMap fromFd(int fd) {
        return new BpfMap(fd, BpfSyscall.mapInfo(fd));
    }

    private static boolean isPerCpu(int type) {
        return switch (type) {
            case BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_PERCPU_HASH,
                 BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE -> true;
            default -> false;
        };
    }

    public String name() { return name; }

    public int keySize() { return keySize; }

    public int valueSize() { return valueSize; }

    /** Whether each entry holds one value per possible CPU (read them with {@link #lookupPerCpu}). */
    public boolean perCpu() { return perCpu; }

    /**
     * The map's file descriptor (bpf_map__fd; for a map from an fd, that fd); IllegalStateException before the object
     * is loaded or after it is closed. The object (or the caller of {@link #fromFd}) owns it: do not close it.
     */
    public int fd() {
        if (isFromFd()) return borrowedFd;
        int fd = Libbpf.bpf_map__fd(map);
        // Before load libbpf returns the map's fd field, -1: not an errno, so no LibbpfException.
        if (fd < 0) throw new IllegalStateException(target + " has no fd: load the object first");
        return fd;
    }

    /**
     * Pins the map at {@code path} on bpffs, so it outlives the object and this process (bpf_map__pin, which also
     * creates a missing parent directory; for a map from an fd, {@link BpfSyscall#objPin}, which does not). Closing
     * the object does not unpin.
     *
     * @throws LibbpfException EEXIST if the path is taken; EINVAL if it is not on bpffs or the map already has
     *                         another pin path
     */
    public void pin(String path) {
        if (isFromFd()) {
            BpfSyscall.objPin(borrowedFd, path);
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            Libbpf.check(Libbpf.bpf_map__pin(map, call.allocateFrom(path)), "bpf_map__pin", target + " at " + path);
        }
    }

    /** Removes the pin at {@code path} (bpf_map__unpin; for a map from an fd, {@link BpfSyscall#objUnpin}); ENOENT if none. */
    public void unpin(String path) {
        if (isFromFd()) {
            if (!BpfSyscall.objUnpin(path)) throw new LibbpfException("unlink", target + " at " + path, ENOENT, "");
            return;
        }
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            Libbpf.check(Libbpf.bpf_map__unpin(map, call.allocateFrom(path)), "bpf_map__unpin", target + " at " + path);
        }
    }

    /**
     * Before {@link BpfObject#load()}: makes the object use the existing map behind {@code fd} (typically a pinned one,
     * from {@link BpfSyscall#objGet}) instead of creating this one, so reloaded programs keep the old map's contents
     * (bpf_map__reuse_fd). libbpf takes a duplicate: {@code fd} stays the caller's to close.
     *
     * <p>libbpf 1.1 checks nothing here (it would adopt the kernel map's type and sizes whatever the object declared,
     * and a mismatch would show only at load, as a verifier rejection), so this refuses a map whose type, key size or
     * value size differs from the declared one, naming both. libbpf adopts the kernel map's name (at most 15 bytes). Called after load it would swap the fd under programs already bound to the old map: don't.
     */
    public void reuseFd(int fd) {
        if (isFromFd()) throw new IllegalStateException(target + " is not an object's map: nothing to reuse the fd in");
        BpfMapInfo existing = BpfSyscall.mapInfo(fd);
        if (existing.type() != type || existing.keySize() != keySize || existing.valueSize() != valueSize) {
            throw new IllegalArgumentException(target + " cannot reuse map " + existing.name() + " (id " + existing.id()
                    + "): it has type " + existing.type() + ", key " + existing.keySize() + " B, value "
                    + existing.valueSize() + " B; this object declares type " + type + ", key " + keySize
                    + " B, value " + valueSize + " B (the map layout changed since it was created)");
        }
        LibbpfLog.begin();
        Libbpf.check(Libbpf.bpf_map__reuse_fd(map, fd), "bpf_map__reuse_fd", target + ", fd " + fd);
    }

    /**
     * Before {@link BpfObject#load()}: the number of entries the kernel map will have (bpf_map__set_max_entries),
     * instead of the object's declared {@code max_entries}. EBUSY once the object is loaded.
     */
    public void setMaxEntries(int maxEntries) {
        if (isFromFd()) throw new IllegalStateException(target + " is not an object's map: its size is the kernel's");
        if (maxEntries <= 0) throw new IllegalArgumentException(target + ": max_entries must be > 0, not " + maxEntries);
        LibbpfLog.begin();
        Libbpf.check(Libbpf.bpf_map__set_max_entries(map, maxEntries), "bpf_map__set_max_entries", target);
    }

    /** The map's max_entries: the object's (as declared or set) for an object's map, the kernel's for one from an fd. */
    public int maxEntries() {
        if (isFromFd()) return BpfSyscall.mapInfo(borrowedFd).maxEntries();
        return Libbpf.bpf_map__max_entries(map);
    }

    /**
     * Creates or replaces an entry (bpf_map_update_elem); flags are BPF_ANY, BPF_NOEXIST or BPF_EXIST. For a
     * per-CPU map, every CPU's value is set to {@code value}.
     */
    public void update(byte[] key, byte[] value, long flags) {
        requireLength(key, keySize, "key");
        requireLength(value, valueSize, "value");
        int fd = fd();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment values = perCpu ? replicatePerCpu(call, value) : call.allocateFrom(JAVA_BYTE, value);
            LibbpfLog.begin();
            Libbpf.check(Libbpf.bpf_map_update_elem(fd, call.allocateFrom(JAVA_BYTE, key), values, flags),
                    "bpf_map_update_elem", target);
        }
    }

    /** The value for {@code key} (bpf_map_lookup_elem), empty if there is none. Not for per-CPU maps. */
    public Optional<byte[]> lookup(byte[] key) {
        if (perCpu) throw new IllegalStateException(target + " is per-CPU: use lookupPerCpu");
        return lookupRaw(key, valueSize);
    }

    /** Every possible CPU's value for {@code key}, indexed by CPU, empty if there is no entry. */
    public Optional<List<byte[]>> lookupPerCpu(byte[] key) {
        if (!perCpu) throw new IllegalStateException(target + " is not per-CPU: use lookup");
        // The kernel lays the CPUs' values out 8-byte aligned, one after the other.
        int stride = perCpuStride();
        int cpus = Libbpf.numPossibleCpus();
        return lookupRaw(key, (long) stride * cpus).map(values -> {
            List<byte[]> perCpuValues = new ArrayList<>(cpus);
            for (int cpu = 0; cpu < cpus; cpu++) {
                perCpuValues.add(Arrays.copyOfRange(values, cpu * stride, cpu * stride + valueSize));
            }
            return perCpuValues;
        });
    }

    /** Deletes the entry for {@code key} (bpf_map_delete_elem); false if there was none. */
    public boolean delete(byte[] key) {
        requireLength(key, keySize, "key");
        int fd = fd();
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            int ret = Libbpf.bpf_map_delete_elem(fd, call.allocateFrom(JAVA_BYTE, key));
            if (ret == -ENOENT) return false;
            Libbpf.check(ret, "bpf_map_delete_elem", target);
            return true;
        }
    }

    /**
     * Every key, by bpf_map_get_next_key from the start. For an array that is every index. A hash map changed
     * meanwhile may skip or repeat keys (the kernel restarts from the first key when the previous one is gone).
     */
    public List<byte[]> keys() {
        int fd = fd();
        List<byte[]> keys = new ArrayList<>();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment previous = MemorySegment.NULL; // NULL asks for the first key
            MemorySegment current = call.allocate(keySize);
            MemorySegment next = call.allocate(keySize);
            while (true) {
                LibbpfLog.begin();
                int ret = Libbpf.bpf_map_get_next_key(fd, previous, next);
                if (ret == -ENOENT) return keys; // past the last key
                Libbpf.check(ret, "bpf_map_get_next_key", target);
                keys.add(next.toArray(JAVA_BYTE));
                current.copyFrom(next);
                previous = current;
            }
        }
    }

    /** The entry's {@code valueBytes} bytes, copied to the heap before the call's arena frees them. */
    private Optional<byte[]> lookupRaw(byte[] key, long valueBytes) {
        requireLength(key, keySize, "key");
        int fd = fd();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment value = call.allocate(valueBytes);
            LibbpfLog.begin();
            int ret = Libbpf.bpf_map_lookup_elem(fd, call.allocateFrom(JAVA_BYTE, key), value);
            if (ret == -ENOENT) return Optional.empty();
            Libbpf.check(ret, "bpf_map_lookup_elem", target);
            return Optional.of(value.toArray(JAVA_BYTE));
        }
    }

    private MemorySegment replicatePerCpu(Arena arena, byte[] value) {
        int stride = perCpuStride();
        int cpus = Libbpf.numPossibleCpus();
        MemorySegment values = arena.allocate((long) stride * cpus);
        for (int cpu = 0; cpu < cpus; cpu++) MemorySegment.copy(value, 0, values, JAVA_BYTE, (long) cpu * stride, valueSize);
        return values;
    }

    private boolean isFromFd() {
        return borrowedFd >= 0;
    }

    private int perCpuStride() {
        return (valueSize + 7) & ~7;
    }

    private void requireLength(byte[] bytes, int size, String what) {
        if (bytes.length != size) {
            throw new IllegalArgumentException(target + ": " + what + " is " + bytes.length + " bytes, the map's are " + size);
        }
    }

    @Override
    public String toString() { return "BpfMap[" + target + "]"; }
}
