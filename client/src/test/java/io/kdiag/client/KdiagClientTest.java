package io.kdiag.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.schemas.Topics;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the client does without a broker: CRs through the API server, input checks, partitioning. */
@EnableKubernetesMockClient(crud = true)
class KdiagClientTest {
    static KubernetesClient client;

    @BeforeEach
    void registerCrd() throws Exception {
        try (InputStream crd = Files.newInputStream(Path.of("../deploy/base/crds/abnormals.diagnosis.netease.com-v1.yml"))) {
            client.apiextensions().v1().customResourceDefinitions().load(crd).createOr(r -> r.update());
        }
    }

    private static Abnormal abnormal(String yaml) {
        return ApiSerialization.abnormal(yaml);
    }

    @Test
    void shouldCreateTheAbnormalThroughTheApiServer() {
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers("localhost:1").kubernetes(client).build()) {
            Abnormal created = kdiag.create(abnormal("""
                    apiVersion: diagnosis.netease.com/v1
                    kind: Abnormal
                    metadata: {name: disk-full, namespace: team-a}
                    spec: {nodeName: node-1, skipDiagnosis: true}
                    """));

            assertThat(created.getMetadata().getUid()).isNotBlank();
            Abnormal stored = client.resources(Abnormal.class).inNamespace("team-a").withName("disk-full").get();
            assertThat(stored.getSpec().nodeName).isEqualTo("node-1");
        }
    }

    @Test
    void shouldRefuseToCreateWithoutAKubernetesClient() {
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers("localhost:1").build()) {
            assertThatThrownBy(() -> kdiag.create(abnormal("""
                    apiVersion: diagnosis.netease.com/v1
                    kind: Abnormal
                    metadata: {name: x}
                    spec: {nodeName: node-1}
                    """))).isInstanceOf(IllegalStateException.class).hasMessageContaining("no Kubernetes client");
        }
    }

    @Test
    void shouldRefuseToPublishWithoutANode() {
        try (KdiagClient kdiag = KdiagClient.builder().bootstrapServers("localhost:1").build()) {
            assertThatThrownBy(() -> kdiag.publish(abnormal("""
                    apiVersion: diagnosis.netease.com/v1
                    kind: Abnormal
                    metadata: {name: nowhere}
                    spec: {skipDiagnosis: true}
                    """))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere has no spec.nodeName");
        }
    }

    @Test
    void shouldRequireBootstrapServers() {
        assertThatThrownBy(() -> KdiagClient.builder().build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrap.servers");
    }

    @Test
    void shouldPartitionKeysAsKafkasDefaultPartitioner() {
        for (String key : new String[] {"node-1", "worker-7.example.com", "8f1c0e1e-3f0b-4b6e-9a43-1c1ab0f0c0de"}) {
            assertThat(Topics.partitionFor(key, 12))
                    .isEqualTo(BuiltInPartitioner.partitionForKey(key.getBytes(java.nio.charset.StandardCharsets.UTF_8), 12));
        }
    }
}
