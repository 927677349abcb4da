package io.kdiag.statuswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StatusWriterConfigTest {

    @Test
    void shouldUseTheDefaults() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(Map.of(), Map.of()));

        assertThat(config.stateDir()).isEqualTo(Path.of("/var/lib/kube-diagnoser/status-writer"));
        assertThat(config.applicationId()).isEqualTo("kdiag-status-writer");
        assertThat(config.topicPrefix()).isEqualTo("kdiag.");
        assertThat(config.replicationFactor()).isEqualTo((short) 1);
        assertThat(config.createTopics()).isTrue();
        assertThat(config.metricsPort()).isEqualTo(10357);
        assertThat(config.topics().diagnosisEvents().name()).isEqualTo("kdiag.diagnosis-events");
    }

    @Test
    void shouldLetTheEnvironmentWinOverTheFile() {
        StatusWriterConfig config = StatusWriterConfig.from(ConfigSource.of(
                Map.of("kdiag.state-dir", "/data/file", "kdiag.application-id", "from-file"),
                Map.of("KDIAG_STATE_DIR", "/data/env", "KDIAG_REPLICATION_FACTOR", "3")));

        assertThat(config.stateDir()).isEqualTo(Path.of("/data/env"));
        assertThat(config.applicationId()).isEqualTo("from-file");
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
                .startsWith("kdiag.state-dir", "kdiag.application-id")
                .containsAll(CommonKeys.ALL.stream().map(ConfigKey::name).toList());
    }

    @Test
    void shouldRunExactlyOnceWithTheConfiguredReplicationFactor() {
        StatusWriterConfig config = new StatusWriterConfig(Path.of("/tmp/sw"), "app", "p.", 3, false, (short) 3, 0);

        Properties props = StatusWriter.streamsProperties(config, Map.of("bootstrap.servers", "broker:9092"), config.topics());

        assertThat(props)
                .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2)
                .containsEntry(StreamsConfig.REPLICATION_FACTOR_CONFIG, 3)
                .containsEntry(StreamsConfig.APPLICATION_ID_CONFIG, "app")
                .containsEntry(StreamsConfig.STATE_DIR_CONFIG, "/tmp/sw")
                .containsEntry("bootstrap.servers", "broker:9092")
                .containsEntry(DeadLetterDeserializationHandler.DEAD_LETTER_TOPIC_CONFIG, "p.dead-letters");
    }

    @Test
    void shouldReadTheConfigFileArgument() {
        assertThat(Main.configFile(new String[] {"--config", "/etc/kdiag.properties"})).isEqualTo(Path.of("/etc/kdiag.properties"));
        assertThat(Main.configFile(new String[] {"--config=/etc/kdiag.properties"})).isEqualTo(Path.of("/etc/kdiag.properties"));
        assertThat(Main.configFile(new String[0])).isNull();
        assertThatThrownBy(() -> Main.configFile(new String[] {"--verbose"})).hasMessageContaining("usage");
    }
}
