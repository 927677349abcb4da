package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class ProcessSamplerTest {
    @Test
    void shouldKeepTheHighestResidentSetSinceTheLastReset() {
        try (ProcessSampler sampler = new ProcessSampler(Duration.ofHours(1))) {
            ProcessSampler.Watched process = sampler.watch("this JVM", ProcessHandle.current().pid());
            long current = process.last().rssBytes();

            process.record(new ProcStats(current * 10, 0));
            process.record(new ProcStats(1, 0));

            assertThat(process.peakRss()).isEqualTo(current * 10);
            assertThat(process.last().rssBytes()).isEqualTo(1);
            sampler.resetPeaks();
            assertThat(process.peakRss()).isEqualTo(process.last().rssBytes()).isLessThan(current * 10);
        }
    }

    @Test
    void shouldMarkAProcessThatEndedAsGone() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        try (ProcessSampler sampler = new ProcessSampler(Duration.ofHours(1))) {
            ProcessSampler.Watched process = sampler.watch("ended", ended.pid());

            assertThat(process.gone()).isTrue();
            assertThat(process.last()).isNull();
        }
    }
}
