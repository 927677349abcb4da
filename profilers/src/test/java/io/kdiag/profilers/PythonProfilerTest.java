package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;
import io.kdiag.stageworkers.spi.WorkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PythonProfilerTest {
    private final MemoryEvidence evidence = new MemoryEvidence();
    private static final long PID = ProcessHandle.current().pid();

    private static ProfilerSpec spec(long pid) {
        ProfilerSpec spec = new ProfilerSpec();
        spec.name = "worker-cpu";
        spec.python = new ProfilerSpec.PythonProfilerSpec();
        spec.python.pid = (int) pid;
        return spec;
    }

    /** A stand-in for py-spy that records its arguments and writes what py-spy would, or fails as it does. */
    private static void pySpy(Path bin, String body) throws Exception {
        Path script = bin.resolve("py-spy");
        Files.writeString(script, "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void shouldSayPySpyIsNotInstalled(@TempDir Path emptyBin) {
        PythonProfiler engine = new PythonProfiler(emptyBin.toString());

        assertThatThrownBy(() -> engine.profile(spec(PID), Contexts.onThisHost(), Duration.ofSeconds(5), evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith("py-spy is not installed on this node; add it to the agent's image");
    }

    @Test
    void shouldDrawTheStacksPySpyRecords(@TempDir Path bin) throws Exception {
        pySpy(bin, """
                while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
                printf '<module> (app.py:40);handle (app.py:20) 7\\n<module> (app.py:40);idle (app.py:30) 3\\n' > "$out"
                """);
        WorkContext ctx = Contexts.onThisHost();

        Evidence.Reference page = new PythonProfiler(bin.toString()).profile(spec(PID), ctx, Duration.ofSeconds(4), evidence);

        assertThat(Files.readString(bin.resolve("args"))).startsWith("record --format raw --duration 4 --pid " + PID + " -o ");
        assertThat(evidence.text(page)).contains("worker-cpu: Python CPU profile of pid " + PID)
                .contains("total 10 samples")
                .contains("data-n=\"handle (app.py:20)\" data-s=\"0\" data-v=\"7\"");
        Evidence.Reference raw = evidence.linked(page);
        assertThat(raw.contentType()).isEqualTo("text/plain; charset=utf-8");
        assertThat(evidence.text(page)).contains("py-spy.txt</a>");
        assertThat(evidence.text(raw)).startsWith("<module> (app.py:40);handle (app.py:20) 7");
    }

    @Test
    void shouldPassOnWhatPySpySaysWhenItFails(@TempDir Path bin) throws Exception {
        pySpy(bin, "echo 'Error: Permission Denied (os error 13)' >&2\nexit 1\n");
        PythonProfiler engine = new PythonProfiler(bin.toString());

        assertThatThrownBy(() -> engine.profile(spec(PID), Contexts.onThisHost(), Duration.ofSeconds(1), evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessage("py-spy failed for pid " + PID + " (exit code 1): Error: Permission Denied (os error 13)");
    }

    @Test
    void shouldRefuseAPidThatIsNotAProcessOfTheNode(@TempDir Path bin) throws Exception {
        pySpy(bin, "exit 0\n");
        PythonProfiler engine = new PythonProfiler(bin.toString());

        assertThatThrownBy(() -> engine.profile(spec(999_999_999), Contexts.onThisHost(), Duration.ofSeconds(1), evidence))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith("no process with pid 999999999 on this node");
        assertThat(bin.resolve("args")).doesNotExist();
    }
}
