package io.kdiag.deploy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * One rendered kustomization, with typed access to what the checks look at.
 *
 * @param name the kustomization's folder, relative to the repository
 * @param resources the rendered resources, as maps
 */
record Rendered(String name, List<Map<String, Object>> resources) {

    /** The kustomizations a user applies. */
    static final List<String> APPLIED = List.of("deploy/base", "deploy/overlays/strimzi", "deploy/overlays/external-kafka");

    static Rendered of(String folder) {
        return new Rendered(folder, Kustomize.render(Repo.path(folder)));
    }

    static Rendered of(String name, Path folder) {
        return new Rendered(name, Kustomize.render(folder));
    }

    Stream<Map<String, Object>> ofKind(String kind) {
        return resources.stream().filter(r -> Kustomize.kind(r).equals(kind));
    }

    <T> List<T> all(String kind, Class<T> type) {
        return ofKind(kind).map(r -> Kustomize.SERIALIZATION.convertValue(r, type)).toList();
    }

    boolean has(String kind, String name) {
        return ofKind(kind).anyMatch(r -> Kustomize.name(r).equals(name));
    }

    Optional<ConfigMap> configMap(String name) {
        return all("ConfigMap", ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst();
    }

    /** The pod specs of the workloads, by workload name. */
    Map<String, PodSpec> podSpecs() {
        Map<String, PodSpec> specs = new java.util.LinkedHashMap<>();
        all("DaemonSet", DaemonSet.class).forEach(d -> specs.put(d.getMetadata().getName(), d.getSpec().getTemplate().getSpec()));
        all("Deployment", Deployment.class).forEach(d -> specs.put(d.getMetadata().getName(), d.getSpec().getTemplate().getSpec()));
        return specs;
    }

    /** Every container of every workload. */
    List<Container> containers() {
        return podSpecs().values().stream().flatMap(p -> p.getContainers().stream()).toList();
    }

    @Override
    public String toString() {
        return name;
    }
}
