package io.kdiag.api.v1;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;

/** The state of a diagnosis: a projection of the abnormal's events on {@code kdiag.diagnosis-events}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AbnormalStatus {
    /** True once a diagnoser succeeded, or diagnosis was skipped. */
    public Boolean identifiable;
    /** True once a recoverer succeeded, or recovery was skipped. */
    public Boolean recoverable;
    /** {@code InformationCollecting}, {@code Diagnosing}, {@code Recovering}, {@code Succeeded} or {@code Failed}. */
    public String phase;
    /** {@code InformationCollected}, {@code Identified} and {@code Recovered}. */
    public List<AbnormalCondition> conditions;
    /** Human-readable detail of the last failure. */
    public String message;
    /** CamelCase reason of the last failure. */
    public String reason;
    /** When the agent accepted the abnormal (RFC 3339). */
    public String startTime;
    /** The diagnoser that identified the fault. */
    public NamespacedName diagnoser;
    /** The recoverer that recovered it. */
    public NamespacedName recoverer;
    /**
     * Present while a recovery waits for a person's approval: the wait that the annotations {@code kdiag.io/approval}
     * and {@code kdiag.io/approval-by} answer.
     */
    public PendingApproval pendingApproval;
    /** Results of {@code spec.commandExecutors}. */
    public List<CommandExecutorStatus> commandExecutors;
    /** Results of {@code spec.profilers}. */
    public List<ProfilerStatus> profilers;
    /** Every processor's output, by context key ({@code processInformation}, {@code podDiskUsageDiagnosis}, ...). */
    @PreserveUnknownFields
    public Map<String, Object> context;
}
