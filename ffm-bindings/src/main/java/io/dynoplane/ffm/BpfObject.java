package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.dynoplane.ffm.Libbpf.ENOENT;

/**
 * An opened BPF ELF object ({@code struct bpf_object}): its programs and maps, loaded into the kernel by
 * {@link #load()}. Closing it (bpf_object__close) closes their file descriptors; programs and maps attached
 * somewhere stay in the kernel as long as the attachment holds them.
 *
 * <p>The object's native memory lives in a shared arena whose closing runs bpf_object__close, and every
 * {@link BpfProgram} and {@link BpfMap} pointer is bound to that arena: using one after close fails with
 * IllegalStateException instead of touching freed memory. Close it only when no other thread is using it.
 */
public final class BpfObject implements AutoCloseable {
    private final String name;
    private final Arena arena;
    private final MemorySegment object; // struct bpf_object *

    BpfObject(String name, Arena arena, MemorySegment object) {
        this.name = name;
        this.arena = arena;
        this.object = object;
    }

    public String name() { return name; }

    /** Creates the maps and loads the programs into the kernel (bpf_object__load); verifier rejections land here. */
    public void load() {
        LibbpfLog.begin();
        Libbpf.check(Libbpf.bpf_object__load(object), "bpf_object__load", "object " + name);
    }

    /** The program whose C function is {@code programName}. */
    public BpfProgram program(String programName) {
        String target = "program " + programName + " of object " + name;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            LibbpfLog.begin();
            MemorySegment program = Libbpf.bpf_object__find_program_by_name(callState, object, call.allocateFrom(programName));
            if (program.address() == 0) throw Libbpf.failure("bpf_object__find_program_by_name", target, errnoOr(callState, ENOENT));
            return new BpfProgram(program.reinterpret(arena, null), name);
        }
    }

    /** The map declared as {@code mapName} in the object's {@code .maps} section. */
    public BpfMap map(String mapName) {
        String target = "map " + mapName + " of object " + name;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment callState = call.allocate(Libc.CALL_STATE);
            LibbpfLog.begin();
            MemorySegment map = Libbpf.bpf_object__find_map_by_name(callState, object, call.allocateFrom(mapName));
            if (map.address() == 0) throw Libbpf.failure("bpf_object__find_map_by_name", target, errnoOr(callState, ENOENT));
            return new BpfMap(map.reinterpret(arena, null), name);
        }
    }

    /** bpf_object__close, once; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    // A NULL from a lookup means "not found" even if a libbpf version forgot to set errno.
    private static int errnoOr(MemorySegment callState, int fallback) {
        int errno = Libc.errno(callState);
        return errno != 0 ? errno : fallback;
    }

    @Override
    public String toString() { return "BpfObject[" + name + "]"; }
}
