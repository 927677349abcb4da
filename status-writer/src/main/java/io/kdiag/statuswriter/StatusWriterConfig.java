package io.kdiag.statuswriter;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.schemas.Topics;

/**
 * Configuration of the status writer.
 *
 * @param stateDir where Kafka Streams keeps the fold store; keep it across restarts to avoid rebuilding it
 * @param applicationId Kafka Streams application id: consumer group, transactional id and internal topic prefix
 * @param topicPrefix prefix of every topic name
 * @param partitions partitions of the node-keyed topics when this component creates them
 * @param createTopics whether {@link Main} creates missing topics at start
 * @param replicationFactor replication factor of created topics and of the Streams internal topics
 * @param metricsPort port of the Prometheus endpoint
 */
public record StatusWriterConfig(Path stateDir, String applicationId, String topicPrefix, int partitions,
        boolean createTopics, short replicationFactor, int metricsPort) {

    /** Where Kafka Streams keeps the fold store. */
    public static final ConfigKey<Path> STATE_DIR = ConfigKey.path("kdiag.state-dir", "/var/lib/kube-diagnoser/status-writer",
            "Directory of the fold store (RocksDB); keep it on a volume so a restart does not rebuild it from the changelog.");
    /** The Kafka Streams application id. */
    public static final ConfigKey<String> APPLICATION_ID = ConfigKey.string("kdiag.application-id", "kdiag-status-writer",
            "Kafka Streams application id: the consumer group, transactional id prefix and internal topic prefix.");

    /** Reads and validates every key; a bad value throws a {@link io.kdiag.common.config.ConfigException} naming it. */
    public static StatusWriterConfig from(ConfigSource source) {
        return new StatusWriterConfig(
                source.get(STATE_DIR),
                source.get(APPLICATION_ID),
                source.get(CommonKeys.TOPIC_PREFIX),
                source.get(CommonKeys.PARTITIONS),
                source.get(CommonKeys.CREATE_TOPICS),
                source.get(CommonKeys.REPLICATION_FACTOR).shortValue(),
                source.get(CommonKeys.METRICS_PORT));
    }

    /** Every key the status writer reads, for the configuration reference. */
    public static List<ConfigKey<?>> keys() {
        return Stream.concat(Stream.of(STATE_DIR, APPLICATION_ID), CommonKeys.ALL.stream()).toList();
    }

    /** The topic catalogue under this prefix. */
    public Topics topics() {
        return new Topics(topicPrefix);
    }
}
