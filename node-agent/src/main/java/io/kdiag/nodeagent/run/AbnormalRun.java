package io.kdiag.nodeagent.run;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.model.StageDefinition;
import io.kdiag.model.StatusProjection;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.WorkContext;

/** One abnormal while it runs: its request, spec and events, the context so far, and the stages that finished. */
final class AbnormalRun {
    private final AbnormalRequest request;
    private final AbnormalSpec spec;
    private final AbnormalEvents events;
    private final String nodeName;
    private final NodeServices node;
    /** Every output in full, including values whose event refers to evidence: later processors get them whole. */
    private final Map<String, Object> context = new LinkedHashMap<>();
    /** The stages that finished, each with the reason it ended with ({@code null} for none). */
    private final Map<Stage, String> finished = new EnumMap<>(Stage.class);
    /** The gates of the current stage already passed ({@link Gate#name()}). */
    private final List<String> passed = new ArrayList<>();
    private long evidenceBytes;

    AbnormalRun(AbnormalRequest request, AbnormalSpec spec, AbnormalEvents events, String nodeName, NodeServices node) {
        this.request = request;
        this.spec = spec;
        this.events = events;
        this.nodeName = nodeName;
        this.node = node;
    }

    /** The run of a parked abnormal, going on where it waited. */
    AbnormalRun(Parking.Parked parked, AbnormalSpec spec, AbnormalEvents events, String nodeName, NodeServices node) {
        this(parked.request(), spec, events, nodeName, node);
        context.putAll(ApiSerialization.jsonObject(parked.context()));
        evidenceBytes = parked.evidenceBytes();
        passed.addAll(parked.passed());
    }

    /** What a parked abnormal keeps to go on later, waiting at {@code gate} before the work of {@code stage}. */
    Parking.Parked park(String gate, long waitSeq, String subject, Instant deadline, Stage stage) {
        return new Parking.Parked(uid(), gate, waitSeq, subject, deadline, stage, passed, request, events.status(),
                ApiSerialization.json(context), evidenceBytes, events.nextSeq());
    }

    /** Whether this stage's work already passed {@code gate}. */
    boolean passed(String gate) {
        return passed.contains(gate);
    }

    /** Notes that this stage's work passed {@code gate}. */
    void pass(String gate) {
        passed.add(gate);
    }

    /** The keys of the context so far, in order. */
    List<String> contextKeys() {
        return List.copyOf(context.keySet());
    }

    /**
     * The commands or profilers of the spec that run in {@code stage}, in order: those whose {@code type} (a processor
     * type, e.g. {@code Diagnoser}) is the stage's.
     */
    static <T> List<T> inStage(List<T> specs, Function<T, String> type, Stage stage) {
        return specs == null ? List.of() : specs.stream()
                .filter(spec -> StageDefinition.ofProcessorType(type.apply(spec)).map(StageDefinition::stage).orElse(null) == stage)
                .toList();
    }

    AbnormalRequest request() {
        return request;
    }

    String uid() {
        return request.getUid();
    }

    AbnormalSpec spec() {
        return spec;
    }

    AbnormalEvents events() {
        return events;
    }

    String nodeName() {
        return nodeName;
    }

    /** Bytes of this abnormal's context kept as evidence so far. */
    long evidenceBytes() {
        return evidenceBytes;
    }

    /** Counts a value kept as evidence. */
    void keptEvidence(long bytes) {
        evidenceBytes += bytes;
    }

    /** What a worker knows of the abnormal now. */
    WorkContext workContext() {
        return new WorkContext(request.getUid(), request.getNamespace(), request.getName(), nodeName, spec, context, node);
    }

    /**
     * The Abnormal as the original protocol sends it: metadata, spec, and the status so far, which is the fold of
     * the events sent so far, with the context in full. {@code identifiable} and {@code recoverable} are always there,
     * {@code false} until set, as KubeDiag's Go types always wrote them.
     */
    Abnormal snapshot() {
        Abnormal abnormal = StatusProjection.abnormal(events.status());
        AbnormalStatus status = abnormal.getStatus();
        status.identifiable = Boolean.TRUE.equals(status.identifiable);
        status.recoverable = Boolean.TRUE.equals(status.recoverable);
        status.context = new LinkedHashMap<>(context);
        return abnormal;
    }

    /** Takes a successful processor's output into the context: its updates in their JSON form, and its removals. */
    void update(Map<String, Object> produced, Collection<String> removedKeys) {
        context.putAll(produced);
        removedKeys.forEach(context::remove);
    }

    void finish(Stage stage, String reason) {
        finished.put(stage, reason);
    }

    boolean finished(Stage stage) {
        return finished.containsKey(stage);
    }

    /** The reason {@code stage} ended with: {@code null} when it succeeded or was skipped, or has not finished. */
    String endReason(Stage stage) {
        return finished.get(stage);
    }
}
