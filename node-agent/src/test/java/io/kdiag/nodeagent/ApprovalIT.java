package io.kdiag.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.StatusFold;
import io.kdiag.schemas.DeadLetterHeaders;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.ApprovalDecided;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.avro.ApprovalRequested;
import io.kdiag.schemas.avro.DiagnosisEvent;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.signing.SignedDecisions;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Approval as an event, end to end on one broker: a recovery that a policy grant makes wait for approval is parked while
 * the agent runs other abnormals; a decision signed by a key that is no approver's is dead-lettered and changes nothing;
 * the wait survives a restart of the agent; the client's approval (signed with an approver's key) runs the recoverer,
 * and a wait nobody answers ends {@code ApprovalExpired} with the recoverer never run. A relay's key counts only on
 * behalf of the person it names, and an approver's key never does.
 */
class ApprovalIT {
    private static final Topics TOPICS = new Topics("kdiag.");
    private static final int PARTITIONS = 12;
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Everything granted, and the signal recoverer of namespace default only after a person approved it. */
    private static final String POLICY = """
            commandAllowlist: [{prefix: [echo]}, {prefix: [sh]}]
            grants:
            - {processors: ["*"], commands: ["*"], profilers: ["*"]}
            - {namespaces: [default], processors: [kube-diagnoser/signal-recoverer], requireApproval: true}
            """;

    @TempDir
    Path stateDir;
    private TestKafka kafka;
    private SigningKey alice;
    private SigningKey statusWriter;
    private NodeAgent agent;
    private SimpleMeterRegistry registry;
    private final List<Process> children = new ArrayList<>();
    private final List<DiagnosisEvent> events = new ArrayList<>();
    private KafkaProducer<byte[], byte[]> abnormals;
    private KafkaConsumer<String, DiagnosisEvent> reader;
    private KdiagClient client;

