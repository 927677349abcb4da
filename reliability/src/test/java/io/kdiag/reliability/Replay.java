package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.model.FoldState;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;

/**
 * What {@code kdiag replay} does, as assertions: every status rebuilt from the diagnosis-events topic with the status
 * writer's own fold ({@link FoldState}, events in recorded order, duplicates and all), compared with the status topic
 * and the Abnormal resources.
 */
final class Replay {
    private final Map<String, FoldState> folds = new LinkedHashMap<>();
    private final Map<String, List<DiagnosisEvent>> events = new LinkedHashMap<>();
    private long count;

    private Replay() {
    }

    /** Reads and folds the whole events topic as it is now. */
    static Replay read(KdiagClient client) {
        Replay replay = new Replay();
        client.forEachEvent(replay::add);
        return replay;
    }

    private void add(DiagnosisEvent event) {
        count++;
        folds.computeIfAbsent(event.getAbnormalUid(), uid -> FoldState.empty()).offer(event, FoldState.MAX_PENDING);
        events.computeIfAbsent(event.getAbnormalUid(), uid -> new java.util.ArrayList<>()).add(event);
    }

    /** Events read. */
    long eventCount() {
        return count;
    }

    /** The replayed status of one abnormal; {@code null} without events. */
    AbnormalStatus status(String uid) {
        FoldState fold = folds.get(uid);
        return fold == null ? null : fold.current();
    }

    /** Every event recorded for one abnormal, in recorded order (duplicates included). */
    List<DiagnosisEvent> events(String uid) {
        return events.getOrDefault(uid, List.of());
    }

    /** Asserts that the status topic holds, for each uid, exactly the replayed status. */
    void assertStatusTopicEqualsReplay(KdiagClient client, Collection<String> uids) {
        Map<String, AbnormalStatus> current = client.statuses();
        for (String uid : uids) {
            assertThat(status(uid)).as("replayed status of %s", uid).isNotNull();
            assertThat(current.get(uid)).as("status topic vs replay of %s", uid).isEqualTo(status(uid));
        }
    }

    /** Asserts that each abnormal's resource shows exactly the replayed status (as the status writer projects it). */
    void assertResourcesEqualReplay(KubernetesClient kube, Collection<String> uids) {
        Map<String, Abnormal> byUid = new LinkedHashMap<>();
        for (Abnormal abnormal : kube.resources(Abnormal.class).inAnyNamespace().list().getItems()) {
            byUid.put(Annotations.runUid(abnormal), abnormal);
        }
        for (String uid : uids) {
            Abnormal resource = byUid.get(uid);
            assertThat(resource).as("resource of %s", uid).isNotNull();
            assertThat(ApiSerialization.jsonObject(ApiSerialization.json(resource.getStatus())))
                    .as("resource status vs replay of %s", uid)
                    .isEqualTo(ApiSerialization.jsonObject(ApiSerialization.json(StatusProjection.status(status(uid)))));
        }
    }
}
