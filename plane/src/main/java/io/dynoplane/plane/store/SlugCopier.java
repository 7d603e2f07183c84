package io.dynoplane.plane.store;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Copies a deployed folder into the store, so that later edits of the folder do not change a
 * release. Copies into a temp folder and renames it into place: a half-copied slug never has a
 * release's name.
 */
final class SlugCopier {
    private SlugCopier() {}

    static void copy(Path source, Path target) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + AtomicFile.TEMP_SUFFIX);
        deleteTree(temp);
        deleteTree(target);
        Files.createDirectories(target.getParent());
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.copy(dir, temp.resolve(source.relativize(dir).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                // Symlinks stay links (COPY_ATTRIBUTES keeps the mode: executables stay executable).
                Path to = temp.resolve(source.relativize(file).toString());
                Files.copy(file, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                if (attrs.isRegularFile()) {
                    try (var channel = java.nio.channels.FileChannel.open(to, java.nio.file.StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.fsyncDirectory(target.getParent());
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
