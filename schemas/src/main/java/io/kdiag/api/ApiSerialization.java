package io.kdiag.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import tools.jackson.core.type.TypeReference;

/**
 * JSON and YAML of the API model, as Kubernetes writes it. The Avro records carry specs and contexts as JSON strings;
 * this is the one place they are read and written.
 */
public final class ApiSerialization {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final TypeReference<LinkedHashMap<String, Object>> JSON_OBJECT = new TypeReference<>() {
    };

    /** A line that separates YAML documents ({@code ---}, perhaps with a comment). */
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---[ \\t]*(#.*)?$");

    private ApiSerialization() {
    }

    /** Reads an Abnormal from YAML or JSON. */
    public static Abnormal abnormal(String yamlOrJson) {
        return SERIALIZATION.unmarshal(yamlOrJson, Abnormal.class);
    }

    /** Reads a spec from its JSON object form. */
    public static AbnormalSpec spec(String json) {
        return SERIALIZATION.unmarshal(json, AbnormalSpec.class);
    }

    /** Reads a JSON object (a context) into an ordered map; {@code null} or blank reads as empty. */
    public static Map<String, Object> jsonObject(String json) {
        if (json == null || json.isBlank()) {
            return new LinkedHashMap<>();
        }
        return SERIALIZATION.unmarshal(json, JSON_OBJECT);
    }

    /** Reads the documents of a YAML (or JSON) text as JSON objects, skipping empty ones. */
    public static List<Map<String, Object>> documents(String yaml) {
        List<Map<String, Object>> documents = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
            Map<String, Object> object = jsonObject(document);
            if (object != null && !object.isEmpty()) {
                documents.add(object);
            }
        }
        return documents;
    }

    /** Writes any model object or map as JSON. */
    public static String json(Object value) {
        return SERIALIZATION.asJson(value);
    }

    /** Writes any model object or map as YAML, the way {@code kubectl get -o yaml} does. */
    public static String yaml(Object value) {
        return SERIALIZATION.asYaml(value);
    }

    /** Converts a map or model object into another model type. */
    public static <T> T convert(Object value, Class<T> type) {
        return SERIALIZATION.convertValue(value, type);
    }
}
