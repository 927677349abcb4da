package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.RecoveryControl;
import io.kdiag.schemas.avro.Stage;
import io.kdiag.schemas.avro.StageFinished;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kill switch across agents: a pause written to the recovery-control topic stops the recoveries of two agents
 * within a second while their collection and diagnosis go on, a resume lets them run again, and an agent restarted
 * while paused stays paused.
 */
class RecoveryControlIT {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryControlIT.class);
    private static final Topics TOPICS = new Topics("kdiag.");
    private static final int PARTITIONS = 12;
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** What the kill switch promises: every agent has it within this. */
    private static final Duration PROPAGATION = Duration.ofSeconds(1);

    @TempDir
    Path stateDir;
    private TestKafka kafka;
    private final Map<String, NodeAgent> agents = new HashMap<>();
    private final Map<String, SimpleMeterRegistry> registries = new HashMap<>();
    private final List<Process> children = new ArrayList<>();
    private final List<DiagnosisEvent> events = new ArrayList<>();
    private KafkaProducer<byte[], byte[]> abnormals;
    private KafkaProducer<String, RecoveryControl> control;
    private KafkaConsumer<String, DiagnosisEvent> reader;

    @BeforeEach
    void start() {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(clientProps(), TOPICS, PARTITIONS, (short) 1);
        abnormals = new KafkaProducer<>(clientProps(), new ByteArraySerializer(), new ByteArraySerializer());
        control = new KafkaProducer<>(clientProps(), TOPICS.recoveryControl().keySerde().serializer(),
                TOPICS.recoveryControl().valueSerde().serializer());
        Map<String, Object> props = clientProps();
        reader = new KafkaConsumer<>(props, TOPICS.diagnosisEvents().keySerde().deserializer(), TOPICS.diagnosisEvents().valueSerde().deserializer());
        List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(TOPICS.diagnosisEvents().name(), p)).toList();
        reader.assign(all);
        reader.seekToBeginning(all);
    }

    @AfterEach
    void stop() {
        agents.values().forEach(NodeAgent::close);
        children.forEach(Process::destroyForcibly);
        abnormals.close();
        control.close();
        reader.close();
        kafka.close();
    }

    private Map<String, Object> clientProps() {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    private void startAgent(String node) throws IOException {
        Path policy = Fixtures.grantingEverything(Files.createDirectories(stateDir.resolve("policy-" + node)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", stateDir.resolve(node).toString(),
                "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                "kdiag.policy-file", policy.toString(),
                "kdiag.kubernetes", "off",
                "kdiag.http-port", "0"), Map.of()));
        agents.put(node, NodeAgent.start(config, clientProps(), registry));
        registries.put(node, registry);
    }

    private boolean paused(String node) {
        return registries.get(node).get("kdiag.recoveries.paused").gauge().value() == 1;
    }

    private void write(boolean paused) throws Exception {
        control.send(new ProducerRecord<>(TOPICS.recoveryControl().name(), Topics.RECOVERY_CONTROL_KEY,
                new RecoveryControl(paused, "User:alice", Instant.now(), "drill"))).get(30, TimeUnit.SECONDS);
    }

    /** Writes a pause or a resume and returns how long until both agents' gauges showed it. */
    private Duration switchBoth(boolean paused, String first, String second) throws Exception {
        long start = System.nanoTime();
        write(paused);
        await().atMost(PROPAGATION).pollInterval(Duration.ofMillis(5)).until(() -> paused(first) == paused && paused(second) == paused);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** An abnormal that collects processes, matches a sleeping child and sends it SIGTERM; returns the child. */
    private Process submitKill(String node, String uid) throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        Process stuck = new ProcessBuilder("sleep", marker).start();
        children.add(stuck);
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtin("process-collector"));
        spec.assignedDiagnosers = List.of(builtin("process-match-diagnoser"));
        spec.assignedRecoverers = List.of(builtin("signal-recoverer"));
        spec.context = Map.of("processMatch", Map.of("commandPattern", "sleep " + marker.replace(".", "\\.")));
        abnormals.send(TestKeys.signed(TOPICS.abnormals(), node, Fixtures.request(uid, node, spec))).get(30, TimeUnit.SECONDS);
        return stuck;
    }

    private static NamespacedName builtin(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }

    private List<String> awaitRecovery(String uid) {
        await().atMost(WAIT).until(() -> {
            reader.poll(Duration.ofMillis(200)).forEach(r -> events.add(r.value()));
            return described(uid).stream().anyMatch(e -> e.startsWith("StageFinished Recovery"));
        });
        return described(uid);
    }

    private List<String> described(String uid) {
        return events.stream().filter(e -> e.getAbnormalUid().equals(uid)).map(e -> Fixtures.describe(e.getPayload())).toList();
    }

    private String recoveryMessage(String uid) {
        return events.stream().filter(e -> e.getAbnormalUid().equals(uid)).map(DiagnosisEvent::getPayload)
                .filter(p -> p instanceof StageFinished s && s.getStage() == Stage.Recovery).map(p -> ((StageFinished) p).getMessage())
                .findFirst().orElseThrow();
    }

    @Test
    void shouldPauseAndResumeEveryAgentsRecoveriesAndStayPausedAcrossARestart() throws Exception {
        String a = "node-a-" + UUID.randomUUID().toString().substring(0, 8);
        String b = "node-b-" + UUID.randomUUID().toString().substring(0, 8);
        startAgent(a);
        startAgent(b);
        // the topic is empty and read: recoveries may run
        assertThat(paused(a)).isFalse();
        assertThat(paused(b)).isFalse();

        // (a) pause: both agents within a second; collection and diagnosis still run, the recoverer does not
        Duration pausedIn = switchBoth(true, a, b);
        LOG.info("pause reached both agents in {} ms", pausedIn.toMillis());
        for (String node : List.of(a, b)) {
            Process stuck = submitKill(node, "paused-" + node);
            assertThat(awaitRecovery("paused-" + node)).containsSubsequence(
                    "ProcessorFinished process-collector ok", "StageFinished InformationCollection Succeeded",
                    "ProcessorFinished process-match-diagnoser ok", "StageFinished Diagnosis Succeeded process-match-diagnoser",
                    "StageStarted Recovery", "StageFinished Recovery Failed RecoveryPaused")
                    .doesNotContain("ProcessorStarted signal-recoverer");
            assertThat(recoveryMessage("paused-" + node)).contains("paused cluster-wide by User:alice at", "(drill)");
            assertThat(stuck.isAlive()).isTrue();
        }

        // (b) resume: both run their recoverers again
        Duration resumedIn = switchBoth(false, a, b);
        LOG.info("resume reached both agents in {} ms", resumedIn.toMillis());
        for (String node : List.of(a, b)) {
            Process stuck = submitKill(node, "resumed-" + node);
            assertThat(awaitRecovery("resumed-" + node)).endsWith("ProcessorFinished signal-recoverer ok",
                    "StageFinished Recovery Succeeded signal-recoverer");
            assertThat(stuck.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        // (c) an agent restarted while paused reads the pause before it consumes anything, and stays paused
        switchBoth(true, a, b);
        agents.remove(a).close();
        startAgent(a);
        assertThat(paused(a)).isTrue();
        Process stuck = submitKill(a, "restarted-" + a);
        assertThat(awaitRecovery("restarted-" + a)).endsWith("StageFinished Recovery Failed RecoveryPaused");
        assertThat(stuck.isAlive()).isTrue();
    }
}
