package io.kdiag.schemas.signing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bytes of key files as one read found them, in the order {@link VerificationKeys#files} lists them; keys are
 * parsed from these bytes ({@link VerificationKeys#read(KeyFiles)}), so they are what a comparison saw. A reload that
 * finds the same bytes as the read its keys came from keeps those keys: building a key (decoding it, checking its
 * point, preparing its verifier) costs far more than reading its file again, and an agent looks again every few
 * seconds and whenever a record names a key it does not know, which anyone who can write to the topic can make it do.
 */
public final class KeyFiles {
    /** One key file and the bytes read from it; the array is the one read, not a copy, and is not to be changed. */
    public record File(Path path, byte[] content) {
    }

    private final List<File> files;

    private KeyFiles(List<File> files) {
        this.files = files;
    }

    /**
     * Reads the files these paths name ({@link VerificationKeys#files}).
     *
     * @throws IOException if a path does not exist or a file cannot be read
     */
    public static KeyFiles read(List<Path> paths) throws IOException {
        List<File> files = new ArrayList<>();
        for (Path file : VerificationKeys.files(paths)) {
            files.add(new File(file, Files.readAllBytes(file)));
        }
        return new KeyFiles(List.copyOf(files));
    }

    /** The files, in the order {@link VerificationKeys#files} lists them. */
    public List<File> files() {
        return files;
    }

    /** Whether {@code other} found the same files with the same bytes; never for {@code null}. */
    public boolean sameAs(KeyFiles other) {
        if (other == null || files.size() != other.files.size()) {
            return false;
        }
        for (int i = 0; i < files.size(); i++) {
            File mine = files.get(i);
            File theirs = other.files.get(i);
            if (!mine.path().equals(theirs.path()) || !Arrays.equals(mine.content(), theirs.content())) {
                return false;
            }
        }
        return true;
    }
}
