package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import io.kdiag.client.KdiagClient;
import io.kdiag.model.Phases;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;

/** The guarantees every fault test ends with; see docs/reliability.md. */
final class Invariants {
    private Invariants() {
    }

    /** What a faulted run came to, for the figures. */
    record Outcome(int abnormals, long events, long succeeded, long interrupted, long restarted, long recovererRuns) {
    }

    /** Waits until every abnormal's status on the status topic is final and returns the statuses. */
    static Map<String, AbnormalStatus> awaitFinal(KdiagClient client, Collection<String> uids, Duration timeout) {
        return await().atMost(timeout).pollInterval(Duration.ofMillis(500)).until(client::statuses,
                statuses -> uids.stream().allMatch(uid -> statuses.containsKey(uid) && Phases.isFinal(statuses.get(uid).getPhase())));
    }

    /**
     * Every abnormal ended; the status topic equals a replay of the events; no worker ran twice for one abnormal; a
     * recovery cut short by a fault ended {@code RecoveryInterrupted}; every recovery that finished ran exactly once.
     */
    static Outcome assertSurvived(KdiagClient client, Collection<String> uids, Path sideEffects, Duration timeout) {
        Map<String, AbnormalStatus> statuses = awaitFinal(client, uids, timeout);
        Replay replay = Replay.read(client);
        replay.assertStatusTopicEqualsReplay(client, uids);

        Map<String, Long> runs = SideEffects.counts(sideEffects);
        assertThat(runs).as("worker runs per abnormal").allSatisfy((run, count) -> assertThat(count).as(run).isEqualTo(1));
        long interrupted = 0;
        long restarted = 0;
        for (String uid : uids) {
            List<Object> payloads = replay.events(uid).stream().map(DiagnosisEvent::getPayload).toList();
            long recoveryStarts = payloads.stream().filter(p -> p instanceof ProcessorStarted s && s.getStage() == Stage.Recovery).count();
            boolean recoveryFinished = payloads.stream().anyMatch(p -> p instanceof ProcessorFinished f && f.getStage() == Stage.Recovery);
            assertThat(recoveryStarts).as("%s recoverer starts", uid).isLessThanOrEqualTo(1);
            AbnormalStatus status = statuses.get(uid);
            if (recoveryStarts == 1 && !recoveryFinished) {
                interrupted++;
                assertThat(status.getPhase()).as(uid).isEqualTo(Phase.Failed);
                assertThat(status.getReason()).as(uid).isEqualTo("RecoveryInterrupted");
            } else if (status.getPhase() == Phase.Failed) {
                restarted++;
                assertThat(status.getReason()).as("%s failed without a recovery interrupted", uid).isEqualTo("AgentRestarted");
            }
            if (recoveryFinished) {
                assertThat(runs).as("%s recoverer ran", uid).containsEntry(uid + " " + SideEffects.RECOVERER, 1L);
            }
        }
        long succeeded = statuses.values().stream().filter(s -> uids.contains(s.getUid()) && s.getPhase() == Phase.Succeeded).count();
        long recovererRuns = runs.keySet().stream().filter(r -> r.endsWith(SideEffects.RECOVERER)).count();
        return new Outcome(uids.size(), replay.eventCount(), succeeded, interrupted, restarted, recovererRuns);
    }
}
