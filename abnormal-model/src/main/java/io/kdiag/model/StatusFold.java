package io.kdiag.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.CommandExecutorResult;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.Condition;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.ProfilerResult;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;

/**
 * The status of an abnormal as a pure function of its events: {@link #apply} folds the next in-order event into the
 * snapshot, kept within {@link StatusBudget}. Ordering and duplicates are {@link FoldState}'s business; this class
 * assumes it gets seq lastSeq + 1.
 */
public final class StatusFold {
    /** The endpoint of a profile after its expiry. */
    public static final String EXPIRED = "expired";
    /**
     * The condition of a recovery that requires a person's approval: {@code Unknown} while it waits ({@code
     * WaitingForApproval}), then {@code True} ({@code Approved}) or {@code False} ({@code Denied}, {@code Expired}), its
     * message naming who decided.
     */
    public static final String RECOVERY_APPROVED = "RecoveryApproved";
    /**
     * Whether the abnormal of this status waits for a person's approval now: its {@code RecoveryApproved} condition is
     * {@code Unknown}. Its last event is then the {@code ApprovalRequested} that a decision answers, by its seq.
     */
    public static boolean waitsForApproval(AbnormalStatus status) {
        return !Phases.isFinal(status.getPhase()) && status.getConditions().stream()
                .anyMatch(c -> c.getType().equals(RECOVERY_APPROVED) && c.getStatus().equals("Unknown"));
    }


    private StatusFold() {
    }

    /**
     * The snapshot after {@code event}.
     *
     * @param current the snapshot before it, {@code null} before the abnormal was accepted
     * @param event the next event in seq order
     * @return a new snapshot; {@code current} is left untouched
     * @throws IllegalArgumentException when {@code current} is null and the event is not an {@link Accepted}
     */
    public static AbnormalStatus apply(AbnormalStatus current, DiagnosisEvent event) {
        return apply(current, event, new ParsedContext());
    }

    /** {@link #apply(AbnormalStatus, DiagnosisEvent)}, merging the context with the members {@code parsed} kept of it. */
    static AbnormalStatus apply(AbnormalStatus current, DiagnosisEvent event, ParsedContext parsed) {
        Object payload = event.getPayload();
        if (current == null) {
            if (payload instanceof Accepted accepted) {
                return StatusBudget.fit(accepted(event, accepted));
            }
            throw new IllegalArgumentException("abnormal " + event.getAbnormalUid() + " starts with "
                    + payload.getClass().getSimpleName() + " at seq " + event.getSeq() + " instead of Accepted");
        }
        // newBuilder(other) deep-copies, so the mutations below never reach the caller's snapshot
        AbnormalStatus next = AbnormalStatus.newBuilder(current)
                .setLastSeq(event.getSeq())
                .setUpdatedAt(event.getTime())
                .build();
        if (payload instanceof CommandFinished command) {
            next.getCommandExecutors().add(new CommandExecutorResult(List.copyOf(command.getCommand()), command.getStage(),
                    command.getStdout(), command.getStderr(), command.getError()));
        } else if (payload instanceof ProfilerFinished profiler) {
            next.getProfilers().add(new ProfilerResult(profiler.getName(), profiler.getStage(), profiler.getEndpoint(),
                    profiler.getError()));
        } else if (payload instanceof ProfilerExpired expired) {
            next.getProfilers().stream()
                    .filter(p -> p.getName().equals(expired.getName()))
                    .forEach(p -> p.setEndpoint(EXPIRED));
        } else if (Phases.isFinal(current.getPhase())) {
            // a finished abnormal keeps its outcome; only command and profiler results still arrive
            return StatusBudget.fit(next);
        } else if (payload instanceof ProcessorFinished processor) {
            next.setContext(mergeContext(next.getContext(), processor, parsed));
        } else if (payload instanceof StageFinished stage && stage.getStage() != Stage.Unknown
                && stage.getOutcome() != StageOutcome.Unknown) {
            stageFinished(next, stage, event.getTime());
        } else if (payload instanceof ApprovalRequested asked) {
            setCondition(next.getConditions(), RECOVERY_APPROVED, "Unknown", event.getTime(), "WaitingForApproval",
                    subject(asked.getProcessor()) + " waits for approval (required by " + asked.getRequiredBy() + ") until "
                            + asked.getExpiresAt() + ": kdiag approve " + next.getName() + " -n " + next.getNamespace() + ", or kdiag deny");
        } else if (payload instanceof ApprovalDecided decided) {
            approvalDecided(next, decided, event.getTime());
        } else if (payload instanceof AbnormalFailed failed) {
            next.setPhase(Phase.Failed);
            next.setReason(failed.getReason());
            next.setMessage(failed.getMessage());
        }
        // StageStarted, ProcessorStarted, a repeated Accepted and what only a newer version understands (UnknownPayload, a
        // StageFinished of an Unknown stage or outcome) only advance lastSeq and updatedAt
        return StatusBudget.fit(next);
    }

    /** The snapshot after events already in seq order, from the first ({@code Accepted}); {@code null} for none. */
    public static AbnormalStatus fold(Iterable<DiagnosisEvent> inOrder) {
        return fold(null, inOrder);
    }

