package io.kdiag.sourcebridge;

import java.util.ArrayList;
import java.util.List;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;

/** The source bridge's typed configuration; Kafka client settings pass through separately ({@code kdiag.kafka.*}). */
public final class SourceBridgeConfig {
    static final ConfigKey<String> TRANSACTIONAL_ID = ConfigKey.string("kdiag.transactional-id", "kdiag-source-bridge",
            "Transactional id of the bridge's producer. Unique per running replica (e.g. the pod name): two replicas "
                    + "with the same id fence each other.");

    private final String topicPrefix;
    private final int partitions;
    private final boolean createTopics;
    private final int replicationFactor;
    private final int metricsPort;
    private final String transactionalId;

    private SourceBridgeConfig(ConfigSource source) {
        this.topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        this.partitions = source.get(CommonKeys.PARTITIONS);
        this.createTopics = source.get(CommonKeys.CREATE_TOPICS);
        this.replicationFactor = source.get(CommonKeys.REPLICATION_FACTOR);
        this.metricsPort = source.get(CommonKeys.METRICS_PORT);
        this.transactionalId = source.get(TRANSACTIONAL_ID).strip();
        if (transactionalId.isEmpty()) {
            throw new ConfigException("invalid " + TRANSACTIONAL_ID.name() + ": must not be blank");
        }
    }

    /**
     * Reads and validates every key.
     *
     * @throws ConfigException naming the key that is missing or invalid
     */
    public static SourceBridgeConfig from(ConfigSource source) {
        return new SourceBridgeConfig(source);
    }

    /** Every key the bridge reads, for the configuration reference. */
    public static List<ConfigKey<?>> keys() {
        List<ConfigKey<?>> keys = new ArrayList<>(CommonKeys.ALL);
        keys.add(TRANSACTIONAL_ID);
        return List.copyOf(keys);
    }

    String topicPrefix() {
        return topicPrefix;
    }

    int partitions() {
        return partitions;
    }

    boolean createTopics() {
        return createTopics;
    }

    int replicationFactor() {
        return replicationFactor;
    }

    int metricsPort() {
        return metricsPort;
    }

    String transactionalId() {
        return transactionalId;
    }
}
