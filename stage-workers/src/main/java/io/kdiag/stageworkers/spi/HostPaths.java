package io.kdiag.stageworkers.spi;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Resolves host paths ({@code /proc}, {@code /var/lib/kubelet}, …) under a configurable root: {@code /} on the host
 * itself, the mount point of the host filesystem in a container, or a fixture tree in tests.
 */
public final class HostPaths {
    private final Path root;

    private HostPaths(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** Host paths under {@code root}. */
    public static HostPaths of(Path root) {
        return new HostPaths(Objects.requireNonNull(root, "root"));
    }

    /**
     * The location of an absolute host path, e.g. {@code /proc/1/stat}.
     *
     * @throws IllegalArgumentException if the path would leave the root
     */
    public Path resolve(String hostPath) {
        Path resolved = root.resolve(hostPath.replaceFirst("^/+", "")).normalize();
        if (!resolved.startsWith(root)) {
            throw new IllegalArgumentException("host path escapes the host root: " + hostPath);
        }
        return resolved;
    }
}