    /**
     * The snapshot after {@code from} and then events in seq order that follow it; {@code from} itself when there are
     * none. The context is parsed once, not at each event that merges into it.
     *
     * @param from the snapshot so far, {@code null} before the abnormal was accepted
     */
    public static AbnormalStatus fold(AbnormalStatus from, Iterable<DiagnosisEvent> inOrder) {
        AbnormalStatus status = from;
        ParsedContext parsed = new ParsedContext();
        for (DiagnosisEvent event : inOrder) {
            status = apply(status, event, parsed);
        }
        return status;
    }

    private static AbnormalStatus accepted(DiagnosisEvent event, Accepted accepted) {
        return AbnormalStatus.newBuilder()
                .setUid(event.getAbnormalUid())
                .setNamespace(accepted.getNamespace())
                .setName(accepted.getName())
                .setNodeName(event.getNodeName())
                .setOrigin(accepted.getOrigin())
                .setLabels(new LinkedHashMap<>(accepted.getLabels()))
                .setSpec(accepted.getSpec())
                .setLastSeq(event.getSeq())
                .setUpdatedAt(event.getTime())
                .setStartTime(event.getTime())
                .setPhase(Phase.InformationCollecting)
                .setConditions(new ArrayList<>())
                .setContext("{}")
                .setCommandExecutors(new ArrayList<>())
                .setProfilers(new ArrayList<>())
                .build();
    }

    private static String mergeContext(String context, ProcessorFinished processor, ParsedContext parsed) {
        if (processor.getContextUpdates() == null && processor.getRemovedContextKeys().isEmpty()) {
            return context;
        }
        // the updates first: when they are not a JSON object the event is refused, and nothing was merged
        Map<String, String> updates = TopLevelJson.members(processor.getContextUpdates());
        Map<String, String> merged = parsed.members(context);
        merged.putAll(updates);
        processor.getRemovedContextKeys().forEach(merged::remove);
        return parsed.write(merged);
    }

    private static void stageFinished(AbnormalStatus next, StageFinished stage, Instant time) {
        boolean ok = stage.getOutcome() != StageOutcome.Failed;
        StageDefinition definition = StageDefinition.of(stage.getStage());
        setCondition(next.getConditions(), definition, ok, time, stage);
        switch (definition) {
            case INFORMATION_COLLECTION -> next.setPhase(StageDefinition.DIAGNOSIS.runningPhase());
            case DIAGNOSIS -> {
                next.setIdentifiable(ok);
                next.setDiagnoser(ok ? stage.getProcessor() : null);
                next.setPhase(StageDefinition.RECOVERY.runningPhase());
            }
            case RECOVERY -> {
                next.setRecoverable(ok);
                next.setRecoverer(ok ? stage.getProcessor() : null);
                next.setPhase(Phase.Succeeded);
            }
        }
        if (!ok) {
            next.setPhase(Phase.Failed);
            next.setReason(stage.getReason());
            next.setMessage(stage.getMessage());
        }
    }

    private static void approvalDecided(AbnormalStatus next, ApprovalDecided decided, Instant time) {
        String recoverer = subject(decided.getProcessor());
        if (decided.getApproved()) {
            setCondition(next.getConditions(), RECOVERY_APPROVED, "True", time, "Approved", recoverer + " approved by "
                    + decided.getDecidedBy() + (decided.getReason() == null ? "" : " (" + decided.getReason() + ")"));
        } else if (ApprovalDecisions.EXPIRED.equals(decided.getReason())) {
            setCondition(next.getConditions(), RECOVERY_APPROVED, "False", time, ApprovalDecisions.EXPIRED,
                    "nobody approved " + recoverer + " in time; " + decided.getDecidedBy() + " ended the wait");
        } else {
            setCondition(next.getConditions(), RECOVERY_APPROVED, "False", time, "Denied", recoverer + " denied by "
                    + decided.getDecidedBy() + (decided.getReason() == null ? "" : " (" + decided.getReason() + ")"));
        }
    }

    /** What waits: {@code recoverer namespace/name}, or the recovery stage when no recoverer stands for it (commands only). */
    private static String subject(NamespacedName processor) {
        return processor.getNamespace().isEmpty() ? "the recovery" : "recoverer " + processor.getNamespace() + "/" + processor.getName();
    }

    private static void setCondition(List<Condition> conditions, StageDefinition definition, boolean ok, Instant time,
            StageFinished stage) {
        // a condition explains only a failure, as the seed's status shows; the history keeps every stage's message
        setCondition(conditions, definition.conditionType(), ok ? "True" : "False", time, ok ? null : stage.getReason(),
                ok ? null : stage.getMessage());
    }

    private static void setCondition(List<Condition> conditions, String type, String status, Instant time, String reason, String message) {
        Condition condition = conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElse(null);
        if (condition == null) {
            conditions.add(new Condition(type, status, time, reason, message));
            // listed in the order the stages run, whatever order they were set in
            conditions.sort(Comparator.comparingInt(c -> conditionRank(c.getType())));
            return;
        }
        if (!condition.getStatus().equals(status)) {
            condition.setLastTransitionTime(time);
        }
        condition.setStatus(status);
        condition.setReason(reason);
        condition.setMessage(message);
    }

    private static int conditionRank(String type) {
        for (StageDefinition definition : StageDefinition.values()) {
            if (definition.conditionType().equals(type)) {
                return definition.ordinal();
            }
        }
        return StageDefinition.values().length;
    }
}
