package io.dynoplane.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A program of a {@link BpfObject} ({@code struct bpf_program}); usable while the object is open. */
public final class BpfProgram {
    private final MemorySegment program; // struct bpf_program *, bound to the object's arena
    private final String name;
    private final String target;

    BpfProgram(MemorySegment program, String objectName) {
        this.program = program;
        this.name = Libc.string(Libbpf.bpf_program__name(program));
        this.target = "program " + name + " of object " + objectName;
    }

    public String name() { return name; }

    /** The program's file descriptor (bpf_program__fd); IllegalStateException before the object is loaded or after it is closed. */
    public int fd() {
        int fd = Libbpf.bpf_program__fd(program);
        if (fd < 0) throw new IllegalStateException(target + " has no fd: load the object first");
        return fd;
    }

    /**
     * Pins the loaded program at {@code path} on bpffs (bpf_program__pin, which also creates a missing parent
     * directory). A pinned program stays loaded but is not attached anywhere by the pin: pin the link for that.
     *
     * @throws LibbpfException EEXIST if the path is taken; EINVAL if it is not on bpffs or the program is not loaded
     */
    public void pin(String path) {
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            Libbpf.check(Libbpf.bpf_program__pin(program, call.allocateFrom(path)), "bpf_program__pin", target + " at " + path);
        }
    }

    /** Removes the pin at {@code path} (bpf_program__unpin); ENOENT if there is none. */
    public void unpin(String path) {
        try (Arena call = Arena.ofConfined()) {
            LibbpfLog.begin();
            Libbpf.check(Libbpf.bpf_program__unpin(program, call.allocateFrom(path)), "bpf_program__unpin", target + " at " + path);
        }
    }

    @Override
    public String toString() { return "BpfProgram[" + target + "]"; }
}
