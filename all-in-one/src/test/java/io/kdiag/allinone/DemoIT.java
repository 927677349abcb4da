package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kdiag demo} end to end: the embedded stack (its components started side by side), the five examples of the
 * repository, the runaway stand-in, the busy JVM and its flame graph served by the status writer, and the stack's stop.
 */
class DemoIT {
    @TempDir
    Path home;

    @Test
    void shouldRunEveryExampleAsExpectedAndLeaveNoData() throws Exception {
        StringWriter err = new StringWriter();
        int exit = Kdiag.commandLine().setErr(new PrintWriter(err, true))
                .execute("--home", home.toString(), "demo", "--examples", Path.of("..", "examples").toString());

        // 0 only if every example ended in its expected phase and the flame graph and its raw profile were served
        assertThat(exit).as("exit code; stderr: %s", err).isZero();
        assertThat(Files.readString(home.resolve("demo-flamegraph.html"))).contains("computeDemoWorkload");
        try (Stream<Path> left = Files.list(home)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("demo-")
                    && !name.equals("demo-flamegraph.html"));
        }
    }
}
