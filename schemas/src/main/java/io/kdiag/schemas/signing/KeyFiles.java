package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bytes of key files as one read found them, in the order {@link VerificationKeys#files} lists them. A reload
 * that finds the same bytes as the read its keys came from keeps those keys: building a key (decoding it, checking its
 * point, preparing its verifier) costs far more than reading its file again, and an agent looks again every few
 * seconds and whenever a record names a key it does not know, which anyone who can write to the topic can make it do.
 */
public final class KeyFiles {
    private final List<Path> files;
    private final List<byte[]> contents;

    private KeyFiles(List<Path> files, List<byte[]> contents) {
        this.files = files;
        this.contents = contents;
    }

    /**
     * Reads the files these paths name ({@link VerificationKeys#files}).
     *
     * @throws IOException if a path does not exist or a file cannot be read
     */
    public static KeyFiles read(List<Path> paths) throws IOException {
        List<Path> files = VerificationKeys.files(paths);
        List<byte[]> contents = new ArrayList<>(files.size());
        for (Path file : files) {
            contents.add(Files.readAllBytes(file));
        }
        return new KeyFiles(List.copyOf(files), List.copyOf(contents));
    }

    /** Whether {@code other} found the same files with the same bytes; never for {@code null}. */
    public boolean sameAs(KeyFiles other) {
        if (other == null || !files.equals(other.files)) {
            return false;
        }
        for (int i = 0; i < contents.size(); i++) {
            if (!Arrays.equals(contents.get(i), other.contents.get(i))) {
                return false;
            }
        }
        return true;
    }
}
