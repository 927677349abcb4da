package io.kdiag.nodeagent.processors;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.Evidence;
import io.kdiag.stageworkers.spi.EvidenceStore;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import io.kdiag.stageworkers.spi.WorkContext;

/** A Go "profiler" for tests, found through the test class path's META-INF/services: stores a page naming its source. */
public final class FakeProfilerEngine implements ProfilerEngine {
    @Override
    public String language() {
        return "go";
    }

    @Override
    public Evidence.Reference profile(ProfilerSpec spec, WorkContext ctx, Duration timeout, EvidenceStore evidence) throws ProfilerException {
        if (spec.go.source == null) {
            throw new ProfilerException("go.source is required");
        }
        try {
            return evidence.store(("<html>profile of " + spec.go.source + "</html>").getBytes(StandardCharsets.UTF_8), "text/html");
        } catch (IOException e) {
            throw new ProfilerException("cannot store the profile: " + e.getMessage(), e);
        }
    }
}
