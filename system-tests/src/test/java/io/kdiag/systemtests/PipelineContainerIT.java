package io.kdiag.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Phase;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.core.type.TypeReference;

/** The system as containers, each started as the manifests say, with an abnormal published from the host. */
@ExtendWith(StackExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineContainerIT {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final Duration FINAL = Duration.ofMinutes(2);
    private static Stack stack;

    @BeforeAll
    static void start(Stack s) {
        stack = s;
    }

    static Abnormal collect(String name) {
        return ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: %s, namespace: system-test}
                spec:
                  source: Custom
                  nodeName: %s
                  assignedInformationCollectors:
                  - {name: process-collector, namespace: kube-diagnoser}
                  - {name: container-collector, namespace: kube-diagnoser}
                  skipDiagnosis: true
                  skipRecovery: true
                """.formatted(name, Stack.NODE));
    }

    static AbnormalStatus runToEnd(Abnormal abnormal) {
        return runToEnd(stack, abnormal);
    }

    /** Publishes from the host and waits for the final status. */
    static AbnormalStatus runToEnd(Stack stack, Abnormal abnormal) {
        KdiagClient client = stack.client();
        String uid = client.publish(abnormal);
        return client.awaitFinalStatus(uid, FINAL).orElseThrow(() -> new AssertionError(abnormal.getMetadata().getName()
                + " reached no final status within " + FINAL + "; agent log:\n" + Stack.tail(stack.container(Stack.AGENT))));
    }

    /** /proc/PID of a component's main process, on the host. */
    static Path mainProcess(String workload) {
        return Path.of("/proc", Podman.inspect(stack.container(workload), "{{.State.Pid}}"));
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, Object> context(AbnormalStatus status) {
        return JSON.unmarshal(status.getContext(), new TypeReference<Map<String, Object>>() {
        });
    }

    @Test
    @Order(1)
    void shouldStartEachComponentHealthyWithTheEnvironmentItsManifestSets() {
        for (String workload : Stack.COMPONENTS.keySet()) {
            Map<String, String> expected = stack.runs.get(workload).env();
            assertThat(expected).as(workload).containsKeys("KDIAG_KAFKA_BOOTSTRAP_SERVERS", "KDIAG_TOPIC_PREFIX", "KDIAG_PARTITIONS");
            // what the container's main process really got, read on the host
            Map<String, String> actual = new TreeMap<>();
            for (String entry : read(mainProcess(workload).resolve("environ")).split("\0")) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    actual.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
            assertThat(actual).as(workload).containsAllEntriesOf(expected);
            assertThat(read(mainProcess(workload).resolve("cmdline")).replace('\0', ' ')).as(workload)
                    .contains("java", String.join(" ", stack.runs.get(workload).args()));
            assertThat(stack.get(workload, "metrics", "/metrics")).as(workload + " metrics").contains("# TYPE ");
        }
    }

    @Test
    @Order(2)
    void shouldExposeEveryCounterAndHistogramAtZeroBeforeTheFirstAbnormal() {
        // read right after each component first became ready, before any test published anything
        Map<String, List<String>> expected = Map.of(
                Stack.AGENT, List.of("kdiag_agent_stage_sync_total{result=\"success\",stage=\"InformationCollection\"} 0.0",
                        "kdiag_agent_command_executor_total{result=\"fail\",stage=\"Diagnosis\"} 0.0",
                        "kdiag_agent_profiler_total{result=\"success\",stage=\"Recovery\"} 0.0",
                        "kdiag_agent_stage_duration_seconds_count{stage=\"Recovery\"} 0"),
                Stack.BRIDGE, List.of("kdiag_bridge_forwarded_total{source=\"ingest\"} 0.0",
                        "kdiag_bridge_refused_total{reason=\"InvalidSpec\",source=\"custom-resource\"} 0.0",
                        "kdiag_bridge_suppressed_total{reason=\"duplicate\",source=\"ingest\"} 0.0",
                        "kdiag_bridge_ingest_records_total{reason=\"bad-spec\",result=\"dead-lettered\"} 0.0"),
                Stack.STATUS_WRITER, List.of("kdiag_status_writes_total{result=\"written\"} 0.0",
                        "kdiag_status_gc_total{result=\"deleted\"} 0.0"));
        expected.forEach((workload, series) -> assertThat(stack.metricsAtStart.get(workload)).as(workload).contains(series));
    }

    @Test
    @Order(3)
    void shouldRunTheAgentInTheHostPidNamespaceWithTheDaemonSetsMemoryLimitAndCapabilities() {
        String agent = stack.container(Stack.AGENT);
        assertThat(Podman.inspect(agent, "{{.HostConfig.PidMode}}")).isEqualTo("host");
        assertThat(Long.parseLong(Podman.inspect(agent, "{{.HostConfig.Memory}}"))).isEqualTo(stack.runs.get(Stack.AGENT).memoryLimitBytes())
                .isEqualTo(1024L * 1024 * 1024);
        assertThat(Podman.inspect(agent, "{{.HostConfig.ReadonlyRootfs}}")).isEqualTo("true");
        // root with exactly the five capabilities the DaemonSet adds (SYS_PTRACE, KILL, SYS_ADMIN, SYS_CHROOT, DAC_READ_SEARCH)
        String status = read(mainProcess(Stack.AGENT).resolve("status"));
        assertThat(status).containsPattern("\nUid:\t0\t").contains("CapEff:\t00000000002c0024");
        // the host's processes, this test's JVM among them; a read-only root
        assertThat(Podman.podman("exec", agent, "sh", "-c", "touch /x 2>&1 || true; ls /proc/" + ProcessHandle.current().pid() + "/cmdline"))
                .contains("Read-only file system", "/proc/" + ProcessHandle.current().pid() + "/cmdline");
        // the JVM sees the container's limit, the heap is the manifest's
        assertThat(Podman.podman("exec", agent, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null "
                + "|| cat /sys/fs/cgroup/memory.max")).isEqualTo(Long.toString(1024L * 1024 * 1024));
    }

    @Test
    @Order(4)
    @SuppressWarnings("unchecked")
    void shouldCollectTheHostsProcessesAndTheEnginesContainersForAnAbnormalPublishedFromTheHost() {
        AbnormalStatus status = runToEnd(collect("collect-from-containers"));
        assertThat(status.getPhase()).as(String.valueOf(status)).isEqualTo(Phase.Succeeded);
        Map<String, Object> context = context(status);

        // this test's JVM is a process of the host, outside every container: the agent sees it with its command line
        List<Map<String, Object>> processes = (List<Map<String, Object>>) context.get("processInformation");
        long self = ProcessHandle.current().pid();
        assertThat(processes).anySatisfy(p -> {
            assertThat(((Number) p.get("pid")).longValue()).isEqualTo(self);
            assertThat(String.valueOf(p.get("command"))).contains("java");
        });

        // the engine's containers, as `podman ps` shows them: name, image, state, pid, labels
        List<Map<String, Object>> containers = (List<Map<String, Object>>) context.get("containerInformation");
        String bridge = stack.container(Stack.BRIDGE);
        Map<String, Object> listed = containers.stream().filter(c -> bridge.equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(bridge + " not among " + containers));
        assertThat(listed.get("runtime")).isEqualTo("docker");
        assertThat(listed.get("state")).isEqualTo("running");
        assertThat(String.valueOf(listed.get("image"))).contains("kdiag:0.1.0");
        assertThat(String.valueOf(listed.get("id"))).startsWith(Podman.inspect(bridge, "{{.Id}}").substring(0, 12));
        assertThat(((Number) listed.get("pid")).longValue()).isEqualTo(Long.parseLong(Podman.inspect(bridge, "{{.State.Pid}}")));
        assertThat((Map<String, Object>) listed.get("labels")).containsEntry("app.kubernetes.io/component", "source-bridge")
                .containsEntry("io.kdiag.test-run", Podman.RUN);
    }

    @Test
    @Order(5)
    void shouldLoseNothingWhenEachContainerRestarts() {
        KdiagClient client = stack.client();
        List<String> uids = new ArrayList<>();
        uids.add(runToEnd(collect("before-restarts")).getUid());
        for (String restarted : List.of("kafka", Stack.BRIDGE, Stack.STATUS_WRITER, Stack.AGENT)) {
            if (restarted.equals("kafka")) {
                stack.restartKafka();
            } else {
                stack.restart(restarted);
            }
            AbnormalStatus after = runToEnd(collect("after-restart-of-" + restarted.replaceFirst("^kdiag-", "")));
            assertThat(after.getPhase()).as("after a restart of " + restarted).isEqualTo(Phase.Succeeded);
            uids.add(after.getUid());
        }
        // every status and every history is still there, each abnormal ran once
        Map<String, AbnormalStatus> statuses = client.statuses();
        assertThat(statuses.keySet()).containsAll(uids);
        for (String uid : uids) {
            assertThat(statuses.get(uid).getPhase()).isEqualTo(Phase.Succeeded);
            assertThat(client.history(uid, Stack.NODE)).as("history of " + uid)
                    .extracting(e -> e.getSeq()).doesNotHaveDuplicates().isNotEmpty();
        }
        assertThat(Set.copyOf(uids)).hasSize(uids.size());
    }
}
