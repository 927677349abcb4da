package io.kdiag.model;

import static io.kdiag.testkit.Events.POD_DISK_USAGE_DIAGNOSER;
import static io.kdiag.testkit.Events.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Condition;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ShadowFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.schemas.avro.UnknownPayload;
import io.kdiag.testkit.Events;
import org.junit.jupiter.api.Test;

class StatusFoldTest {
    private static final NamespacedName SIGNAL_RECOVERER = new NamespacedName("kube-diagnoser", "signal-recoverer");

    private final Events events = new Events("uid-1");
    private AbnormalStatus status;

    private AbnormalStatus fold(DiagnosisEvent event) {
        status = StatusFold.apply(status, event);
        return status;
    }

    @Test
    void shouldStartInformationCollectingWhenAccepted() {
        fold(events.accepted());

        assertThat(status.getUid()).isEqualTo("uid-1");
        assertThat(status.getNamespace()).isEqualTo("default");
        assertThat(status.getName()).isEqualTo("pod-disk-usage-diagnosis");
        assertThat(status.getNodeName()).isEqualTo(Events.NODE);
        assertThat(status.getOrigin()).isEqualTo(Origin.CustomResource);
        assertThat(status.getLabels()).containsExactly(Map.entry("team", "sre"));
        assertThat(status.getSpec()).isEqualTo(Events.SEED_SPEC);
        assertThat(status.getStartTime()).isEqualTo(START);
        assertThat(status.getUpdatedAt()).isEqualTo(START);
        assertThat(status.getLastSeq()).isZero();
        assertThat(status.getPhase()).isEqualTo(Phase.InformationCollecting);
        assertThat(status.getConditions()).isEmpty();
        assertThat(status.getContext()).isEqualTo("{}");
    }

    @Test
    void shouldShowTheWaitForApprovalAndWhoDecidedInACondition() {
        fold(events.accepted());
        fold(events.add(new StageFinished(Stage.Diagnosis, StageOutcome.Succeeded, POD_DISK_USAGE_DIAGNOSER, null, null)));
        fold(events.add(new StageStarted(Stage.Recovery)));
        fold(events.add(new ApprovalRequested(SIGNAL_RECOVERER, "{}", "the label kdiag.io/require-approval of the abnormal",
                START.plusSeconds(3600))));

        assertThat(status.getPhase()).isEqualTo(Phase.Recovering);
        assertThat(status.getConditions()).extracting(Condition::getType, Condition::getStatus, Condition::getReason)
                .contains(tuple(StatusFold.RECOVERY_APPROVED, "Unknown", "WaitingForApproval"));
        assertThat(condition(StatusFold.RECOVERY_APPROVED).getMessage())
                .contains("kube-diagnoser/signal-recoverer", "kdiag approve pod-disk-usage-diagnosis -n default");

        // the CR shows the wait that an annotation answers: the request's seq and the node whose agent waits
        assertThat(StatusProjection.status(status).pendingApproval).extracting(p -> p.requestSeq, p -> p.nodeName)
                .containsExactly(3L, status.getNodeName());

        AbnormalStatus waiting = status;
        fold(events.add(new ApprovalDecided(SIGNAL_RECOVERER, true, "alice", null)));
        assertThat(condition(StatusFold.RECOVERY_APPROVED)).extracting(Condition::getStatus, Condition::getReason)
                .containsExactly("True", "Approved");
        assertThat(StatusProjection.status(status).pendingApproval).isNull();
        assertThat(condition(StatusFold.RECOVERY_APPROVED).getMessage()).contains("approved by alice");

        status = waiting;
        fold(events.add(new ApprovalDecided(SIGNAL_RECOVERER, false, "bob", "not during the sale")));
        assertThat(condition(StatusFold.RECOVERY_APPROVED)).extracting(Condition::getStatus, Condition::getReason)
                .containsExactly("False", "Denied");
        assertThat(condition(StatusFold.RECOVERY_APPROVED).getMessage()).contains("denied by bob (not during the sale)");

        status = waiting;
        fold(events.add(new ApprovalDecided(SIGNAL_RECOVERER, false, "node-agent node-a", "Expired")));
        assertThat(condition(StatusFold.RECOVERY_APPROVED)).extracting(Condition::getStatus, Condition::getReason)
                .containsExactly("False", "Expired");
    }

