package io.kdiag.nodeagent.processors;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.nodeagent.Fixtures;
import io.kdiag.nodeagent.policy.Policy;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.stageworkers.FileArtifactStore;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.HostPaths;
import io.kdiag.stageworkers.spi.NodeServices;
import io.kdiag.stageworkers.spi.PodSource;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long a built-in may take: as KubeDiag, which called its built-ins through their registrations, the
 * {@code timeoutSeconds} of a registration of the same name (30 s when it gives none), else KubeDiag's shipped values;
 * always capped by the policy.
 */
class BuiltInsTest {
    private static final String ANYTHING = "grants: [{processors: ['*'], origins: ['*'], namespaces: ['*']}]";
    private final WorkerRunner runner = new WorkerRunner(1 << 20);
    private final Map<String, ProcessorSpec> registered = new HashMap<>();
    private final Registrations registrations = new Registrations() {
        @Override
        public Optional<Registered> find(Stage stage, String namespace, String name) {
            return Optional.ofNullable(registered.get(namespace + "/" + name)).map(spec -> new Registered(spec, false, false));
        }

        @Override
        public List<HasMetadata> list(Stage stage) {
            return List.of();
        }
    };

    @AfterEach
    void close() {
        runner.close();
    }

    private BuiltIns builtIns(WorkerCatalog catalog, String policy) {
        Policy parsed = Policy.parse(policy, "policy.yaml");
        return new BuiltIns("kube-diagnoser", catalog, runner, registrations, () -> parsed);
    }

    private static ProcessorSpec registration(Integer timeoutSeconds) {
        ProcessorSpec spec = new ProcessorSpec();
        spec.path = "/informationcollector/podcollector";
        spec.timeoutSeconds = timeoutSeconds;
        return spec;
    }

    @Test
    void shouldGiveEachBuiltInKubeDiagsTimeoutWithoutARegistration() {
        BuiltIns builtIns = builtIns(WorkerCatalog.builtIns(), ANYTHING);
        Policy policy = Policy.parse(ANYTHING, "p");
        Map<String, Integer> expected = Map.of("pod-collector", 60, "container-collector", 60, "process-collector", 120,
                "systemd-collector", 60, "file-status-collector", 300, "pod-disk-usage-diagnoser", 300, "terminating-pod-diagnoser", 60,
                "signal-recoverer", 60, "process-match-diagnoser", 60);

        expected.forEach((name, seconds) -> assertThat(builtIns.timeout(WorkerCatalog.builtIns().find(name).orElseThrow(), policy))
                .as(name).isEqualTo(Duration.ofSeconds(seconds)));
    }

    @Test
    void shouldTakeTheTimeoutOfARegistrationOfTheSameNameCappedByThePolicy() {
        StageWorker podCollector = WorkerCatalog.builtIns().find("pod-collector").orElseThrow();
        StageWorker processCollector = WorkerCatalog.builtIns().find("process-collector").orElseThrow();
        BuiltIns builtIns = builtIns(WorkerCatalog.builtIns(), ANYTHING);

        registered.put("kube-diagnoser/pod-collector", registration(5));
        assertThat(builtIns.timeout(podCollector, Policy.parse(ANYTHING, "p"))).isEqualTo(Duration.ofSeconds(5));
        registered.put("kube-diagnoser/pod-collector", registration(null));
        assertThat(builtIns.timeout(podCollector, Policy.parse(ANYTHING, "p"))).as("KubeDiag's default").isEqualTo(Duration.ofSeconds(30));
        assertThat(builtIns.timeout(processCollector, Policy.parse("maxTimeoutSeconds: 100\n" + ANYTHING, "p")))
                .isEqualTo(Duration.ofSeconds(100));
    }

    @Test
    void shouldStopACallAtItsRegistrationsTimeout(@TempDir Path artifacts) throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        StageWorker slow = Fixtures.worker("slow-collector", Stage.InformationCollection, new ArrayList<>(), ctx -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return WorkResult.succeeded(Map.of(), Set.of());
        });
        registered.put("kube-diagnoser/slow-collector", registration(1));
        BuiltIns builtIns = builtIns(new WorkerCatalog(List.of(slow)), ANYTHING);
        WorkContext ctx = new WorkContext("u", "default", "a", "node-a", new AbnormalSpec(), Map.of(),
                new NodeServices(HostPaths.of(Path.of("/")), 1, PodSource.NONE, new FileArtifactStore(artifacts, Clock.systemUTC())));

        WorkResult result = builtIns.run(slow, Stage.InformationCollection, ctx, Origin.CustomResource, false);

        assertThat(result.reason()).isEqualTo("Timeout");
        assertThat(result.message()).isEqualTo("worker slow-collector did not finish within 1 s");
    }
}
