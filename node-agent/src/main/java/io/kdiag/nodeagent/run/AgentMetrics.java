package io.kdiag.nodeagent.run;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.kdiag.common.metrics.KubeDiagMetric;
import io.kdiag.common.metrics.KubeDiagMetrics;
import io.kdiag.model.ShadowVerdict;
import io.kdiag.model.StageDefinition;
import io.kdiag.schemas.avro.BudgetVerdict;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.stageworkers.CommandResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The agent's meters, named here only. They follow the original's per-stage counters ({@code *_sync_success_count},
 * {@code *_command_executor_fail_count}, …) as labelled Prometheus counters: {@code kdiag_agent_stage_sync_total},
 * {@code kdiag_agent_command_executor_total}, {@code kdiag_agent_profiler_total}; plus stage and processor duration
 * histograms, three gauges, the records refused before they run ({@code kdiag_agent_records_refused_total}), and the
 * shadow runs by processor and verdict ({@code kdiag_agent_shadow_runs_total}). Meters
 * are looked up once per tag set and kept: building and registering one per event cost more than the event. The
 * original's counters themselves are served too ({@link KubeDiagMetrics}), counted as KubeDiag counted them:
 * {@code *_sync_success_count} for every stage that ended, skipped and failed ones included, and
 * {@code *_command_executor_success_count} for every command that ran, whatever its exit code.
 */
public final class AgentMetrics {
    static final String STAGE_SYNC = "kdiag.agent.stage.sync";
    static final String COMMAND_EXECUTOR = "kdiag.agent.command.executor";
    static final String PROFILER = "kdiag.agent.profiler";
    static final String STAGE_DURATION = "kdiag.agent.stage.duration";
    static final String PROCESSOR_DURATION = "kdiag.agent.processor.duration";
    static final String IN_FLIGHT = "kdiag.agent.abnormals.in.flight";
    static final String PARTITION_LAG = "kdiag.agent.partition.lag";
    static final String RECOVERIES_PAUSED = "kdiag.recoveries.paused";
    static final String RECORDS_REFUSED = "kdiag.agent.records.refused";
    static final String UNRUNNABLE = "kdiag.agent.unrunnable.records";
    static final String BUDGET_CHECKS = "kdiag.agent.recovery.budget.checks";
    static final String APPROVAL_DECISIONS = "kdiag.agent.approval.decisions";
    static final String PARKED = "kdiag.agent.abnormals.parked";
    /** A decision an approver's key verified: approved. */
    public static final String APPROVED = "approved";
    /** A decision an approver's key verified: denied. */
    public static final String DENIED = "denied";
    /** A decision no approver's key verified (or that was no decision), dead-lettered. */
    public static final String REFUSED = "refused";
    /** The {@code reason} of a decision that was not refused. */
    public static final String NO_REASON = "none";
    static final String SHADOW_RUNS = "kdiag.agent.shadow.runs";
    /** Why a record of this node ran nothing: not a request at all. */
    public static final String UNDECODABLE = "undecodable";
    /** A request no event can stand for (no uid, say). */
    public static final String INVALID = "invalid";
    /** An empty record (a tombstone). */
    public static final String TOMBSTONE = "tombstone";
    /** The agent failed on it (a defect), outside any abnormal it could end. */
    public static final String AGENT_ERROR = "agent-error";

    private final MeterRegistry registry;
    private final KubeDiagMetrics kubediag;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong partitionLag = new AtomicLong();
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();
    private final Map<Key, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

    /** A meter's name and tags: {@code tag} is the result or the processor, {@code null} for none. */
    private record Key(String name, Stage stage, String tag) {
    }

