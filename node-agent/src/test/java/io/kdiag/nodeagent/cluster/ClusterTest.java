package io.kdiag.nodeagent.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.kdiag.api.Annotations;
import io.kdiag.api.v1.Diagnoser;
import io.kdiag.api.v1.ProcessorSpec;
import io.kdiag.nodeagent.processors.Registrations;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.testkit.MockCluster;
import org.junit.jupiter.api.Test;

class ClusterTest {
    private static Pod pod(String name, String node) {
        return new PodBuilder().withNewMetadata().withNamespace("shop").withName(name).endMetadata()
                .withNewSpec().withNodeName(node).endSpec().build();
    }

    @Test
    void shouldOfferOnlyThePodsOfItsOwnNodeWhateverTheApiServerSends() {
        // what a faulty or forged API server answer to the spec.nodeName field selector could hold
        List<Pod> sent = List.of(pod("cart-1", "node-1"), pod("cart-2", "node-2"), pod("pending", null),
                new PodBuilder().withNewMetadata().withName("no-spec").endMetadata().build());

        assertThat(Cluster.ofNode(sent, "node-1")).extracting(p -> p.getMetadata().getName()).containsExactly("cart-1");
    }

    @Test
    void shouldTellWhichRegistrationsSkipTlsVerification() {
        try (MockCluster mock = new MockCluster()) {
            for (String name : List.of("verified", "insecure")) {
                Diagnoser diagnoser = new Diagnoser();
                diagnoser.getMetadata().setNamespace("sre-tools");
                diagnoser.getMetadata().setName(name);
                if (name.equals("insecure")) {
                    diagnoser.getMetadata().setAnnotations(Map.of(Annotations.INSECURE_SKIP_TLS_VERIFY, "true"));
                }
                diagnoser.setSpec(new ProcessorSpec());
                diagnoser.getSpec().externalIP = "10.96.12.40";
                diagnoser.getSpec().externalPort = 8443;
                diagnoser.getSpec().scheme = "https";
                mock.client().resource(diagnoser).create();
            }
            try (Cluster cluster = Cluster.with(mock.client(), "node-1")) {
                await().atMost(Duration.ofSeconds(30)).until(cluster::synced);

                assertThat(cluster.find(Stage.Diagnosis, "sre-tools", "insecure")).get()
                        .extracting(Registrations.Registered::insecureSkipTlsVerify).isEqualTo(true);
                assertThat(cluster.find(Stage.Diagnosis, "sre-tools", "verified")).get()
                        .extracting(Registrations.Registered::insecureSkipTlsVerify).isEqualTo(false);
                assertThat(cluster.find(Stage.Diagnosis, "sre-tools", "verified").orElseThrow().spec().externalPort).isEqualTo(8443);
            }
        }
    }
}
