package io.kdiag.sourcebridge.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileFollowerTest {
    @TempDir
    Path dir;

    private final List<String> read = new ArrayList<>();

    @Test
    void shouldReportOnlyWhatIsAppendedToAFileThatExistedAtItsFirstStart() throws Exception {
        Path log = dir.resolve("app.log");
        Files.writeString(log, "before the start\n");
        FileFollower follower = follower(log);

        follower.step();
        Files.writeString(log, "after the start\n", StandardOpenOption.APPEND);
        follower.step();

        assertThat(read).containsExactly("after the start");
    }

    @Test
    void shouldReportAllOfAFileThatAppearsAfterItsFirstStart() throws Exception {
        Path log = dir.resolve("app.log");
        FileFollower follower = follower(log);

        follower.step();
        Files.writeString(log, "first line of a new file\n");
        follower.step();

        assertThat(read).containsExactly("first line of a new file");
    }

    private FileFollower follower(Path log) throws IOException {
        Path monitor = dir.resolve("monitor.json");
        Files.writeString(monitor, """
                {"plugin": "filelog", "logPath": "%s", "rules": [{"type": "temporary", "reason": "Any", "pattern": ".*"}]}"""
                .formatted(log));
        return new FileFollower(MonitorConfig.read(monitor), log, new Checkpoints(dir.resolve("state")),
                (config, lines) -> lines.forEach(line -> read.add(line.message())));
    }
}
