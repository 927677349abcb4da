package io.kdiag.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.kdiag.api.ApiSerialization;
import io.kdiag.api.StatusProjection;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.api.v1.AbnormalStatus;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.avro.AbnormalRequest;
import io.kdiag.schemas.avro.Origin;
import io.kdiag.schemas.avro.Phase;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An Abnormal goes in, its status comes out: bridge, agent and fold on a real broker. */
class PipelineIT {
    private static final String NODE = "it-node-1";
    private static final Topics TOPICS = Topics.withDefaultPrefix();

    @TempDir
    static Path state;
    static TestKafka kafka;
    static Map<String, Object> client;
    static StatusWriter writer;
    static NodeAgent agent;
    static SourceBridge bridge;

    @BeforeAll
    static void startPipeline() {
        kafka = TestKafka.start();
        client = Map.of("bootstrap.servers", kafka.bootstrapServers());
        TopicAdmin.ensureTopics(client, TOPICS, 12, (short) 1);
        Map<String, String> env = new HashMap<>();
        env.put("KDIAG_NODE_NAME", NODE);
        env.put("KDIAG_COMMAND_ALLOWLIST", "uname");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config(env, "status-writer")), client, registry);
        agent = NodeAgent.start(NodeAgentConfig.from(config(env, "agent")), client, registry);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config(env, "bridge")), client, registry);
    }

    @AfterAll
    static void stopPipeline() {
        for (AutoCloseable c : new AutoCloseable[] {bridge, agent, writer, kafka}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    private static ConfigSource config(Map<String, String> env, String dir) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", state.resolve(dir).toString());
        return ConfigSource.of(Map.of(), copy);
    }

    @Test
    void shouldTakeARequestFromTheAbnormalsTopicToSucceeded() throws Exception {
        String uid = UUID.randomUUID().toString();
        AbnormalRequest request = AbnormalRequest.newBuilder()
                .setUid(uid).setNamespace("default").setName("collect").setNodeName(NODE)
                .setOrigin(Origin.CustomResource).setRequestedAt(Instant.now())
                .setSpec("{\"nodeName\":\"" + NODE + "\",\"source\":\"Custom\","
                        + "\"assignedInformationCollectors\":[{\"namespace\":\"kube-diagnoser\",\"name\":\"process-collector\"}],"
                        + "\"commandExecutors\":[{\"command\":[\"uname\",\"-s\"],\"type\":\"InformationCollector\"}],"
                        + "\"skipDiagnosis\":true,\"skipRecovery\":true}")
                .build();
        try (KafkaProducer<String, AbnormalRequest> producer = new KafkaProducer<>(client, new StringSerializer(),
                TOPICS.abnormals().valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(TOPICS.abnormals().name(), NODE, request)).get(30, TimeUnit.SECONDS);
        }

        io.kdiag.schemas.avro.AbnormalStatus snapshot = awaitTerminal(uid);

        assertThat(snapshot.getPhase()).isEqualTo(Phase.Succeeded);
        AbnormalStatus status = StatusProjection.status(snapshot);
        assertThat(status.conditions).extracting(c -> c.type + "=" + c.status)
                .containsExactly("InformationCollected=True", "Identified=True", "Recovered=True");
        assertThat(status.identifiable).isTrue();
        assertThat(status.recoverable).isTrue();
        assertThat(status.startTime).isNotNull();
        assertThat(status.context).containsKey("processInformation");
        assertThat(status.commandExecutors).singleElement().satisfies(c -> {
            assertThat(c.stdout).contains("Linux");
            assertThat(c.error).isNull();
        });
    }

    @Test
    void shouldTakeAManifestThroughTheIngestTopicToItsExpectedPhase() throws Exception {
        Abnormal abnormal = ApiSerialization.abnormal("""
                apiVersion: diagnosis.netease.com/v1
                kind: Abnormal
                metadata: {name: nothing-to-identify, namespace: default}
                spec:
                  nodeName: %s
                  assignedInformationCollectors: [{name: process-collector, namespace: kube-diagnoser}]
                  assignedDiagnosers: [{name: process-match-diagnoser, namespace: kube-diagnoser}]
                  context: {processMatch: {commandPattern: "^no-such-process$"}}
                """.formatted(NODE));
        String uid;
        try (PipelineClient pipeline = new PipelineClient(client, TOPICS)) {
            uid = pipeline.submit(abnormal);
        }

        io.kdiag.schemas.avro.AbnormalStatus snapshot = awaitTerminal(uid);

        assertThat(snapshot.getPhase()).isEqualTo(Phase.Failed);
        assertThat(StatusProjection.status(snapshot).conditions).extracting(c -> c.type + "=" + c.status)
                .containsExactly("InformationCollected=True", "Identified=False");
        assertThat(snapshot.getIdentifiable()).isFalse();
    }

    private static io.kdiag.schemas.avro.AbnormalStatus awaitTerminal(String uid) {
        try (PipelineClient pipeline = new PipelineClient(client, TOPICS)) {
            Optional<io.kdiag.schemas.avro.AbnormalStatus> status = pipeline.awaitTerminal(uid, Duration.ofSeconds(90), s -> { });
            assertThat(status).as("terminal status of %s", uid).isPresent();
            return status.get();
        }
    }

    @Test
    void shouldListEveryStatusFromTheCompactedTopic() throws Exception {
        shouldTakeARequestFromTheAbnormalsTopicToSucceeded();
        try (PipelineClient pipeline = new PipelineClient(client, TOPICS)) {
            assertThat(pipeline.latestStatuses().values()).extracting(s -> s.getName()).contains("collect");
        }
    }
}
