package io.kdiag.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The repository the checks read: manifests, docs, the Containerfile and the modules' sources. */
final class Repo {
    /** The repository root (surefire passes it; the fallback serves a run from the deploy folder). */
    static final Path ROOT = Path.of(System.getProperty("kdiag.repo-root", "..")).toAbsolutePath().normalize();

    private Repo() {
    }

    static Path path(String relative) {
        return ROOT.resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The text of every main Java source of the given modules. */
    static List<String> mainSources(String... modules) {
        return Stream.of(modules).flatMap(m -> {
            Path dir = path(m + "/src/main/java");
            if (!Files.isDirectory(dir)) {
                return Stream.empty();
            }
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(f -> f.toString().endsWith(".java")).toList().stream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).map(f -> {
            try {
                return Files.readString(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }
}
