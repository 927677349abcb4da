package io.kdiag.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.kdiag.api.v1.Abnormal;

/**
 * What a Kubernetes API server (v1 CRDs, structural schemas) keeps of an object of one of our kinds: it prunes every
 * field the CRD does not declare (and {@code kubectl apply} warns {@code unknown field}), drops {@code null}s, and
 * refuses values of the wrong type or missing required fields. Read from the CRDs in {@code deploy/base/crds}, which
 * the build copies into this jar. CEL rules ({@code x-kubernetes-validations}) are not evaluated here.
 */
public final class CrdSchemas {
    private static final String RESOURCES = "/io/kdiag/api/v1/crds/";
    private static final Map<String, String> FILES = Map.of(
            "Abnormal", "abnormals", "AbnormalSource", "abnormalsources", "InformationCollector", "informationcollectors",
            "Diagnoser", "diagnosers", "Recoverer", "recoverers");
    /** Root fields the API server handles itself, outside the CRD's schema. */
    private static final List<String> OBJECT_FIELDS = List.of("apiVersion", "kind", "metadata");

    private CrdSchemas() {
    }

    /**
     * What the API server would make of an object.
     *
     * @param kept the object as stored: pruned, without {@code null}s
     * @param pruned the paths of fields the schema does not declare, e.g. {@code spec.readinessProbe}
     * @param invalid why the API server would refuse the object (wrong types, missing required fields); empty if it
     *     accepts it
     */
    public record Admitted(Map<String, Object> kept, List<String> pruned, List<String> invalid) {
    }

    /** The kinds of {@code diagnosis.netease.com/v1}. */
    public static List<String> kinds() {
        return List.copyOf(new java.util.TreeSet<>(FILES.keySet()));
    }

    /** Admits an object of {@code kind} (one of {@link #kinds()}); empty for another kind. */
    public static Optional<Admitted> admit(String kind, Map<String, Object> object) {
        Map<String, Object> schema = schema(kind);
        if (schema == null) {
            return Optional.empty();
        }
        List<String> pruned = new ArrayList<>();
        List<String> invalid = new ArrayList<>();
        Map<String, Object> kept = new LinkedHashMap<>();
        Map<String, Object> withoutMeta = new LinkedHashMap<>();
        object.forEach((key, value) -> {
            if (OBJECT_FIELDS.contains(key)) {
                if (value != null) {
                    kept.put(key, value);
                }
            } else {
                withoutMeta.put(key, value);
            }
        });
        Object checked = check(schema, withoutMeta, "", pruned, invalid);
        if (checked instanceof Map<?, ?> map) {
            map.forEach((key, value) -> kept.put((String) key, value));
        }
        return Optional.of(new Admitted(kept, List.copyOf(pruned), List.copyOf(invalid)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> schema(String kind) {
        String file = FILES.get(kind);
        if (file == null) {
            return null;
        }
        String name = RESOURCES + file + "." + Abnormal.GROUP + "-" + Abnormal.VERSION + ".yml";
        try (InputStream in = CrdSchemas.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the CRD " + name + " is not in the schemas jar");
            }
            Map<String, Object> crd = ApiSerialization.jsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            Map<String, Object> spec = (Map<String, Object>) crd.get("spec");
            Map<String, Object> version = ((List<Map<String, Object>>) spec.get("versions")).get(0);
            return (Map<String, Object>) ((Map<String, Object>) version.get("schema")).get("openAPIV3Schema");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value as kept under {@code schema}, recording what is pruned and what is refused. */
    @SuppressWarnings("unchecked")
    private static Object check(Map<String, Object> schema, Object value, String path, List<String> pruned, List<String> invalid) {
        if (value == null) {
            return null;
        }
        boolean preserve = Boolean.TRUE.equals(schema.get("x-kubernetes-preserve-unknown-fields"));
        if (Boolean.TRUE.equals(schema.get("x-kubernetes-int-or-string"))) {
            if (!(value instanceof String) && !isInteger(value)) {
                invalid.add(where(path) + ": must be an integer or a string, not " + typeOf(value));
            }
            return value;
        }
        Object type = schema.get("type");
        if (type == null) {
            return value;
        }
        switch ((String) type) {
            case "object" -> {
                if (!(value instanceof Map<?, ?> map)) {
                    invalid.add(where(path) + ": must be an object, not " + typeOf(value));
                    return value;
                }
                Map<String, Object> properties = (Map<String, Object>) schema.get("properties");
                Object additional = schema.get("additionalProperties");
                Map<String, Object> kept = new LinkedHashMap<>();
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    String key = String.valueOf(entry.getKey());
                    String child = path.isEmpty() ? key : path + "." + key;
                    if (entry.getValue() == null) {
                        continue;
                    }
                    if (properties != null && properties.containsKey(key)) {
                        kept.put(key, check((Map<String, Object>) properties.get(key), entry.getValue(), child, pruned, invalid));
                    } else if (additional instanceof Map<?, ?> valueSchema) {
                        kept.put(key, check((Map<String, Object>) valueSchema, entry.getValue(), child, pruned, invalid));
                    } else if (preserve) {
                        kept.put(key, entry.getValue());
                    } else {
                        pruned.add(child);
                    }
                }
                if (schema.get("required") instanceof List<?> required) {
                    for (Object key : required) {
                        if (!kept.containsKey(key)) {
                            invalid.add(where(path.isEmpty() ? String.valueOf(key) : path + "." + key) + ": Required value");
                        }
                    }
                }
                return kept;
            }
            case "array" -> {
                if (!(value instanceof List<?> list)) {
                    invalid.add(where(path) + ": must be an array, not " + typeOf(value));
                    return value;
                }
                Map<String, Object> items = (Map<String, Object>) schema.get("items");
                List<Object> kept = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    kept.add(items == null ? list.get(i) : check(items, list.get(i), path + "[" + i + "]", pruned, invalid));
                }
                return kept;
            }
            case "string" -> expect(value instanceof String, "a string", value, path, invalid);
            case "integer" -> expect(isInteger(value), "an integer", value, path, invalid);
            case "number" -> expect(value instanceof Number, "a number", value, path, invalid);
            case "boolean" -> expect(value instanceof Boolean, "a boolean", value, path, invalid);
            default -> {
                // a type this schema does not use: nothing to check
            }
        }
        return value;
    }

    private static void expect(boolean ok, String what, Object value, String path, List<String> invalid) {
        if (!ok) {
            invalid.add(where(path) + ": must be " + what + ", not " + typeOf(value));
        }
    }

    private static boolean isInteger(Object value) {
        return value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger
                || value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !Double.isInfinite(n.doubleValue());
    }

    private static String where(String path) {
        return path.isEmpty() ? "the object" : path;
    }

    private static String typeOf(Object value) {
        if (value instanceof String s) {
            return "the string \"" + s + "\"";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "an array";
        }
        return value instanceof Boolean ? "a boolean" : value instanceof Number ? "the number " + value : value.getClass().getSimpleName();
    }
}
