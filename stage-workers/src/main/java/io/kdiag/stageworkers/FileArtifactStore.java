package io.kdiag.stageworkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import io.kdiag.stageworkers.spi.Artifact;
import io.kdiag.stageworkers.spi.ArtifactStore;

/**
 * Artifacts as files under one folder, one sub-folder per artifact. The index is in memory; the folder is emptied at
 * start, since an artifact nobody can reach by id is only taking disk space.
 */
public final class FileArtifactStore implements ArtifactStore {
    private final Path dir;
    private final Clock clock;
    private final Map<String, Artifact> artifacts = new ConcurrentHashMap<>();

    /** A store in {@code dir}, which is created, or emptied if it exists. */
    public FileArtifactStore(Path dir, Clock clock) throws IOException {
        this.dir = dir;
        this.clock = clock;
        deleteTree(dir);
        Files.createDirectories(dir);
    }

    @Override
    public Artifact put(String fileName, String contentType, byte[] content, Duration ttl) throws IOException {
        if (fileName.isEmpty() || fileName.contains("/") || fileName.startsWith(".")) {
            throw new IllegalArgumentException("not a plain file name: " + fileName);
        }
        String id = UUID.randomUUID().toString();
        Path file = Files.createDirectories(dir.resolve(id)).resolve(fileName);
        Files.write(file, content);
        Artifact artifact = new Artifact(id, fileName, contentType, file, clock.instant().plus(ttl));
        artifacts.put(id, artifact);
        return artifact;
    }

    @Override
    public Optional<Artifact> get(String id) {
        Artifact artifact = artifacts.get(id);
        if (artifact == null || !clock.instant().isBefore(artifact.expiresAt())) {
            return Optional.empty();
        }
        return Optional.of(artifact);
    }

    @Override
    public List<Artifact> expire() throws IOException {
        Instant now = clock.instant();
        List<Artifact> expired = new ArrayList<>();
        for (Artifact artifact : List.copyOf(artifacts.values())) {
            if (!now.isBefore(artifact.expiresAt())) {
                artifacts.remove(artifact.id());
                deleteTree(dir.resolve(artifact.id()));
                expired.add(artifact);
            }
        }
        return expired;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
