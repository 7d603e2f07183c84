package io.dynoplane.plane.store;

import java.nio.file.Path;

/** The writer {@link FileStoreTest} kills: creates apps a1, a2, ... forever, printing each count once it is durable. */
public final class StoreWriterProcess {
    public static void main(String[] args) {
        FileStore store = FileStore.open(Path.of(args[0]));
        for (int i = 1; ; i++) {
            store.createApp("a" + i, null, false);
            System.out.println(i);
            System.out.flush();
        }
    }
}
