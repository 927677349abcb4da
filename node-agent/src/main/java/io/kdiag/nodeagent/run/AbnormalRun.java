package io.kdiag.nodeagent.run;

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
    private long evidenceBytes;

    AbnormalRun(AbnormalRequest request, AbnormalSpec spec, AbnormalEvents events, String nodeName, NodeServices node) {
        this.request = request;
        this.spec = spec;
        this.events = events;
        this.nodeName = nodeName;
        this.node = node;
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

    /** Takes a successful processor's output into the context: {@code producedJson}, its updates, and its removals. */
    void update(String producedJson, Collection<String> removedKeys) {
        context.putAll(ApiSerialization.jsonObject(producedJson));
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
