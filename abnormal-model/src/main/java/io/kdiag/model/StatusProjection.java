package io.kdiag.model;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalCondition;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.CommandExecutorStatus;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.api.v1.PendingApproval;
import io.kdiag.api.v1.ProfilerStatus;
import io.kdiag.schemas.avro.Stage;

/**
 * The Abnormal a status snapshot describes, in the shape a user reads with {@code kubectl get abnormal -o yaml}.
 * The CR's {@code .status} is exactly {@link #status} of the latest snapshot.
 */
public final class StatusProjection {
    private StatusProjection() {
    }

    /** The whole Abnormal: metadata, spec and status. */
    public static Abnormal abnormal(io.kdiag.schemas.avro.AbnormalStatus snapshot) {
        Abnormal abnormal = new Abnormal();
        abnormal.setMetadata(new ObjectMetaBuilder()
                .withNamespace(snapshot.getNamespace())
                .withName(snapshot.getName())
                .withUid(snapshot.getUid())
                .withLabels(snapshot.getLabels().isEmpty() ? null : Map.copyOf(snapshot.getLabels()))
                .build());
        abnormal.setSpec(ApiSerialization.spec(snapshot.getSpec()));
        abnormal.setStatus(status(snapshot));
        return abnormal;
    }

    /** The {@code .status} of the Abnormal. */
    public static AbnormalStatus status(io.kdiag.schemas.avro.AbnormalStatus snapshot) {
        AbnormalStatus status = new AbnormalStatus();
        status.identifiable = snapshot.getIdentifiable();
        status.recoverable = snapshot.getRecoverable();
        status.phase = Phases.apiName(snapshot.getPhase());
        status.conditions = nullIfEmpty(snapshot.getConditions().stream().map(StatusProjection::condition).toList());
        status.message = snapshot.getMessage();
        status.reason = snapshot.getReason();
        status.startTime = snapshot.getStartTime() == null ? null : time(snapshot.getStartTime());
        status.diagnoser = reference(snapshot.getDiagnoser());
        status.recoverer = reference(snapshot.getRecoverer());
        // the wait's last event is its ApprovalRequested: nothing else happens while it is parked
        status.pendingApproval = StatusFold.waitsForApproval(snapshot) ? new PendingApproval(snapshot.getLastSeq(), snapshot.getNodeName()) : null;
        status.commandExecutors = nullIfEmpty(snapshot.getCommandExecutors().stream().map(c -> {
            CommandExecutorStatus result = new CommandExecutorStatus();
            result.command = List.copyOf(c.getCommand());
            result.type = processorType(c.getStage());
            result.stdout = c.getStdout();
            result.stderr = c.getStderr();
            result.error = c.getError();
            return result;
        }).toList());
        status.profilers = nullIfEmpty(snapshot.getProfilers().stream().map(p -> {
            ProfilerStatus result = new ProfilerStatus();
            result.name = p.getName();
            result.type = processorType(p.getStage());
            result.endpoint = p.getEndpoint();
            result.error = p.getError();
            return result;
        }).toList());
        Map<String, Object> context = ApiSerialization.jsonObject(snapshot.getContext());
        status.context = context.isEmpty() ? null : context;
        return status;
    }

    /** The {@code type} of a command or profiler: its stage's processor kind, or the stage's name when a newer version added it. */
    private static String processorType(Stage stage) {
        return stage == Stage.Unknown ? stage.name() : StageDefinition.of(stage).processorType();
    }

    /** RFC 3339 at second precision, as Kubernetes writes times. */
    public static String time(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }

    private static AbnormalCondition condition(io.kdiag.schemas.avro.Condition c) {
        AbnormalCondition condition = new AbnormalCondition();
        condition.type = c.getType();
        condition.status = c.getStatus();
        condition.lastTransitionTime = time(c.getLastTransitionTime());
        condition.reason = c.getReason();
        condition.message = c.getMessage();
        return condition;
    }

    private static NamespacedName reference(io.kdiag.schemas.avro.NamespacedName name) {
        return name == null ? null : new NamespacedName(name.getNamespace(), name.getName());
    }

    private static <T> List<T> nullIfEmpty(List<T> list) {
        return list.isEmpty() ? null : list;
    }
}
