package io.kdiag.statuswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kubernetes.KubernetesConnection.Mode;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.statuswriter.fold.WriterDeadLetters;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusWriterConfigTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadTheApprovalRelayKeyAndRelayNothingWithoutItsFile() throws Exception {
        SigningKey key = SigningKey.readOrCreate(dir.resolve("approval-relay-key.pem"), dir.resolve("status-writer.pub"));
        Files.writeString(dir.resolve("garbage.pem"), "not a key");

        assertThat(StatusWriterConfig.from(ConfigSource.of(Map.of(), Map.of())).approvalRelayKey()).isNull();
        assertThat(StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.approval-relay-key", dir.resolve("approval-relay-key.pem").toString()),
                Map.of())).approvalRelayKey().keyId()).isEqualTo(key.keyId());
        // the optional Secret not created: its folder is empty
        assertThat(StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.approval-relay-key", dir.resolve("absent.pem").toString()),
                Map.of())).approvalRelayKey()).isNull();
        assertThatThrownBy(() -> StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.approval-relay-key",
                dir.resolve("garbage.pem").toString()), Map.of()))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid kdiag.approval-relay-key=");
    }

    @Test
    void shouldUseTheDefaults() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of(), Map.of()));

        assertThat(config.stateDir()).isEqualTo(Path.of("/var/lib/kube-diagnoser/status-writer"));
        assertThat(config.applicationId()).isEqualTo("kdiag.status-writer");
        assertThat(config.topicPrefix()).isEqualTo("kdiag.");
        assertThat(config.replicationFactor()).isEqualTo((short) 1);
        assertThat(config.createTopics()).isTrue();
        assertThat(config.metricsPort()).isEqualTo(10357);
        assertThat(config.topics().diagnosisEvents().name()).isEqualTo("kdiag.diagnosis-events");
        assertThat(config.httpPort()).isEqualTo(8091);
        assertThat(config.kubernetes()).isEqualTo(Mode.AUTO);
        assertThat(config.statusWritesPerSecond()).isEqualTo(20);
        assertThat(config.abnormalTtl()).isEqualTo(Duration.ofHours(240));
        assertThat(config.minimumAbnormalTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(config.maximumAbnormalsPerNode()).isEqualTo(20);
        assertThat(config.statusFlushInterval()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void shouldRefuseATopicPrefixKafkaCannotNameGroupsWith() {
        assertThatThrownBy(() -> StatusWriterConfig.from(ConfigSource.of(Map.of(), Map.of("KDIAG_TOPIC_PREFIX", "team a/"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("KDIAG_TOPIC_PREFIX");
    }

    @Test
    void shouldReadTheKubernetesModeAndRejectOthers() {
        assertThat(StatusWriterConfig.from(ConfigSource.of(Map.of("kdiag.kubernetes", "Off"), Map.of())).kubernetes())
                .isEqualTo(Mode.OFF);
        assertThatThrownBy(() -> StatusWriterConfig.from(ConfigSource.of(Map.of(), Map.of("KDIAG_KUBERNETES", "maybe"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("KDIAG_KUBERNETES");
    }

    @Test
    void shouldLetTheEnvironmentWinOverTheFile() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(
                Map.of("kdiag.state-dir", "/data/file", "kdiag.topic-prefix", "team-a.", "kdiag.instance-id", "from-file"),
                Map.of("KDIAG_STATE_DIR", "/data/env", "KDIAG_REPLICATION_FACTOR", "3", "KDIAG_INSTANCE_ID", "writer-0")));

        assertThat(config.stateDir()).isEqualTo(Path.of("/data/env"));
        assertThat(config.applicationId()).as("derived from the prefix").isEqualTo("team-a.status-writer");
        assertThat(config.instanceId()).isEqualTo("writer-0");
        assertThat(config.replicationFactor()).isEqualTo((short) 3);
    }

    @Test
    void shouldNameTheKeyOfAnInvalidValue() {
        ConfigSource source = ConfigSource.of(Map.of(), Map.of("KDIAG_REPLICATION_FACTOR", "zero"));

        assertThatThrownBy(() -> StatusWriterConfig.from(source))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("KDIAG_REPLICATION_FACTOR");
    }

    @Test
    void shouldListItsOwnAndTheCommonKeys() {
        assertThat(StatusWriterConfig.keys()).extracting(ConfigKey::name)
                .startsWith("kdiag.state-dir", "kdiag.instance-id", "kdiag.http-port", "kdiag.kubernetes",
                        "kdiag.status-writes-per-second", "kdiag.abnormal-ttl", "kdiag.minimum-abnormal-ttl",
                        "kdiag.maximum-abnormals-per-node", "kdiag.status-flush-interval")
                .containsAll(CommonKeys.ALL.stream().map(ConfigKey::name).toList());
    }

    @Test
    void shouldRunTheFoldAtLeastOnceAndTheBudgetArbiterExactlyOnceWithTheConfiguredReplicationFactor() {
        StatusWriterConfig defaults = StatusWriterConfig.of(Path.of("/tmp/sw"), "app", "p.", 0, Mode.OFF);
        StatusWriterConfig config = new StatusWriterConfig(defaults.stateDir(), defaults.applicationId(), "writer-0", defaults.topicPrefix(), 3,
                false, (short) 3, 0, 0, "0.0.0.0", Mode.OFF, 20, defaults.abnormalTtl(), defaults.minimumAbnormalTtl(), 20,
                defaults.statusFlushInterval(), defaults.stallTimeout(), null, null);

        Properties fold = StatusWriter.streamsProperties(config, Map.of("bootstrap.servers", "broker:9092"));
        Properties arbiter = StatusWriter.arbiterProperties(config, Map.of("bootstrap.servers", "broker:9092"));

        assertThat(fold)
                .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE)
                .containsEntry(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, StatusWriter.FOLD_COMMIT_INTERVAL_MS)
                .containsEntry(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0)
                .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "app");
        assertThat(arbiter)
                .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2)
                .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "app-budget-arbiter")
                .doesNotContainKey(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG);
        for (Properties props : List.of(fold, arbiter)) {
            assertThat(props)
                    .containsEntry(StreamsConfig.REPLICATION_FACTOR_CONFIG, 3)
                    .containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/tmp/sw")
                    .containsEntry(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, true)
                    .containsEntry(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), "writer-0")
                    .containsEntry("bootstrap.servers", "broker:9092")
                    .containsEntry(WriterDeadLetters.TOPIC_CONFIG, "p.dead-letters");
        }
    }

}
