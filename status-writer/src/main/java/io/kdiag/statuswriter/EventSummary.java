package io.kdiag.statuswriter;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.AbnormalFailed;
import io.kdiag.schemas.avro.Accepted;
import io.kdiag.schemas.avro.CommandFinished;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.NamespacedName;
import io.kdiag.schemas.avro.ProcessorFinished;
import io.kdiag.schemas.avro.ProcessorStarted;
import io.kdiag.schemas.avro.ProfilerExpired;
import io.kdiag.schemas.avro.ProfilerFinished;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.schemas.avro.StageStarted;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The one-line form of an event that the history endpoint lists: {@code seq}, {@code time} (RFC 3339, milliseconds),
 * {@code type} (the payload's record name) and, where the event has them, {@code stage}, {@code processor}
 * ({@code namespace/name}), {@code outcome} ({@code Succeeded}, {@code Failed}, {@code Skipped}), {@code reason},
 * {@code message}, {@code durationMillis}, {@code command}, {@code profiler}, {@code endpoint}, {@code origin}.
 * Absent fields are left out. Output of processors (context) is not repeated here; the snapshot has it.
 */
final class EventSummary {
    /** The history store's value format: the summary as a JSON object. */
    static final Serde<Map<String, Object>> SERDE = Serdes.serdeFrom(
            (topic, summary) -> summary == null ? null : ApiSerialization.json(summary).getBytes(StandardCharsets.UTF_8),
            (topic, bytes) -> bytes == null ? null : ApiSerialization.jsonObject(new String(bytes, StandardCharsets.UTF_8)));

    private static final DateTimeFormatter RFC3339_MILLIS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final String SUCCEEDED = "Succeeded";
    private static final String FAILED = "Failed";

    private EventSummary() {
    }

    static String time(Instant instant) {
        return RFC3339_MILLIS.format(instant);
    }

    static Map<String, Object> of(DiagnosisEvent event) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("seq", event.getSeq());
        summary.put("time", time(event.getTime()));
        Object payload = event.getPayload();
        summary.put("type", payload.getClass().getSimpleName());
        if (payload instanceof Accepted accepted) {
            summary.put("origin", accepted.getOrigin().name());
        } else if (payload instanceof StageStarted started) {
            summary.put("stage", started.getStage().name());
        } else if (payload instanceof ProcessorStarted started) {
            summary.put("stage", started.getStage().name());
            summary.put("processor", name(started.getProcessor()));
        } else if (payload instanceof ProcessorFinished finished) {
            summary.put("stage", finished.getStage().name());
            summary.put("processor", name(finished.getProcessor()));
            summary.put("outcome", finished.getSucceeded() ? SUCCEEDED : FAILED);
            put(summary, "reason", finished.getReason());
            put(summary, "message", finished.getMessage());
            summary.put("durationMillis", finished.getDurationMillis());
        } else if (payload instanceof CommandFinished command) {
            summary.put("stage", command.getStage().name());
            summary.put("command", List.copyOf(command.getCommand()));
            summary.put("outcome", command.getError() == null ? SUCCEEDED : FAILED);
            put(summary, "message", command.getError());
            summary.put("durationMillis", command.getDurationMillis());
        } else if (payload instanceof ProfilerFinished profiler) {
            summary.put("stage", profiler.getStage().name());
            summary.put("profiler", profiler.getName());
            summary.put("outcome", profiler.getError() == null ? SUCCEEDED : FAILED);
            put(summary, "endpoint", profiler.getEndpoint());
            put(summary, "message", profiler.getError());
        } else if (payload instanceof ProfilerExpired expired) {
            summary.put("profiler", expired.getName());
        } else if (payload instanceof StageFinished stage) {
            summary.put("stage", stage.getStage().name());
            put(summary, "processor", stage.getProcessor() == null ? null : name(stage.getProcessor()));
            summary.put("outcome", stage.getOutcome().name());
            put(summary, "reason", stage.getReason());
            put(summary, "message", stage.getMessage());
        } else if (payload instanceof AbnormalFailed failed) {
            summary.put("outcome", FAILED);
            summary.put("reason", failed.getReason());
            summary.put("message", failed.getMessage());
        }
        return summary;
    }

    private static String name(NamespacedName name) {
        return name.getNamespace() + "/" + name.getName();
    }

    private static void put(Map<String, Object> summary, String key, Object value) {
        if (value != null) {
            summary.put(key, value);
        }
    }
}
