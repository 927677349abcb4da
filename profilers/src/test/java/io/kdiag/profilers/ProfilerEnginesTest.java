package io.kdiag.profilers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ServiceLoader;

import io.kdiag.stageworkers.spi.ProfilerEngine;
import org.junit.jupiter.api.Test;

class ProfilerEnginesTest {
    @Test
    void shouldRegisterOneEngineForEachLanguage() {
        assertThat(ServiceLoader.load(ProfilerEngine.class).stream().map(p -> p.get().language()))
                .containsExactlyInAnyOrder("go", "java", "python");
    }
}
