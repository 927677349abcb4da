package io.kdiag.statuswriter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.Topics;
import io.kdiag.testkit.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status writer's start checks, on the broker, that the evidence topic keeps values as long as the events topic
 * keeps the events that refer to them, and says what it found in {@code kdiag_evidence_retention_problems}.
 */
class EvidenceRetentionIT {
    private static TestKafka kafka;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startKafka() {
        kafka = TestKafka.start();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    private double problemsAtStart(Topics topics) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StatusWriterConfig config = StatusWriterConfig.of(stateDir.resolve(topics.prefix()), topics.prefix() + "status-writer",
                topics.prefix(), 0, KubernetesConnection.Mode.OFF);
        try (StatusWriter writer = StatusWriter.start(config, Map.of("bootstrap.servers", kafka.bootstrapServers()), registry)) {
            return registry.get(StatusWriter.EVIDENCE_RETENTION_METRIC).gauge().value();
        }
    }

    private static Topics created() {
        Topics topics = new Topics("retention-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), topics, 1, (short) 1);
        return topics;
    }

    @Test
    void shouldFindNothingWrongWithTheTopicsKdiagCreates() {
        assertThat(problemsAtStart(created())).isZero();
    }

    @Test
    void shouldCountAnEvidenceTopicThatForgetsBeforeTheHistory() throws Exception {
        Topics topics = created();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topics.evidence().name()),
                    List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)))).all().get();
        }

        assertThat(problemsAtStart(topics)).isEqualTo(1);
    }
}
