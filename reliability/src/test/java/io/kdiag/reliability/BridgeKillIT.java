package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.sourcebridge.Main;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.testkit.TestKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault (d): the source bridge, as its own JVM connected to a (mock) cluster, is killed with SIGKILL in the middle of
 * an ingest storm and restarted; each request must start exactly one diagnosis, and the Abnormal resources the bridge
 * mirrors must end with the statuses the events say.
 */
class BridgeKillIT {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeKillIT.class);
    private static final String NODE = "bridge-kill-node";
    private static final int STORM = 150;
    /** Mirrored resources seen before each kill. */
    private static final List<Integer> KILLS_AT = List.of(30, 80);

    @TempDir
    static Path dir;

    @BeforeAll
    static void sideEffects() {
        System.setProperty(SideEffects.ENV, dir.resolve("side-effects").toString());
    }

    @AfterAll
    static void clearSideEffects() {
        System.clearProperty(SideEffects.ENV);
    }

    @Test
    void shouldStartEachStormRequestOnceAcrossBridgeKills() throws Exception {
        try (TestKafka kafka = TestKafka.start();
             MockCluster cluster = new MockCluster(dir.resolve("cluster"));
             Children children = new Children(dir)) {
            String servers = kafka.bootstrapServers();
            Topics topics = Topics.withDefaultPrefix();
            TopicAdmin.ensureTopics(Components.kafka(servers), topics, 12, (short) 1);
            KubernetesClient kube = cluster.client();
            Map<String, String> env = new HashMap<>(Map.of("KDIAG_KAFKA_BOOTSTRAP_SERVERS", servers, "KDIAG_KUBERNETES", "on",
                    "KUBECONFIG", cluster.kubeconfig().toString(), "KDIAG_HTTP_PORT", "0", "KDIAG_METRICS_PORT", "0",
                    "KDIAG_CREATE_TOPICS", "false", "KDIAG_KAFKA_SESSION_TIMEOUT_MS", "6000"));
            try (StatusWriter writer = Components.writer(servers, dir.resolve("writer"), kube);
                 NodeAgent agent = Components.agent(servers, dir.resolve("agent"), NODE);
                 KdiagClient client = KdiagClient.builder().bootstrapServers(servers).build();
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Components.kafka(servers),
                         new ByteArraySerializer(), new ByteArraySerializer())) {
                Process bridge = children.start(Main.class, "bridge", env);
                // the storm: plain JSON manifests without a uid, as any producer would write them
                for (int i = 0; i < STORM; i++) {
                    String json = ApiSerialization.json(Components.abnormal("storm-" + i, NODE, i % 10 == 0));
                    producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), NODE.getBytes(StandardCharsets.UTF_8),
                            json.getBytes(StandardCharsets.UTF_8)));
                }
                producer.flush();
                int kills = 0;
                for (int mirrored : KILLS_AT) {
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                            .until(() -> kube.resources(Abnormal.class).inNamespace("default").list().getItems().size() >= mirrored);
                    Children.kill(bridge);
                    kills++;
                    bridge = children.start(Main.class, "bridge", env);
                }

                Map<String, AbnormalStatus> statuses = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                        .until(client::statuses, s -> s.values().stream().filter(st -> KdiagClient.isFinal(st.getPhase())).count() >= STORM);
                Map<String, List<String>> uidsByName = statuses.values().stream().collect(Collectors.groupingBy(AbnormalStatus::getName,
                        Collectors.mapping(AbnormalStatus::getUid, Collectors.toList())));
                assertThat(uidsByName.keySet()).containsExactlyInAnyOrderElementsOf(
                        IntStream.range(0, STORM).mapToObj(i -> "storm-" + i).toList());
                assertThat(uidsByName).as("runs per request").allSatisfy((name, uids) -> assertThat(uids).as(name).hasSize(1));
                List<String> uids = statuses.keySet().stream().toList();

                Invariants.Outcome outcome = Invariants.assertSurvived(client, uids, dir.resolve("side-effects"), Duration.ofSeconds(30));
                assertThat(outcome.succeeded()).isEqualTo(STORM);
                Replay replay = Replay.read(client);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> replay.assertResourcesEqualReplay(kube, uids));
                List<Abnormal> resources = kube.resources(Abnormal.class).inNamespace("default").list().getItems();
                assertThat(resources).hasSize(STORM)
                        .allSatisfy(r -> assertThat(r.getMetadata().getAnnotations()).containsEntry(Annotations.ORIGIN, "IngestTopic"));
                Children.kill(bridge);
                assertThat(bridge.waitFor(10, TimeUnit.SECONDS)).isTrue();
                LOG.info("reliability figures test=bridge-kill abnormals={} events={} kills={} succeeded={} recoverer-runs={} "
                        + "resources={}", STORM, outcome.events(), kills, outcome.succeeded(), outcome.recovererRuns(), resources.size());
            }
        }
    }
}
