package io.kdiag.model;

import java.util.List;
import java.util.Optional;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.avro.Stage;

/**
 * The stage table: the three stages of an abnormal, in the order they run, with every name the API, the original HTTP
 * protocol and the status give each of them. The agent, the fold, the projection and the HTTP server all read it here.
 */
public enum StageDefinition {
    INFORMATION_COLLECTION(Stage.InformationCollection, Phase.InformationCollecting, "InformationCollected", "InformationCollector",
            "informationcollector", "information collector", "FailedCollect", "skipInformationCollection"),
    DIAGNOSIS(Stage.Diagnosis, Phase.Diagnosing, "Identified", "Diagnoser", "diagnoser", "diagnoser", "FailedIdentify", "skipDiagnosis"),
    RECOVERY(Stage.Recovery, Phase.Recovering, "Recovered", "Recoverer", "recoverer", "recoverer", "FailedRecover", "skipRecovery");

    private final Stage stage;
    private final Phase runningPhase;
    private final String conditionType;
    private final String processorType;
    private final String path;
    private final String noun;
    private final String failedReason;
    private final String skipFlag;

    StageDefinition(Stage stage, Phase runningPhase, String conditionType, String processorType, String path, String noun,
            String failedReason, String skipFlag) {
        this.stage = stage;
        this.runningPhase = runningPhase;
        this.conditionType = conditionType;
        this.processorType = processorType;
        this.path = path;
        this.noun = noun;
        this.failedReason = failedReason;
        this.skipFlag = skipFlag;
    }

    /**
     * The row of a stage.
     *
     * @throws IllegalArgumentException for {@code Unknown}, which stands for a stage only a newer version knows
     */
    public static StageDefinition of(Stage stage) {
        return switch (stage) {
            case InformationCollection -> INFORMATION_COLLECTION;
            case Diagnosis -> DIAGNOSIS;
            case Recovery -> RECOVERY;
            case Unknown -> throw new IllegalArgumentException("stage Unknown: written by a newer version, it has no row here");
        };
    }

    /** The stage a command or profiler of this {@code type} runs in ({@code Diagnoser}, …); empty for an unknown type. */
    public static Optional<StageDefinition> ofProcessorType(String type) {
        for (StageDefinition definition : values()) {
            if (definition.processorType.equals(type)) {
                return Optional.of(definition);
            }
        }
        return Optional.empty();
    }

    /** The stage as the events name it. */
    public Stage stage() {
        return stage;
    }

    /** The phase while the stage runs. */
    public Phase runningPhase() {
        return runningPhase;
    }

    /** The condition that reports the stage's outcome: {@code InformationCollected}, {@code Identified}, {@code Recovered}. */
    public String conditionType() {
        return conditionType;
    }

    /** The kind of its processors, also the {@code type} of its commands and profilers: {@code Diagnoser}, … */
    public String processorType() {
        return processorType;
    }

    /** The first path segment of its processors in the original HTTP protocol: {@code /diagnoser/<name>}, … */
    public String path() {
        return path;
    }

    /** Its processor kind in prose: {@code information collector}, {@code diagnoser}, {@code recoverer}. */
    public String noun() {
        return noun;
    }

    /** The reason of a stage in which no processor succeeded (the original's Warning event names). */
    public String failedReason() {
        return failedReason;
    }

    /** The spec field that skips the stage. */
    public String skipFlag() {
        return skipFlag;
    }

    /** Whether the spec skips the stage. */
    public boolean skipped(AbnormalSpec spec) {
        Boolean skip = switch (this) {
            case INFORMATION_COLLECTION -> spec.skipInformationCollection;
            case DIAGNOSIS -> spec.skipDiagnosis;
            case RECOVERY -> spec.skipRecovery;
        };
        return Boolean.TRUE.equals(skip);
    }

    /** The processors the spec assigns to the stage, in the order they are to be tried. */
    public List<NamespacedName> assigned(AbnormalSpec spec) {
        List<NamespacedName> assigned = switch (this) {
            case INFORMATION_COLLECTION -> spec.assignedInformationCollectors;
            case DIAGNOSIS -> spec.assignedDiagnosers;
            case RECOVERY -> spec.assignedRecoverers;
        };
        return assigned == null ? List.of() : assigned;
    }
}
