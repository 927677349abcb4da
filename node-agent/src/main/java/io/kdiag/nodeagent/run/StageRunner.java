package io.kdiag.nodeagent.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.model.StageDefinition;
import io.kdiag.nodeagent.processors.Processors;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.BudgetChecked;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one abnormal through its stages and emits what happens. Per stage: {@code StageStarted}; if skipped by the
 * spec, {@code StageFinished(Skipped)}; else the stage's commands, its profilers, then the assigned processors in the
 * assigned order ({@code ProcessorStarted}, {@code ProcessorFinished}) and {@code StageFinished}. Every collector runs
 * and one success suffices; diagnosers and recoverers stop at the first success. A failed stage ends the abnormal.
 * Each successful processor's output goes into the context the next one gets.
 */
public final class StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);

    private final String nodeName;
    private final NodeServices node;
    private final Processors processors;
    private final StageCommands commands;
    private final StageProfilers profilers;
    private final ContextFitter fitter;
    private final AgentMetrics metrics;
    private final RecoverySwitch recoveries;
    private final RecoveryBudgetGate budgets;

    /**
     * {@code node}: what the node offers the workers; {@code recoveries}: whether recoverers may start; {@code budgets}:
     * the cluster-wide budgets a recoverer they cover asks before it runs.
     */
    public StageRunner(String nodeName, NodeServices node, Processors processors, StageCommands commands, StageProfilers profilers,
                ContextFitter fitter, AgentMetrics metrics, RecoverySwitch recoveries, RecoveryBudgetGate budgets) {
        this.nodeName = nodeName;
        this.node = node;
        this.processors = processors;
        this.commands = commands;
        this.profilers = profilers;
        this.fitter = fitter;
        this.metrics = metrics;
        this.recoveries = recoveries;
        this.budgets = budgets;
    }

    /** Runs the abnormal from {@code Accepted} to its end and returns once every event is acknowledged. */
    void run(AbnormalRequest request, AbnormalEvents events) throws InterruptedException, EventSink.DeliveryException {
        String uid = request.getUid();
        Accepted accepted = Accepted.newBuilder()
                .setNamespace(request.getNamespace())
                .setName(request.getName())
                .setOrigin(request.getOrigin())
                .setSpec(request.getSpec())
                .setLabels(request.getLabels())
                .build();
        int acceptedBytes = events.encodedSize(accepted);
        if (acceptedBytes > fitter.maxEventBytes()) {
            // the bridge never forwards such a request; one that got here anyway still ends with a status that says why
            accepted.setSpec("{}");
            accepted.setLabels(Map.of());
            events.emit(accepted);
            events.emit(new AbnormalFailed("RequestTooLarge", "the request takes " + acceptedBytes + " bytes (spec "
                    + request.getSpec().length() + " characters), more than the " + fitter.maxEventBytes() + " an event holds"));
            events.finish();
            LOG.info("abnormal failed uid={} node={} reason={}", uid, nodeName, "RequestTooLarge");
            return;
        }
        events.emit(accepted);
        LOG.info("abnormal accepted uid={} node={} namespace={} name={}", uid, nodeName, request.getNamespace(), request.getName());
        AbnormalSpec spec;
        try {
            spec = ApiSerialization.spec(request.getSpec());
            if (spec == null) {
                throw new IllegalArgumentException("the spec is empty");
            }
        } catch (RuntimeException e) {
            events.emit(new AbnormalFailed("InvalidSpec", "the spec is not a valid Abnormal spec: " + e.getMessage()));
            events.finish();
            LOG.info("abnormal failed uid={} node={} reason={}", uid, nodeName, "InvalidSpec");
            return;
        }
        AbnormalRun run = new AbnormalRun(request, spec, events, nodeName, node);
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            long start = System.nanoTime();
            boolean carryOn = false;
            try {
                carryOn = stage(run, stage);
            } finally {
                metrics.stageDuration(stage, Duration.ofNanos(System.nanoTime() - start));
                if (!run.finished(stage)) {
                    // interrupted or undeliverable: the stage neither succeeded nor failed
                    metrics.stageError(stage);
                }
            }
            if (!carryOn) {
                break;
            }
        }
        events.finish();
    }

    /**
     * Ends an abnormal a previous run left unfinished, without running anything of it again. {@code events} starts at
     * the last seq that was reserved, which may or may not have reached Kafka: the failure is sent at that seq and at
     * the next, so the fold sees no gap either way (it keeps the first copy of a seq and nothing moves a terminal phase).
     */
    void endInterrupted(Journal.Entry entry, AbnormalEvents events, String cause) throws InterruptedException, EventSink.DeliveryException {
        endInterrupted(entry, events, "AgentRestarted", cause);
    }

    /** As {@link #endInterrupted(Journal.Entry, AbnormalEvents, String)}, with the reason when no recoverer was running. */
    void endInterrupted(Journal.Entry entry, AbnormalEvents events, String reason, String cause)
            throws InterruptedException, EventSink.DeliveryException {
        AbnormalFailed failed = entry.runningRecoverer() != null
                ? new AbnormalFailed("RecoveryInterrupted",
                        cause + " while recoverer " + entry.runningRecoverer() + " was running; it is not run again")
                : new AbnormalFailed(reason, cause + " while the abnormal was running; it is not run again");
        events.emit(failed);
        events.emit(failed);
        events.finish();
        LOG.warn("abnormal interrupted uid={} node={} reason={}", events.uid(), nodeName, failed.getReason());
    }

    /** Runs one stage; {@code false} when it failed and nothing more runs. */
    private boolean stage(AbnormalRun run, Stage stage) throws InterruptedException, EventSink.DeliveryException {
        run.events().emit(new StageStarted(stage));
        StageDefinition definition = StageDefinition.of(stage);
        if (definition.skipped(run.spec())) {
            finish(run, stage, StageOutcome.Skipped, null, null, definition.skipFlag() + " is set");
            return true;
        }
        List<io.kdiag.api.v1.NamespacedName> assigned = definition.assigned(run.spec());
        if (stage == Stage.Recovery && hasWork(run, assigned) && refusedWhilePaused(run)) {
            return false;
        }
        commands.run(stage, run);
        profilers.run(stage, run);
        if (assigned.isEmpty()) {
            finish(run, stage, StageOutcome.Skipped, null, null, "no " + definition.noun() + " is assigned");
            return true;
        }
        boolean anySucceeded = false;
        NamespacedName winner = null;
        List<String> failures = new ArrayList<>();
        for (io.kdiag.api.v1.NamespacedName reference : assigned) {
            NamespacedName processor = new NamespacedName(
                    reference.namespace == null ? "" : reference.namespace, reference.name == null ? "" : reference.name);
            // a pause that came while the stage's commands or an earlier recoverer ran stops the next recoverer
            if (stage == Stage.Recovery && refusedWhilePaused(run)) {
                return false;
            }
            boolean budgeted = stage == Stage.Recovery && budgets.covers(run.request().getNamespace(), processor);
            if (budgeted && refusedByBudget(run, processor)) {
                return false;
            }
            boolean succeeded;
            try {
                succeeded = runProcessor(run, stage, processor, failures);
            } finally {
                if (budgeted) {
                    budgets.release(run.uid(), run.request().getNamespace(), processor);
                }
            }
            if (succeeded) {
                anySucceeded = true;
                if (stage != Stage.InformationCollection) {
                    winner = processor;
                    break;
                }
            }
        }
        if (!anySucceeded) {
            finish(run, stage, StageOutcome.Failed, null, definition.failedReason(),
                    AbnormalEvents.truncate("no " + definition.noun() + " succeeded: " + String.join("; ", failures)));
            return false;
        }
        finish(run, stage, StageOutcome.Succeeded, winner, null, null);
        return true;
    }

    /** Whether the stage would run anything: an assigned processor, or a command or profiler of its type. */
    private static boolean hasWork(AbnormalRun run, List<io.kdiag.api.v1.NamespacedName> assigned) {
        return !assigned.isEmpty() || !AbnormalRun.inStage(run.spec().commandExecutors, c -> c.type, Stage.Recovery).isEmpty()
                || !AbnormalRun.inStage(run.spec().profilers, p -> p.type, Stage.Recovery).isEmpty();
    }

    /** Ends the recovery stage {@code Failed} ({@link RecoverySwitch#PAUSED_REASON}) if recoveries are paused now. */
    private boolean refusedWhilePaused(AbnormalRun run) {
        String paused = recoveries.pausedBecause();
        if (paused == null) {
            return false;
        }
        finish(run, Stage.Recovery, StageOutcome.Failed, null, RecoverySwitch.PAUSED_REASON, AbnormalEvents.truncate(paused));
        return true;
    }

    /**
     * Asks the budgets whether the recoverer may run and records the answer ({@code BudgetChecked}); ends the recovery
     * stage {@code Failed} unless it was granted. A recovery over a budget that waits fails too: waiting without
     * holding the partition needs the agent to park the abnormal, which it cannot yet; the wait is withdrawn.
     */
    private boolean refusedByBudget(AbnormalRun run, NamespacedName processor) throws InterruptedException {
        String namespace = run.request().getNamespace();
        RecoveryBudgetGate.Answer answer = budgets.acquire(run.uid(), namespace, processor);
        run.events().emit(new BudgetChecked(processor, answer.verdict(), answer.budget(),
                answer.message() == null ? null : AbnormalEvents.truncate(answer.message())));
        metrics.budgetChecked(answer.verdict());
        LOG.info("budget checked uid={} node={} recoverer={} verdict={} budget={}", run.uid(), nodeName, Processors.name(processor),
                answer.verdict(), answer.budget());
        String message = "recoverer " + Processors.name(processor) + " not run: ";
        switch (answer.verdict()) {
            case Granted -> {
                return false;
            }
            case Exceeded -> message += answer.message();
            case Waiting -> {
                budgets.release(run.uid(), namespace, processor);
                message += answer.message() + "; the agent cannot wait for room without holding its partition yet, so the recovery"
                        + " fails instead (onExceeded: Fail behaviour)";
            }
            default -> {
                // a grant may still come: give it back at once
                budgets.release(run.uid(), namespace, processor);
                finish(run, Stage.Recovery, StageOutcome.Failed, null, RecoveryBudgetGate.UNANSWERED_REASON,
                        AbnormalEvents.truncate(message + answer.message()));
                return true;
            }
        }
        finish(run, Stage.Recovery, StageOutcome.Failed, null, RecoveryBudgetGate.EXCEEDED_REASON, AbnormalEvents.truncate(message));
        return true;
    }

    private boolean runProcessor(AbnormalRun run, Stage stage, NamespacedName processor, List<String> failures)
            throws InterruptedException, EventSink.DeliveryException {
        AbnormalEvents events = run.events();
        CompletableFuture<Void> started = events.emit(new ProcessorStarted(stage, processor));
        if (stage == Stage.Recovery) {
            // a recoverer has side effects: its start must be on record before it runs, so a crash cannot repeat it
            events.awaitAck(started);
        }
        long start = System.nanoTime();
        WorkResult result = processors.run(stage, processor, run.workContext(), run.request().getOrigin(), run::snapshot);
        Duration duration = Duration.ofNanos(System.nanoTime() - start);
        metrics.processor(stage, processor, duration);
        String name = Processors.name(processor);
        String producedJson = null;
        String updatesJson = null;
        if (result.succeeded()) {
            // serialized once: for the size checks, the event and the context
            producedJson = ApiSerialization.json(result.contextUpdates());
            WorkResult produced = result;
            ContextFitter.Fitted fitted = fitter.fit(run, name, result, producedJson,
                    json -> events.encodedSize(finishedEvent(stage, processor, produced, json, duration)));
            result = fitted.result();
            updatesJson = fitted.updatesJson();
        }
        events.emit(finishedEvent(stage, processor, result, updatesJson, duration));
        LOG.info("processor finished uid={} node={} stage={} processor={} succeeded={} reason={}",
                run.uid(), nodeName, stage, name, result.succeeded(), result.reason());
        if (!result.succeeded()) {
            failures.add(name + ": " + result.reason() + ": " + result.message());
            return false;
        }
        // Later processors get the whole output in its JSON form; only the event (and so the status) refers to
        // evidence for values too large for a record.
        run.update(producedJson, result.removedKeys());
        return true;
    }

    /** {@code updatesJson}: the JSON of the context updates, for a succeeded result. */
    private static ProcessorFinished finishedEvent(Stage stage, NamespacedName processor, WorkResult result, String updatesJson,
                                                   Duration duration) {
        return ProcessorFinished.newBuilder()
                .setStage(stage)
                .setProcessor(processor)
                .setSucceeded(result.succeeded())
                .setContextUpdates(result.succeeded() ? updatesJson : null)
                .setRemovedContextKeys(List.copyOf(result.removedKeys()))
                .setReason(result.reason())
                .setMessage(result.message() == null ? null : AbnormalEvents.truncate(result.message()))
                .setDurationMillis(duration.toMillis())
                .build();
    }

    private void finish(AbnormalRun run, Stage stage, StageOutcome outcome, NamespacedName processor, String reason, String message) {
        run.events().emit(new StageFinished(stage, outcome, processor, reason, message));
        run.finish(stage);
        metrics.stage(stage, outcome);
        LOG.info("stage finished uid={} node={} stage={} outcome={} processor={}",
                run.uid(), nodeName, stage, outcome, processor == null ? null : Processors.name(processor));
    }
}
