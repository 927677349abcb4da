package io.kdiag.sourcebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.api.v1.PendingApproval;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.schemas.AvroSerde;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.ApprovalDecision;
import io.kdiag.schemas.signing.SignatureDomain;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.schemas.signing.VerificationKeys;
import io.kdiag.sourcebridge.kubernetes.ApprovalRelay;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Approval by annotation end to end on the bridge's side: fabric8's CRUD mock API server with the CRDs registered
 * stands in for the API server (the admission policy that admits the annotations is tested in the deploy module), and
 * the decisions land on a real broker, signed with the relay's key for the annotated user.
 */
class ApprovalRelayIT {
    private static final int PARTITIONS = 3;
    private static final String NODE = "node-a";
    private static TestKafka kafka;
    private static int run;
    @TempDir
    Path dir;
    private MockCluster cluster;
    private KubernetesClient client;
    private Topics topics;
    private VerificationKeys relayKeys;
    private SimpleMeterRegistry registry;
    private SourceBridge bridge;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @BeforeEach
    void start() throws IOException {
        cluster = new MockCluster();
        client = cluster.client();
        String prefix = "relay" + (++run) + ".";
        topics = new Topics(prefix);
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), topics, PARTITIONS, (short) 1);
        SigningKey.readOrCreate(dir.resolve("relay.pem"), dir.resolve("relays").resolve("source-bridge.pub"));
        relayKeys = VerificationKeys.read(List.of(dir.resolve("relays")));
        registry = new SimpleMeterRegistry();
        bridge = SourceBridge.start(SourceBridgeConfig.from(ConfigSource.of(Map.of("kdiag.topic-prefix", prefix, "kdiag.http-port", "0",
                "kdiag.signing-key", TestKeys.signingKeyFile().toString(), "kdiag.approval-relay-key", dir.resolve("relay.pem").toString()),
                Map.of())), Map.of("bootstrap.servers", kafka.bootstrapServers()), registry, client);
    }

    @AfterEach
    void stop() {
        bridge.close();
        cluster.close();
    }

    @Test
    void shouldRelayTheAnnotatedDecisionForTheWaitSignedForThePersonAndRemoveTheAnnotations() {
        Abnormal abnormal = started("disk-full");
        waiting(abnormal, 7);
        annotate("disk-full", Map.of(Annotations.APPROVAL, "approve", Annotations.APPROVAL_BY, "alice@example.com",
                Annotations.APPROVAL_REASON, "known issue"));

        ConsumerRecord<byte[], byte[]> record = awaitDecisions(1).get(0);
        ApprovalDecision decision = decode(record);
        assertThat(decision.getAbnormalUid()).isEqualTo(abnormal.getMetadata().getUid());
        assertThat(decision.getRequestSeq()).isEqualTo(7);
        assertThat(decision.getApproved()).isTrue();
        assertThat(decision.getOnBehalfOf()).isEqualTo("alice@example.com");
        assertThat(decision.getReason()).isEqualTo("known issue");
        assertThat(new String(record.key())).isEqualTo(NODE);
        assertThat(relayKeys.check(SignatureDomain.APPROVALS, record.key(), record.value(), record.headers()))
                .isEqualTo(VerificationKeys.Check.VERIFIED);
        await().atMost(Duration.ofSeconds(10)).until(() -> annotations("disk-full").keySet().stream().noneMatch(k -> k.startsWith("kdiag.io/approval")));
        assertThat(annotations("disk-full")).containsEntry("team", "storage");
        assertThat(relayed("relayed")).isEqualTo(1);

        // the same wait annotated again (a second person, too late): nothing more is written, the annotation goes
        annotate("disk-full", Map.of(Annotations.APPROVAL, "deny", Annotations.APPROVAL_BY, "bob"));
        await().atMost(Duration.ofSeconds(10)).until(() -> !annotations("disk-full").containsKey(Annotations.APPROVAL));
        assertThat(decisions()).hasSize(1);
    }

    @Test
    void shouldRelayAtOnceWhateverLingerTheUserSet() {
        bridge.close();
        Map<String, Object> lingering = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
        // far longer than the relay and this test wait: the decision is written in time only if it is sent at once
        lingering.put(ProducerConfig.LINGER_MS_CONFIG, 600_000);
        registry = new SimpleMeterRegistry();
        bridge = SourceBridge.start(SourceBridgeConfig.from(ConfigSource.of(Map.of("kdiag.topic-prefix", topics.prefix(), "kdiag.http-port", "0",
                "kdiag.signing-key", TestKeys.signingKeyFile().toString(), "kdiag.approval-relay-key", dir.resolve("relay.pem").toString()),
                Map.of())), lingering, registry, client);
        Abnormal abnormal = started("lingering");
        waiting(abnormal, 2);

        annotate("lingering", Map.of(Annotations.APPROVAL, "approve", Annotations.APPROVAL_BY, "alice@example.com"));

        assertThat(decode(awaitDecisions(1).get(0)).getAbnormalUid()).isEqualTo(abnormal.getMetadata().getUid());
        assertThat(relayed("relayed")).isEqualTo(1);
    }

    @Test
    void shouldRelayADecisionGivenBeforeTheWaitOnceTheWaitBegins() {
        Abnormal abnormal = started("early");
        annotate("early", Map.of(Annotations.APPROVAL, "deny", Annotations.APPROVAL_BY, "system:serviceaccount:ops:runbook"));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> decisions().isEmpty());

        waiting(abnormal, 3);
        ApprovalDecision decision = decode(awaitDecisions(1).get(0));
        assertThat(decision.getApproved()).isFalse();
        assertThat(decision.getRequestSeq()).isEqualTo(3);
        assertThat(decision.getOnBehalfOf()).isEqualTo("system:serviceaccount:ops:runbook");
    }

    @Test
    void shouldRelayNothingForAnnotationsThatDoNotSayADecisionAndWho() {
        waiting(started("vague"), 5);
        annotate("vague", Map.of(Annotations.APPROVAL, "yes", Annotations.APPROVAL_BY, "alice"));
        await().atMost(Duration.ofSeconds(10)).until(() -> relayedRefused("InvalidDecision") == 1);
        annotate("vague", Map.of(Annotations.APPROVAL, "approve"));
        await().atMost(Duration.ofSeconds(10)).until(() -> relayedRefused("NoDecider") == 1);
        annotate("vague", Map.of(Annotations.APPROVAL, "approve", Annotations.APPROVAL_BY, "alice\nadmin"));
        await().atMost(Duration.ofSeconds(10)).until(() -> relayedRefused("InvalidDecider") == 1);

        assertThat(decisions()).isEmpty();
        assertThat(annotations("vague")).containsEntry(Annotations.APPROVAL, "approve");
    }

    private Abnormal started(String name) {
        Abnormal abnormal = new Abnormal();
        abnormal.getMetadata().setNamespace("default");
        abnormal.getMetadata().setName(name);
        abnormal.getMetadata().setAnnotations(Map.of("team", "storage"));
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = NODE;
        abnormal.setSpec(spec);
        Abnormal created = client.resource(abnormal).create();
        // the bridge forwards it, an agent starts it: the status writer's projection shows it recovering
        created.setStatus(new AbnormalStatus());
        created.getStatus().phase = "Recovering";
        return client.resource(created).updateStatus();
    }

    /** The status writer's projection of the abnormal waiting since event {@code seq}. */
    private void waiting(Abnormal abnormal, long seq) {
        Abnormal current = client.resources(Abnormal.class).inNamespace("default").withName(abnormal.getMetadata().getName()).get();
        current.getStatus().pendingApproval = new PendingApproval(seq, NODE);
        client.resource(current).updateStatus();
    }

    private void annotate(String name, Map<String, String> approval) {
        client.resources(Abnormal.class).inNamespace("default").withName(name).edit(a -> {
            Map<String, String> annotations = new LinkedHashMap<>(a.getMetadata().getAnnotations());
            annotations.keySet().removeIf(k -> k.startsWith("kdiag.io/approval"));
            annotations.putAll(approval);
            a.getMetadata().setAnnotations(annotations);
            return a;
        });
    }

    private Map<String, String> annotations(String name) {
        return client.resources(Abnormal.class).inNamespace("default").withName(name).get().getMetadata().getAnnotations();
    }

    private List<ConsumerRecord<byte[], byte[]>> decisions() {
        return Committed.records(kafka.bootstrapServers(), topics.approvals().name(), PARTITIONS);
    }

    private List<ConsumerRecord<byte[], byte[]>> awaitDecisions(int count) {
        return await().atMost(Duration.ofSeconds(30)).until(this::decisions, r -> r.size() >= count);
    }

    private static ApprovalDecision decode(ConsumerRecord<byte[], byte[]> record) {
        return AvroSerde.of(ApprovalDecision.class).decode(record.value());
    }

    private double relayed(String result) {
        return registry.get(ApprovalRelay.METRIC).tag("result", result).counter().count();
    }

    private double relayedRefused(String reason) {
        var counter = registry.find(ApprovalRelay.METRIC).tag("result", "refused").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }
}
