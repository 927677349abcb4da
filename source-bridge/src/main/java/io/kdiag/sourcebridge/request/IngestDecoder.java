package io.kdiag.sourcebridge.request;

import static io.kdiag.sourcebridge.request.ErrorText.quoted;
import static io.kdiag.sourcebridge.request.ErrorText.typeOf;
import static io.kdiag.sourcebridge.request.Refusal.Kind.BAD_AVRO;
import static io.kdiag.sourcebridge.request.Refusal.Kind.BAD_JSON;
import static io.kdiag.sourcebridge.request.Refusal.Kind.BAD_SHAPE;
import static io.kdiag.sourcebridge.request.Refusal.Kind.NO_NODE;
import static io.kdiag.sourcebridge.request.Refusal.Kind.UNDECODABLE;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Turns the value of one {@code abnormal-requests} record into an {@link AbnormalRequest}, or refuses it with a reason.
 *
 * <p>Accepted values: Avro single-object encoding of {@code AbnormalRequest} (any released version), a JSON object of
 * the same shape ({@code spec} as an object or as a string holding one), or the JSON of a whole {@code Abnormal}
 * manifest (told apart by {@code metadata}; its {@code apiVersion} and {@code kind} may be left out). A value that names
 * no node takes the record's key as the node, since producers key their records by node. Whatever the record claims, the origin is {@link Origin#IngestTopic}: the policy grants privileges per
 * origin, so a producer on the open topic must not be able to pass for another channel. Only the shape is checked
 * here; the rules of the API are {@link RequestValidator}'s.
 */
public final class IngestDecoder {
    static final String DEFAULT_NAMESPACE = "default";
    private static final Set<String> REQUEST_FIELDS =
            Set.of("uid", "namespace", "name", "nodeName", "origin", "requestedAt", "labels", "spec");
    private static final Set<String> MANIFEST_FIELDS = Set.of("apiVersion", "kind", "metadata", "spec", "status");
    private static final String KIND = "Abnormal";

    private final AvroSerde<AbnormalRequest> avro = AvroSerde.of(AbnormalRequest.class);

    /** Where a record was read, which fixes its derived uid and default request time. */
    public record Position(String topic, int partition, long offset, long timestamp) {
        /** A name-based uid, so a record read again after a restart keeps the identity it had. */
        String derivedUid() {
            return AbnormalNames.uid(topic + "/" + partition + "/" + offset);
        }

        Instant time() {
            // a record without a timestamp (-1) is dated by its arrival here
            return Instant.ofEpochMilli(timestamp >= 0 ? timestamp : System.currentTimeMillis());
        }
    }

    /**
     * Decodes a record value read at {@code position} with its key (null if it has none); the node name may still be
     * empty (the validator refuses it).
     */
    public AbnormalRequest decode(Position position, byte[] key, byte[] value) throws Refusal {
        AbnormalRequest request = decode(position, value);
        if (request.getNodeName().isEmpty() && key != null && key.length > 0) {
            request.setNodeName(new String(key, StandardCharsets.UTF_8));
        }
        return request;
    }

    private AbnormalRequest decode(Position position, byte[] value) throws Refusal {
        if (value == null || value.length == 0) {
            throw new Refusal(UNDECODABLE, "the record has no value");
        }
        if (value.length >= 2 && value[0] == (byte) 0xC3 && value[1] == (byte) 0x01) {
            return fromAvro(position, value);
        }
        int start = startOfText(value);
        if (start < value.length && value[start] == '{') {
            return fromJson(position, utf8(value, start));
        }
        throw new Refusal(UNDECODABLE, "the value is neither Avro single-object encoding (starting C3 01) nor a JSON object "
                + "(starting '{'); it starts with " + hex(value));
    }