    /** Registers the gauges in {@code registry} ({@link #recoveriesPaused} its own); the other meters follow at their first use. */
    public AgentMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.kubediag = KubeDiagMetrics.of(registry).register(KubeDiagMetric.Component.AGENT);
        Gauge.builder(IN_FLIGHT, inFlight, AtomicInteger::get)
                .description("Abnormals this agent is running now")
                .register(registry);
        Gauge.builder(PARTITION_LAG, partitionLag, AtomicLong::get)
                .description("Records of this node's partition of the abnormals topic not yet handled (end offset - position)")
                .register(registry);
        // every counter and stage histogram at zero from the start, so rate() has a series before the first abnormal
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            for (String result : List.of("success", "skip", "fail", "error")) {
                counter(STAGE_SYNC, "Stages run, by result", stage, result);
            }
            for (String result : List.of("success", "fail")) {
                counter(COMMAND_EXECUTOR, "Commands of spec.commandExecutors, by result", stage, result);
                counter(PROFILER, "Profilers of spec.profilers, by result", stage, result);
            }
            stageTimer(stage);
        }
        for (String reason : List.of(UNDECODABLE, INVALID, TOMBSTONE, AGENT_ERROR)) {
            unrunnableCounter(reason);
        }
    }

    /**
     * A record of this node's partition ran nothing, for {@code reason} ({@link #UNDECODABLE}, {@link #INVALID},
     * {@link #TOMBSTONE}, {@link #AGENT_ERROR}); all but tombstones were dead-lettered.
     */
    public void unrunnable(String reason) {
        unrunnableCounter(reason).increment();
    }

    private Counter unrunnableCounter(String reason) {
        return counters.computeIfAbsent(new Key(UNRUNNABLE, null, reason), k -> Counter.builder(UNRUNNABLE)
                .description("Records of this node that ran nothing, by reason; all but tombstones are dead-lettered")
                .tag("reason", reason)
                .register(registry));
    }

    /** The budgets were asked before a recoverer ran: {@code kdiag_agent_recovery_budget_checks_total{verdict}}. */
    void budgetChecked(BudgetVerdict verdict) {
        counters.computeIfAbsent(new Key(BUDGET_CHECKS, null, verdict.name()), k -> Counter.builder(BUDGET_CHECKS)
                .description("Recovery budget answers before a recoverer ran, by verdict (Unknown: no answer in time)")
                .tag("verdict", verdict.name())
                .register(registry)).increment();
    }

    /** A stage ended with this outcome: {@code success}, {@code skip} or {@code fail}. */
    void stage(Stage stage, StageOutcome outcome) {
        String result = switch (outcome) {
            case Succeeded -> "success";
            case Skipped -> "skip";
            case Failed -> "fail";
            case Unknown -> throw new IllegalArgumentException("an agent never ends a stage Unknown");
        };
        sync(stage, result);
        kubediag.increment(kubediag(stage, "SYNC_SUCCESS"));
        if (outcome != StageOutcome.Succeeded) {
            kubediag.increment(kubediag(stage, "SYNC_" + result.toUpperCase(Locale.ROOT)));
        }
    }

    /** A stage was cut short (interrupted, events not delivered): {@code error}. */
    void stageError(Stage stage) {
        sync(stage, "error");
        kubediag.increment(kubediag(stage, "SYNC_ERROR"));
    }

    /** The KubeDiag series of a stage: {@code information_manager_*}, {@code diagnoser_chain_*}, {@code recoverer_chain_*}. */
    private static KubeDiagMetric kubediag(Stage stage, String suffix) {
        String prefix = switch (stage) {
            case InformationCollection -> "INFORMATION_MANAGER";
            case Diagnosis -> "DIAGNOSER_CHAIN";
            case Recovery -> "RECOVERER_CHAIN";
            case Unknown -> throw new IllegalArgumentException("an agent never runs a stage Unknown");
        };
        return KubeDiagMetric.valueOf(prefix + "_" + suffix + "_COUNT");
    }

    private void sync(Stage stage, String result) {
        counter(STAGE_SYNC, "Stages run, by result", stage, result).increment();
    }

    /** A stage took this long. */
    void stageDuration(Stage stage, Duration duration) {
        stageTimer(stage).record(duration);
    }

    private Timer stageTimer(Stage stage) {
        return timers.computeIfAbsent(new Key(STAGE_DURATION, stage, null), k -> Timer.builder(STAGE_DURATION).description("Time stages took")
                .tag("stage", stage.name())
                .publishPercentileHistogram()
                .register(registry));
    }

    /** A command of {@code spec.commandExecutors} ended: {@code success} (exit code 0) or {@code fail}. */
    void command(Stage stage, CommandResult.Status status) {
        counter(COMMAND_EXECUTOR, "Commands of spec.commandExecutors, by result", stage,
                status == CommandResult.Status.SUCCEEDED ? "success" : "fail").increment();
        boolean ran = status == CommandResult.Status.SUCCEEDED || status == CommandResult.Status.EXITED_NON_ZERO;
        kubediag.increment(kubediag(stage, ran ? "COMMAND_EXECUTOR_SUCCESS" : "COMMAND_EXECUTOR_FAIL"));
    }

    /** A profiler of {@code spec.profilers} ended: {@code success} or {@code fail}. */
    void profiler(Stage stage, boolean succeeded) {
        counter(PROFILER, "Profilers of spec.profilers, by result", stage, succeeded ? "success" : "fail").increment();
        kubediag.increment(kubediag(stage, succeeded ? "PROFILER_SUCCESS" : "PROFILER_FAIL"));
    }

    private Counter counter(String name, String description, Stage stage, String result) {
        return counters.computeIfAbsent(new Key(name, stage, result), k -> Counter.builder(name).description(description)
                .tag("stage", stage.name()).tag("result", result)
                .register(registry));
    }

    /** A processor call took this long. */
    void processor(Stage stage, NamespacedName processor, Duration duration) {
        String name = processor.getNamespace() + "/" + processor.getName();
        timers.computeIfAbsent(new Key(PROCESSOR_DURATION, stage, name), k -> Timer.builder(PROCESSOR_DURATION)
                .description("Time processor calls took")
                .tag("stage", stage.name()).tag("processor", name)
                .publishPercentileHistogram()
                .register(registry)).record(duration);
    }

    /** A shadow run ended with this verdict ({@link ShadowVerdict#word()}: {@code Identified}, {@code WouldAct}, ...). */
    void shadow(Stage stage, NamespacedName processor, ShadowVerdict verdict) {
        String name = processor.getNamespace() + "/" + processor.getName();
        counters.computeIfAbsent(new Key(SHADOW_RUNS, stage, name + " " + verdict.word()), k -> Counter.builder(SHADOW_RUNS)
                .description("Shadow runs of diagnosers and recoverers beside the real chain, by verdict")
                .tag("stage", stage.name()).tag("processor", name).tag("verdict", verdict.word())
                .register(registry)).increment();
    }

    /** A record of the node's partition was refused (unsigned, forged, ...) and dead-lettered; {@code reason} is a CamelCase word. */
    public void refused(String reason) {
        refusedCounter(reason).increment();
    }

    /** Registers the refused-records counter of every reason at zero, as the other counters are from the start. */
    public void refusable(List<String> reasons) {
        reasons.forEach(this::refusedCounter);
    }

    private Counter refusedCounter(String reason) {
        return refusals.computeIfAbsent(reason, r -> Counter.builder(RECORDS_REFUSED)
                .description("Records of this node's partition refused and dead-lettered without running, by reason")
                .tag("reason", r)
                .register(registry));
    }

    /**
     * A decision of the approvals topic: {@link #APPROVED} or {@link #DENIED} with {@link #NO_REASON}, or {@link #REFUSED}
     * with why (a CamelCase word: {@code UnknownKey}, {@code BadSignature}, ...).
     */
    public void decision(String result, String reason) {
        counters.computeIfAbsent(new Key(APPROVAL_DECISIONS, null, result + "/" + reason), k -> Counter.builder(APPROVAL_DECISIONS)
                .description("Decisions of the approvals topic for this node: approved, denied, or refused and dead-lettered (by reason)")
                .tag("result", result).tag("reason", reason)
                .register(registry)).increment();
    }

    /** Reports how many abnormals wait parked ({@code kdiag_agent_abnormals_parked}). */
    public void parked(Parking parking) {
        Gauge.builder(PARKED, parking, Parking::size)
                .description("Abnormals of this agent waiting parked (for a person's approval)")
                .register(registry);
    }

    /** The abnormals running now. */
    AtomicInteger inFlight() {
        return inFlight;
    }

    /** Reports {@code recoveries}' state as {@code kdiag_recoveries_paused}: 1 while this agent refuses to start recoveries. */
    public void recoveriesPaused(RecoverySwitch recoveries) {
        Gauge.builder(RECOVERIES_PAUSED, recoveries, r -> r.paused() ? 1 : 0)
                .description("1 while this agent refuses to start recoveries (paused cluster-wide, or the recovery-control topic not yet read)")
                .register(registry);
    }

    /** Records of the node's partition not yet handled. */
    public void partitionLag(long lag) {
        partitionLag.set(lag);
    }
}
