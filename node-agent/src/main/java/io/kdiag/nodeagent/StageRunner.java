package io.kdiag.nodeagent;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.CommandExecutorSpec;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.api.v1.ProfilerSpec;
import io.kdiag.model.StageDefinition;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.CommandFinished;
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
 *
 * <p>A processor reference names a built-in (in the built-in namespace) or else a registered InformationCollector,
 * Diagnoser or Recoverer, which is called over HTTP. The policy is asked before every processor, command and
 * profiler. A context output larger than {@code maxContextBytes}, or one that would make its event larger than Kafka
 * takes, is stored as an artifact and referenced from the context.
 */
final class StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);
    /** Seconds a remote processor call may take when its registration gives none (the original's default). */
    static final int DEFAULT_REMOTE_TIMEOUT_SECONDS = 30;
    /** Longest failure message kept in an event. */
    private static final int MAX_MESSAGE_CHARS = 4096;

    /**
     * Size limits of what the agent emits.
     *
     * @param maxContextBytes largest JSON of one processor's context updates before values move to artifacts
     * @param maxEventBytes largest encoded event (the producer's {@code max.request.size} less a margin)
     */
    record Limits(int maxContextBytes, int maxEventBytes) {
    }

    /** What a processor's result becomes after {@code fit}: {@code updatesJson} is its updates' JSON when it succeeded. */
    private record Fitted(WorkResult result, String updatesJson) {
    }

    private final String nodeName;
    private final BuiltIns builtIns;
    private final Registrations registrations;
    private final RemoteProcessor remote;
    private final URI ownServer;
    private final String selfToken;
    private final Supplier<Policy> policy;
    private final NodeServices node;
    private final Profilers profilers;
    private final Artifacts artifacts;
    private final Limits limits;
    private final AgentMetrics metrics;

    /**
     * @param ownServer base URL of this agent's HTTP server, for registrations without an external address
     * @param selfToken what the agent's calls to itself carry in {@link AgentHttpServer#TOKEN_HEADER}
     */
    StageRunner(String nodeName, BuiltIns builtIns, Registrations registrations, RemoteProcessor remote, URI ownServer,
                String selfToken, Supplier<Policy> policy, NodeServices node, Profilers profilers, Artifacts artifacts, Limits limits,
                AgentMetrics metrics) {
        this.nodeName = nodeName;
        this.builtIns = builtIns;
        this.registrations = registrations;
        this.remote = remote;
        this.ownServer = ownServer;
        this.selfToken = selfToken;
        this.policy = policy;
        this.node = node;
        this.profilers = profilers;
        this.artifacts = artifacts;
        this.limits = limits;
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
        for (StageDefinition definition : StageDefinition.values()) {
            Stage stage = definition.stage();
            long start = System.nanoTime();
            boolean carryOn = false;
            try {
                carryOn = run.stage(stage);
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

    /** The state of one abnormal while it runs. */
    private final class Run {
        private final AbnormalRequest request;
        private final AbnormalSpec spec;
        private final AbnormalEvents events;
        /** Every output in full, including values whose event refers to an artifact: later processors get them whole. */
        private final Map<String, Object> context = new LinkedHashMap<>();
        private final List<Stage> finished = new ArrayList<>();

        Run(AbnormalRequest request, AbnormalSpec spec, AbnormalEvents events) {
            this.request = request;
            this.spec = spec;
            this.events = events;
        }

        boolean finished(Stage stage) {
            return finished.contains(stage);
        }

        /** Runs one stage; {@code false} when it failed and nothing more runs. */
        boolean stage(Stage stage) throws InterruptedException, EventSink.DeliveryException {
            events.emit(new StageStarted(stage));
            StageDefinition definition = StageDefinition.of(stage);
            if (definition.skipped(spec)) {
                finish(stage, StageOutcome.Skipped, null, null, definition.skipFlag() + " is set");
                return true;
            }
            runCommands(stage);
            runProfilers(stage);
            List<io.kdiag.api.v1.NamespacedName> assigned = definition.assigned(spec);
            if (assigned.isEmpty()) {
                finish(stage, StageOutcome.Skipped, null, null, "no " + definition.noun() + " is assigned");
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
                finish(stage, StageOutcome.Failed, null, definition.failedReason(),
                        truncate("no " + definition.noun() + " succeeded: " + String.join("; ", failures)));
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
            String producedJson = null;
            String updatesJson = null;
            if (result.succeeded()) {
                // serialized once: for the size checks, the event and the context
                producedJson = ApiSerialization.json(result.contextUpdates());
                Fitted fitted = fit(stage, processor, result, producedJson, duration);
                result = fitted.result();
                updatesJson = fitted.updatesJson();
            }
            events.emit(finishedEvent(stage, processor, result, updatesJson, duration));
            LOG.info("processor finished uid={} node={} stage={} processor={} succeeded={} reason={}",
                    request.getUid(), nodeName, stage, name(processor), result.succeeded(), result.reason());
            if (!result.succeeded()) {
                failures.add(name(processor) + ": " + result.reason() + ": " + result.message());
                return false;
            }
            // Later processors get the whole output in its JSON form; only the event (and so the status) refers to
            // artifacts for values too large for a record.
            context.putAll(ApiSerialization.jsonObject(producedJson));
            result.removedKeys().forEach(context::remove);
            return true;
        }

        /** {@code updatesJson}: the JSON of the context updates, for a succeeded result. */
        private ProcessorFinished finishedEvent(Stage stage, NamespacedName processor, WorkResult result, String updatesJson,
                                                Duration duration) {
            return ProcessorFinished.newBuilder()
                    .setStage(stage)
                    .setProcessor(processor)
                    .setSucceeded(result.succeeded())
                    .setContextUpdates(result.succeeded() ? updatesJson : null)
                    .setRemovedContextKeys(List.copyOf(result.removedKeys()))
                    .setReason(result.reason())
                    .setMessage(result.message() == null ? null : truncate(result.message()))
                    .setDurationMillis(duration.toMillis())
                    .build();
        }

        /**
         * Moves context values into artifacts, largest first, until the updates are within {@code maxContextBytes} and
         * their event within the record size Kafka takes; {@code producedJson} is the JSON of the result's updates.
         */
        private Fitted fit(Stage stage, NamespacedName processor, WorkResult result, String producedJson, Duration duration) {
            if (fits(stage, processor, result, producedJson, duration)) {
                return new Fitted(result, producedJson);
            }
            Map<String, Object> updates = new LinkedHashMap<>(result.contextUpdates());
            Map<String, String> json = new LinkedHashMap<>();
            updates.forEach((key, value) -> json.put(key, ApiSerialization.json(value)));
            List<String> largestFirst = json.keySet().stream()
                    .sorted(Comparator.comparingInt((String key) -> json.get(key).length()).reversed()).toList();
            for (String key : largestFirst) {
                try {
                    updates.put(key, artifacts.offload(key, json.get(key)));
                } catch (IOException | RuntimeException e) {
                    return new Fitted(WorkResult.failed("OutputTooLarge", "processor " + name(processor) + " produced more context than "
                            + limits.maxContextBytes() + " bytes and it cannot be stored as an artifact: " + e.getMessage()), null);
                }
                LOG.info("context value stored as an artifact uid={} node={} processor={} key={} bytes={}",
                        request.getUid(), nodeName, name(processor), key, json.get(key).length());
                String updatesJson = ApiSerialization.json(updates);
                if (fits(stage, processor, result, updatesJson, duration)) {
                    return new Fitted(WorkResult.succeeded(updates, result.removedKeys()), updatesJson);
                }
            }
            return new Fitted(WorkResult.failed("OutputTooLarge", "processor " + name(processor) + " produced " + updates.size()
                    + " context keys, too many for one event even with every value stored as an artifact"), null);
        }

        /** Whether updates of this JSON, with the removals of {@code result}, are small enough for the context and an event. */
        private boolean fits(Stage stage, NamespacedName processor, WorkResult result, String updatesJson, Duration duration) {
            return updatesJson.getBytes(StandardCharsets.UTF_8).length <= limits.maxContextBytes()
                    && events.encodedSize(finishedEvent(stage, processor, result, updatesJson, duration)) <= limits.maxEventBytes();
        }

        private WorkResult execute(Stage stage, NamespacedName processor) throws InterruptedException {
            WorkContext ctx = new WorkContext(request.getUid(), request.getNamespace(), request.getName(), nodeName, spec, context, node);
            Optional<StageWorker> worker = builtIns.find(processor.getNamespace(), processor.getName());
            if (worker.isPresent()) {
                return builtIns.run(worker.get(), stage, ctx, request.getOrigin(), false);
            }
            Optional<ProcessorSpec> registered = registrations.find(stage, processor.getNamespace(), processor.getName());
            if (registered.isEmpty()) {
                return WorkResult.failed("ProcessorNotFound", "processor " + name(processor) + " is neither a built-in of this agent"
                        + " (namespace " + builtIns.namespace() + ") nor a registered " + StageDefinition.of(stage).processorType());
            }
            Policy current = policy.get();
            String refused = current.processor(request.getNamespace(), request.getOrigin(), processor.getNamespace(), processor.getName());
            if (refused != null) {
                return WorkResult.failed("Forbidden", refused);
            }
            URI url;
            try {
                url = url(registered.get());
            } catch (IllegalArgumentException e) {
                return WorkResult.failed("InvalidRegistration", "processor " + name(processor) + ": " + e.getMessage());
            }
            Duration timeout = Duration.ofSeconds(current.timeoutSeconds(registered.get().timeoutSeconds, DEFAULT_REMOTE_TIMEOUT_SECONDS));
            Map<String, String> headers = url.getHost().equals(ownServer.getHost()) && url.getPort() == ownServer.getPort()
                    ? Map.of(AgentHttpServer.TOKEN_HEADER, selfToken, AgentHttpServer.ORIGIN_HEADER, request.getOrigin().name())
                    : Map.of();
            return remote.call(url, timeout, snapshot(), headers);
        }

        /**
         * The Abnormal as the original protocol sends it: metadata, spec, and the status so far, which is the fold of
         * the events sent so far, with the context in full.
         */
        private Abnormal snapshot() {
            Abnormal abnormal = StatusProjection.abnormal(events.status());
            abnormal.getStatus().context = new LinkedHashMap<>(context);
            return abnormal;
        }

        private void runCommands(Stage stage) throws InterruptedException {
            if (spec.commandExecutors == null) {
                return;
            }
            for (CommandExecutorSpec command : spec.commandExecutors) {
                if (StageDefinition.ofProcessorType(command.type).map(StageDefinition::stage).orElse(null) != stage) {
                    continue;
                }
                Policy current = policy.get();
                String executable = command.command == null || command.command.isEmpty() ? null : command.command.get(0);
                String refused = current.command(request.getNamespace(), request.getOrigin(), executable);
                CommandResult result;
                if (refused != null) {
                    result = new CommandResult(command.command == null ? List.of() : List.copyOf(command.command), "", "",
                            "Forbidden: " + refused, CommandResult.Status.REFUSED, 0);
                } else {
                    // half a record each for stdout and stderr, less room for the rest of the event
                    int cap = Math.max(1024, Math.min(current.maxOutputBytes(), (limits.maxEventBytes() - 16 * 1024) / 2));
                    result = new CommandExecutor(current.commandAllowlist(), cap).run(command.command,
                            current.timeoutSeconds(command.timeoutSeconds, CommandExecutor.DEFAULT_TIMEOUT_SECONDS));
                }
                metrics.command(stage, result.status() == CommandResult.Status.SUCCEEDED);
                CommandFinished event = result.toEvent(stage);
                if (events.encodedSize(event) > limits.maxEventBytes()) {
                    event.setStdout("[output dropped: the event would exceed the largest record Kafka takes]");
                    event.setStderr("");
                }
                events.emit(event);
                LOG.info("command finished uid={} node={} stage={} result={}", request.getUid(), nodeName, stage, result.status());
            }
        }

        private void runProfilers(Stage stage) throws InterruptedException {
            if (spec.profilers == null) {
                return;
            }
            for (ProfilerSpec profiler : spec.profilers) {
                if (StageDefinition.ofProcessorType(profiler.type).map(StageDefinition::stage).orElse(null) != stage) {
                    continue;
                }
                Policy current = policy.get();
                String language = Profilers.language(profiler);
                String refused = current.profiler(request.getNamespace(), request.getOrigin(), language);
                ProfilerFinished event;
                if (refused != null) {
                    event = new ProfilerFinished(stage, profiler.name, null, "Forbidden: " + refused);
                } else {
                    Duration timeout = Duration.ofSeconds(current.timeoutSeconds(profiler.timeoutSeconds, Profilers.DEFAULT_TIMEOUT_SECONDS));
                    Duration expiration = Duration.ofSeconds(profiler.expirationSeconds == null || profiler.expirationSeconds < 1
                            ? Profilers.DEFAULT_EXPIRATION_SECONDS : profiler.expirationSeconds);
                    WorkContext ctx = new WorkContext(request.getUid(), request.getNamespace(), request.getName(), nodeName, spec,
                            context, node);
                    Profilers.Outcome outcome = profilers.run(profiler, ctx, timeout, expiration);
                    event = new ProfilerFinished(stage, profiler.name,
                            outcome.artifact() == null ? null : artifacts.url(outcome.artifact()),
                            outcome.error() == null ? null : truncate(outcome.error()));
                }
                metrics.profiler(stage, event.getError() == null);
                events.emit(event);
                LOG.info("profiler finished uid={} node={} stage={} profiler={} endpoint={} error={}", request.getUid(), nodeName, stage,
                        profiler.name, event.getEndpoint(), event.getError());
            }
        }

        private void finish(Stage stage, StageOutcome outcome, NamespacedName processor, String reason, String message) {
            events.emit(new StageFinished(stage, outcome, processor, reason, message));
            finished.add(stage);
            metrics.stage(stage, outcome);
            LOG.info("stage finished uid={} node={} stage={} outcome={} processor={}",
                    request.getUid(), nodeName, stage, outcome, processor == null ? null : name(processor));
        }
    }

    /**
     * The URL of a registration: {@code externalIP}/{@code externalPort} (v0.1.6), else {@code ip}/{@code port}
     * (v0.1.0–v0.1.5), else this agent's own server; scheme {@code http} unless given.
     */
    URI url(ProcessorSpec registration) {
        String path = registration.path == null || registration.path.isEmpty() ? "/"
                : registration.path.startsWith("/") ? registration.path : "/" + registration.path;
        String scheme = registration.scheme == null || registration.scheme.isBlank() ? "http" : registration.scheme;
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme " + scheme + " is neither http nor https");
        }
        String host;
        int port;
        if (registration.externalIP != null && registration.externalPort != null) {
            host = registration.externalIP;
            port = registration.externalPort;
        } else if (registration.ip != null && !registration.ip.isBlank() && registration.port != null) {
            host = registration.ip;
            try {
                port = registration.port.getIntVal() != null ? registration.port.getIntVal() : Integer.parseInt(registration.port.getStrVal().strip());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("port " + registration.port.getStrVal() + " is not a number");
            }
        } else {
            return ownServer.resolve(path);
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
        try {
            return new URI(scheme, null, host, port, path, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid URL: " + e.getMessage(), e);
        }
    }

    private static String truncate(String message) {
        return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS) + " [truncated]";
    }

    private static String name(NamespacedName processor) {
        return processor.getNamespace() + "/" + processor.getName();
    }
}
