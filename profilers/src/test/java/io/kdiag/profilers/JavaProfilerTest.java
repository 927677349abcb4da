package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.stageworkers.spi.ProfilerEngine.ProfilerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JavaProfilerTest {
    private final MemoryEvidence evidence = new MemoryEvidence();
    private final JavaProfiler engine = new JavaProfiler();

    private static ProfilerSpec spec(String type, Integer pid) {
        ProfilerSpec spec = new ProfilerSpec();
        spec.name = "jvm";
        spec.java = new ProfilerSpec.JavaProfilerSpec();
        spec.java.type = type;
        spec.java.pid = pid;
        return spec;
    }

    private void profile(JavaProfiler profiler, ProfilerSpec spec) throws ProfilerException {
        profiler.profile(spec, Contexts.onThisHost(), Duration.ofSeconds(1), evidence);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Arthas|java.type Arthas is not supported: the agent profiles JVMs with their built-in Flight Recorder instead; use java.type CPU",
        "MemoryAnalyzer|java.type MemoryAnalyzer is not supported: the agent does not ship Eclipse MAT; use java.type HeapHistogram",
        "Async|unknown java.type Async: expected CPU or HeapHistogram"})
    void shouldSayWhatToUseForATypeItDoesNotSupport(String type, String message) {
        assertThatThrownBy(() -> profile(engine, spec(type, (int) ProcessHandle.current().pid())))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith(message);
    }

    @Test
    void shouldRefuseAMissingOrUnknownPid() {
        assertThatThrownBy(() -> profile(engine, spec(null, null)))
                .isInstanceOf(ProfilerException.class)
                .hasMessage("java.pid must be the positive process id of the program to profile, got null");
        assertThatThrownBy(() -> profile(engine, spec("HeapHistogram", 999_999_999)))
                .isInstanceOf(ProfilerException.class)
                .hasMessageStartingWith("no process with pid 999999999 on this node");
    }

    @Test
    void shouldRefuseAProcessThatIsNotAJvmWithoutSignallingIt() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            assertThatThrownBy(() -> profile(engine, spec("CPU", (int) sleep.pid())))
                    .isInstanceOf(ProfilerException.class)
                    .hasMessage("pid " + sleep.pid() + " is not a JVM the agent can attach to: it does not handle SIGQUIT "
                            + "(not Java, or started with -Xrs)");
            // attaching would have sent SIGQUIT, which kills a process that does not handle it
            assertThat(sleep.isAlive()).isTrue();
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void shouldSayTheAgentNeedsAJdk() {
        JavaProfiler withoutJcmd = new JavaProfiler(Path.of("/nonexistent/jre/bin/jcmd"));

        assertThatThrownBy(() -> profile(withoutJcmd, spec("HeapHistogram", (int) ProcessHandle.current().pid())))
                .isInstanceOf(ProfilerException.class)
                .hasMessage("jcmd not found at /nonexistent/jre/bin/jcmd: the agent must run on a JDK, not a JRE");
    }
}
