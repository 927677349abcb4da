package io.kdiag.statuswriter.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.model.StatusFold;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.statuswriter.kubernetes.CrStatusWriter.Result;
import io.kdiag.testkit.Events;
import io.kdiag.testkit.MockCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CrStatusWriterTest {
    private static final String NAMESPACE = "default";
    private static final String NAME = "pod-disk-usage-diagnosis";

    private MockCluster cluster;
    private SimpleMeterRegistry registry;
    private List<AbnormalStatus> local;
    private CrStatusWriter writer;

    @BeforeEach
    void startCluster() {
        cluster = new MockCluster();
        registry = new SimpleMeterRegistry();
        local = new ArrayList<>();
        writer = new CrStatusWriter(cluster.client(), 1_000, Duration.ofMinutes(30), registry, () -> List.copyOf(local));
    }

    @AfterEach
    void stop() {
        writer.close();
        cluster.close();
    }

    @Test
    void shouldWriteTheProjectionOfTheSnapshotToTheStatusSubresource() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));

        assertThat(writer.write(snapshot)).isEqualTo(Result.WRITTEN);

        Abnormal cr = cluster.abnormal(NAMESPACE, NAME);
        assertThat(tree(cr.getStatus())).isEqualTo(tree(StatusProjection.status(snapshot)));
        assertThat(cr.getStatus().phase).isEqualTo("Succeeded");
        assertThat(cr.getMetadata().getGeneration()).isEqualTo(1L);
        assertThat(writes("written")).isEqualTo(1.0);
        assertThat(writer.write(snapshot)).isEqualTo(Result.UNCHANGED);
    }

    @Test
    void shouldWriteToACrThatRunsUnderItsOwnUid() {
        Abnormal created = cluster.createAbnormal(NAMESPACE, NAME, null);
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun(created.getMetadata().getUid()));

        assertThat(writer.write(snapshot)).isEqualTo(Result.WRITTEN);

        assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus().phase).isEqualTo("Succeeded");
    }

    @Test
    void shouldRemoveWhatTheFoldRemovedFromTheStatus() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        Events events = new Events("uid-1");
        events.accepted();
        events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"kept\":1,\"dropped\":2}");
        writer.write(StatusFold.fold(events.all()));
        events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, null, "dropped");

        assertThat(writer.write(StatusFold.fold(events.all()))).isEqualTo(Result.WRITTEN);

        assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus().context).containsOnlyKeys("kept");
    }

    @Test
    void shouldReadAgainAndRetryOnConflict() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        cluster.failStatusWrites(2, 409);
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));

        assertThat(writer.write(snapshot)).isEqualTo(Result.WRITTEN);

        assertThat(tree(cluster.abnormal(NAMESPACE, NAME).getStatus())).isEqualTo(tree(StatusProjection.status(snapshot)));
        assertThat(writes("conflict")).isEqualTo(2.0);
        assertThat(writes("written")).isEqualTo(1.0);
    }

    @Test
    void shouldSkipAnAbnormalWhoseCrWasDeleted() {
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));

        assertThat(writer.write(snapshot)).isEqualTo(Result.NOT_FOUND);

        assertThat(writes("not-found")).isEqualTo(1.0);
        assertThat(cluster.abnormal(NAMESPACE, NAME)).isNull();
    }

    @Test
    void shouldCreateTheMissingCrOfARecentAbnormalThatDidNotStartAsOne() {
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));
        snapshot.setOrigin(Origin.IngestTopic);
        snapshot.setStartTime(Instant.now());

        assertThat(writer.write(snapshot)).isEqualTo(Result.WRITTEN);

        Abnormal cr = cluster.abnormal(NAMESPACE, NAME);
        assertThat(Annotations.runUid(cr)).isEqualTo("uid-1");
        assertThat(cr.getMetadata().getAnnotations()).containsEntry(Annotations.ORIGIN, "IngestTopic");
        assertThat(cr.getStatus().phase).isEqualTo("Succeeded");
        assertThat(writes("created")).isEqualTo(1.0);
    }

    @Test
    void shouldNotBringBackAnOldAbnormalsCr() {
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));
        snapshot.setOrigin(Origin.IngestTopic);
        snapshot.setStartTime(Instant.now().minus(Duration.ofHours(1)));

        assertThat(writer.write(snapshot)).isEqualTo(Result.NOT_FOUND);

        assertThat(cluster.abnormal(NAMESPACE, NAME)).isNull();
    }

    @Test
    void shouldLeaveTheCrOfAnotherRunAlone() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-of-a-later-run");

        assertThat(writer.write(StatusFold.fold(Events.seedRun("uid-1")))).isEqualTo(Result.UID_MISMATCH);

        assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus()).isNull();
        assertThat(writes("uid-mismatch")).isEqualTo(1.0);
    }

    @Test
    void shouldWriteOnlyTheLatestOfManyQueuedSnapshots() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        for (int i = 1; i <= run.size(); i++) {
            writer.offer(StatusFold.fold(run.subList(0, i)));
        }
        // an older snapshot arriving late never replaces a newer queued one
        writer.offer(StatusFold.fold(run.subList(0, 3)));
        AbnormalStatus last = StatusFold.fold(run);
        local.add(last);

        writer.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(tree(cluster.abnormal(NAMESPACE, NAME).getStatus())).isEqualTo(tree(StatusProjection.status(last))));
        writer.close();
        assertThat(writes("written")).isEqualTo(1.0);
    }

    @Test
    void shouldCatchUpStaleCrsFromTheLocalSnapshotsAtStart() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        cluster.createAbnormal(NAMESPACE, "other", "uid-2");
        local.add(StatusFold.fold(Events.seedRun("uid-1")));

        writer.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus()).isNotNull()
                        .extracting(s -> s.phase).isEqualTo(Phase.Succeeded.name()));
        assertThat(cluster.abnormal(NAMESPACE, "other").getStatus()).isNull();
    }

    @Test
    void shouldRetryAFailedWriteAfterABackOff() {
        cluster.createAbnormal(NAMESPACE, NAME, "uid-1");
        cluster.failStatusWrites(1, 403);
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("uid-1"));
        local.add(snapshot);

        writer.offer(snapshot);
        writer.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(writes("written")).isEqualTo(1.0));
        assertThat(writes("error")).isEqualTo(1.0);
        assertThat(cluster.abnormal(NAMESPACE, NAME).getStatus().phase).isEqualTo("Succeeded");
    }

    private double writes(String result) {
        var counter = registry.find(CrStatusWriter.METRIC).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private static Map<String, Object> tree(Object value) {
        return ApiSerialization.jsonObject(ApiSerialization.json(value));
    }
}
