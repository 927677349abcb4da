package io.kdiag.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import tools.jackson.core.type.TypeReference;

/**
 * Renders a kustomization the way {@code kubectl apply -k} does, for the features these manifests use: resources
 * (files and directories), components, strategic-merge patches from files, and the namespace transformer. Anything
 * else in a kustomization is an error, so the manifests cannot silently drift past what the checks understand.
 */
final class Kustomize {
    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "namespace", "resources", "components", "patches");
    /** Kinds the namespace transformer leaves alone. */
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "CustomResourceDefinition", "ClusterRole",
            "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PriorityClass");
    /** Strategic-merge keys of the lists these manifests patch; other lists are replaced. */
    private static final Map<String, String> MERGE_KEYS = Map.of("containers", "name", "initContainers", "name", "volumes", "name",
            "env", "name", "volumeMounts", "mountPath", "ports", "containerPort");

    private Kustomize() {
    }

    /** The resources of the kustomization in {@code dir}, in order. */
    static List<Map<String, Object>> render(Path dir) {
        Map<String, Object> k = kustomization(dir);
        List<Map<String, Object>> out = new ArrayList<>();
        for (String entry : strings(k, "resources")) {
            Path p = dir.resolve(entry).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(render(p));
            } else {
                out.addAll(load(p));
            }
        }
        for (String entry : strings(k, "components")) {
            Path component = dir.resolve(entry).normalize();
            Map<String, Object> c = kustomization(component);
            if (!"Component".equals(c.get("kind"))) {
                throw new IllegalArgumentException(component + " is not a kustomize Component");
            }
            for (String r : strings(c, "resources")) {
                out.addAll(load(component.resolve(r).normalize()));
            }
            applyPatches(component, c, out);
        }
        applyPatches(dir, k, out);
        Object namespace = k.get("namespace");
        if (namespace != null) {
            out.forEach(r -> setNamespace(r, namespace.toString()));
        }
        return out;
    }

    /** The YAML documents of one file, as maps. */
    static List<Map<String, Object>> load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String doc : text.split("(?m)^---\\s*$")) {
            Map<String, Object> map = SERIALIZATION.unmarshal(doc, new TypeReference<Map<String, Object>>() {
            });
            if (map != null && !map.isEmpty()) {
                docs.add(map);
            }
        }
        return docs;
    }

    /** The kustomization file of a directory, checked to use only the supported features. */
    static Map<String, Object> kustomization(Path dir) {
        Path file = Files.exists(dir.resolve("kustomization.yml")) ? dir.resolve("kustomization.yml") : dir.resolve("kustomization.yaml");
        List<Map<String, Object>> docs = load(file);
        if (docs.size() != 1) {
            throw new IllegalArgumentException(file + " must hold exactly one document");
        }
        Map<String, Object> k = docs.get(0);
        for (String key : k.keySet()) {
            if (!SUPPORTED.contains(key)) {
                throw new IllegalArgumentException(file + " uses '" + key + "', which the manifest checks do not render; "
                        + "supported: " + SUPPORTED);
            }
        }
        return k;
    }

    @SuppressWarnings("unchecked")
    private static void applyPatches(Path dir, Map<String, Object> k, List<Map<String, Object>> resources) {
        Object patches = k.get("patches");
        if (patches == null) {
            return;
        }
        for (Object p : (List<Object>) patches) {
            Map<String, Object> entry = (Map<String, Object>) p;
            if (entry.keySet().size() != 1 || !entry.containsKey("path")) {
                throw new IllegalArgumentException(dir + ": only patches given by 'path' are rendered, not " + entry.keySet());
            }
            for (Map<String, Object> patch : load(dir.resolve(entry.get("path").toString()))) {
                Map<String, Object> target = resources.stream()
                        .filter(r -> kind(r).equals(kind(patch)) && name(r).equals(name(patch)))
                        .findFirst()
                        .orElseThrow(() -> new IllegalArgumentException(dir + "/" + entry.get("path") + " patches " + kind(patch) + " "
                                + name(patch) + ", which is not among the resources"));
                merge(target, patch);
            }
        }
    }

    /** Strategic merge of {@code patch} into {@code target}, in place. */
    @SuppressWarnings("unchecked")
    static void merge(Map<String, Object> target, Map<String, Object> patch) {
        patch.forEach((key, value) -> {
            if (key.startsWith("$")) {
                throw new IllegalArgumentException("patch directive " + key + " is not rendered");
            }
            Object current = target.get(key);
            if (value == null) {
                target.remove(key);
            } else if (current instanceof Map && value instanceof Map) {
                merge((Map<String, Object>) current, (Map<String, Object>) value);
            } else if (current instanceof List && value instanceof List && MERGE_KEYS.containsKey(key)) {
                target.put(key, mergeList((List<Object>) current, (List<Object>) value, MERGE_KEYS.get(key)));
            } else {
                target.put(key, value);
            }
        });
    }

    @SuppressWarnings("unchecked")
    private static List<Object> mergeList(List<Object> current, List<Object> patch, String mergeKey) {
        List<Object> merged = new ArrayList<>(current);
        for (Object item : patch) {
            Map<String, Object> p = (Map<String, Object>) item;
            Map<String, Object> match = merged.stream()
                    .map(m -> (Map<String, Object>) m)
                    .filter(m -> String.valueOf(m.get(mergeKey)).equals(String.valueOf(p.get(mergeKey))))
                    .findFirst().orElse(null);
            if (match == null) {
                merged.add(new LinkedHashMap<>(p));
            } else {
                merge(match, p);
            }
        }
        return merged;
    }

    @SuppressWarnings("unchecked")
    private static void setNamespace(Map<String, Object> resource, String namespace) {
        String kind = kind(resource);
        if (!CLUSTER_SCOPED.contains(kind)) {
            ((Map<String, Object>) resource.computeIfAbsent("metadata", m -> new LinkedHashMap<>())).put("namespace", namespace);
        }
        if (kind.equals("RoleBinding") || kind.equals("ClusterRoleBinding")) {
            for (Object s : (List<Object>) resource.getOrDefault("subjects", List.of())) {
                Map<String, Object> subject = (Map<String, Object>) s;
                if ("ServiceAccount".equals(subject.get("kind"))) {
                    subject.put("namespace", namespace);
                }
            }
        }
    }

    static String kind(Map<String, Object> resource) {
        return String.valueOf(resource.get("kind"));
    }

    @SuppressWarnings("unchecked")
    static String name(Map<String, Object> resource) {
        return String.valueOf(((Map<String, Object>) resource.getOrDefault("metadata", Map.of())).get("name"));
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Map<String, Object> k, String key) {
        return ((List<Object>) k.getOrDefault(key, List.of())).stream().map(String::valueOf).toList();
    }
}
