package io.kdiag.stageworkers.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.stageworkers.WorkerCatalog;
import io.kdiag.stageworkers.WorkerRunner;
import io.kdiag.stageworkers.spi.StageWorker;
import io.kdiag.stageworkers.spi.WorkContext;
import io.kdiag.stageworkers.spi.WorkResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's pipeline without Kafka: pod-collector, then pod-disk-usage-diagnoser, as the agent chains them. */
class SeedPipelineTest {
    private static final String NODE = "10.177.16.22";

    @TempDir
    Path root;

    @Test
    @SuppressWarnings("unchecked")
    void shouldProduceTheSeedsPodDiskUsageDiagnosisOrderedByDiskUsage() throws Exception {
        Abnormal seed = seed();
        Map<String, Object> expected = (Map<String, Object>) ((List<Object>) seed.getStatus().context.get("podDiskUsageDiagnosis")).get(0);
        Pod flannel = Pods.pod("kube-system", "x", "x", NODE);
        flannel.setMetadata(ApiSerialization.convert(expected.get("metadata"), ObjectMeta.class));
        Pod coredns = Pods.pod("kube-system", "coredns-7ff77c879f-6x2kd", "6c0a2c7e-7d0b-4b1e-9a3e-2f1f3c6e8d11", NODE);
        writeFile("/var/lib/kubelet/pods/" + flannel.getMetadata().getUid() + "/volumes/kubernetes.io~configmap/cfg/net-conf.json", 40_000);
        writeFile("/var/lib/kubelet/pods/" + coredns.getMetadata().getUid() + "/volumes/kubernetes.io~empty-dir/tmp/cache", 300_000);

        Map<String, Object> statusContext = new LinkedHashMap<>();
        WorkerCatalog catalog = WorkerCatalog.builtIns();
        try (WorkerRunner runner = new WorkerRunner(2 * 1024 * 1024)) {
            for (String name : List.of("pod-collector", "pod-disk-usage-diagnoser")) {
                StageWorker worker = catalog.find(name).orElseThrow();
                WorkResult result = runner.run(worker, Contexts.with(root, Pods.source(List.of(flannel, coredns)), null, statusContext),
                        worker.timeout());
                assertThat(result.succeeded()).as(result.toString()).isTrue();
                // what the agent does with a result: set the updates, drop the removed keys, as JSON
                statusContext.putAll(ApiSerialization.jsonObject(ApiSerialization.json(result.contextUpdates())));
                result.removedKeys().forEach(statusContext::remove);
            }
        }

        assertThat(statusContext).containsOnlyKeys("podDiskUsageDiagnosis");
        List<Map<String, Object>> diagnosis = (List<Map<String, Object>>) statusContext.get("podDiskUsageDiagnosis");
        assertThat(diagnosis).extracting(d -> ((Map<String, Object>) d.get("metadata")).get("name"))
                .containsExactly("coredns-7ff77c879f-6x2kd", "kube-flannel-ds-amd64-qdjtb");
        Map<String, Object> flannelUsage = diagnosis.get(1);
        assertThat(flannelUsage.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        assertThat(flannelUsage.get("metadata")).isEqualTo(expected.get("metadata"));
        assertThat(flannelUsage.get("path")).isEqualTo(expected.get("path"));
        assertThat(((Number) flannelUsage.get("diskUsage")).longValue()).isGreaterThanOrEqualTo(40_000);
        assertThat(((Number) diagnosis.get(0).get("diskUsage")).longValue())
                .isGreaterThan(((Number) flannelUsage.get("diskUsage")).longValue());
    }

    private static Abnormal seed() throws IOException {
        try (InputStream in = SeedPipelineTest.class.getResourceAsStream("/seed/seed-abnormal-with-status.yaml")) {
            return ApiSerialization.abnormal(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private void writeFile(String hostPath, int size) throws IOException {
        Path file = root.resolve(hostPath.substring(1));
        Files.createDirectories(file.getParent());
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        Files.write(file, content);
    }
}
