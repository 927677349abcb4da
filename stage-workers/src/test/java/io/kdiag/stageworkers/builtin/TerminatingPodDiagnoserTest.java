package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

class TerminatingPodDiagnoserTest {
    private static final Instant NOW = Instant.parse("2024-01-01T00:10:00Z");

    @TempDir
    Path root;

    private static Map<String, Object> pod(String name, String uid, String deletion, Integer grace, String phase, String... containerIds) {
        return podOf(Contexts.NODE, name, uid, deletion, grace, null, phase, containerIds);
    }

    /** A pod of {@code node}; {@code deletionGrace} and {@code terminationGrace} are left out when null. */
    private static Map<String, Object> podOf(String node, String name, String uid, String deletion, Integer deletionGrace,
            Integer terminationGrace, String phase, String... containerIds) {
        Map<String, Object> metadata = Contexts.object("name", name, "namespace", "default", "uid", uid);
        if (deletion != null) {
            metadata.put("deletionTimestamp", deletion);
        }
        if (deletionGrace != null) {
            metadata.put("deletionGracePeriodSeconds", deletionGrace);
        }
        Map<String, Object> spec = Contexts.object("nodeName", node);
        if (terminationGrace != null) {
            spec.put("terminationGracePeriodSeconds", terminationGrace);
        }
        List<Object> statuses = List.of(containerIds).stream().map(id -> (Object) Map.of("name", "main", "containerID", id)).toList();
        return Contexts.object("metadata", metadata, "spec", spec, "status", Contexts.object("phase", phase, "containerStatuses", statuses));
    }

    private static Map<String, Object> process(long pid, String... command) {
        return Contexts.object("pid", pid, "command", List.of(command));
    }

    private WorkResult diagnose(Instant now, List<Object> pods, List<Object> processes) {
        Map<String, Object> status = Contexts.object("podInformation", pods, "processInformation", processes);
        return new TerminatingPodDiagnoser(Clock.fixed(now, ZoneOffset.UTC)).run(Contexts.at(root, null, status));
    }

    private static List<Object> names(WorkResult result) {
        return ((List<?>) result.contextUpdates().get("terminatingPodDiagnosis")).stream()
                .map(p -> ((Map<?, ?>) ((Map<?, ?>) p).get("metadata")).get("name")).map(n -> (Object) n).toList();
    }