    @BeforeEach
    void start() throws IOException {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(clientProps(), TOPICS, PARTITIONS, (short) 1);
        alice = SigningKey.readOrCreate(stateDir.resolve("alice.pem"), stateDir.resolve("approvers").resolve("alice.pub"));
        statusWriter = SigningKey.readOrCreate(stateDir.resolve("status-writer.pem"), stateDir.resolve("relays").resolve("status-writer.pub"));
        abnormals = new KafkaProducer<>(clientProps(), new ByteArraySerializer(), new ByteArraySerializer());
        reader = new KafkaConsumer<>(clientProps(), TOPICS.diagnosisEvents().keySerde().deserializer(),
                TOPICS.diagnosisEvents().valueSerde().deserializer());
        List<TopicPartition> all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(TOPICS.diagnosisEvents().name(), p)).toList();
        reader.assign(all);
        reader.seekToBeginning(all);
        client = KdiagClient.builder().kafka(clientProps()).build();
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        children.forEach(Process::destroyForcibly);
        client.close();
        abnormals.close();
        reader.close();
        kafka.close();
    }

    private Map<String, Object> clientProps() {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    private void startAgent(String node, String approvalTimeout) throws IOException {
        Path policy = Files.writeString(stateDir.resolve("policy.yaml"), POLICY);
        registry = new SimpleMeterRegistry();
        NodeAgentConfig config = NodeAgentConfig.from(ConfigSource.of(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", stateDir.resolve(node).toString(),
                "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                "kdiag.approver-keys", stateDir.resolve("approvers").toString(),
                "kdiag.approval-relay-keys", stateDir.resolve("relays").toString(),
                "kdiag.approval-timeout", approvalTimeout,
                "kdiag.policy-file", policy.toString(),
                "kdiag.kubernetes", "off",
                "kdiag.http-port", "0"), Map.of()));
        agent = NodeAgent.start(config, clientProps(), registry);
    }

    /** An abnormal that collects processes, matches a sleeping child and sends it SIGTERM; returns the child. */
    private Process submitKill(String node, String uid) throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        Process stuck = new ProcessBuilder("sleep", marker).start();
        children.add(stuck);
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(Fixtures.ref("process-collector"));
        spec.assignedDiagnosers = List.of(Fixtures.ref("process-match-diagnoser"));
        spec.assignedRecoverers = List.of(Fixtures.ref("signal-recoverer"));
        spec.context = Map.of("processMatch", Map.of("commandPattern", "sleep " + marker.replace(".", "\\.")));
        abnormals.send(TestKeys.signed(TOPICS.abnormals(), node, Fixtures.request(uid, node, spec))).get(30, TimeUnit.SECONDS);
        return stuck;
    }

    /** An abnormal that only collects: nothing of it waits for anyone. */
    private void submitCollect(String node, String uid) throws Exception {
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(Fixtures.ref("process-collector"));
        abnormals.send(TestKeys.signed(TOPICS.abnormals(), node, Fixtures.request(uid, node, spec))).get(30, TimeUnit.SECONDS);
    }

    /** The status of {@code uid} once its events include one described as {@code description}, as the status writer folds them. */
    private AbnormalStatus awaitEvent(String uid, String description) {
        await().atMost(WAIT).until(() -> {
            reader.poll(Duration.ofMillis(200)).forEach(r -> events.add(r.value()));
            return described(uid).contains(description);
        });
        return StatusFold.fold(events.stream().filter(e -> e.getAbnormalUid().equals(uid)).toList());
    }

    private List<String> described(String uid) {
        return events.stream().filter(e -> e.getAbnormalUid().equals(uid)).map(e -> describe(e.getPayload())).toList();
    }

    private static String describe(Object payload) {
        if (payload instanceof ApprovalRequested a) {
            return "ApprovalRequested " + a.getProcessor().getName();
        }
        if (payload instanceof ApprovalDecided d) {
            return "ApprovalDecided " + d.getApproved() + " " + d.getDecidedBy() + (d.getReason() == null ? "" : " " + d.getReason());
        }
        return Fixtures.describe(payload);
    }

    private double counted(String result, String reason) {
        Counter counter = registry.find("kdiag.agent.approval.decisions").tag("result", result).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private double parked() {
        return registry.get("kdiag.agent.abnormals.parked").gauge().value();
    }

    @Test
    void shouldRunTheRecovererOnlyAfterAnApproversDecisionAndKeepServingOtherAbnormalsMeanwhile() throws Exception {
        String node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        startAgent(node, "1h");
        Process stuck = submitKill(node, "kill");

        AbnormalStatus waiting = awaitEvent("kill", "ApprovalRequested signal-recoverer");
        assertThat(waiting.getPhase()).isEqualTo(Phase.Recovering);
        assertThat(waiting.getConditions()).anyMatch(c -> c.getType().equals(StatusFold.RECOVERY_APPROVED) && c.getStatus().equals("Unknown")
                && c.getMessage().contains("grants[1] of policy"));
        // the wait is written to the disk once its request is on record
        await().atMost(WAIT).until(() -> parked() == 1);

        // the agent is not held by the wait: an abnormal behind it runs to its end
        submitCollect(node, "behind");
        awaitEvent("behind", "StageFinished Recovery Skipped");

        // a decision signed by a key that is no approver's: dead-lettered and counted, the abnormal still waits
        SigningKey mallory = SigningKey.generate();
        client.decide(waiting, true, "trust me", mallory);
        await().atMost(WAIT).until(() -> counted("refused", "UnknownKey") == 1);
        List<ConsumerRecord<byte[], byte[]>> dead = await().atMost(WAIT).until(() -> Fixtures.readAll(kafka.bootstrapServers(), TOPICS.deadLetters().name()), d -> !d.isEmpty());
        assertThat(Fixtures.header(dead.get(0), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(TOPICS.approvals().name());
        assertThat(Fixtures.header(dead.get(0), DeadLetterHeaders.REASON)).contains("UnknownKey", "no approver's");

        // the wait survives a restart: the abnormal's offset was committed, its wait is on the disk
        agent.close();
        startAgent(node, "1h");
        assertThat(parked()).isEqualTo(1);
        assertThat(stuck.isAlive()).isTrue();
        assertThat(described("kill")).doesNotContain("ProcessorStarted signal-recoverer");

        client.decide(waiting, true, "known issue", alice);
        AbnormalStatus recovered = awaitEvent("kill", "StageFinished Recovery Succeeded signal-recoverer");
        assertThat(described("kill")).containsSubsequence("ApprovalRequested signal-recoverer", "ApprovalDecided true alice known issue",
                "ProcessorStarted signal-recoverer", "StageFinished Recovery Succeeded signal-recoverer");
        assertThat(stuck.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(recovered.getPhase()).isEqualTo(Phase.Succeeded);
        assertThat(recovered.getConditions()).anyMatch(c -> c.getType().equals(StatusFold.RECOVERY_APPROVED) && c.getStatus().equals("True")
                && c.getMessage().contains("approved by alice"));
        assertThat(parked()).isZero();
        assertThat(counted("approved", "none")).isEqualTo(1);
        // decided, it waits no more: the client says so rather than write a decision nobody reads
        assertThatThrownBy(() -> client.decide(recovered, false, null, alice)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not wait for approval");
    }

    @Test
    void shouldEndARecoveryNobodyApprovesInTimeWithoutRunningIt() throws Exception {
        String node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        startAgent(node, "2s");
        Process stuck = submitKill(node, "unanswered");

        awaitEvent("unanswered", "ApprovalRequested signal-recoverer");
        AbnormalStatus ended = awaitEvent("unanswered", "StageFinished Recovery Failed ApprovalExpired");

        assertThat(described("unanswered")).containsSubsequence("ApprovalRequested signal-recoverer",
                "ApprovalDecided false node-agent " + node + " Expired", "StageFinished Recovery Failed ApprovalExpired")
                .doesNotContain("ProcessorStarted signal-recoverer");
        assertThat(ended.getPhase()).isEqualTo(Phase.Failed);
        assertThat(ended.getReason()).isEqualTo("ApprovalExpired");
        assertThat(ended.getConditions()).anyMatch(c -> c.getType().equals(StatusFold.RECOVERY_APPROVED) && c.getStatus().equals("False")
                && c.getReason().equals("Expired"));
        assertThat(stuck.isAlive()).isTrue();
        assertThat(parked()).isZero();
    }

    @Test
    void shouldRunARelayedDecisionAsThePersonsAndRefuseOnBehalfOfFromAnyoneButARelay() throws Exception {
        String node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        startAgent(node, "1h");
        Process stuck = submitKill(node, "relayed");
        AbnormalStatus waiting = awaitEvent("relayed", "ApprovalRequested signal-recoverer");

        // an approver cannot speak for someone else, and a relay must say for whom it speaks
        decide(waiting, "bob", alice);
        decide(waiting, null, statusWriter);
        await().atMost(WAIT).until(() -> counted("refused", "OnBehalfOfNotAllowed") == 1 && counted("refused", "OnBehalfOfMissing") == 1);
        List<ConsumerRecord<byte[], byte[]>> dead = await().atMost(WAIT)
                .until(() -> Fixtures.readAll(kafka.bootstrapServers(), TOPICS.deadLetters().name()), d -> d.size() == 2);
        assertThat(dead).map(d -> Fixtures.header(d, DeadLetterHeaders.REASON)).satisfiesExactly(
                reason -> assertThat(reason).contains("OnBehalfOfNotAllowed", "approver alice", "\"bob\""),
                reason -> assertThat(reason).contains("OnBehalfOfMissing", "relay status-writer", "nobody"));
        assertThat(stuck.isAlive()).isTrue();
        assertThat(described("relayed")).doesNotContain("ProcessorStarted signal-recoverer");

        decide(waiting, "bob", statusWriter);
        AbnormalStatus recovered = awaitEvent("relayed", "StageFinished Recovery Succeeded signal-recoverer");
        assertThat(described("relayed")).containsSubsequence("ApprovalDecided true bob via status-writer over HTTP",
                "ProcessorStarted signal-recoverer");
        assertThat(stuck.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(recovered.getConditions()).anyMatch(c -> c.getType().equals(StatusFold.RECOVERY_APPROVED) && c.getStatus().equals("True")
                && c.getMessage().contains("approved by bob via status-writer"));
    }

    /** Writes an approval of the wait, signed with {@code key}, on behalf of {@code person} ({@code null}: nobody). */
    private void decide(AbnormalStatus waiting, String person, SigningKey key) throws Exception {
        ApprovalDecision decision = new ApprovalDecision(waiting.getUid(), waiting.getLastSeq(), true, Instant.now(), "over HTTP", person);
        abnormals.send(SignedDecisions.record(TOPICS.approvals(), waiting.getNodeName(), decision, key)).get(30, TimeUnit.SECONDS);
    }
}
