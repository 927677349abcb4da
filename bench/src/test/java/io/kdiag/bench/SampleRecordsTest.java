package io.kdiag.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import org.junit.jupiter.api.Test;

class SampleRecordsTest {
    @Test
    void shouldFoldTheTypicalSequenceToASucceededStatus() {
        assertThat(SampleRecords.typicalEvents("u", "node-1")).hasSize(SampleRecords.TYPICAL_EVENTS);
        AbnormalStatus status = SampleRecords.typicalStatus("u", "node-1");
        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(status.getConditions()).hasSize(3);
        assertThat(status.getContext()).contains("processInformation");
    }

    @Test
    void shouldWriteSpecsTheAgentCanRead() {
        for (SampleRecords.Work work : SampleRecords.Work.values()) {
            assertThat(ApiSerialization.spec(SampleRecords.spec(work, "node-1")).nodeName).isEqualTo("node-1");
        }
    }
}