    @Test
    void shouldFindTheDockerAndContainerdShimsOfStuckPods() throws Exception {
        ContainerCollectorTest.task(root, "k8s.io", "sb1", ContainerCollectorTest.config(Map.of(
                "io.kubernetes.cri.container-type", "sandbox", "io.kubernetes.cri.sandbox-id", "sb1",
                "io.kubernetes.cri.sandbox-uid", "uid-c")), 11L);
        ContainerCollectorTest.task(root, "k8s.io", "ctr7", ContainerCollectorTest.config(Map.of(
                "io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", "sb7")), 12L);
        List<Object> pods = List.of(
                pod("docker-stuck", "uid-d", "2024-01-01T00:00:00Z", 30, "Running", "docker://abc123"),
                pod("containerd-stuck", "uid-c", "2024-01-01T00:05:00+00:00", 0, "Running", "containerd://ctr9"),
                pod("old-annotations", "uid-o", "2024-01-01T00:00:00Z", 30, "Succeeded", "containerd://ctr7"),
                pod("unknown-phase", "uid-u", "2024-01-01T00:00:00Z", 30, "Unknown", "docker://uuu"),
                pod("healthy", "uid-h", null, null, "Running", "docker://hhh"));
        List<Object> processes = List.of(
                process(500, "containerd-shim", "-namespace", "moby", "-workdir",
                        "/var/lib/containerd/io.containerd.runtime.v1.linux/moby/abc123", "-address", "/run/containerd.sock"),
                process(600, "/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "sb1", "-address", "/run/containerd/containerd.sock"),
                process(700, "/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id=sb7"),
                process(800, "containerd-shim", "-workdir", "/x/moby/uuu"),
                process(900, "containerd-shim", "-workdir", "/x/moby/hhh"),
                process(1000, "/usr/bin/containerd", "-id", "abc123"));

        WorkResult result = diagnose(NOW, pods, processes);

        assertThat(result.succeeded()).as(result.toString()).isTrue();
        assertThat(names(result)).containsExactly("docker-stuck", "containerd-stuck", "old-annotations");
        assertThat(result.contextUpdates().get("terminatingPodDiagnosis")).asList().first().isEqualTo(pods.get(0));
        assertThat(result.contextUpdates().get("signalRecovery")).isEqualTo(List.of(
                Map.of("pid", 500L, "signal", 9L), Map.of("pid", 600L, "signal", 9L), Map.of("pid", 700L, "signal", 9L)));
        assertThat(result.removedKeys()).containsExactlyInAnyOrder("podInformation", "processInformation");
    }

    @Test
    void shouldWaitThirtySecondsBeyondTheGracePeriod() {
        // deleted at 00:09:10 with 30 s of grace: stuck only after 00:10:10 (the original's 30 ns made it 00:09:40)
        List<Object> pods = List.of(pod("slow", "uid-s", "2024-01-01T00:09:10Z", 30, "Running", "docker://abc"));
        List<Object> processes = List.of(process(500, "containerd-shim", "-workdir", "/x/abc"));

        WorkResult early = diagnose(NOW, pods, processes);
        WorkResult late = diagnose(Instant.parse("2024-01-01T00:10:11Z"), pods, processes);

        assertThat(early.succeeded()).isTrue();
        assertThat(early.contextUpdates()).isEmpty();
        assertThat(early.removedKeys()).isEmpty();
        assertThat(names(late)).containsExactly("slow");
    }

    @ParameterizedTest(name = "deletion grace {0}, termination grace {1}, {2} s after deletion: stuck {3}")
    @CsvSource(nullValues = "none", value = {
        // KubeDiag v0.1.6, with its two 30 ns: stuck, stuck, stuck, panic / panic, stuck / stuck
        "30, 30, 59, false", "30, 30, 61, true",
        "none, none, 45, false", "none, none, 61, true",
        "none, 10, 39, false", "none, 10, 41, true",
        "0, 30, 29, false", "0, 30, 31, true"})
    void shouldTakeTheGracePeriodAsKubernetesDoes(Integer deletionGrace, Integer terminationGrace, int secondsAfter, boolean stuck) {
        Instant deleted = Instant.parse("2024-01-01T00:00:00Z");
        List<Object> pods = List.of(podOf(Contexts.NODE, "p", "uid-p", deleted.toString(), deletionGrace, terminationGrace, "Running",
                "docker://abc"));
        List<Object> processes = List.of(process(500, "containerd-shim", "-workdir", "/x/abc"));

        WorkResult result = diagnose(deleted.plusSeconds(secondsAfter), pods, processes);

        assertThat(result.succeeded()).as(result.toString()).isTrue();
        assertThat(result.contextUpdates().containsKey("terminatingPodDiagnosis")).isEqualTo(stuck);
    }

    @Test
    void shouldIgnoreThePodsOfOtherNodes() {
        // a pod of another node, given in spec.context: its container id must not get a shim of this node killed
        List<Object> pods = List.of(podOf("node-9", "elsewhere", "uid-e", "2024-01-01T00:00:00Z", 0, null, "Running", "docker://abc"),
                podOf(null, "unscheduled", "uid-u", "2024-01-01T00:00:00Z", 0, null, "Running", "docker://abc"));
        List<Object> processes = List.of(process(500, "containerd-shim", "-workdir", "/x/abc"));

        WorkResult result = diagnose(NOW, pods, processes);

        assertThat(result.succeeded()).isTrue();
        assertThat(result.contextUpdates()).isEmpty();
    }

    @Test
    void shouldFailWithShimNotFoundWhenNoShimHoldsTheStuckPods() {
        List<Object> pods = List.of(pod("stuck", "uid-x", "2024-01-01T00:00:00Z", 0, "Running", "cri-o://abc"));
        List<Object> processes = List.of(process(Contexts.AGENT_PID, "containerd-shim", "-workdir", "/x/abc"),
                process(1, "containerd-shim", "-workdir", "/x/abc"), process(77, "containerd-shim-runc-v2", "-id", "other"));

        WorkResult result = diagnose(NOW, pods, processes);

        assertThat(result.reason()).isEqualTo("ShimNotFound");
        assertThat(result.message()).contains("default/stuck");
    }

    @Test
    void shouldRefuseMissingOrMalformedInput() {
        WorkResult noProcesses = new TerminatingPodDiagnoser(Clock.fixed(NOW, ZoneOffset.UTC))
                .run(Contexts.at(root, Map.of("podInformation", List.of()), null));
        WorkResult badTime = diagnose(NOW, List.of(pod("p", "u", "yesterday", 0, "Running")), List.of());

        assertThat(noProcesses.reason()).isEqualTo("MissingInput");
        assertThat(noProcesses.message()).contains("processInformation");
        assertThat(badTime.reason()).isEqualTo("InvalidInput");
        assertThat(badTime.message()).contains("default/p", "yesterday");
    }

    @Test
    void shouldReadTheIdOfEveryShimFlagForm() {
        assertThat(TerminatingPodDiagnoser.shimId(List.of("/usr/bin/docker-containerd-shim", "-workdir", "/a/b"))).isEqualTo("b");
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd", "-id", "x"))).isNull();
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd-shimmer", "-workdir", "/a/x"))).isNull();
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd-shim", "--workdir=/a/b/c1/"))).isEqualTo("c1");
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd-shim", "-workdir", "/a/c2"))).isEqualTo("c2");
        assertThat(TerminatingPodDiagnoser.shimId(List.of("/usr/bin/containerd-shim-runc-v2", "--id", "s1"))).isEqualTo("s1");
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd-shim-kata-v2", "-namespace", "k8s.io", "-id=s2"))).isEqualTo("s2");
        assertThat(TerminatingPodDiagnoser.shimId(List.of("containerd-shim-runc-v2", "-namespace", "k8s.io"))).isNull();
        assertThat(TerminatingPodDiagnoser.shimId(List.of())).isNull();
    }
}
