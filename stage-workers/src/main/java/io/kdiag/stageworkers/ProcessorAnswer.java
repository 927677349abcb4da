package io.kdiag.stageworkers;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A remote processor's answer, read as KubeDiag v0.1.6's agent read it: Go's {@code json.Unmarshal} of the answer onto
 * a copy of the Abnormal it sent, then a check that nothing but {@code status.context} changed.
 *
 * <ul>
 * <li>What the answer leaves out stays as sent, at every level, in list elements too (Go decodes a list into the
 * elements already there); {@code null} as the whole answer is "nothing changed".
 * <li>{@code null} for a field Go holds by value (text, number, boolean, and the objects {@code spec}, {@code status},
 * {@code metadata}, an event's {@code metadata}, {@code involvedObject} and {@code source}) leaves it as sent;
 * {@code null} for a pointer, list or map field removes it.
 * <li>{@code status.context} in the answer replaces the one sent, {@code null} removes it; an answer without it changes
 * no context.
 * <li>The fields KubeDiag protected ({@code spec}, {@code status.identifiable}, {@code recoverable}, {@code phase},
 * {@code conditions}, {@code message}, {@code reason}, {@code startTime}, {@code diagnoser}, {@code recoverer}) are
 * compared without Go's zero values ({@code null}, {@code ""}, {@code false}, {@code 0}, {@code {}}, {@code []}, Go's
 * zero time), which Go's types write for what they hold empty, and times as instants (Go parsed them), so
 * {@code +08:00} and {@code Z} for the same instant are the same.
 * </ul>
 *
 * Deliberately stricter than v0.1.6: its agent decoded onto a shallow copy, so a processor that changed a field
 * inside a shared pointer or list (a condition, a label) changed what it compared against and got away with it; here
 * every protected change is refused.
 *
 * @param changed the first protected field the answer changed, or {@code null}
 * @param context the context the answer holds, empty when it changes none
 */
record ProcessorAnswer(String changed, Optional<Map<String, Object>> context) {
    /** A key given twice is refused: which one counts is a guess (Go takes the last), and no Go processor writes two. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final List<String> PROTECTED = List.of("spec", "status.identifiable", "status.recoverable", "status.phase",
            "status.conditions", "status.message", "status.reason", "status.startTime", "status.diagnoser", "status.recoverer");
    /** Objects Go holds by value: {@code null} leaves them as they are. */
    private static final Set<String> BY_VALUE = Set.of("spec", "status", "metadata", "spec.kubernetesEvent.metadata",
            "spec.kubernetesEvent.involvedObject", "spec.kubernetesEvent.source");
    /** Raw JSON in Go ({@code runtime.RawExtension}): replaced as a whole, never merged. */
    private static final Set<String> RAW = Set.of("spec.context", "status.context");
    /** Times (paths without list indices), which Go parsed and compared as instants. */
    private static final Set<String> TIMES = Set.of("status.startTime", "status.conditions.lastTransitionTime",
            "spec.prometheusAlert.startsAt", "spec.prometheusAlert.endsAt", "spec.kubernetesEvent.firstTimestamp",
            "spec.kubernetesEvent.lastTimestamp", "spec.kubernetesEvent.eventTime", "spec.kubernetesEvent.metadata.creationTimestamp",
            "spec.kubernetesEvent.metadata.deletionTimestamp", "spec.kubernetesEvent.series.lastObservedTime");
    /** Go's zero time, which Go's types write for an unset time (an empty value). */
    private static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    /** An answer that is not a JSON object (or {@code null}); the message says what it is. */
    static final class NotAnAbnormal extends Exception {
        private static final long serialVersionUID = 1L;

        NotAnAbnormal(String message) {
            super(message, null, false, false);
        }
    }

