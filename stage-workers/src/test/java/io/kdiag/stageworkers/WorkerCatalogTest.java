package io.kdiag.stageworkers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.builtin.ProcessCollector;
import io.kdiag.stageworkers.spi.StageWorker;
import org.junit.jupiter.api.Test;

class WorkerCatalogTest {

    @Test
    void shouldFindTheBuiltInsThroughTheServiceLoader() {
        WorkerCatalog catalog = WorkerCatalog.builtIns();

        assertThat(catalog.find("process-collector")).map(StageWorker::stage).contains(Stage.InformationCollection);
        assertThat(catalog.find("process-match-diagnoser")).map(StageWorker::stage).contains(Stage.Diagnosis);
        assertThat(catalog.find("signal-recoverer")).map(StageWorker::stage).contains(Stage.Recovery);
        assertThat(catalog.find("nope")).isEmpty();
    }

    @Test
    void shouldRefuseTwoWorkersWithOneName() {
        assertThatThrownBy(() -> new WorkerCatalog(List.of(new ProcessCollector(), new ProcessCollector())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("process-collector");
    }
}
