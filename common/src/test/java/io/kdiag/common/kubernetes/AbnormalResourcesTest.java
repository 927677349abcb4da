package io.kdiag.common.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.common.kubernetes.AbnormalResources.Result;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.testkit.MockCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AbnormalResourcesTest {
    private final MockCluster cluster = new MockCluster();
    private final AbnormalResources resources = new AbnormalResources(cluster.client());

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void shouldCreateAResourceAnnotatedWithItsRunOnceOnly() {
        assertThat(resources.create("default", "disk-full", Map.of("team", "sre"), spec(), "uid-1", Origin.IngestTopic)).isTrue();
        assertThat(resources.create("default", "disk-full", Map.of(), spec(), "uid-2", Origin.IngestTopic)).isFalse();

        Abnormal created = get("disk-full");
        assertThat(Annotations.runUid(created)).isEqualTo("uid-1");
        assertThat(created.getMetadata().getAnnotations()).containsEntry(Annotations.ORIGIN, "IngestTopic");
        assertThat(created.getMetadata().getLabels()).containsEntry("team", "sre");
        assertThat(created.getSpec().nodeName).isEqualTo("node-a");
    }

    @Test
    void shouldWriteTheStatusOfTheSameRunAndReportWhatItDid() {
        resources.create("default", "disk-full", Map.of(), spec(), "uid-1", Origin.IngestTopic);

        assertThat(resources.writeStatus("default", "disk-full", "uid-1", status("Succeeded"), null).result()).isEqualTo(Result.WRITTEN);
        assertThat(get("disk-full").getStatus().phase).isEqualTo("Succeeded");
        assertThat(resources.writeStatus("default", "disk-full", "uid-1", status("Succeeded"), null).result()).isEqualTo(Result.UNCHANGED);
        assertThat(resources.writeStatus("default", "disk-full", "uid-2", status("Failed"), null).result()).isEqualTo(Result.UID_MISMATCH);
        assertThat(resources.writeStatus("default", "gone", "uid-1", status("Failed"), null).result()).isEqualTo(Result.NOT_FOUND);
        assertThat(get("disk-full").getStatus().phase).isEqualTo("Succeeded");
    }

    @Test
    void shouldRetryAfterAConcurrentWriteAndCountIt() {
        resources.create("default", "disk-full", Map.of(), spec(), "uid-1", Origin.IngestTopic);
        cluster.failStatusWrites(2, 409);

        AbnormalResources.Write write = resources.writeStatus("default", "disk-full", "uid-1", status("Diagnosing"), null);

        assertThat(write).isEqualTo(new AbnormalResources.Write(Result.WRITTEN, 2));
        assertThat(get("disk-full").getStatus().phase).isEqualTo("Diagnosing");
    }

    @Test
    void shouldGiveUpOnConflictsThatDoNotEnd() {
        resources.create("default", "disk-full", Map.of(), spec(), "uid-1", Origin.IngestTopic);
        cluster.failStatusWrites(100, 409);

        assertThat(resources.writeStatus("default", "disk-full", "uid-1", status("Diagnosing"), null))
                .isEqualTo(new AbnormalResources.Write(Result.CONFLICTED, 5));
    }

    @Test
    void shouldCreateAMissingResourceWhenAskedAndThenWrite() {
        AbnormalResources.Write write = resources.writeStatus("default", "lost", "uid-9", status("Succeeded"),
                () -> resources.create("default", "lost", Map.of(), spec(), "uid-9", Origin.KubernetesEvent));

        assertThat(write.result()).isEqualTo(Result.WRITTEN);
        assertThat(Annotations.runUid(get("lost"))).isEqualTo("uid-9");
    }

    @Test
    void shouldMarkOnlyAnUnstartedResourceFailed() {
        resources.create("default", "no-node", Map.of(), spec(), "uid-1", Origin.CustomResource);
        resources.create("default", "running", Map.of(), spec(), "uid-2", Origin.CustomResource);
        resources.writeStatus("default", "running", "uid-2", status("Diagnosing"), null);

        assertThat(resources.failUnstarted("default", "no-node", "NodeNotFound", "spec.nodeName is empty")).isTrue();
        assertThat(resources.failUnstarted("default", "running", "NodeNotFound", "spec.nodeName is empty")).isFalse();
        assertThat(resources.failUnstarted("default", "absent", "NodeNotFound", "spec.nodeName is empty")).isFalse();

        assertThat(get("no-node").getStatus().reason).isEqualTo("NodeNotFound");
        assertThat(get("running").getStatus().phase).isEqualTo("Diagnosing");
    }

    private Abnormal get(String name) {
        return cluster.client().resources(Abnormal.class).inNamespace("default").withName(name).get();
    }

    private static AbnormalSpec spec() {
        return ApiSerialization.spec("{\"nodeName\":\"node-a\",\"assignedDiagnosers\":[{\"namespace\":\"kube-diagnoser\",\"name\":\"d\"}]}");
    }

    private static AbnormalStatus status(String phase) {
        AbnormalStatus status = new AbnormalStatus();
        status.phase = phase;
        return status;
    }
}
