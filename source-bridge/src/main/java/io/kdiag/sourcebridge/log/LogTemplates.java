package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.common.config.ConfigException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * What abnormal a log rule's match starts: a JSON file mapping a rule's {@code reason} (or {@code "*"} for every other
 * reason) to an Abnormal spec template with the processors, commands, profilers and context to use:
 *
 * <pre>
 * {"namespace": "kube-diagnoser",
 *  "templates": {"OOMKilling": {"assignedInformationCollectors": [{"namespace": "kube-diagnoser", "name": "process-collector"}],
 *                               "context": {"team": "node"}}}}
 * </pre>
 *
 * A reason without a template (and no {@code "*"}) starts an abnormal with no processors, which still records the line.
 *
 * @param namespace where the abnormals go
 * @param templates reason → spec template
 */
record LogTemplates(String namespace, Map<String, AbnormalSpec> templates) {
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final Set<String> FIELDS = Set.of("namespace", "templates");
    private static final Set<String> TEMPLATE_FIELDS = Set.of("assignedInformationCollectors", "assignedDiagnosers",
            "assignedRecoverers", "commandExecutors", "profilers", "context", "skipInformationCollection", "skipDiagnosis",
            "skipRecovery");

    /** No file: every reason starts an abnormal without processors in {@code namespace}. */
    static LogTemplates none(String namespace) {
        return new LogTemplates(namespace, Map.of());
    }

    /** Reads the file; a {@link ConfigException} names the file and the problem. */
    static LogTemplates read(Path file, String defaultNamespace) {
        try {
            return parse(file.toString(), Files.readString(file), defaultNamespace);
        } catch (IOException e) {
            throw new ConfigException("cannot read log templates " + file + ": " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    static LogTemplates parse(String name, String text, String defaultNamespace) {
        Object root;
        try {
            root = JSON.readValue(text, Object.class);
        } catch (JacksonException e) {
            throw new ConfigException("log templates " + name + " are not valid JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException("log templates " + name + " must be a JSON object");
        }
        unknown(name, (Map<String, Object>) map, FIELDS, "");
        Object namespace = map.get("namespace");
        if (namespace != null && !(namespace instanceof String)) {
            throw new ConfigException("log templates " + name + ": namespace must be a string");
        }
        Map<String, AbnormalSpec> templates = new LinkedHashMap<>();
        Object raw = map.get("templates");
        if (raw != null && !(raw instanceof Map)) {
            throw new ConfigException("log templates " + name + ": templates must be an object of reason → spec template");
        }
        if (raw != null) {
            for (Map.Entry<String, Object> entry : ((Map<String, Object>) raw).entrySet()) {
                if (!(entry.getValue() instanceof Map)) {
                    throw new ConfigException("log templates " + name + ": templates." + entry.getKey() + " must be an object");
                }
                unknown(name, (Map<String, Object>) entry.getValue(), TEMPLATE_FIELDS, "templates." + entry.getKey() + ".");
                try {
                    templates.put(entry.getKey(), ApiSerialization.convert(entry.getValue(), AbnormalSpec.class));
                } catch (RuntimeException e) {
                    throw new ConfigException("log templates " + name + ": templates." + entry.getKey() + " is not a valid spec template: "
                            + e.getMessage());
                }
            }
        }
        return new LogTemplates(namespace == null ? defaultNamespace : (String) namespace, templates);
    }

    private static void unknown(String name, Map<String, Object> object, Set<String> fields, String path) {
        for (String key : object.keySet()) {
            if (!fields.contains(key)) {
                throw new ConfigException("log templates " + name + ": unknown field '" + path + key + "'; the fields are "
                        + new TreeSet<>(fields));
            }
        }
    }

    /** A fresh copy of the template for {@code reason}. */
    AbnormalSpec specFor(String reason) {
        AbnormalSpec template = templates.getOrDefault(reason, templates.get("*"));
        return template == null ? new AbnormalSpec() : ApiSerialization.convert(template, AbnormalSpec.class);
    }
}
