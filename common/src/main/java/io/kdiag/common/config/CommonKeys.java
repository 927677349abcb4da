package io.kdiag.common.config;

import java.util.List;

import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.Topics;

/** Keys every deployable reads the same way. */
public final class CommonKeys {
    /** Prefix of every topic name. */
    public static final ConfigKey<String> TOPIC_PREFIX = ConfigKey.string("kdiag.topic-prefix", Topics.DEFAULT_PREFIX,
            "Prefix of every topic name, so several installations can share one Kafka cluster.");
    /** Partitions of the node-keyed topics. */
    public static final ConfigKey<Integer> PARTITIONS = ConfigKey.integer("kdiag.partitions", Topics.DEFAULT_PARTITIONS, 1, 100_000,
            "Partitions of the node-keyed topics when this component creates them.");
    /** Whether to create missing topics at start. */
    public static final ConfigKey<Boolean> CREATE_TOPICS = ConfigKey.bool("kdiag.create-topics", true,
            "Create missing topics at start; turn off where topics are managed elsewhere (Strimzi KafkaTopic).");
    /** Replication factor of topics this component creates. */
    public static final ConfigKey<Integer> REPLICATION_FACTOR = ConfigKey.integer("kdiag.replication-factor", 1, 1, 16,
            "Replication factor of the topics this component creates.");
    /** Port of the Prometheus endpoint. */
    public static final ConfigKey<Integer> METRICS_PORT = ConfigKey.integer("kdiag.metrics-port", MetricsServer.DEFAULT_PORT, 0, 65_535,
            "Port of GET /metrics (Prometheus); 0 picks a free one.");

    /** Address the component's ports listen on. */
    public static final ConfigKey<String> BIND_ADDRESS = ConfigKey.string("kdiag.bind-address", "0.0.0.0",
            "Address every port of this component listens on (its HTTP port and /metrics): 0.0.0.0 for every interface, as a "
                    + "pod needs; 127.0.0.1 for this machine only, as kdiag up does.");

    /** All of them, for the configuration reference. */
    public static final List<ConfigKey<?>> ALL = List.of(TOPIC_PREFIX, PARTITIONS, CREATE_TOPICS, REPLICATION_FACTOR, METRICS_PORT,
            BIND_ADDRESS);

    private CommonKeys() {
    }
}
