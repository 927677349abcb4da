package io.kdiag.allinone.e2e;

import static io.kdiag.allinone.e2e.E2ePipeline.list;
import static io.kdiag.allinone.e2e.E2ePipeline.map;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.kdiag.api.ApiSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pod stuck in Terminating, end to end: created as an Abnormal CR, the agent collects the node's pods (its
 * informer) and processes ({@code /proc}), terminating-pod-diagnoser finds the pod's containerd shim through the
 * sandbox id in containerd's task state, and signal-recoverer sends it SIGKILL. The shims are test processes whose
 * command lines are those of {@code containerd-shim-runc-v2}; a second shim, of a pod that is not terminating, must
 * survive.
 */
class TerminatingPodIT {
    private static final String NODE = "10.177.16.22";
    private static final String TASKS = "run/containerd/io.containerd.runtime.v2.task/k8s.io";
    private static final String STUCK_SANDBOX = "a3f1c7d2e9b8406f8d5c1e2b3a4f5d6e7c8b9a0f1e2d3c4b5a6978877665544a";
    private static final String STUCK_CONTAINER = "5f0c2b9d8e7a4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b";
    private static final String RUNNING_SANDBOX = "b4e2d8c3f0a9517e9c6d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c";
    private static final String RUNNING_CONTAINER = "6a1d3c0e9f8b5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c";

    @TempDir
    static Path state;
    @TempDir
    static Path hostRoot;
    static E2ePipeline pipeline;
    static Pod stuck;
    static Process stuckShim;
    static Process runningShim;

    @BeforeAll
    static void startPipeline() throws IOException {
        pipeline = E2ePipeline.cluster(state);
        List<Pod> pods = pipeline.createPods(List.of(pod("web-0", STUCK_CONTAINER), pod("web-1", RUNNING_CONTAINER)));
        // deleted ten minutes ago and still there: an API server sets deletionTimestamp itself, the CRUD mock takes a patch
        Instant deleted = Instant.now().minus(10, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.SECONDS);
        stuck = pipeline.kube().pods().inNamespace("default").withName("web-0").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"deletionTimestamp\":\"" + deleted + "\",\"deletionGracePeriodSeconds\":30}}");
        assertThat(stuck.getMetadata().getDeletionTimestamp()).isEqualTo(deleted.toString());
        assertThat(stuck.getStatus().getPhase()).isEqualTo("Running");
        // containerd's CRI plugin: one shim per pod, serving under the sandbox id, which only its task state links to the pod
        task(STUCK_SANDBOX, stuck, "sandbox", STUCK_SANDBOX);
        task(STUCK_CONTAINER, stuck, "container", STUCK_SANDBOX);
        task(RUNNING_SANDBOX, pods.get(1), "sandbox", RUNNING_SANDBOX);
        task(RUNNING_CONTAINER, pods.get(1), "container", RUNNING_SANDBOX);
        Files.createSymbolicLink(hostRoot.resolve("proc"), Path.of("/proc"));
        stuckShim = shim(STUCK_SANDBOX);
        runningShim = shim(RUNNING_SANDBOX);
        pipeline.start(NODE, hostRoot);
    }

    @AfterAll
    static void stopPipeline() {
        if (pipeline != null) {
            pipeline.close();
        }
        for (Process shim : new Process[] {stuckShim, runningShim}) {
            if (shim != null) {
                shim.destroyForcibly();
            }
        }
    }

    /** A running pod of {@link #NODE} in namespace default with one container, held by a finalizer once deleted. */
    private static Pod pod(String name, String containerId) {
        return pipeline.kube().getKubernetesSerialization().unmarshal("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: default
                  finalizers: [example.com/held]
                spec:
                  nodeName: %s
                  terminationGracePeriodSeconds: 30
                  containers: [{name: nginx, image: "nginx:1.25"}]
                status:
                  phase: Running
                  containerStatuses:
                  - {name: nginx, ready: true, restartCount: 0, image: "nginx:1.25", imageID: "", containerID: "containerd://%s"}
                """.formatted(name, NODE, containerId), Pod.class);
    }

    /** The OCI bundle of a containerd task of {@code pod}, with the annotations the CRI plugin writes. */
    private static void task(String id, Pod pod, String type, String sandbox) throws IOException {
        Path bundle = Files.createDirectories(hostRoot.resolve(TASKS).resolve(id));
        Files.writeString(bundle.resolve("config.json"), ApiSerialization.json(Map.of("ociVersion", "1.1.0", "annotations", Map.of(
                "io.kubernetes.cri.container-type", type,
                "io.kubernetes.cri.sandbox-id", sandbox,
                "io.kubernetes.cri.sandbox-name", pod.getMetadata().getName(),
                "io.kubernetes.cri.sandbox-namespace", pod.getMetadata().getNamespace(),
                "io.kubernetes.cri.sandbox-uid", pod.getMetadata().getUid()))));
    }

    /**
     * A process whose command line is a containerd runtime-v2 shim's for task {@code id}: bash under the shim's name,
     * waiting on its stdin (held open by this JVM) so that nothing else runs under it.
     */
    private static Process shim(String id) throws IOException {
        return new ProcessBuilder("bash", "-c", "exec -a /usr/bin/containerd-shim-runc-v2 bash -c 'read -t 300' "
                + "-namespace k8s.io -id " + id + " -address /run/containerd/containerd.sock").start();
    }

    @Test
    void shouldKillTheShimOfTheStuckPodAndSucceed() throws Exception {
        pipeline.createAbnormal("terminating-pod-abnormal.yaml");

        GenericKubernetesResource cr = pipeline.awaitFinished("default", "terminating-pod-diagnosis");

        Map<String, Object> status = map(cr.getAdditionalProperties().get("status"));
        assertThat(status.get("phase")).as(ApiSerialization.yaml(status)).isEqualTo("Succeeded");
        assertThat(list(status.get("conditions"))).extracting(c -> map(c).get("type") + "=" + map(c).get("status"))
                .containsExactly("InformationCollected=True", "Identified=True", "Recovered=True");
        assertThat(status.get("diagnoser")).isEqualTo(Map.of("name", "terminating-pod-diagnoser", "namespace", "kube-diagnoser"));
        assertThat(status.get("recoverer")).isEqualTo(Map.of("name", "signal-recoverer", "namespace", "kube-diagnoser"));
        Map<String, Object> context = map(status.get("context"));
        assertThat(context).doesNotContainKeys("podInformation", "processInformation");
        assertThat(list(context.get("terminatingPodDiagnosis"))).singleElement()
                .satisfies(pod -> assertThat(map(map(pod).get("metadata")))
                        .containsEntry("name", "web-0").containsEntry("uid", stuck.getMetadata().getUid()));
        assertThat(list(context.get("signalRecovery"))).singleElement().isEqualTo(Map.of("pid", (int) stuckShim.pid(), "signal", 9));
        assertThat(list(context.get("signalRecoveryResult"))).singleElement()
                .isEqualTo(Map.of("pid", (int) stuckShim.pid(), "signal", 9, "sent", true));
        assertThat(stuckShim.waitFor(30, TimeUnit.SECONDS)).isTrue();
        // 128 + 9: killed by SIGKILL
        assertThat(stuckShim.exitValue()).isEqualTo(137);
        assertThat(runningShim.isAlive()).isTrue();
    }
}
