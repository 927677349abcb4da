package io.kdiag.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.kdiag.api.ApiSerialization;
import io.kdiag.schemas.avro.AbnormalStatus;
import org.apache.avro.Schema;

/**
 * Field-by-field differences between a status as it is and as replay rebuilt it. {@code context} is compared per key
 * ({@code context.processInformation}), since one collector's output differing says more than "context differs".
 */
final class StatusDiff {
    static final String NONE = "<none>";
    private static final String CONTEXT = "context";

    private StatusDiff() {
    }

    /**
     * One field that differs.
     *
     * @param field the field, e.g. {@code phase} or {@code context.signalRecovery}
     * @param current its value now, or {@code <none>}
     * @param replayed its value after replay, or {@code <none>}
     */
    record FieldDiff(String field, String current, String replayed) {
    }

    /** Differences between two status-topic snapshots: every field of the Avro record. */
    static List<FieldDiff> snapshots(AbnormalStatus current, AbnormalStatus replayed) {
        return diff(snapshotFields(current), snapshotFields(replayed));
    }

    /** Differences between two {@code .status} of the Abnormal resource, as the API server stores them. */
    static List<FieldDiff> resources(io.kdiag.api.v1.AbnormalStatus current, io.kdiag.api.v1.AbnormalStatus replayed) {
        return diff(resourceFields(current), resourceFields(replayed));
    }

    static Map<String, String> snapshotFields(AbnormalStatus snapshot) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (Schema.Field field : AbnormalStatus.getClassSchema().getFields()) {
            Object value = snapshot.get(field.pos());
            if (CONTEXT.equals(field.name())) {
                ApiSerialization.jsonObject((String) value).forEach((k, v) -> fields.put(CONTEXT + "." + k, ApiSerialization.json(v)));
            } else if (value != null) {
                fields.put(field.name(), String.valueOf(value));
            }
        }
        return fields;
    }

    static Map<String, String> resourceFields(io.kdiag.api.v1.AbnormalStatus status) {
        Map<String, String> fields = new LinkedHashMap<>();
        if (status == null) {
            return fields;
        }
        ApiSerialization.jsonObject(ApiSerialization.json(status)).forEach((key, value) -> {
            if (CONTEXT.equals(key) && value instanceof Map<?, ?> context) {
                context.forEach((k, v) -> fields.put(CONTEXT + "." + k, ApiSerialization.json(v)));
            } else {
                fields.put(key, value instanceof String s ? s : ApiSerialization.json(value));
            }
        });
        return fields;
    }

    private static List<FieldDiff> diff(Map<String, String> current, Map<String, String> replayed) {
        Set<String> keys = new LinkedHashSet<>(replayed.keySet());
        keys.addAll(current.keySet());
        List<FieldDiff> diffs = new ArrayList<>();
        for (String key : keys) {
            String now = current.get(key);
            String then = replayed.get(key);
            if (!Objects.equals(now, then)) {
                diffs.add(new FieldDiff(key, now == null ? NONE : now, then == null ? NONE : then));
            }
        }
        return diffs;
    }

    /** A value cut to {@code max} characters for a table cell, on one line. */
    static String cell(String value, int max) {
        String line = value.replace('\n', ' ');
        return line.length() <= max ? line : line.substring(0, max - 3) + "...";
    }
}
