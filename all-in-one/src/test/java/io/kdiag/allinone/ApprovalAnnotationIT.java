package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kdiag.api.Annotations;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalCondition;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.StatusFold;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Approval by annotation through the whole pipeline: an Abnormal CR whose recovery the agent's policy makes wait; the
 * status writer shows the wait on the CR ({@code status.pendingApproval}); a person annotates it; the bridge relays the
 * decision signed with its relay key; the agent, which trusts that key as a relay, runs the recoverer; the CR says who
 * approved, through what. The API server's part (the admission policy that admits the annotations only from the user
 * they name) is the deploy module's {@code AdmissionPolicyTest}.
 */
class ApprovalAnnotationIT {
    private static final String NODE = "annotated-node";
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path state;
    private TestKafka kafka;
    private MockCluster cluster;
    private StatusWriter writer;
    private SourceBridge bridge;
    private NodeAgent agent;
    private Process stuck;

    @BeforeEach
    void start() throws Exception {
        kafka = TestKafka.start();
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(settings, TOPICS, 3, (short) 1);
        cluster = new MockCluster();
        SigningKey.readOrCreate(state.resolve("bridge-relay.pem"), state.resolve("relays").resolve("source-bridge.pub"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(NodeLoss.config(NODE, Map.of("KDIAG_STATE_DIR", state.resolve("writer").toString()))),
                settings, registry, cluster.client());
        bridge = SourceBridge.start(SourceBridgeConfig.from(NodeLoss.config(NODE, Map.of("KDIAG_STATE_DIR", state.resolve("bridge").toString(),
                "KDIAG_APPROVAL_RELAY_KEY", state.resolve("bridge-relay.pem").toString()))), settings, registry, cluster.client());
        Path policy = Files.writeString(state.resolve("policy.yaml"), """
                grants:
                - {processors: ["kube-diagnoser/*"]}
                - {namespaces: [default], processors: [kube-diagnoser/signal-recoverer], requireApproval: true}
                """);
        agent = NodeAgent.start(NodeAgentConfig.from(NodeLoss.config(NODE, Map.of("KDIAG_STATE_DIR", state.resolve("agent").toString(),
                "KDIAG_POLICY_FILE", policy.toString(), "KDIAG_APPROVAL_RELAY_KEYS", state.resolve("relays").toString()))),
                settings, new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() {
        if (stuck != null) {
            stuck.destroyForcibly();
        }
        NodeLoss.closeAll(agent, bridge, writer, cluster, kafka);
    }

    @Test
    void shouldRunTheRecovererOnceAPersonApprovedWithAnAnnotation() throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        stuck = new ProcessBuilder("sleep", marker).start();
        KubernetesClient kube = cluster.client();
        kube.resource(ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: runaway, namespace: default}
                spec:
                  nodeName: %s
                  source: Custom
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                  assignedDiagnosers: [{name: process-match-diagnoser, namespace: kube-diagnoser}]
                  assignedRecoverers: [{name: signal-recoverer, namespace: kube-diagnoser}]
                  context: {processMatch: {commandPattern: "sleep %s"}}
                """.formatted(NODE, marker.replace(".", "\\\\.")))).create();

        Abnormal waiting = await().atMost(WAIT).until(() -> abnormal(kube), a -> a.getStatus() != null && a.getStatus().pendingApproval != null);
        assertThat(waiting.getStatus().pendingApproval.nodeName).isEqualTo(NODE);
        assertThat(condition(waiting).status).isEqualTo("Unknown");
        // waiting, nothing was signalled
        assertThat(stuck.waitFor(2, TimeUnit.SECONDS)).isFalse();

        kube.resources(Abnormal.class).inNamespace("default").withName("runaway").edit(a -> {
            Map<String, String> annotations = new LinkedHashMap<>(a.getMetadata().getAnnotations() == null ? Map.of() : a.getMetadata().getAnnotations());
            annotations.putAll(Map.of(Annotations.APPROVAL, "approve", Annotations.APPROVAL_BY, "alice", Annotations.APPROVAL_REASON, "known leak"));
            a.getMetadata().setAnnotations(annotations);
            return a;
        });

        assertThat(stuck.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the recoverer signalled the process").isTrue();
        Abnormal recovered = await().atMost(WAIT).until(() -> abnormal(kube), a -> "Succeeded".equals(a.getStatus().phase));
        assertThat(condition(recovered).status).isEqualTo("True");
        assertThat(condition(recovered).message).contains("approved by alice via source-bridge");
        assertThat(recovered.getStatus().pendingApproval).isNull();
        assertThat(recovered.getMetadata().getAnnotations() == null ? Map.of() : recovered.getMetadata().getAnnotations())
                .doesNotContainKeys(Annotations.APPROVAL, Annotations.APPROVAL_BY, Annotations.APPROVAL_REASON);
    }

    private static Abnormal abnormal(KubernetesClient kube) {
        return kube.resources(Abnormal.class).inNamespace("default").withName("runaway").get();
    }

    private static AbnormalCondition condition(Abnormal abnormal) {
        List<AbnormalCondition> conditions = abnormal.getStatus().conditions == null ? List.of() : abnormal.getStatus().conditions;
        return conditions.stream().filter(c -> c.type.equals(StatusFold.RECOVERY_APPROVED)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + StatusFold.RECOVERY_APPROVED + " condition in " + conditions));
    }
}