    private Condition condition(String type) {
        return status.getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    @Test
    void shouldLeaveTheStatusAsTheRealChainMadeItWhateverAShadowConcluded() {
        fold(events.accepted());
        fold(events.add(new StageStarted(Stage.Diagnosis)));
        AbnormalStatus diagnosing = fold(events.add(new StageFinished(Stage.Diagnosis, StageOutcome.Failed, null, "DiagnosisFailed", "none")));
        // a shadow diagnoser that identified, with output, while the real chain did not; then a shadow recoverer that would act
        fold(events.add(new ShadowFinished(Stage.Diagnosis, POD_DISK_USAGE_DIAGNOSER, true, "{\"signalRecovery\":[{\"pid\":42}]}",
                null, null, null, 12L)));
        fold(events.add(new ShadowFinished(Stage.Recovery, SIGNAL_RECOVERER, true, null, "{\"signals\":[{\"pid\":42,\"signal\":9}]}",
                null, null, 3L)));

        assertThat(status.getLastSeq()).isEqualTo(4);
        assertThat(AbnormalStatus.newBuilder(status).setLastSeq(diagnosing.getLastSeq()).setUpdatedAt(diagnosing.getUpdatedAt()).build())
                .isEqualTo(diagnosing);
        assertThat(status.getContext()).isEqualTo("{}");
        assertThat(status.getIdentifiable()).isFalse();
    }

    @Test
    void shouldNotLetAShadowChangeARunningAbnormal() {
        fold(events.accepted());
        AbnormalStatus collecting = fold(events.add(new StageStarted(Stage.InformationCollection)));
        fold(events.add(new ShadowFinished(Stage.Diagnosis, POD_DISK_USAGE_DIAGNOSER, true, "{\"k\":1}", null, null, null, 1L)));

        assertThat(status.getPhase()).isEqualTo(Phase.InformationCollecting);
        assertThat(AbnormalStatus.newBuilder(status).setLastSeq(1).setUpdatedAt(collecting.getUpdatedAt()).build()).isEqualTo(collecting);
    }

    @Test
    void shouldRefuseToStartWithAnythingButAccepted() {
        DiagnosisEvent stageStarted = events.add(new StageStarted(Stage.InformationCollection));

        assertThatThrownBy(() -> StatusFold.apply(null, stageStarted))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("uid-1")
                .hasMessageContaining("StageStarted");
    }

    @Test
    void shouldOnlyAdvanceSeqAndTimeOnStartedEvents() {
        AbnormalStatus accepted = fold(events.accepted());
        fold(events.add(new StageStarted(Stage.InformationCollection)));
        fold(events.add(new ProcessorStarted(Stage.InformationCollection, Events.POD_COLLECTOR)));

        assertThat(status.getLastSeq()).isEqualTo(2);
        assertThat(status.getUpdatedAt()).isEqualTo(START.plusSeconds(2));
        assertThat(AbnormalStatus.newBuilder(status).setLastSeq(0).setUpdatedAt(START).build()).isEqualTo(accepted);
    }

    @Test
    void shouldOnlyAdvanceSeqAndTimeOnWhatOnlyALaterVersionUnderstands() {
        AbnormalStatus accepted = fold(events.accepted());
        fold(events.add(new UnknownPayload("io.kdiag.schemas.avro.RecoveryVerified", "{\"verified\": true}")));
        fold(events.add(new StageFinished(Stage.Unknown, StageOutcome.Succeeded, null, null, null)));
        fold(events.add(new StageFinished(Stage.InformationCollection, StageOutcome.Unknown, null, "Cancelled", null)));

        assertThat(status.getLastSeq()).isEqualTo(3);
        assertThat(status.getUpdatedAt()).isEqualTo(START.plusSeconds(3));
        assertThat(AbnormalStatus.newBuilder(status).setLastSeq(0).setUpdatedAt(START).build()).isEqualTo(accepted);
    }

    @Test
    void shouldMergeContextUpdatesInEventOrderThenRemoveKeys() {
        fold(events.accepted());
        fold(events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"a\":1,\"b\":{\"x\":true}}"));
        fold(events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, "{\"b\":2,\"c\":[3]}", "a"));
        fold(events.processorFinished(Stage.InformationCollection, Events.POD_COLLECTOR, null, "missing"));

