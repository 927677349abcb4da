package io.kdiag.allinone.e2e;

import static io.kdiag.allinone.e2e.E2ePipeline.list;
import static io.kdiag.allinone.e2e.E2ePipeline.map;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The original project's seed Abnormal, unchanged, through the whole pipeline: created as a CR, forwarded by the
 * bridge, run by the agent of node 10.177.16.22 (pod-collector from its pod informer, pod-disk-usage-diagnoser over
 * a fixture kubelet tree), folded and written back to the CR's status by the status writer. The status must have the
 * shape of the original's seed status.
 */
class SeedAbnormalIT {
    private static final String NODE = "10.177.16.22";
    private static final String SEED = "seed-abnormal.yaml";
    private static final String SEED_WITH_STATUS = "seed-abnormal-with-status.yaml";
    private static final String KUBELET_PODS = "/var/lib/kubelet/pods/";

    @TempDir
    static Path state;
    @TempDir
    static Path hostRoot;
    static E2ePipeline pipeline;
    /** Namespace/name of the node's pods, largest disk usage first, and the bytes written for each. */
    static final Map<String, Integer> BYTES = new LinkedHashMap<>();
    static final Map<String, String> UIDS = new LinkedHashMap<>();

    @BeforeAll
    static void startPipeline() throws IOException {
        pipeline = E2ePipeline.cluster(state);
        List<Pod> created = pipeline.createPods(List.of(
                pod("kube-system", "kube-flannel-ds-amd64-qdjtb", "kube-flannel-ds-amd64-", "DaemonSet", "kube-flannel-ds-amd64"),
                pod("default", "web-0", "web-", "StatefulSet", "web"),
                pod("default", "cache-7c9f8d6b5-x2lq4", "cache-7c9f8d6b5-", "ReplicaSet", "cache-7c9f8d6b5")));
        created.forEach(p -> UIDS.put(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p.getMetadata().getUid()));
        // sizes far apart, so the order holds whatever blocks the file system rounds to
        BYTES.put("default/web-0", 3 << 20);
        BYTES.put("default/cache-7c9f8d6b5-x2lq4", 1 << 20);
        BYTES.put("kube-system/kube-flannel-ds-amd64-qdjtb", 64 << 10);
        for (Map.Entry<String, Integer> pod : BYTES.entrySet()) {
            Path volume = hostRoot.resolve(KUBELET_PODS.substring(1) + UIDS.get(pod.getKey()))
                    .resolve("volumes/kubernetes.io~empty-dir/data");
            Files.createDirectories(volume);
            Files.write(volume.resolve("blob"), new byte[pod.getValue()]);
        }
        pipeline.start(NODE, hostRoot);
    }

