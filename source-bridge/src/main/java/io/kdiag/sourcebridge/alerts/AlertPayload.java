package io.kdiag.sourcebridge.alerts;

import static io.kdiag.sourcebridge.request.ErrorText.quoted;
import static io.kdiag.sourcebridge.request.ErrorText.typeOf;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.kdiag.api.v1.PrometheusAlert;
import io.kdiag.sourcebridge.request.ErrorText;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the alert payloads Alertmanager and Prometheus send: the v1 push format (a JSON list of alerts, as
 * {@code POST /api/v1/alerts} takes) and the webhook format ({@code {"version":"4","status":...,"alerts":[...]}} from
 * {@code webhook_configs}). The shape is detected, not the path. Alerts are read one by one, as KubeDiag handled them:
 * one that is not an alert (no {@code alertname} label, a mistyped field or time) is set aside with the reason, and
 * the others still count.
 */
final class AlertPayload {
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final byte SEPARATOR = (byte) 0xff;

    private AlertPayload() {
    }

    /**
     * One alert of a payload.
     *
     * @param alert labels, annotations, times and generator URL
     * @param resolved whether it says it is resolved (status {@code resolved}, or {@code endsAt} in the past)
     * @param fingerprint the given fingerprint, or Alertmanager's hash of the labels
     */
    record Alert(PrometheusAlert alert, boolean resolved, String fingerprint) {
        String alertName() {
            return alert.labels.get("alertname");
        }
    }

    /**
     * An entry of the payload that is not an alert.
     *
     * @param entry the entry as sent
     * @param message where it goes wrong
     */
    record Invalid(Object entry, String message) {
    }

    /**
     * What a payload holds.
     *
     * @param alerts its alerts, in order
     * @param invalid its entries that are not alerts
     */
    record Payload(List<Alert> alerts, List<Invalid> invalid) {
    }

    /** A body that is not an alert payload at all; the message says where it goes wrong. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** Parses a body; {@code now} decides which {@code endsAt} lie in the past. */
    static Payload parse(String body, Instant now) throws Malformed {
        Object root;
        try {
            root = JSON.readValue(body, Object.class);
        } catch (JacksonException e) {
            throw new Malformed("the body is not valid JSON: " + ErrorText.detail(e));
        }
        List<?> alerts;
        String path;
        if (root instanceof List<?> list) {
            alerts = list;
            path = "";
        } else if (root instanceof Map<?, ?> webhook && webhook.get("alerts") instanceof List<?> list) {
            alerts = list;
            path = "alerts";
        } else if (root instanceof Map<?, ?>) {
            throw new Malformed("the body is an object without an \"alerts\" list; expected a list of alerts or an Alertmanager "
                    + "webhook payload {\"version\":\"4\",\"alerts\":[...]}");
        } else {
            throw new Malformed("the body must be a list of alerts or an Alertmanager webhook payload, not " + typeOf(root));
        }
        List<Alert> parsed = new ArrayList<>();
        List<Invalid> invalid = new ArrayList<>();
        for (int i = 0; i < alerts.size(); i++) {
            try {
                parsed.add(alert(alerts.get(i), path + "[" + i + "]", now));
            } catch (Malformed e) {
                invalid.add(new Invalid(alerts.get(i), e.getMessage()));
            }
        }
        return new Payload(List.copyOf(parsed), List.copyOf(invalid));
    }

    private static Alert alert(Object value, String path, Instant now) throws Malformed {
        if (!(value instanceof Map<?, ?> map)) {
            throw new Malformed(path + " must be an object, not " + typeOf(value));
        }
        PrometheusAlert alert = new PrometheusAlert();
        alert.labels = strings(map.get("labels"), path + ".labels");
        if (alert.labels == null || alert.labels.getOrDefault("alertname", "").isBlank()) {
            throw new Malformed(path + ".labels.alertname is required");
        }
        alert.annotations = strings(map.get("annotations"), path + ".annotations");
        alert.startsAt = string(map.get("startsAt"), path + ".startsAt");
        alert.endsAt = string(map.get("endsAt"), path + ".endsAt");
        alert.generatorURL = string(map.get("generatorURL"), path + ".generatorURL");
        time(alert.startsAt, path + ".startsAt");
        Instant ends = time(alert.endsAt, path + ".endsAt");
        String status = string(map.get("status"), path + ".status");
        String fingerprint = string(map.get("fingerprint"), path + ".fingerprint");
        if (fingerprint == null || fingerprint.isBlank()) {
            fingerprint = fingerprint(alert.labels);
        }
        // Go's zero time (0001-01-01) means "not set"
        boolean ended = ends != null && ends.isAfter(Instant.parse("0001-01-02T00:00:00Z")) && !ends.isAfter(now);
        return new Alert(alert, "resolved".equals(status) || ended, fingerprint);
    }

    private static Map<String, String> strings(Object value, String path) throws Malformed {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new Malformed(path + " must be an object of strings, not " + typeOf(value));
        }
        Map<String, String> strings = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!(entry.getValue() instanceof String s)) {
                throw new Malformed(path + "." + entry.getKey() + " must be a string, not " + typeOf(entry.getValue()));
            }
            strings.put((String) entry.getKey(), s);
        }
        return strings;
    }

    private static String string(Object value, String path) throws Malformed {
        if (value == null || value instanceof String) {
            return (String) value;
        }
        throw new Malformed(path + " must be a string, not " + typeOf(value));
    }

    private static Instant time(String text, String path) throws Malformed {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            throw new Malformed(path + " must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not " + quoted(text));
        }
    }

    /** Alertmanager's fingerprint of a label set: FNV-1a 64 over the sorted names and values, as 16 hex digits. */
    static String fingerprint(Map<String, String> labels) {
        long hash = FNV_OFFSET;
        for (Map.Entry<String, String> label : new TreeMap<>(labels).entrySet()) {
            hash = add(hash, label.getKey().getBytes(StandardCharsets.UTF_8));
            hash = add(hash, new byte[] {SEPARATOR});
            hash = add(hash, label.getValue().getBytes(StandardCharsets.UTF_8));
            hash = add(hash, new byte[] {SEPARATOR});
        }
        return String.format("%016x", hash);
    }

    private static long add(long hash, byte[] bytes) {
        long h = hash;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }
}
