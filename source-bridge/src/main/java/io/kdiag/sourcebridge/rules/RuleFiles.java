package io.kdiag.sourcebridge.rules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.common.config.ConfigException;

/**
 * AbnormalSource rules read from files, for a bridge without a cluster (or beside one): the same YAML as the CRs, one
 * or more documents per file. A folder stands for its {@code .yaml}, {@code .yml} and {@code .json} files, in name
 * order. A document that is not an AbnormalSource with a name is refused here, naming the file; its spec is checked as
 * a CR's is when the rule book compiles it.
 */
public final class RuleFiles {
    private static final String KIND = "AbnormalSource";
    private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "metadata", "spec", "status");
    private static final String DEFAULT_NAMESPACE = "default";

    private RuleFiles() {
    }

    /** One rule read from a file. */
    public record Rule(Path file, GenericKubernetesResource resource) {
        /** Where it came from, for messages: the file and the rule's namespace/name. */
        public String origin() {
            return file + " (AbnormalSource " + resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName() + ")";
        }
    }

    /**
     * Reads every AbnormalSource of {@code paths} (files or folders).
     *
     * @throws ConfigException naming the file and the document that cannot be read or is not an AbnormalSource
     */
    public static List<Rule> read(List<Path> paths) {
        List<Rule> rules = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (Path path : paths) {
            for (Path file : files(path)) {
                for (Rule rule : readFile(file)) {
                    String key = rule.resource().getMetadata().getNamespace() + "/" + rule.resource().getMetadata().getName();
                    if (!seen.add(key)) {
                        throw new ConfigException("rule file " + file + ": the AbnormalSource " + key + " is defined twice");
                    }
                    rules.add(rule);
                }
            }
        }
        return rules;
    }

    private static List<Path> files(Path path) {
        if (!Files.isDirectory(path)) {
            if (!Files.isRegularFile(path)) {
                throw new ConfigException("rule file " + path + " does not exist");
            }
            return List.of(path);
        }
        try (Stream<Path> listed = Files.list(path)) {
            return listed.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().matches(".*\\.(ya?ml|json)")).sorted().toList();
        } catch (IOException e) {
            throw new ConfigException("cannot list the rule folder " + path + ": " + e.getMessage());
        }
    }

    private static List<Rule> readFile(Path file) {
        List<Map<String, Object>> documents;
        try {
            documents = ApiSerialization.documents(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read the rule file " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ConfigException("rule file " + file + " is not YAML: " + e.getMessage());
        }
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            String where = "rule file " + file + ", document " + (i + 1) + ": ";
            rules.add(new Rule(file, resource(where, documents.get(i))));
        }
        return rules;
    }

    @SuppressWarnings("unchecked")
    private static GenericKubernetesResource resource(String where, Map<String, Object> document) {
        Set<String> unknown = new TreeSet<>(document.keySet());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new ConfigException(where + "unknown field(s) " + unknown + "; an AbnormalSource has " + new TreeSet<>(FIELDS));
        }
        String apiVersion = Abnormal.API_VERSION;
        if (!apiVersion.equals(document.get("apiVersion")) || !KIND.equals(document.get("kind"))) {
            throw new ConfigException(where + "must be apiVersion " + apiVersion + ", kind " + KIND + ", not "
                    + document.get("apiVersion") + ", " + document.get("kind"));
        }
        if (!(document.get("metadata") instanceof Map<?, ?> metadata) || !(metadata.get("name") instanceof String name) || name.isBlank()) {
            throw new ConfigException(where + "metadata.name is required");
        }
        Object namespace = metadata.get("namespace");
        if (namespace != null && !(namespace instanceof String)) {
            throw new ConfigException(where + "metadata.namespace must be a string");
        }
        Object annotations = metadata.get("annotations");
        if (annotations != null && !(annotations instanceof Map<?, ?> map && map.values().stream().allMatch(String.class::isInstance))) {
            throw new ConfigException(where + "metadata.annotations must map names to strings");
        }
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion(apiVersion);
        resource.setKind(KIND);
        ObjectMeta meta = new ObjectMeta();
        meta.setName(name);
        meta.setNamespace(namespace == null ? DEFAULT_NAMESPACE : (String) namespace);
        meta.setAnnotations((Map<String, String>) annotations);
        resource.setMetadata(meta);
        if (document.containsKey("spec")) {
            resource.setAdditionalProperty("spec", document.get("spec"));
        }
        return resource;
    }
}