    private AbnormalRequest fromAvro(Position position, byte[] value) throws Refusal {
        AbnormalRequest record;
        try {
            record = avro.decode(value);
        } catch (SerializationException e) {
            throw new Refusal(BAD_AVRO, avroDetail(e));
        }
        Map<String, Object> spec = parseObject(record.getSpec(), "spec");
        return assemble(position, blankToNull(record.getUid()), blankToNull(record.getNamespace()), blankToNull(record.getName()),
                blankToNull(record.getNodeName()), record.getRequestedAt(), spec, record.getSpec(), record.getLabels());
    }

    /** The serde's message, plus what the Avro decoder found when the serde's wording is only generic. */
    private static String avroDetail(SerializationException e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        String message = e.getMessage();
        if (root instanceof EOFException) {
            return message + ": the record ends too early";
        }
        return root.getMessage() == null || message.contains(root.getMessage()) ? message : message + ": " + root.getMessage();
    }

    private AbnormalRequest fromJson(Position position, String text) throws Refusal {
        Map<String, Object> root = parseObject(text, "the value");
        if (root.containsKey("apiVersion") || root.containsKey("kind") || root.containsKey("metadata")) {
            return fromManifest(position, root);
        }
        requireKnownFields(root, REQUEST_FIELDS, "");
        Object spec = root.get("spec");
        Map<String, Object> specObject;
        String specJson;
        if (spec instanceof String s) {
            specObject = parseObject(s, "spec");
            specJson = s;
        } else if (spec instanceof Map) {
            specObject = object(root, "spec", "spec");
            specJson = ApiSerialization.json(specObject);
        } else if (spec == null) {
            throw new Refusal(BAD_SHAPE, "spec is required: the Abnormal spec as a JSON object");
        } else {
            throw new Refusal(BAD_SHAPE, "spec must be a JSON object or a string holding one, not " + typeOf(spec));
        }
        string(root, "origin", "origin"); // accepted for symmetry with the Avro shape, then overridden
        return assemble(position, string(root, "uid", "uid"), string(root, "namespace", "namespace"), string(root, "name", "name"),
                string(root, "nodeName", "nodeName"), instant(root, "requestedAt"), specObject, specJson,
                labels(root, "labels"));
    }

    private AbnormalRequest fromManifest(Position position, Map<String, Object> root) throws Refusal {
        requireKnownFields(root, MANIFEST_FIELDS, "");
        String apiVersion = string(root, "apiVersion", "apiVersion");
        if (apiVersion != null && !Abnormal.API_VERSION.equals(apiVersion)) {
            throw new Refusal(BAD_SHAPE, "apiVersion must be " + Abnormal.API_VERSION + ", not " + quoted(apiVersion));
        }
        String kind = string(root, "kind", "kind");
        if (kind != null && !KIND.equals(kind)) {
            throw new Refusal(BAD_SHAPE, "kind must be " + KIND + ", not " + quoted(kind));
        }
        Map<String, Object> metadata = object(root, "metadata", "metadata");
        if (metadata == null) {
            throw new Refusal(BAD_SHAPE, "metadata is required, with at least metadata.name");
        }
        Map<String, Object> spec = object(root, "spec", "spec");
        if (spec == null) {
            throw new Refusal(BAD_SHAPE, "spec is required: the Abnormal spec as a JSON object");
        }
        // the rest of metadata (annotations, resourceVersion, …) and any status are of no use to the pipeline
        return assemble(position, string(metadata, "uid", "metadata.uid"), string(metadata, "namespace", "metadata.namespace"),
                string(metadata, "name", "metadata.name"), null, null, spec, ApiSerialization.json(spec),
                labels(metadata, "metadata.labels"));
    }

    private static AbnormalRequest assemble(Position position, String uid, String namespace, String name, String nodeName,
            Instant requestedAt, Map<String, Object> spec, String specJson, Map<String, String> labels) throws Refusal {
        if (name == null) {
            throw new Refusal(BAD_SHAPE, "name is required (metadata.name in a manifest)");
        }
        String specNode = string(spec, "nodeName", "spec.nodeName");
        if (nodeName != null && specNode != null && !nodeName.equals(specNode)) {
            throw new Refusal(NO_NODE, "nodeName " + quoted(nodeName) + " and spec.nodeName " + quoted(specNode) + " disagree");
        }
        return AbnormalRequest.newBuilder()
                .setUid(uid != null ? uid : position.derivedUid())
                .setNamespace(namespace != null ? namespace : DEFAULT_NAMESPACE)
                .setName(name)
                .setNodeName(nodeName != null ? nodeName : specNode != null ? specNode : "")
                .setOrigin(Origin.IngestTopic)
                .setRequestedAt(requestedAt != null ? requestedAt : position.time())
                .setSpec(specJson)
                .setLabels(labels)
                .build();
    }

