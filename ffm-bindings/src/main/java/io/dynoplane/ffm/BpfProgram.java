package io.dynoplane.ffm;

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

    @Override
    public String toString() { return "BpfProgram[" + target + "]"; }
}
