package io.kdiag.schemas.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
    @TempDir
    Path dir;

    @Test
    void shouldBeTheSameOnlyForTheSameFilesWithTheSameBytes() throws IOException {
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Files.writeString(keys.resolve("a.pub"), "key a");
        Path single = Files.writeString(dir.resolve("single.pub"), "key s");
        List<Path> paths = List.of(keys, single);
        KeyFiles first = KeyFiles.read(paths);

        assertThat(KeyFiles.read(paths).sameAs(first)).as("unchanged").isTrue();
        assertThat(first.sameAs(null)).isFalse();

        Files.writeString(keys.resolve("a.pub"), "key A");
        KeyFiles changed = KeyFiles.read(paths);
        assertThat(changed.sameAs(first)).as("a byte changed").isFalse();

        Files.writeString(keys.resolve("b.pub"), "key b");
        KeyFiles added = KeyFiles.read(paths);
        assertThat(added.sameAs(changed)).as("a file added").isFalse();

        Files.writeString(keys.resolve(".hidden"), "not a key file");
        assertThat(KeyFiles.read(paths).sameAs(added)).as("a name starting with a dot is no key file").isTrue();

        Files.delete(keys.resolve("b.pub"));
        assertThat(KeyFiles.read(paths).sameAs(changed)).as("back as before").isTrue();
        assertThat(KeyFiles.read(paths).sameAs(added)).as("a file removed").isFalse();
    }

    @Test
    void shouldFailForAPathThatDoesNotExist() {
        assertThatThrownBy(() -> KeyFiles.read(List.of(dir.resolve("missing.pub")))).isInstanceOf(IOException.class)
                .hasMessageContaining("missing.pub");
    }
}