    private static Map<String, Object> parseObject(String json, String what) throws Refusal {
        if (json == null || !json.stripLeading().startsWith("{")) {
            throw new Refusal(BAD_SHAPE, what + " must be a JSON object");
        }
        Map<String, Object> object;
        try {
            object = ApiSerialization.jsonObject(json);
        } catch (RuntimeException e) {
            throw new Refusal(BAD_JSON, what + " is not valid JSON: " + ErrorText.detail(e));
        }
        // the parser stops after the first value; text after it means the producer sent something else than it meant
        int end = endOfObject(json);
        if (end < json.length() && !json.substring(end).isBlank()) {
            throw new Refusal(BAD_JSON, what + " is not valid JSON: unexpected content after the object, at character " + end);
        }
        return object;
    }

    /** The index after the closing brace of the object {@code json} starts with; only called on well-formed JSON. */
    private static int endOfObject(String json) {
        int depth = 0;
        boolean inString = false;
        for (int i = json.indexOf('{'); i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return json.length();
    }

    private static void requireKnownFields(Map<String, Object> object, Set<String> known, String path) throws Refusal {
        for (String field : object.keySet()) {
            if (!known.contains(field)) {
                // a typo such as "nodename" would otherwise vanish silently
                throw new Refusal(BAD_SHAPE, "unknown field " + quoted(path + field) + "; the fields are " + new TreeSet<>(known));
            }
        }
    }

    /** A string field; absent, null and blank all read as {@code null}. */
    private static String string(Map<String, Object> object, String field, String path) throws Refusal {
        Object value = object.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s)) {
            throw new Refusal(BAD_SHAPE, path + " must be a string, not " + typeOf(value));
        }
        return blankToNull(s);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> parent, String field, String path) throws Refusal {
        Object value = parent.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map)) {
            throw new Refusal(BAD_SHAPE, path + " must be a JSON object, not " + typeOf(value));
        }
        return (Map<String, Object>) value;
    }

    private static Map<String, String> labels(Map<String, Object> parent, String path) throws Refusal {
        Map<String, Object> object = object(parent, "labels", path);
        Map<String, String> labels = new LinkedHashMap<>();
        if (object != null) {
            for (Map.Entry<String, Object> entry : object.entrySet()) {
                if (!(entry.getValue() instanceof String s)) {
                    throw new Refusal(BAD_SHAPE, path + "." + entry.getKey() + " must be a string, not " + typeOf(entry.getValue()));
                }
                labels.put(entry.getKey(), s);
            }
        }
        return labels;
    }

    private static Instant instant(Map<String, Object> object, String field) throws Refusal {
        String text = string(object, field, field);
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new Refusal(BAD_SHAPE, field + " must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not " + quoted(text));
        }
    }

    private static int startOfText(byte[] value) {
        int i = 0;
        if (value.length >= 3 && value[0] == (byte) 0xEF && value[1] == (byte) 0xBB && value[2] == (byte) 0xBF) {
            i = 3; // a UTF-8 byte order mark, as some editors write
        }
        while (i < value.length && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n')) {
            i++;
        }
        return i;
    }

    private static String utf8(byte[] value, int start) throws Refusal {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value, start, value.length - start))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new Refusal(UNDECODABLE, "the value starts like JSON but is not valid UTF-8");
        }
    }

    private static String hex(byte[] value) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(4, value.length); i++) {
            text.append(String.format("%02X ", value[i]));
        }
        return text.toString().strip();
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