    /** Reads {@code answer}, a processor's reply to {@code before}: the Abnormal sent, as its JSON reads back. */
    @SuppressWarnings("unchecked")
    static ProcessorAnswer read(Map<String, Object> before, String answer) throws NotAnAbnormal {
        if (answer.isBlank()) {
            throw new NotAnAbnormal("the body is empty");
        }
        Object root;
        try {
            root = JSON.readValue(answer, Object.class);
        } catch (JacksonException e) {
            throw new NotAnAbnormal("the body is not JSON: " + e.getOriginalMessage());
        }
        if (root == null) {
            root = Map.of();
        }
        if (!(root instanceof Map)) {
            throw new NotAnAbnormal("the body is " + (root instanceof List ? "a list" : "a " + root.getClass().getSimpleName()) + ", not an object");
        }
        Map<String, Object> reply = (Map<String, Object>) root;
        Object after = merge(before, reply, "");
        for (String path : PROTECTED) {
            if (!Objects.equals(normalized(at(before, path), path), normalized(at(after, path), path))) {
                return new ProcessorAnswer(path, Optional.empty());
            }
        }
        if (!(reply.get("status") instanceof Map<?, ?> status) || !status.containsKey("context")) {
            return new ProcessorAnswer(null, Optional.empty());
        }
        Object context = status.get("context");
        if (context != null && !(context instanceof Map)) {
            throw new NotAnAbnormal("status.context must be an object");
        }
        return new ProcessorAnswer(null, Optional.of(context == null ? Map.of() : (Map<String, Object>) context));
    }

    /**
     * {@code answer} decoded onto {@code sent} as Go's encoding/json does: into an object field by field, into a list
     * element by element (cut to the answer's length), anything else replaced.
     */
    private static Object merge(Object sent, Object answer, String path) {
        if (RAW.contains(path)) {
            return answer;
        }
        if (answer instanceof List<?> elements && sent instanceof List<?> before) {
            List<Object> merged = new ArrayList<>();
            for (int i = 0; i < elements.size(); i++) {
                Object element = elements.get(i);
                Object old = i < before.size() ? before.get(i) : null;
                // a null element leaves a struct element as it was
                merged.add(element == null ? old : merge(old, element, path));
            }
            return merged;
        }
        if (!(answer instanceof Map<?, ?> fields) || sent != null && !(sent instanceof Map)) {
            return answer;
        }
        Map<String, Object> merged = new LinkedHashMap<>();
        if (sent != null) {
            ((Map<?, ?>) sent).forEach((key, value) -> merged.put((String) key, value));
        }
        fields.forEach((key, value) -> {
            String child = path.isEmpty() ? (String) key : path + "." + key;
            Object before = merged.get(key);
            if (value != null) {
                merged.put((String) key, merge(before, value, child));
            } else if (before != null && !(before instanceof String || before instanceof Number || before instanceof Boolean)
                    && !BY_VALUE.contains(child)) {
                merged.remove(key);
            }
        });
        return merged;
    }

    private static Object at(Object tree, String path) {
        Object value = tree;
        for (String step : path.split("\\.")) {
            value = value instanceof Map<?, ?> map ? map.get(step) : null;
        }
        return value;
    }

    /** The value without Go's zero values, numbers as decimals and times as instants; {@code null} when empty. */
    private static Object normalized(Object value, String path) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> kept = new LinkedHashMap<>();
            map.forEach((key, child) -> {
                Object normal = normalized(child, path + "." + key);
                if (normal != null) {
                    kept.put((String) key, normal);
                }
            });
            return kept.isEmpty() ? null : kept;
        }
        if (value instanceof List<?> list) {
            List<Object> kept = new ArrayList<>();
            list.forEach(element -> kept.add(normalized(element, path)));
            return kept.isEmpty() ? null : kept;
        }
        if (value instanceof String text) {
            if (text.isEmpty()) {
                return null;
            }
            if (TIMES.contains(path)) {
                try {
                    Instant instant = OffsetDateTime.parse(text).toInstant();
                    return instant.equals(GO_ZERO_TIME) ? null : instant;
                } catch (DateTimeParseException e) {
                    return text;
                }
            }
            return text;
        }
        if (value instanceof Number number) {
            BigDecimal decimal = new BigDecimal(number.toString()).stripTrailingZeros();
            return decimal.signum() == 0 ? null : decimal;
        }
        if (value instanceof Boolean flag) {
            return flag ? flag : null;
        }
        return value;
    }
}
