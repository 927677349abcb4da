package io.kdiag.nodeagent.processors;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.stageworkers.spi.ProfilerEngine;
import org.junit.jupiter.api.Test;

class ProfilersTest {
    @Test
    void shouldCreateTheEnginesAtTheFirstProfileOnly() throws Exception {
        AtomicInteger created = new AtomicInteger();
        try (Profilers profilers = new Profilers(() -> {
            created.incrementAndGet();
            return List.<ProfilerEngine>of(new FakeProfilerEngine());
        })) {
            assertThat(created).hasValue(0);
            ProfilerSpec spec = new ProfilerSpec();
            spec.name = "heap";
            spec.java = new ProfilerSpec.JavaProfilerSpec();

            Profilers.Outcome first = profilers.run(spec, null, Duration.ofSeconds(1), null);
            Profilers.Outcome second = profilers.run(spec, null, Duration.ofSeconds(1), null);

            assertThat(created).hasValue(1);
            assertThat(first.error()).contains("java profiling is not available");
            assertThat(second.error()).isEqualTo(first.error());
        }
    }
}
