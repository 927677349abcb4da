package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.spi.StageWorker;
import org.junit.jupiter.api.Test;

class BuiltinCatalogTest {
    @Test
    void shouldRegisterEveryBuiltInUnderTheOriginalsName() {
        WorkerCatalog catalog = WorkerCatalog.builtIns();
        Map<String, Stage> expected = Map.of(
                "pod-collector", Stage.InformationCollection,
                "container-collector", Stage.InformationCollection,
                "process-collector", Stage.InformationCollection,
                "systemd-collector", Stage.InformationCollection,
                "file-status-collector", Stage.InformationCollection,
                "pod-disk-usage-diagnoser", Stage.Diagnosis,
                "terminating-pod-diagnoser", Stage.Diagnosis,
                "process-match-diagnoser", Stage.Diagnosis,
                "signal-recoverer", Stage.Recovery);

        expected.forEach((name, stage) -> assertThat(catalog.find(name)).as(name).map(StageWorker::stage).contains(stage));
    }
}
