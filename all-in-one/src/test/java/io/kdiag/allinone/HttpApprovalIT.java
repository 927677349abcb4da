package io.kdiag.allinone;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.authentication.UserInfoBuilder;
import io.kdiag.api.ApiSerialization;
import io.kdiag.api.v1.AbnormalSpec;
import io.kdiag.api.v1.NamespacedName;
import io.kdiag.client.KdiagClient;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.model.StatusFold;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.AbnormalStatus;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.MockCluster;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Approval over HTTP, end to end on one broker: an agent parks a recovery that waits for approval; a Kubernetes user
 * without the verb {@code approve} is refused by the status writer's query API, and nothing runs; the approval of one
 * who has it is relayed (signed with the writer's relay key, on that user's behalf), the agent trusts the relay's key,
 * runs the recoverer, and the status says who approved through which relay.
 */
class HttpApprovalIT {
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String ALICE_TOKEN = "alice-service-account-token";
    private static final String BOB_TOKEN = "bob-service-account-token";

    @TempDir
    Path state;
    private TestKafka kafka;
    private MockCluster cluster;
    private StatusWriter writer;
    private NodeAgent agent;
    private KdiagClient client;
    private Process stuck;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        kafka = TestKafka.start();
        TopicAdmin.ensureTopics(settings(), TOPICS, 12, (short) 1);
        cluster = new MockCluster();
        // alice may approve in namespace default (a RoleBinding of kdiag-approver), bob may not
        cluster.answerReviews(Map.of(ALICE_TOKEN, new UserInfoBuilder().withUsername("alice").build(),
                BOB_TOKEN, new UserInfoBuilder().withUsername("bob").build()),
                review -> review.getUser().equals("alice") && review.getResourceAttributes().getVerb().equals("approve")
                        && review.getResourceAttributes().getResource().equals("abnormals")
                        && review.getResourceAttributes().getNamespace().equals("default"));
        SigningKey.readOrCreate(state.resolve("approval-relay-key.pem"), state.resolve("relays").resolve("status-writer.pub"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(ConfigSource.of(Map.of(
                "kdiag.state-dir", state.resolve("status-writer").toString(),
                "kdiag.http-port", "0",
                "kdiag.metrics-port", "0",
                "kdiag.approval-relay-key", state.resolve("approval-relay-key.pem").toString()), Map.of())),
                settings(), registry, cluster.client());
        client = KdiagClient.builder().kafka(settings()).build();
    }

    @AfterEach
    void stop() {
        if (stuck != null) {
            stuck.destroyForcibly();
        }
        if (agent != null) {
            agent.close();
        }
        if (client != null) {
            client.close();
        }
        if (writer != null) {
            writer.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private Map<String, Object> settings() {
        return new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    @Test
    void shouldRunTheRecoveryOnlyOnceAUserAllowedToApproveApprovedItOverHttp() throws Exception {
        String node = "node-" + UUID.randomUUID().toString().substring(0, 8);
        Path policy = Files.writeString(state.resolve("policy.yaml"), """
                grants:
                - {processors: ["*"]}
                - {namespaces: [default], processors: [kube-diagnoser/signal-recoverer], requireApproval: true}
                """);
        agent = NodeAgent.start(NodeAgentConfig.from(ConfigSource.of(Map.of(
                "kdiag.node-name", node,
                "kdiag.state-dir", state.resolve("agent").toString(),
                "kdiag.verification-keys", TestKeys.verificationKeyFile().toString(),
                "kdiag.approval-relay-keys", state.resolve("relays").toString(),
                "kdiag.policy-file", policy.toString(),
                "kdiag.kubernetes", "off",
                "kdiag.http-port", "0"), Map.of())), settings(), new SimpleMeterRegistry());
        String uid = UUID.randomUUID().toString();
        submitKill(node, uid, "stuck-worker");

        AbnormalStatus waiting = client.awaitStatus(s -> s.getUid().equals(uid) && StatusFold.waitsForApproval(s), WAIT).orElseThrow();
        assertThat(waiting.getPhase()).isEqualTo(Phase.Recovering);

        HttpResponse<String> refused = decide("stuck-worker", BOB_TOKEN);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("user bob may not approve");
        HttpResponse<String> anonymous = decide("stuck-worker", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);

        HttpResponse<String> approved = decide("stuck-worker", ALICE_TOKEN);
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(202);
        assertThat(ApiSerialization.jsonObject(approved.body())).containsEntry("uid", uid).containsEntry("onBehalfOf", "alice");

        AbnormalStatus ended = client.awaitFinalStatus(uid, WAIT).orElseThrow();
        assertThat(ended.getPhase()).as(ended.getReason() + ": " + ended.getMessage()).isEqualTo(Phase.Succeeded);
        assertThat(ended.getConditions()).anyMatch(c -> c.getType().equals(StatusFold.RECOVERY_APPROVED) && c.getStatus().equals("True")
                && c.getMessage().contains("approved by alice via status-writer"));
        assertThat(stuck.waitFor(30, TimeUnit.SECONDS)).as("the recoverer sent SIGTERM to the matched process").isTrue();
        // once decided, a second call finds nothing to decide
        assertThat(decide("stuck-worker", ALICE_TOKEN).statusCode()).isEqualTo(409);
    }

    /** An abnormal whose recovery sends SIGTERM to a sleeping child of this test, matched by its command line. */
    private void submitKill(String node, String uid, String name) throws Exception {
        String marker = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        stuck = new ProcessBuilder("sleep", marker).start();
        AbnormalSpec spec = new AbnormalSpec();
        spec.nodeName = node;
        spec.assignedInformationCollectors = List.of(builtIn("process-collector"));
        spec.assignedDiagnosers = List.of(builtIn("process-match-diagnoser"));
        spec.assignedRecoverers = List.of(builtIn("signal-recoverer"));
        spec.context = Map.of("processMatch", Map.of("commandPattern", "sleep " + marker.replace(".", "\\.")));
        AbnormalRequest request = AbnormalRequest.newBuilder().setUid(uid).setNamespace("default").setName(name).setNodeName(node)
                .setOrigin(Origin.CustomResource).setRequestedAt(Instant.now()).setSpec(ApiSerialization.json(spec)).setLabels(Map.of())
                .build();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings(), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(TestKeys.signed(TOPICS.abnormals(), node, request)).get(30, TimeUnit.SECONDS);
        }
    }

    private static NamespacedName builtIn(String name) {
        return new NamespacedName("kube-diagnoser", name);
    }

    private HttpResponse<String> decide(String name, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + writer.httpPort()
                + "/api/v1/namespaces/default/abnormals/" + name + "/approve"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\": \"agreed with the on-call\"}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
