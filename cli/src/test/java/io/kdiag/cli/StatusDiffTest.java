package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import org.junit.jupiter.api.Test;

class StatusDiffTest {
    private static AbnormalStatus snapshot(Phase phase, String context) {
        Instant t = Instant.parse("2026-11-27T12:01:00Z");
        return AbnormalStatus.newBuilder().setUid("u1").setNamespace("default").setName("x").setNodeName("node-1")
                .setOrigin(Origin.IngestTopic).setSpec("{}").setLastSeq(7).setUpdatedAt(t).setStartTime(t)
                .setPhase(phase).setContext(context).build();
    }

    @Test
    void shouldFindNothingBetweenEqualSnapshots() {
        assertThat(StatusDiff.snapshots(snapshot(Phase.Succeeded, "{\"a\":1}"), snapshot(Phase.Succeeded, "{\"a\":1}"))).isEmpty();
    }

    @Test
    void shouldNameEachDifferingFieldAndContextKey() {
        List<StatusDiff.FieldDiff> diffs = StatusDiff.snapshots(
                snapshot(Phase.Failed, "{\"a\":1,\"same\":[1,2],\"gone\":true}"),
                snapshot(Phase.Succeeded, "{\"a\":2,\"same\":[1,2],\"new\":\"x\"}"));

        assertThat(diffs).containsExactly(
                new StatusDiff.FieldDiff("phase", "Failed", "Succeeded"),
                new StatusDiff.FieldDiff("context.a", "1", "2"),
                new StatusDiff.FieldDiff("context.new", StatusDiff.NONE, "\"x\""),
                new StatusDiff.FieldDiff("context.gone", "true", StatusDiff.NONE));
    }

    @Test
    void shouldCompareResourceStatusesAsTheApiServerStoresThem() {
        var current = StatusProjection.status(snapshot(Phase.Failed, "{\"a\":1}"));
        var replayed = StatusProjection.status(snapshot(Phase.Succeeded, "{\"a\":1}"));

        assertThat(StatusDiff.resources(current, replayed)).containsExactly(new StatusDiff.FieldDiff("phase", "Failed", "Succeeded"));
        assertThat(StatusDiff.resources(null, replayed)).extracting(StatusDiff.FieldDiff::current).containsOnly(StatusDiff.NONE);
    }

    @Test
    void shouldCutLongValuesForATableCell() {
        assertThat(StatusDiff.cell("a\nb", 10)).isEqualTo("a b");
        assertThat(StatusDiff.cell("x".repeat(100), 10)).isEqualTo("xxxxxxx...");
    }
}
