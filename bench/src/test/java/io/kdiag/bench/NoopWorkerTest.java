package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.ServiceLoader;

import io.kdiag.stageworkers.spi.StageWorker;
import org.junit.jupiter.api.Test;

class NoopWorkerTest {
    @Test
    void shouldRegisterOneNoopWorkerPerStageThroughServiceLoader() {
        List<String> names = ServiceLoader.load(StageWorker.class).stream().map(p -> p.get().name()).toList();
        assertThat(names).contains(NoopWorker.COLLECTOR, NoopWorker.DIAGNOSER, NoopWorker.RECOVERER);
    }
}
