package io.kdiag.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.kdiag.schemas.DeadLetters;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.testkit.Events;
import org.junit.jupiter.api.Test;

/**
 * A status that accumulates more context and command output than a Kafka record takes stays publishable: the largest
 * values give way to markers, the rest is kept, and the fold of the same events gives the same status every time.
 */
class StatusBudgetTest {
    @Test
    void shouldReplaceTheLargestContextValuesByMarkersOnceTheStatusOutgrowsItsBudget() throws Exception {
        Events events = new Events("uid-1");
        events.accepted();
        events.add(new StageStarted(Stage.InformationCollection));
        // five collectors of 200 KiB each: together twice Kafka's record limit
        for (int i = 0; i < 5; i++) {
            events.processorFinished(Stage.InformationCollection, new NamespacedName("kube-diagnoser", "collector-" + i),
                    "{\"output" + i + "\":\"" + String.valueOf((char) ('a' + i)).repeat(200 * 1024 + i) + "\"}");
        }
        events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"small\":[1,2,3]}");
        List<DiagnosisEvent> run = events.all();

        AbnormalStatus status = StatusFold.fold(run);

        assertThat(status.toByteBuffer().remaining()).isLessThanOrEqualTo(StatusBudget.MAX_STATUS_BYTES);
        Map<String, Object> context = io.kdiag.api.ApiSerialization.jsonObject(status.getContext());
        assertThat(context).containsEntry("small", List.of(1, 2, 3)).containsKeys("output0", "output1", "output2", "output3", "output4");
        long markers = context.values().stream().filter(v -> v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("truncated"))).count();
        assertThat(markers).as("the largest values, and only as many as needed").isBetween(3L, 4L);
        assertThat(context.get("output4")).as("the largest goes first").isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) context.get("output4")).get("bytes")).isEqualTo(200 * 1024 + 4 + 2);
        assertThat(status.getLastSeq()).isEqualTo(run.size() - 1);
        assertThat(StatusFold.fold(run)).as("a pure function of the events").isEqualTo(status);

        FoldState state = FoldState.empty();
        run.forEach(e -> state.offer(e, FoldState.MAX_PENDING));
        assertThat(new FoldStateSerde().serialize("store", state).length).as("the changelog record fits")
                .isLessThan(DeadLetters.DEFAULT_MAX_RECORD_BYTES);
    }

    @Test
    void shouldCutTheLargestCommandOutputsWhenTheContextAloneDoesNotDo() throws Exception {
        Events events = new Events("uid-1");
        events.accepted();
        for (int i = 0; i < 4; i++) {
            events.add(new CommandFinished(Stage.InformationCollection, List.of("cat", "/var/log/big-" + i), "o".repeat(300 * 1024),
                    "", null, 5L));
        }

        AbnormalStatus status = StatusFold.fold(events.all());

        assertThat(status.toByteBuffer().remaining()).isLessThanOrEqualTo(StatusBudget.MAX_STATUS_BYTES);
        assertThat(status.getCommandExecutors()).hasSize(4);
        assertThat(status.getCommandExecutors()).filteredOn(c -> c.getStdout().startsWith("[" + 300 * 1024 + " bytes left out"))
                .hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void shouldLeaveASmallStatusAlone() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        AbnormalStatus status = StatusFold.fold(run);

        assertThat(StatusBudget.fit(status)).isSameAs(status);
    }
}