        assertThat(ApiSerialization.jsonObject(status.getContext()))
                .containsExactly(Map.entry("b", 2), Map.entry("c", List.of(3)));
        assertThat(status.getPhase()).isEqualTo(Phase.InformationCollecting);
    }

    @Test
    void shouldAppendCommandResultsWithoutChangingThePhase() {
        fold(events.accepted());
        fold(events.command(Stage.InformationCollection, "df", "-h"));
        fold(events.add(new CommandFinished(Stage.Diagnosis, List.of("false"), "", "boom", "exit 1", 1L)));

        assertThat(status.getCommandExecutors()).hasSize(2);
        assertThat(status.getCommandExecutors().get(0).getCommand()).containsExactly("df", "-h");
        assertThat(status.getCommandExecutors().get(0).getStdout()).isEqualTo("out");
        assertThat(status.getCommandExecutors().get(1).getStage()).isEqualTo(Stage.Diagnosis);
        assertThat(status.getCommandExecutors().get(1).getStderr()).isEqualTo("boom");
        assertThat(status.getCommandExecutors().get(1).getError()).isEqualTo("exit 1");
        assertThat(status.getPhase()).isEqualTo(Phase.InformationCollecting);
    }

    @Test
    void shouldAppendProfilersAndMarkExpiredOnes() {
        fold(events.accepted());
        fold(events.profiler("go-heap", "10.0.0.1:33001"));
        fold(events.profiler("java-cpu", "10.0.0.1:33002"));
        fold(events.profilerExpired("go-heap"));

        assertThat(status.getProfilers()).extracting(p -> p.getName() + "=" + p.getEndpoint())
                .containsExactly("go-heap=expired", "java-cpu=10.0.0.1:33002");
    }

    @Test
    void shouldMoveToDiagnosingWhenCollectionSucceedsOrIsSkipped() {
        for (StageOutcome outcome : List.of(StageOutcome.Succeeded, StageOutcome.Skipped)) {
            Events run = new Events("uid-" + outcome);
            AbnormalStatus accepted = StatusFold.apply(null, run.accepted());
            AbnormalStatus collected = StatusFold.apply(accepted, run.stageFinished(Stage.InformationCollection, outcome, null));

            assertThat(collected.getPhase()).isEqualTo(Phase.Diagnosing);
            assertThat(collected.getConditions()).containsExactly(new Condition("InformationCollected", "True", START.plusSeconds(1), null, null));
        }
    }

    @Test
    void shouldFailWhenCollectionFails() {
        fold(events.accepted());
        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Failed, null));

        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(status.getConditions()).extracting(Condition::getType, Condition::getStatus)
                .containsExactly(tuple("InformationCollected", "False"));
        assertThat(status.getReason()).isEqualTo("NoProcessorSucceeded");
        assertThat(status.getMessage()).isEqualTo("every processor of InformationCollection failed");
    }

    @Test
    void shouldRecordTheDiagnoserWhenDiagnosisSucceeds() {
        collected();
        fold(events.stageFinished(Stage.Diagnosis, StageOutcome.Succeeded, POD_DISK_USAGE_DIAGNOSER));

        assertThat(status.getPhase()).isEqualTo(Phase.Recovering);
        assertThat(status.getIdentifiable()).isTrue();
        assertThat(status.getDiagnoser()).isEqualTo(POD_DISK_USAGE_DIAGNOSER);
        assertThat(status.getConditions()).extracting(Condition::getType).containsExactly("InformationCollected", "Identified");
        assertThat(status.getConditions().get(1).getStatus()).isEqualTo("True");
    }

    @Test
    void shouldCountSkippedDiagnosisAsIdentifiedWithoutDiagnoser() {
        collected();
        fold(events.stageFinished(Stage.Diagnosis, StageOutcome.Skipped, null));

        assertThat(status.getPhase()).isEqualTo(Phase.Recovering);
        assertThat(status.getIdentifiable()).isTrue();
        assertThat(status.getDiagnoser()).isNull();
        assertThat(status.getConditions().get(1).getStatus()).isEqualTo("True");
    }

    @Test
    void shouldFailWhenDiagnosisFails() {
        collected();
        fold(events.stageFinished(Stage.Diagnosis, StageOutcome.Failed, null));

        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(status.getIdentifiable()).isFalse();
        assertThat(status.getDiagnoser()).isNull();
        assertThat(status.getConditions().get(1)).extracting(Condition::getType, Condition::getStatus, Condition::getReason)
                .containsExactly("Identified", "False", "NoProcessorSucceeded");
        assertThat(status.getReason()).isEqualTo("NoProcessorSucceeded");
    }

    @Test
    void shouldSucceedWithTheRecovererWhenRecoverySucceeds() {
        identified();
        fold(events.stageFinished(Stage.Recovery, StageOutcome.Succeeded, SIGNAL_RECOVERER));

        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(status.getRecoverable()).isTrue();
        assertThat(status.getRecoverer()).isEqualTo(SIGNAL_RECOVERER);
        assertThat(status.getConditions()).extracting(Condition::getType, Condition::getStatus).containsExactly(
                tuple("InformationCollected", "True"),
                tuple("Identified", "True"),
                tuple("Recovered", "True"));
    }

    @Test
    void shouldSucceedWhenRecoveryIsSkipped() {
        identified();
        fold(events.stageFinished(Stage.Recovery, StageOutcome.Skipped, null));

        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(status.getRecoverable()).isTrue();
        assertThat(status.getRecoverer()).isNull();
        assertThat(status.getConditions().get(2).getStatus()).isEqualTo("True");
    }

    @Test
    void shouldFailWhenRecoveryFails() {
        identified();
        fold(events.stageFinished(Stage.Recovery, StageOutcome.Failed, null));

        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(status.getRecoverable()).isFalse();
        assertThat(status.getConditions().get(2)).extracting(Condition::getType, Condition::getStatus)
                .containsExactly("Recovered", "False");
        assertThat(status.getMessage()).isEqualTo("every processor of Recovery failed");
    }

    @Test
    void shouldFailOnAbnormalFailed() {
        identified();
        fold(events.abnormalFailed("RecoveryInterrupted", "the agent restarted during recovery"));

        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(status.getReason()).isEqualTo("RecoveryInterrupted");
        assertThat(status.getMessage()).isEqualTo("the agent restarted during recovery");
    }

    @Test
    void shouldOnlyTakeCommandAndProfilerResultsOnceTerminal() {
        identified();
        fold(events.stageFinished(Stage.Recovery, StageOutcome.Skipped, null));
        fold(events.profiler("go-heap", "10.0.0.1:33001"));
        AbnormalStatus succeeded = status;

        fold(events.abnormalFailed("Late", "too late"));
        fold(events.stageFinished(Stage.Recovery, StageOutcome.Failed, null));
        fold(events.processorFinished(Stage.Recovery, SIGNAL_RECOVERER, "{\"late\":true}"));
        assertThat(AbnormalStatus.newBuilder(status).setLastSeq(succeeded.getLastSeq()).setUpdatedAt(succeeded.getUpdatedAt()).build())
                .isEqualTo(succeeded);
        assertThat(status.getLastSeq()).isEqualTo(succeeded.getLastSeq() + 3);

        fold(events.command(Stage.Recovery, "true"));
        fold(events.profilerExpired("go-heap"));
        assertThat(status.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(status.getCommandExecutors()).hasSize(1);
        assertThat(status.getProfilers().get(0).getEndpoint()).isEqualTo("expired");
    }

    @Test
    void shouldMoveLastTransitionTimeOnlyWhenTheConditionStatusChanges() {
        fold(events.accepted());
        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null));
        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Skipped, null));
        assertThat(status.getConditions().get(0).getLastTransitionTime()).isEqualTo(START.plusSeconds(1));

        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Failed, null));
        assertThat(status.getConditions().get(0).getStatus()).isEqualTo("False");
        assertThat(status.getConditions().get(0).getLastTransitionTime()).isEqualTo(START.plusSeconds(3));
    }

    @Test
    void shouldKeepConditionsInStageOrder() {
        fold(events.accepted());
        fold(events.stageFinished(Stage.Diagnosis, StageOutcome.Succeeded, POD_DISK_USAGE_DIAGNOSER));
        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null));

        assertThat(status.getConditions()).extracting(Condition::getType).containsExactly("InformationCollected", "Identified");
    }

    @Test
    void shouldLeaveTheGivenSnapshotUntouched() {
        identified();
        AbnormalStatus before = status;
        AbnormalStatus copy = AbnormalStatus.newBuilder(before).build();

        StatusFold.apply(before, events.processorFinished(Stage.Recovery, SIGNAL_RECOVERER, "{\"signalRecovery\":\"done\"}"));
        StatusFold.apply(before, events.command(Stage.Recovery, "true"));
        StatusFold.apply(before, events.stageFinished(Stage.Recovery, StageOutcome.Failed, null));

        assertThat(before).isEqualTo(copy);
    }

    @Test
    void shouldFoldOnFromASnapshotLikeTheWholeRun() {
        List<DiagnosisEvent> run = Events.seedRun("uid-1");
        for (int split = 0; split <= run.size(); split++) {
            AbnormalStatus before = StatusFold.fold(run.subList(0, split));

            assertThat(StatusFold.fold(before, run.subList(split, run.size()))).as("split at %d", split).isEqualTo(StatusFold.fold(run));
        }
    }

    @Test
    void shouldProjectTheSeedRunLikeTheSeedStatus() {
        AbnormalStatus snapshot = StatusFold.fold(Events.seedRun("seed"));
        io.kdiag.api.v1.AbnormalStatus projected = StatusProjection.status(snapshot);

        assertThat(projected.phase).isEqualTo("Succeeded");
        assertThat(projected.conditions).extracting(c -> c.type, c -> c.status).containsExactly(
                tuple("InformationCollected", "True"),
                tuple("Identified", "True"),
                tuple("Recovered", "True"));
        assertThat(projected.conditions).allSatisfy(c -> assertThat(c.lastTransitionTime).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
        assertThat(projected.identifiable).isTrue();
        assertThat(projected.recoverable).isTrue();
        assertThat(projected.diagnoser.namespace).isEqualTo("kube-diagnoser");
        assertThat(projected.diagnoser.name).isEqualTo("pod-disk-usage-diagnoser");
        assertThat(projected.recoverer).isNull();
        assertThat(projected.startTime).isEqualTo("2020-08-13T07:44:42Z");
        assertThat(projected.context).containsKeys("podInformation", "podDiskUsageDiagnosis");
        assertThat(ApiSerialization.json(projected.context.get("podDiskUsageDiagnosis")))
                .contains("\"diskUsage\":77824", "\"path\":\"/var/lib/kubelet/pods/2bfed5a3-67fd-4721-99ae-6d584150c891\"");
        assertThat(projected.reason).isNull();
        assertThat(projected.message).isNull();
    }

    private void collected() {
        fold(events.accepted());
        fold(events.stageFinished(Stage.InformationCollection, StageOutcome.Succeeded, null));
    }

    private void identified() {
        collected();
        fold(events.stageFinished(Stage.Diagnosis, StageOutcome.Succeeded, POD_DISK_USAGE_DIAGNOSER));
    }
}
