package io.kdiag.nodeagent.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
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
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.BudgetChecked;
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
 * Each successful processor's output goes into the context the next one gets. After each stage's decision, the
 * policy's shadows of that stage run beside it ({@link ShadowRuns}).
 *
 * <p>A recovery stage that needs a person's approval ({@link Approvals}) emits {@code ApprovalRequested} and is parked
 * ({@link Parking}); {@link #resume} goes on with it once the decision, or the deadline, came.
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
    private final Approvals approvals;
    private final Parking parking;
    private final ShadowRuns shadows;
    private final RecoveryBudgetGate budgets;

    /** What a stage leaves to the next: go on, stop (the abnormal ended), or wait parked. */
    private enum Next { GO_ON, END, PARKED }

    /**
     * {@code node}: what the node offers the workers; {@code recoveries}: whether recoverers may start; {@code approvals}:
     * whether a person must approve them first; {@code parking}: where an abnormal waits for that; {@code budgets}: the
     * cluster-wide budgets a recoverer they cover asks before it runs.
     */
    public StageRunner(String nodeName, NodeServices node, Processors processors, StageCommands commands, StageProfilers profilers,
                ContextFitter fitter, AgentMetrics metrics, RecoverySwitch recoveries, Approvals approvals, Parking parking,
                RecoveryBudgetGate budgets) {
        this.nodeName = nodeName;
        this.node = node;
        this.processors = processors;
        this.commands = commands;
        this.profilers = profilers;
        this.fitter = fitter;
        this.metrics = metrics;
        this.recoveries = recoveries;
        this.approvals = approvals;
        this.parking = parking;
        this.shadows = new ShadowRuns(nodeName, processors, fitter.limits(), metrics);
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
        stages(new AbnormalRun(request, spec, events, nodeName, node), StageDefinition.values()[0].stage(), false);
    }

    /**
     * Goes on with a parked abnormal as its gate answered: records the answer's event, then runs the rest of the stage it
     * waited in and the stages after it, or ends that stage {@code Failed}. The abnormal is no longer parked once the
     * answer is on record; a crash after that ends it at the next start, as any abnormal the agent was running.
     */
    void resume(Parking.Parked parked, Gate.Answer answer, AbnormalEvents events) throws InterruptedException, EventSink.DeliveryException {
        AbnormalRun run = new AbnormalRun(parked, ApiSerialization.spec(parked.request().getSpec()), events, nodeName, node);
        if (answer.event() != null) {
            events.awaitAck(events.emit(answer.event()));
        }
        try {
            parking.release(parked.uid());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release parked abnormal " + parked.uid(), e);
        }
        LOG.info("abnormal resumed uid={} node={} gate={} proceed={} reason={}", parked.uid(), nodeName, parked.gate(), answer.proceed(),
                answer.reason());
        if (!answer.proceed()) {
            finish(run, parked.resumeAt(), StageOutcome.Failed, null, answer.reason(), AbnormalEvents.truncate(answer.message()));
            events.finish();
            return;
        }
        run.pass(parked.gate());
        stages(run, parked.resumeAt(), true);
    }

    /**
     * Runs the stages from {@code first} on and finishes the abnormal, unless a stage parked it. {@code resumed}: the first
     * stage started before the abnormal was parked; its work goes on without a second {@code StageStarted}.
     */
    private void stages(AbnormalRun run, Stage first, boolean resumed) throws InterruptedException, EventSink.DeliveryException {
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            if (definition.ordinal() < StageDefinition.of(first).ordinal()) {
                continue;
            }
            long start = System.nanoTime();
            Next next = Next.END;
            ShadowRuns.Beside beside = shadows.beside(run, stage);
            try {
                next = resumed && stage == first ? work(run, stage) : stage(run, stage);
            } finally {
                metrics.stageDuration(stage, Duration.ofNanos(System.nanoTime() - start));
                if (!run.finished(stage) && next != Next.PARKED) {
                    // interrupted or undeliverable: the stage neither succeeded nor failed
                    metrics.stageError(stage);
                }
            }
            if (next == Next.PARKED) {
                return;
            }
            // after the stage's decision, so nothing a shadow does can change it
            shadows.run(run, beside);
            if (next == Next.END) {
                break;
            }
        }
        run.events().finish();
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

    /** Runs one stage. */
    private Next stage(AbnormalRun run, Stage stage) throws InterruptedException, EventSink.DeliveryException {
        run.events().emit(new StageStarted(stage));
        return work(run, stage);
    }

    /** The work of a stage after its {@code StageStarted}: what the spec assigns, once every gate let it through. */
    private Next work(AbnormalRun run, Stage stage) throws InterruptedException, EventSink.DeliveryException {
        StageDefinition definition = StageDefinition.of(stage);
        if (definition.skipped(run.spec())) {
            finish(run, stage, StageOutcome.Skipped, null, null, definition.skipFlag() + " is set");
            return Next.GO_ON;
        }
        List<io.kdiag.api.v1.NamespacedName> assigned = definition.assigned(run.spec());
        if (stage == Stage.Recovery && hasWork(run, assigned)) {
            if (refusedWhilePaused(run)) {
                return Next.END;
            }
            if (!run.passed(Approvals.GATE)) {
                ApprovalRequested asked = approvals.requestFor(run, assigned);
                if (asked != null) {
                    long seq = run.events().nextSeq();
                    run.events().emit(asked);
                    park(run, stage, Approvals.GATE, seq, Processors.name(asked.getProcessor()), asked.getExpiresAt());
                    return Next.PARKED;
                }
            }
            // the first recoverer asks before any of the stage's work: a budget that waits parks the abnormal here, and it
            // goes on from the stage's start without running anything twice
            if (!assigned.isEmpty() && budgets.covers(run.request().getNamespace(), Processors.of(assigned.get(0)))
                    && !run.passed(BudgetWaits.GATE)) {
                Next next = checkBudget(run, Processors.of(assigned.get(0)), true);
                if (next != Next.GO_ON) {
                    return next;
                }
                run.pass(BudgetWaits.GATE);
            }
        }
        commands.run(stage, run);
        profilers.run(stage, run);
        if (assigned.isEmpty()) {
            finish(run, stage, StageOutcome.Skipped, null, null, "no " + definition.noun() + " is assigned");
            return Next.GO_ON;
        }
        boolean anySucceeded = false;
        NamespacedName winner = null;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < assigned.size(); i++) {
            NamespacedName processor = Processors.of(assigned.get(i));
            boolean budgeted = stage == Stage.Recovery && budgets.covers(run.request().getNamespace(), processor);
            // a pause that came while the stage's commands or an earlier recoverer ran stops the next recoverer
            if (stage == Stage.Recovery && refusedWhilePaused(run)) {
                if (i == 0 && budgeted) {
                    budgets.release(run.uid(), run.request().getNamespace(), processor);
                }
                return Next.END;
            }
            // the first was granted before the stage's work
            if (budgeted && i > 0 && checkBudget(run, processor, false) != Next.GO_ON) {
                return Next.END;
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
            return Next.END;
        }
        finish(run, stage, StageOutcome.Succeeded, winner, null, null);
        return Next.GO_ON;
    }

    /**
     * Parks the abnormal at {@code gate} before the work of {@code stage}, until an answer or the {@code deadline}: once the
     * event at {@code askedSeq} (the one that says what it waits for; an answer must name its seq) is acknowledged, writes
     * the wait to the disk, so the agent can take the next abnormal and commit past this one.
     *
     * @param subject what the gate decides on, kept for its answers (e.g. the recoverer, {@code namespace/name})
     */
    private void park(AbnormalRun run, Stage stage, String gate, long askedSeq, String subject, Instant deadline)
            throws InterruptedException, EventSink.DeliveryException {
        run.events().flush();
        try {
            parking.park(run.park(gate, askedSeq, subject, deadline, stage));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot park abnormal " + run.uid(), e);
        }
        LOG.info("abnormal parked uid={} node={} gate={} seq={} subject={} deadline={}", run.uid(), nodeName, gate, askedSeq, subject,
                deadline);
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
     * Asks the budgets whether the recoverer may run and records the answer ({@code BudgetChecked}): {@code GO_ON} when
     * granted; {@code PARKED} when a budget waits and {@code mayPark} (nothing of the stage ran yet), until the arbiter's
     * next answer or the deadline; else the recovery stage ends {@code Failed} ({@code END}). A wait that may not park is
     * withdrawn: going on later from the stage's start would run again what already ran.
     */
    private Next checkBudget(AbnormalRun run, NamespacedName processor, boolean mayPark) throws InterruptedException,
            EventSink.DeliveryException {
        String namespace = run.request().getNamespace();
        RecoveryBudgetGate.Answer answer = budgets.acquire(run.uid(), namespace, processor);
        long seq = run.events().nextSeq();
        run.events().emit(new BudgetChecked(processor, answer.verdict(), answer.budget(),
                answer.message() == null ? null : AbnormalEvents.truncate(answer.message())));
        metrics.budgetChecked(answer.verdict());
        LOG.info("budget checked uid={} node={} recoverer={} verdict={} budget={}", run.uid(), nodeName, Processors.name(processor),
                answer.verdict(), answer.budget());
        String message = "recoverer " + Processors.name(processor) + " not run: ";
        switch (answer.verdict()) {
            case Granted -> {
                return Next.GO_ON;
            }
            case Exceeded -> message += answer.message();
            case Waiting -> {
                if (mayPark) {
                    // until the arbiter's next answer, or until it must have come
                    park(run, Stage.Recovery, BudgetWaits.GATE, seq, Processors.name(processor),
                            Instant.now().plus(budgets.maxWait()).plus(budgets.answerTimeout()));
                    return Next.PARKED;
                }
                budgets.release(run.uid(), namespace, processor);
                message += answer.message() + "; only the first recoverer of a stage can wait (a later one would run the stage's "
                        + "earlier work again when it goes on)";
            }
            default -> {
                // a grant may still come: give it back at once
                budgets.release(run.uid(), namespace, processor);
                finish(run, Stage.Recovery, StageOutcome.Failed, null, RecoveryBudgetGate.UNANSWERED_REASON,
                        AbnormalEvents.truncate(message + answer.message()));
                return Next.END;
            }
        }
        finish(run, Stage.Recovery, StageOutcome.Failed, null, RecoveryBudgetGate.EXCEEDED_REASON, AbnormalEvents.truncate(message));
        return Next.END;
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
        // the output's JSON is written once (for a built-in, by its output cap): the size checks, the event and the
        // context all take it
        WorkResult produced = result;
        String updatesJson = null;
        if (result.succeeded()) {
            ContextFitter.Fitted fitted = fitter.fit(run, name, result,
                    events.encodedSizeWith(finishedEvent(stage, processor, produced, "", duration)));
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
        run.update(produced.contextJson().values(), result.removedKeys());
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
        run.finish(stage, reason);
        metrics.stage(stage, outcome);
        LOG.info("stage finished uid={} node={} stage={} outcome={} processor={}",
                run.uid(), nodeName, stage, outcome, processor == null ? null : Processors.name(processor));
    }
}
