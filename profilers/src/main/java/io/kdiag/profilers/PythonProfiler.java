package io.kdiag.profilers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import io.kdiag.stageworkers.spi.WorkContext;

/**
 * {@code python}: samples {@code spec.python.pid} with py-spy ({@code py-spy record --format raw}) for the timeout
 * and draws the collapsed stacks it writes as a flame graph. py-spy must be on the agent's PATH; it reads the
 * target's memory, so the agent needs the right to ptrace it.
 */
public final class PythonProfiler implements ProfilerEngine {
    private final String searchPath;

    /** The engine, finding py-spy on the agent's PATH. */
    public PythonProfiler() {
        this(System.getenv("PATH"));
    }

    PythonProfiler(String searchPath) {
        this.searchPath = searchPath;
    }

    @Override
    public String language() {
        return "python";
    }

    @Override
    public Evidence.Reference profile(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws ProfilerException {
        if (spec.python == null) {
            throw new ProfilerException("profiler " + spec.name + " has no python section");
        }
        Path pySpy = Tool.onPath("py-spy", searchPath);
        if (pySpy == null) {
            throw new ProfilerException("py-spy is not installed on this node; add it to the agent's image "
                    + "(pip install py-spy, or its static binary on the PATH) to profile Python programs");
        }
        long pid = Profiles.requireProcess(spec.python.pid, "python.pid");
        long seconds = Profiles.seconds(timeout);
        Path out = null;
        try {
            out = Files.createTempFile("kdiag-py-spy-", ".txt");
            Tool.Output result = Tool.run(List.of(pySpy.toString(), "record", "--format", "raw", "--duration",
                    Long.toString(seconds), "--pid", Long.toString(pid), "-o", out.toString()), timeout.plus(Profiles.GRACE));
            if (result.exitCode() != 0) {
                throw new ProfilerException("py-spy failed for pid " + pid + " (exit code " + result.exitCode() + "): "
                        + result.text().strip());
            }
            byte[] raw = Files.readAllBytes(out);
            StackCounts stacks;
            try {
                stacks = StackCounts.parseCollapsed(new String(raw, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new ProfilerException("py-spy wrote an unexpected profile: " + e.getMessage(), e);
            }
            FlameGraph.Header header = new FlameGraph.Header(spec.name + ": Python CPU profile of pid " + pid,
                    "Python CPU, py-spy samples over " + seconds + " s", "samples");
            return Profiles.publishFlameGraph(ctx, evidence, spec.name,
                    new Profiles.Raw("py-spy.txt", "text/plain; charset=utf-8", raw), header, stacks);
        } catch (IOException e) {
            throw new ProfilerException("cannot read py-spy's profile: " + e.getMessage(), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }
}
