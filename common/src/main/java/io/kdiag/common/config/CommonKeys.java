package io.kdiag.common.config;

import java.time.Duration;
import java.util.List;

import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.schemas.Topics;

/** Keys every deployable reads the same way. */
public final class CommonKeys {
    /** Prefix of every topic name. */
    public static final ConfigKey<String> TOPIC_PREFIX = new ConfigKey<>("kdiag.topic-prefix", CommonKeys::topicPrefix,
            Topics.DEFAULT_PREFIX, "Prefix of every topic name, consumer group, transactional id and Kafka Streams application id "
                    + "(letters, digits, '.', '_', '-'), so several installations can share one Kafka cluster.");
    /** The name of a running instance, for its static group membership and transactional id. */
    public static final ConfigKey<String> INSTANCE_ID = ConfigKey.string("kdiag.instance-id", "",
            "This replica's name, unique among the replicas of the component (the manifests pass the pod name; empty: the host "
                    + "name, which in a pod is the pod name). A restart under the same name takes over its group membership and "
                    + "transactions at once; two running replicas with one name fence each other.");
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
    /**
     * How long a component's main loop may go without progress while it has work before {@code /healthz} fails, so that
     * Kubernetes restarts it; each component declares it with the default that suits its loop.
     *
     * @param defaultValue the component's default
     * @param loop what the loop is, for the documentation
     */
    public static ConfigKey<Duration> stallTimeout(String defaultValue, String loop) {
        return ConfigKey.duration("kdiag.stall-timeout", defaultValue, "GET /healthz fails, and Kubernetes restarts the container, when "
                + loop + " made no progress for this long while it had work (an idle loop is fine).");
    }

    /** All of them, for the configuration reference. */
    public static final List<ConfigKey<?>> ALL = List.of(TOPIC_PREFIX, PARTITIONS, CREATE_TOPICS, REPLICATION_FACTOR, METRICS_PORT,
            BIND_ADDRESS);

    private CommonKeys() {
    }

    /** A prefix Kafka accepts in topic names, group ids and Streams application ids. */
    private static String topicPrefix(String text) {
        if (!text.matches("[a-zA-Z0-9._-]*") || text.length() > 100) {
            throw new IllegalArgumentException("must be at most 100 letters, digits, '.', '_' or '-'");
        }
        return text;
    }
}
