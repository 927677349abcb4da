package io.kdiag.stageworkers.builtin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Files of known sizes, with random content so no filesystem can store them sparse or compressed. */
final class DiskFixtures {
    private DiskFixtures() {
    }

    static Path file(Path root, String hostPath, int size) throws IOException {
        Path file = root.resolve(hostPath.replaceFirst("^/+", ""));
        Files.createDirectories(file.getParent());
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        return Files.write(file, content);
    }
}
