package io.kdiag.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.model.Phases;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.sourcebridge.Main;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.testkit.MockCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 * cluster overlays do, the requests written by the ingest user. The bridge forwards at least once: a kill between its
 * forwards and its offset commit makes the next life read those requests again, and no agent may run one twice.
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
        storm(Mode.PACED, (kube, replay) -> {
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
        storm(Mode.BURST, (kube, replay) -> {
            // the bridge creates resources after its commit, so a kill loses some; the status writer creates those
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(kube.resources(Abnormal.class).inNamespace("default").list().getItems())
                            .extracting(r -> r.getMetadata().getName())
                            .containsExactlyInAnyOrderElementsOf(IntStream.range(0, STORM).mapToObj(i -> "storm-" + i).toList()));
        });
    }

    @Test
    void shouldRunEachRequestOnceWhenKilledBetweenItsForwardAndTheOffsetCommit() throws Exception {
        // what storm() checks is the point: each request final once, no agent run twice, though read again whole
        storm(Mode.UNCOMMITTED, (kube, replay) -> {
        });
    }

    /** How the storm is published and when the bridge is killed. */
    private enum Mode {
        /** A few requests ahead of the agent, killed twice while forwarding. */
        PACED,
        /** One burst, killed once 30 resources exist. */
        BURST,
        /**
         * One burst to a bridge that commits its ingest offsets hourly, killed once the agent ran 40 of them: every
         * request it forwarded was forwarded after the last commit, so its next life reads them all again.
         */
        UNCOMMITTED
    }

    /**
     * Runs a storm of {@value #STORM} ingest requests through a bridge JVM that is killed and restarted as {@code mode}
     * says. Checks the guarantees, then hands the cluster and the replay to {@code check}.
     */
    private void storm(Mode mode, BiConsumer<KubernetesClient, Replay> check) throws Exception {
        boolean burst = mode != Mode.PACED;
        String run = mode.name().toLowerCase(Locale.ROOT) + "-";
        Path sideEffects = dir.resolve(run + "side-effects");
        System.setProperty(SideEffects.ENV, sideEffects.toString());
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        Topics topics = Topics.withDefaultPrefix();
        try (SecuredKafka kafka = SecuredKafka.startWithAcls(dir.resolve(run + "broker"), topics, 12);
             MockCluster cluster = new MockCluster();
             Children children = new Children(dir)) {
            KubernetesClient kube = cluster.client();
            Map<String, String> env = new HashMap<>(kafka.environment(Role.SOURCE_BRIDGE));
            env.putAll(Map.of("KDIAG_KUBERNETES", "on",
                    "KUBECONFIG", cluster.writeKubeconfig(dir.resolve(run + "cluster")).toString(), "KDIAG_HTTP_PORT", "0", "KDIAG_METRICS_PORT", "0",
                    "KDIAG_CREATE_TOPICS", "false", "KDIAG_KAFKA_SESSION_TIMEOUT_MS", "6000"));
            env.putAll(Components.bridgeTrustEnvironment());
            if (mode == Mode.UNCOMMITTED) {
                env.put("KDIAG_BRIDGE_COMMIT_INTERVAL", "1h");
            }
            try (StatusWriter writer = Components.writer(kafka.settings(Role.STATUS_WRITER), dir.resolve(run + "writer"), kube);
                 NodeAgent agent = Components.agent(kafka.settings(Role.NODE_AGENT), dir.resolve(run + "agent"), NODE);
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
                for (int at : mode == Mode.PACED ? KILLS_AT : List.of(mode == Mode.BURST ? 30 : 40)) {
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> mode == Mode.BURST
                            ? kube.resources(Abnormal.class).inNamespace("default").list().getItems().size() >= at
                            : SideEffects.runs(sideEffects).size() >= at);
                    if (mode == Mode.UNCOMMITTED) {
                        assertThat(committedIngestOffsets(kafka, topics)).as("ingest offsets the bridge committed before its kill").isZero();
                    }
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
                long forwards = recordsOn(kafka, topics.abnormals().name());
                // a request forwarded again (killed between its forward and its dedup entry) reaches the agent twice, which runs it once
                assertThat(forwards).as("records on %s", topics.abnormals().name()).isGreaterThanOrEqualTo(STORM);
                LOG.info("reliability figures test=bridge-kill mode={} abnormals={} forwards={} events={} kills={} succeeded={} recoverer-runs={}",
                        mode, STORM, forwards, outcome.events(), kills, outcome.succeeded(), outcome.recovererRuns());
            }
        } finally {
            publisher.shutdownNow();
        }
    }

    /** The sum of the offsets the bridge's group committed on the ingest topic. */
    private static long committedIngestOffsets(SecuredKafka kafka, Topics topics) throws Exception {
        try (Admin admin = Admin.create(kafka.adminSettings())) {
            return admin.listConsumerGroupOffsets(new KafkaNames(topics.prefix()).bridgeGroup()).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS).values().stream().filter(Objects::nonNull).mapToLong(OffsetAndMetadata::offset).sum();
        }
    }

    /** How many records {@code topic} holds, read to its end as the operator. */
    private static long recordsOn(SecuredKafka kafka, String topic) throws Exception {
        Map<String, Object> settings = kafka.adminSettings();
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            return partitions.stream().mapToLong(p -> end.get(p) - begin.get(p)).sum();
        }
    }
}
