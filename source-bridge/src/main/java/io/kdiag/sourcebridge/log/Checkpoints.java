package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

import io.kdiag.sourcebridge.request.AbnormalNames;

/**
 * Where each follower keeps how far it has read (file inode and offset, kmsg boot id and sequence number, journal cursor),
 * one small properties file per followed log under the state directory, replaced atomically so a crash leaves the old or
 * the new checkpoint, never half of one.
 */
final class Checkpoints {
    private final Path directory;

    Checkpoints(Path directory) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the state directory " + directory, e);
        }
    }

    /** The saved checkpoint of {@code id}, empty if there is none. */
    Properties load(String id) {
        Properties properties = new Properties();
        Path file = file(id);
        if (Files.exists(file)) {
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the checkpoint " + file, e);
            }
        }
        return properties;
    }

    /** Replaces the checkpoint of {@code id}. */
    void save(String id, Properties checkpoint) {
        Path file = file(id);
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                checkpoint.store(writer, id);
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint " + file, e);
        }
    }

    private Path file(String id) {
        return directory.resolve(AbnormalNames.sanitize(id) + "-" + AbnormalNames.hash(id, 8) + ".checkpoint");
    }
}