    @AfterAll
    static void stopPipeline() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    /** A running pod of {@link #NODE} with the metadata fields of the seed's (a controller's pod). */
    private static Pod pod(String namespace, String name, String generateName, String ownerKind, String owner) {
        return pipeline.kube().getKubernetesSerialization().unmarshal("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: %s
                  generateName: %s
                  labels: {app: %s, controller-revision-hash: 7f489b5c67, pod-template-generation: "1", tier: node}
                  ownerReferences:
                  - {apiVersion: apps/v1, kind: %s, name: %s, uid: 94094c6d-4779-4172-9d39-dce884184fef, controller: true, blockOwnerDeletion: true}
                spec:
                  nodeName: %s
                  containers: [{name: main, image: "registry.k8s.io/pause:3.9"}]
                status:
                  phase: Running
                  containerStatuses:
                  - {name: main, ready: true, restartCount: 0, image: "registry.k8s.io/pause:3.9", imageID: "", containerID: "containerd://%s"}
                """.formatted(name, namespace, generateName, owner, ownerKind, owner, NODE, Integer.toHexString(name.hashCode())), Pod.class);
    }

    @Test
    void shouldUseTheSeedFilesUnchanged() throws IOException {
        assertThat(bytes(SEED)).isEqualTo(Files.readAllBytes(Path.of("..", "schemas", "src", "test", "resources", "seed", SEED)));
        assertThat(bytes(SEED_WITH_STATUS))
                .isEqualTo(Files.readAllBytes(Path.of("..", "schemas", "src", "test", "resources", "seed", SEED_WITH_STATUS)));
    }

    @Test
    void shouldWriteTheStatusOfTheSeedToTheAbnormalResource() {
        Abnormal created = pipeline.createAbnormal(SEED);

        GenericKubernetesResource cr = pipeline.awaitFinished("default", "pod-disk-usage-diagnosis");

        Map<String, Object> status = map(cr.getAdditionalProperties().get("status"));
        Map<String, Object> expected = map(pipeline.read(SEED_WITH_STATUS).getAdditionalProperties().get("status"));
        // the CR ran under its own uid: the bridge forwarded it (no kdiag.io/uid annotation, no second run)
        assertThat(cr.getMetadata().getUid()).isEqualTo(created.getMetadata().getUid());
        assertThat(cr.getMetadata().getAnnotations()).doesNotContainKey("kdiag.io/uid");
        // same fields, same types, as the original's status; values that differ by run (times, uids, sizes) aside
        assertThat(shape(withoutPodMetadata(status))).as(ApiSerialization.yaml(status)).isEqualTo(shape(withoutPodMetadata(expected)));
        assertThat(status.get("phase")).isEqualTo("Succeeded");
        assertThat(status.get("identifiable")).isEqualTo(true);
        assertThat(status.get("recoverable")).isEqualTo(true);
        assertThat(status.get("diagnoser")).isEqualTo(expected.get("diagnoser"));
        assertThat(Instant.parse((String) status.get("startTime"))).isAfter(Instant.parse((String) expected.get("startTime")));
        assertThat(list(status.get("conditions"))).extracting(c -> map(c).get("type") + "=" + map(c).get("status"))
                .containsExactly("InformationCollected=True", "Identified=True", "Recovered=True");
        assertThat(list(status.get("conditions"))).allSatisfy(c -> assertThat(Instant.parse((String) map(c).get("lastTransitionTime")))
                .isAfterOrEqualTo(Instant.parse((String) status.get("startTime"))));

        List<Map<String, Object>> usages = list(map(status.get("context")).get("podDiskUsageDiagnosis")).stream().map(E2ePipeline::map).toList();
        assertThat(usages).extracting(u -> map(u.get("metadata")).get("namespace") + "/" + map(u.get("metadata")).get("name"))
                .containsExactlyElementsOf(BYTES.keySet());
        assertThat(usages).extracting(u -> ((Number) u.get("diskUsage")).longValue()).isSortedAccordingTo((a, b) -> Long.compare(b, a));
        Map<String, Object> seedPod = map(map(list(map(expected.get("context")).get("podDiskUsageDiagnosis")).get(0)).get("metadata"));
        List<String> seedMetadataKeys = new ArrayList<>(seedPod.keySet());
        // selfLink is no longer set since Kubernetes 1.20
        seedMetadataKeys.remove("selfLink");
        for (Map<String, Object> usage : usages) {
            Map<String, Object> metadata = map(usage.get("metadata"));
            String pod = metadata.get("namespace") + "/" + metadata.get("name");
            assertThat(metadata).as(pod).containsKeys(seedMetadataKeys.toArray(String[]::new)).containsEntry("uid", UIDS.get(pod));
            assertThat(shape(metadata.get("ownerReferences"))).isEqualTo(shape(seedPod.get("ownerReferences")));
            assertThat(usage.get("path")).isEqualTo(KUBELET_PODS + UIDS.get(pod));
            assertThat(((Number) usage.get("diskUsage")).longValue()).as(pod).isGreaterThanOrEqualTo(BYTES.get(pod));
        }
    }

    private static byte[] bytes(String resource) throws IOException {
        try (InputStream in = E2ePipeline.resource(resource)) {
            return in.readAllBytes();
        }
    }

    /** The status with every pod's metadata emptied: a node's pods differ from the seed's in labels and fields. */
    private static Map<String, Object> withoutPodMetadata(Map<String, Object> status) {
        Map<String, Object> copy = new LinkedHashMap<>(status);
        Map<String, Object> context = new LinkedHashMap<>(map(status.get("context")));
        context.put("podDiskUsageDiagnosis", list(context.get("podDiskUsageDiagnosis")).stream().map(u -> {
            Map<String, Object> usage = new LinkedHashMap<>(map(u));
            usage.put("metadata", Map.of());
            return usage;
        }).toList());
        copy.put("context", context);
        return copy;
    }

    /** The keys and value types of a JSON value; a list's shape is the set of its elements' shapes. */
    private static Object shape(Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> shape = new TreeMap<>();
            m.forEach((k, v) -> shape.put(String.valueOf(k), shape(v)));
            return shape;
        }
        if (value instanceof List<?> l) {
            return l.stream().map(SeedAbnormalIT::shape).distinct().toList();
        }
        if (value instanceof Number) {
            return "number";
        }
        return value == null ? "null" : value.getClass().getSimpleName();
    }
}
