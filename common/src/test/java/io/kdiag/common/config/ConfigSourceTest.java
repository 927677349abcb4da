package io.kdiag.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ConfigSourceTest {
    private static final ConfigKey<Integer> PARTITIONS = ConfigKey.integer("kdiag.partitions", 12, 1, 10_000, "partitions");
    private static final ConfigKey<String> NODE = ConfigKey.string("kdiag.node-name", null, "this node");
    private static final ConfigKey<Duration> TIMEOUT = ConfigKey.duration("kdiag.timeout", "30s", "timeout");

    @Test
    void shouldPreferEnvironmentOverFileOverDefault() {
        ConfigSource source = ConfigSource.of(Map.of("kdiag.partitions", "6", "kdiag.node-name", "file-node"),
                Map.of("KDIAG_NODE_NAME", "env-node"));

        assertThat(source.get(NODE)).isEqualTo("env-node");
        assertThat(source.get(PARTITIONS)).isEqualTo(6);
        assertThat(source.get(TIMEOUT)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void shouldNameTheKeyOfAnInvalidValue() {
        ConfigSource source = ConfigSource.of(Map.of(), Map.of("KDIAG_PARTITIONS", "0"));

        assertThatThrownBy(() -> source.get(PARTITIONS)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("KDIAG_PARTITIONS=0").hasMessageContaining("between 1 and 10000");
    }

    @Test
    void shouldNameAMissingRequiredKey() {
        assertThatThrownBy(() -> ConfigSource.of(Map.of(), Map.of()).get(NODE)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("kdiag.node-name").hasMessageContaining("KDIAG_NODE_NAME");
    }

    @Test
    void shouldPassKafkaSettingsThroughAndRedactSecrets() {
        ConfigSource source = ConfigSource.of(Map.of("kdiag.kafka.security.protocol", "SASL_SSL"),
                Map.of("KDIAG_KAFKA_BOOTSTRAP_SERVERS", "k:9092", "KDIAG_KAFKA_SASL_JAAS_CONFIG", "secret-stuff",
                        "KDIAG_KAFKA_SSL_TRUSTSTORE_PASSWORD", "pw"));

        Map<String, Object> kafka = source.kafkaProperties();

        assertThat(kafka).containsEntry("bootstrap.servers", "k:9092").containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.jaas.config", "secret-stuff");
        assertThat(ConfigSource.redacted(kafka).toString()).doesNotContain("secret-stuff").doesNotContain("pw,")
                .contains("bootstrap.servers=k:9092");
    }

    @Test
    void shouldParseDurationsWithUnits() {
        assertThat(ConfigKey.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ConfigKey.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(ConfigKey.parseDuration("PT6H")).isEqualTo(Duration.ofHours(6));
        assertThatThrownBy(() -> ConfigKey.parseDuration("soon")).isInstanceOf(IllegalArgumentException.class);
    }
}
