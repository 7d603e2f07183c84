package io.dynoplane.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The BPF test objects (src/test/bpf, built into target/test-classes/bpf) and helpers for their map values. */
final class Fixtures {
    private Fixtures() {}

    static byte[] elf(String name) {
        String resource = "/bpf/" + name + ".bpf.o";
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("no " + resource + " on the test classpath (generate-test-resources)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An opened and loaded fixture. */
    static BpfObject load(String name) {
        BpfObject object = Libbpf.openObject(name, elf(name));
        try {
            object.load();
            return object;
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** A __u32 map key in host order. */
    static byte[] u32(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    }

    /** A __u64 map value in host order. */
    static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(value).array();
    }

    static long asU64(byte[] value) {
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getLong();
    }

    /** The __u64 counter at a __u32 index of an array map. */
    static long counter(BpfMap map, int index) {
        return asU64(map.lookup(u32(index)).orElseThrow());
    }
}
