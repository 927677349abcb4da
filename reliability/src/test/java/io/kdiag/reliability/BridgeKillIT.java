package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.kafka.KafkaAcls.Role;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.sourcebridge.Main;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.testkit.MockCluster;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault (d): the source bridge, as its own JVM connected to a (mock) cluster, is killed with SIGKILL in the middle of
 * an ingest storm and restarted; each request must start exactly one diagnosis, and the Abnormal resources the bridge
 * mirrors must end with the statuses the events say. The broker authenticates and authorises every client as the
 * cluster overlays do, the requests written by the ingest user.
 */
class BridgeKillIT {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeKillIT.class);
    private static final String NODE = "bridge-kill-node";
    private static final int STORM = 150;
    /** Side-effect lines (agent runs) seen before each kill of a paced storm. */
    private static final List<Integer> KILLS_AT = List.of(40, 100);

    @TempDir
    static Path dir;

    @AfterAll
    static void clearSideEffects() {
        System.clearProperty(SideEffects.ENV);
    }

    @Test
    void shouldStartEachStormRequestOnceAcrossBridgeKills() throws Exception {
        storm(false, (kube, replay) -> {
            // every resource the bridge mirrored shows exactly the replayed status
            List<Abnormal> resources = kube.resources(Abnormal.class).inNamespace("default").list().getItems();
            List<String> mirrored = resources.stream().map(Annotations::runUid).toList();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> replay.assertResourcesEqualReplay(kube, mirrored));
            assertThat(resources).isNotEmpty()
                    .allSatisfy(r -> assertThat(r.getMetadata().getAnnotations()).containsEntry(Annotations.ORIGIN, "IngestTopic"));
            LOG.info("reliability figures test=bridge-kill resources={} resources-missing={}", resources.size(), STORM - resources.size());
        });
    }

    @Test
    void shouldMirrorEveryStormRequestAsAResourceAcrossABridgeKill() throws Exception {
        storm(true, (kube, replay) -> {
            // the bridge creates resources after its commit, so a kill loses some; the status writer creates those
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(kube.resources(Abnormal.class).inNamespace("default").list().getItems())
                            .extracting(r -> r.getMetadata().getName())
                            .containsExactlyInAnyOrderElementsOf(IntStream.range(0, STORM).mapToObj(i -> "storm-" + i).toList()));
        });
    }

    /**
     * Runs a storm of {@value #STORM} ingest requests through a bridge JVM that is killed and restarted: paced (a few
     * requests ahead of the agent, killed twice while forwarding) or as one burst (killed once 30 resources exist).
     * Checks the guarantees, then hands the cluster and the replay to {@code check}.
     */
    private void storm(boolean burst, BiConsumer<KubernetesClient, Replay> check) throws Exception {
        Path sideEffects = dir.resolve(burst ? "burst-side-effects" : "side-effects");
        System.setProperty(SideEffects.ENV, sideEffects.toString());
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        Topics topics = Topics.withDefaultPrefix();
        try (SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve(burst ? "burst-broker" : "broker"), topics, 12);
             MockCluster cluster = new MockCluster();
             Children children = new Children(dir)) {
            KubernetesClient kube = cluster.client();
            Map<String, String> env = new HashMap<>(kafka.environment(Role.SOURCE_BRIDGE));
            env.putAll(Map.of("KDIAG_KUBERNETES", "on",
                    "KUBECONFIG", cluster.writeKubeconfig(dir.resolve(burst ? "burst-cluster" : "cluster")).toString(), "KDIAG_HTTP_PORT", "0", "KDIAG_METRICS_PORT", "0",
                    "KDIAG_CREATE_TOPICS", "false", "KDIAG_KAFKA_SESSION_TIMEOUT_MS", "6000"));
            env.putAll(Components.bridgeTrustEnvironment());
            try (StatusWriter writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve(burst ? "burst-writer" : "writer"), kube);
                 NodeAgent agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve(burst ? "burst-agent" : "agent"), NODE);
                 KdiagClient client = KdiagClient.builder().kafka(kafka.settings(Role.CLI)).build();
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.settings(Role.INGEST),
                         new ByteArraySerializer(), new ByteArraySerializer())) {
                Process bridge = children.start(Main.class, "bridge", env);
                // plain JSON manifests without a uid, as any producer writes them
                Future<?> storm = publisher.submit(() -> {
                    for (int i = 0; i < STORM; i++) {
                        int ahead = i;
                        if (!burst) {
                            await().atMost(Duration.ofSeconds(90)).until(() -> SideEffects.runs(sideEffects).size() >= ahead - 20);
                        }
                        String json = ApiSerialization.json(Components.abnormal("storm-" + i, NODE, i % 10 == 0));
                        producer.send(new ProducerRecord<>(topics.abnormalRequests().name(), NODE.getBytes(StandardCharsets.UTF_8),
                                json.getBytes(StandardCharsets.UTF_8)));
                    }
                    producer.flush();
                    return null;
                });
                int kills = 0;
                for (int at : burst ? List.of(30) : KILLS_AT) {
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> burst
                            ? kube.resources(Abnormal.class).inNamespace("default").list().getItems().size() >= at
                            : SideEffects.runs(sideEffects).size() >= at);
                    Children.kill(bridge);
                    kills++;
                    bridge = children.start(Main.class, "bridge", env);
                }
                storm.get(90, TimeUnit.SECONDS);

                Map<String, AbnormalStatus> statuses = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                        .until(client::statuses, s -> s.values().stream().filter(st -> Phases.isFinal(st.getPhase())).count() >= STORM);
                Map<String, List<String>> uidsByName = statuses.values().stream().collect(Collectors.groupingBy(AbnormalStatus::getName,
                        Collectors.mapping(AbnormalStatus::getUid, Collectors.toList())));
                assertThat(uidsByName.keySet()).containsExactlyInAnyOrderElementsOf(
                        IntStream.range(0, STORM).mapToObj(i -> "storm-" + i).toList());
                assertThat(uidsByName).as("runs per request").allSatisfy((name, uids) -> assertThat(uids).as(name).hasSize(1));
                List<String> uids = statuses.keySet().stream().toList();

                Invariants.Outcome outcome = Invariants.assertSurvived(client, uids, sideEffects, Duration.ofSeconds(30));
                assertThat(outcome.succeeded()).isEqualTo(STORM);
                check.accept(kube, Replay.read(client));
                Children.kill(bridge);
                LOG.info("reliability figures test=bridge-kill burst={} abnormals={} events={} kills={} succeeded={} recoverer-runs={}",
                        burst, STORM, outcome.events(), kills, outcome.succeeded(), outcome.recovererRuns());
            }
        } finally {
            publisher.shutdownNow();
        }
    }
}
