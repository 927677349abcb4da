package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.WorkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java engine against a real JVM: a child that spins on the CPU in a method the flame graph must show. */
class JavaProfilerIT {
    private final MemoryEvidence evidence = new MemoryEvidence();
    private static Process child;
    private static long pid;

    private final JavaProfiler engine = new JavaProfiler();

    @BeforeAll
    static void startSpinningJvm() throws Exception {
        Path classes = Path.of(CpuSpinner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", classes.toString(), CpuSpinner.class.getName())
                .redirectErrorStream(true).start();
        pid = child.pid();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
    }

    @AfterAll
    static void stopJvm() {
        child.destroyForcibly();
    }

    private static ProfilerSpec spec(String type) {
        ProfilerSpec spec = new ProfilerSpec();
        spec.name = "spinner";
        spec.java = new ProfilerSpec.JavaProfilerSpec();
        spec.java.type = type;
        spec.java.pid = (int) pid;
        return spec;
    }

    /** The profiler's recordings in the target's /tmp (other runs on this machine may have left theirs). */
    private static List<Path> recordings() throws Exception {
        try (Stream<Path> tmp = Files.list(Path.of("/proc/" + pid + "/root/tmp"))) {
            return tmp.filter(p -> p.getFileName().toString().matches("kdiag-.*\\.jfr")).toList();
        }
    }

    @Test
    void shouldDrawAFlameGraphOfAFlightRecordingShowingTheHotMethod() throws Exception {
        WorkContext ctx = Contexts.onThisHost();
        List<Path> before = recordings();

        Evidence.Reference page = engine.profile(spec(null), ctx, Duration.ofSeconds(3), evidence);

        assertThat(page.contentType()).isEqualTo("text/html; charset=utf-8");
        assertThat(evidence.text(page)).contains("spinner: Java CPU profile of pid " + pid)
                .contains("Java CPU, Flight Recorder execution samples over 3 s")
                .contains("data-n=\"io.kdiag.profilers.CpuSpinner.burnCpuInRecognisableMethod\"");
        Evidence.Reference raw = evidence.linked(page);
        assertThat(raw.contentType()).isEqualTo("application/octet-stream");
        assertThat(evidence.text(page)).contains("recording.jfr</a>");
        Path recording = Files.write(Files.createTempFile("kdiag-recording-", ".jfr"), evidence.bytes(raw));
        assertThat(JavaProfiler.executionSamples(recording).total()).isPositive();
        Files.delete(recording);
        // the recording is gone from the target's /tmp, and no longer running in it
        assertThat(recordings()).containsExactlyInAnyOrderElementsOf(before);
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        assertThat(Tool.run(List.of(jcmd, Long.toString(pid), "JFR.check"), Duration.ofSeconds(30)).text())
                .contains("No available recordings");
    }

    @Test
    void shouldListTheLiveObjectsByClass() throws Exception {
        WorkContext ctx = Contexts.onThisHost();

        Evidence.Reference page = engine.profile(spec("HeapHistogram"), ctx, Duration.ofSeconds(30), evidence);

        assertThat(page.contentType()).isEqualTo("text/html; charset=utf-8");
        assertThat(evidence.text(page)).contains("spinner: Java heap histogram of pid " + pid)
                .containsPattern("<td>1,234</td><td>[\\d,]+</td><td>[\\d.]+</td><td class=\"name\">io.kdiag.profilers.CpuSpinner\\$Ballast</td>");
        Evidence.Reference raw = evidence.linked(page);
        assertThat(raw.contentType()).isEqualTo("text/plain; charset=utf-8");
        assertThat(evidence.text(raw)).contains("io.kdiag.profilers.CpuSpinner$Ballast");
    }
}
