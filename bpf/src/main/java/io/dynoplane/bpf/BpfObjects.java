package io.dynoplane.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The compiled BPF objects shipped in this jar, by name ({@code isolation} is {@code /bpf/isolation.bpf.o}). */
public final class BpfObjects {
    private BpfObjects() {}

    /** The ELF bytes of {@code <name>.bpf.o}; fails naming the object when the build did not produce it. */
    public static byte[] bytes(String name) {
        String resource = "/bpf/" + name + ".bpf.o";
        try (InputStream in = BpfObjects.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalArgumentException("no BPF object " + resource + " in the bpf jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading BPF object " + resource, e);
        }
    }
}
