package io.kdiag.nodeagent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.StatusProjection;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageOutcome;
import io.kdiag.schemas.avro.StageStarted;
import io.kdiag.stageworkers.CommandExecutor;
import io.kdiag.stageworkers.CommandResult;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one abnormal through its stages and emits what happens. Per stage: {@code StageStarted}; if skipped by the
 * spec, {@code StageFinished(Skipped)}; else the stage's commands ({@code CommandFinished}), its profilers
 * ({@code ProfilerFinished}), then the assigned processors in the assigned order ({@code ProcessorStarted},
 * {@code ProcessorFinished}) and {@code StageFinished}. Every collector runs and one success suffices; diagnosers
 * and recoverers stop at the first success. A failed stage ends the abnormal. The context is kept here, updated
 * after each successful processor, and handed to the next.
 */
final class StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);

    private final String nodeName;
    private final String builtinNamespace;
    private final WorkerCatalog catalog;
    private final WorkerRunner workers;
    private final CommandExecutor commands;
    private final NodeServices node;
    private final AgentMetrics metrics;

    StageRunner(String nodeName, String builtinNamespace, WorkerCatalog catalog, WorkerRunner workers, CommandExecutor commands,
                NodeServices node, AgentMetrics metrics) {
        this.nodeName = nodeName;
        this.builtinNamespace = builtinNamespace;
        this.catalog = catalog;
        this.workers = workers;
        this.commands = commands;
        this.node = node;
        this.metrics = metrics;
    }

    /** Runs the abnormal from {@code Accepted} to its end and returns once every event is acknowledged. */
    void run(AbnormalRequest request, AbnormalEvents events) throws InterruptedException, EventSink.DeliveryException {
        String uid = request.getUid();
        events.emit(Accepted.newBuilder()
                .setNamespace(request.getNamespace())
                .setName(request.getName())
                .setOrigin(request.getOrigin())
                .setSpec(request.getSpec())
                .setLabels(request.getLabels())
                .build());
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
        Run run = new Run(request, spec, events);
        for (Stage stage : Stage.values()) {
            if (!run.stage(stage)) {
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
        AbnormalFailed failed = entry.runningRecoverer() != null
                ? new AbnormalFailed("RecoveryInterrupted",
                        cause + " while recoverer " + entry.runningRecoverer() + " was running; it is not run again")
                : new AbnormalFailed("AgentRestarted", cause + " while the abnormal was running; it is not run again");
        events.emit(failed);
        events.emit(failed);
        events.finish();
        LOG.warn("abnormal interrupted uid={} node={} reason={}", events.uid(), nodeName, failed.getReason());
    }

    /** The state of one abnormal while it runs. */
    private final class Run {
        private final AbnormalRequest request;
        private final AbnormalSpec spec;
        private final AbnormalEvents events;
        private final Map<String, Object> context = new LinkedHashMap<>();

        Run(AbnormalRequest request, AbnormalSpec spec, AbnormalEvents events) {
            this.request = request;
            this.spec = spec;
            this.events = events;
        }

        /** Runs one stage; {@code false} when it failed and nothing more runs. */
        boolean stage(Stage stage) throws InterruptedException, EventSink.DeliveryException {
            events.emit(new StageStarted(stage));
            String skipFlag = skipFlag(stage);
            if (skipFlag != null) {
                finish(stage, StageOutcome.Skipped, null, null, skipFlag + " is set");
                return true;
            }
            runCommands(stage);
            runProfilers(stage);
            List<io.kdiag.api.v1.NamespacedName> assigned = assigned(stage);
            if (assigned.isEmpty()) {
                finish(stage, StageOutcome.Skipped, null, null, "no " + kind(stage) + " is assigned");
                return true;
            }
            boolean anySucceeded = false;
            NamespacedName winner = null;
            List<String> failures = new ArrayList<>();
            for (io.kdiag.api.v1.NamespacedName reference : assigned) {
                NamespacedName processor = new NamespacedName(
                        reference.namespace == null ? "" : reference.namespace, reference.name == null ? "" : reference.name);
                if (runProcessor(stage, processor, failures)) {
                    anySucceeded = true;
                    if (stage != Stage.InformationCollection) {
                        winner = processor;
                        break;
                    }
                }
            }
            if (!anySucceeded) {
                finish(stage, StageOutcome.Failed, null, failedReason(stage),
                        "no " + kind(stage) + " succeeded: " + String.join("; ", failures));
                return false;
            }
            finish(stage, StageOutcome.Succeeded, winner, null, null);
            return true;
        }

        private boolean runProcessor(Stage stage, NamespacedName processor, List<String> failures)
                throws InterruptedException, EventSink.DeliveryException {
            CompletableFuture<Void> started = events.emit(new ProcessorStarted(stage, processor));
            if (stage == Stage.Recovery) {
                // a recoverer has side effects: its start must be on record before it runs, so a crash cannot repeat it
                events.awaitAck(started);
            }
            long start = System.nanoTime();
            WorkResult result = execute(stage, processor);
            Duration duration = Duration.ofNanos(System.nanoTime() - start);
            metrics.processor(stage, processor, duration);
            String updates = result.succeeded() ? ApiSerialization.json(result.contextUpdates()) : null;
            events.emit(ProcessorFinished.newBuilder()
                    .setStage(stage)
                    .setProcessor(processor)
                    .setSucceeded(result.succeeded())
                    .setContextUpdates(updates)
                    .setRemovedContextKeys(List.copyOf(result.removedKeys()))
                    .setReason(result.reason())
                    .setMessage(result.message())
                    .setDurationMillis(duration.toMillis())
                    .build());
            LOG.info("processor finished uid={} node={} stage={} processor={} succeeded={} reason={}",
                    request.getUid(), nodeName, stage, name(processor), result.succeeded(), result.reason());
            if (!result.succeeded()) {
                failures.add(name(processor) + ": " + result.reason() + ": " + result.message());
                return false;
            }
            // the JSON form, as any later reader of the events sees it
            context.putAll(ApiSerialization.jsonObject(updates));
            result.removedKeys().forEach(context::remove);
            return true;
        }

        private WorkResult execute(Stage stage, NamespacedName processor) throws InterruptedException {
            if (!builtinNamespace.equals(processor.getNamespace())) {
                return WorkResult.failed("ProcessorNotFound", "processor " + name(processor) + " is not a built-in of this agent"
                        + " (namespace " + builtinNamespace + "); remote HTTP processors are not supported yet");
            }
            StageWorker worker = catalog.find(processor.getName()).orElse(null);
            if (worker == null) {
                return WorkResult.failed("ProcessorNotFound", "no built-in processor " + name(processor));
            }
            if (worker.stage() != stage) {
                return WorkResult.failed("WrongStage", "processor " + name(processor) + " runs in stage " + worker.stage()
                        + ", not " + stage);
            }
            return workers.run(worker, new WorkContext(request.getUid(), request.getNamespace(), request.getName(), nodeName,
                    spec, context, node));
        }

        private void runCommands(Stage stage) throws InterruptedException {
            if (spec.commandExecutors == null) {
                return;
            }
            for (CommandExecutorSpec command : spec.commandExecutors) {
                if (StatusProjection.stageOf(command.type) != stage) {
                    continue;
                }
                CommandResult result = commands.run(command.command, command.timeoutSeconds);
                metrics.command(result.status());
                events.emit(result.toEvent(stage));
                LOG.info("command finished uid={} node={} stage={} result={}", request.getUid(), nodeName, stage, result.status());
            }
        }

        private void runProfilers(Stage stage) {
            if (spec.profilers == null) {
                return;
            }
            for (ProfilerSpec profiler : spec.profilers) {
                if (StatusProjection.stageOf(profiler.type) != stage) {
                    continue;
                }
                String language = profiler.go != null ? "go" : profiler.java != null ? "java" : profiler.python != null ? "python" : "unknown";
                events.emit(new ProfilerFinished(stage, profiler.name, null,
                        "profiler " + profiler.name + ": " + language + " profiling is not available in this agent yet"));
            }
        }

        private void finish(Stage stage, StageOutcome outcome, NamespacedName processor, String reason, String message) {
            events.emit(new StageFinished(stage, outcome, processor, reason, message));
            metrics.stage(stage, outcome);
            LOG.info("stage finished uid={} node={} stage={} outcome={} processor={}",
                    request.getUid(), nodeName, stage, outcome, processor == null ? null : name(processor));
        }

        private String skipFlag(Stage stage) {
            Boolean skip = switch (stage) {
                case InformationCollection -> spec.skipInformationCollection;
                case Diagnosis -> spec.skipDiagnosis;
                case Recovery -> spec.skipRecovery;
            };
            if (!Boolean.TRUE.equals(skip)) {
                return null;
            }
            return switch (stage) {
                case InformationCollection -> "skipInformationCollection";
                case Diagnosis -> "skipDiagnosis";
                case Recovery -> "skipRecovery";
            };
        }

        private List<io.kdiag.api.v1.NamespacedName> assigned(Stage stage) {
            List<io.kdiag.api.v1.NamespacedName> list = switch (stage) {
                case InformationCollection -> spec.assignedInformationCollectors;
                case Diagnosis -> spec.assignedDiagnosers;
                case Recovery -> spec.assignedRecoverers;
            };
            return list == null ? List.of() : list;
        }
    }

    private static String kind(Stage stage) {
        return switch (stage) {
            case InformationCollection -> "information collector";
            case Diagnosis -> "diagnoser";
            case Recovery -> "recoverer";
        };
    }

    /** The original's Warning event names, as reasons. */
    private static String failedReason(Stage stage) {
        return switch (stage) {
            case InformationCollection -> "FailedCollect";
            case Diagnosis -> "FailedIdentify";
            case Recovery -> "FailedRecover";
        };
    }

    private static String name(NamespacedName processor) {
        return processor.getNamespace() + "/" + processor.getName();
    }
}
