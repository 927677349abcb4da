package io.kdiag.sourcebridge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.sourcebridge.gate.GateKeys;
import io.kdiag.sourcebridge.gate.GateOptions;

/** The source bridge's typed configuration; Kafka client settings pass through separately ({@code kdiag.kafka.*}). */
public final class SourceBridgeConfig {
    static final ConfigKey<Integer> HTTP_PORT = ConfigKey.integer("kdiag.http-port", 8089, 0, 65_535,
            "Port of the Alertmanager endpoint (POST /api/v1/alerts, /api/v2/alerts, /webhook) and GET /healthz; 0 picks a free one.");
    private static final String STATE_SCOPE = "bridge/";

    private final String topicPrefix;
    private final int replicationFactor;
    private final String instanceId;
    private final KubernetesConnection.Mode kubernetes;
    private final int httpPort;
    private final Duration repeatInterval;
    private final int stormPerNode;
    private final int stormCluster;
    private final String abnormalNamespace;
    private final Duration stallTimeout;

    private SourceBridgeConfig(ConfigSource source) {
        this.topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        this.replicationFactor = source.get(CommonKeys.REPLICATION_FACTOR);
        this.instanceId = KafkaNames.instanceId(source.get(CommonKeys.INSTANCE_ID));
        this.kubernetes = source.get(KubernetesConnection.KUBERNETES);
        this.httpPort = source.get(HTTP_PORT);
        this.repeatInterval = source.get(GateKeys.REPEAT_INTERVAL);
        this.stormPerNode = source.get(GateKeys.STORM_PER_NODE);
        this.stormCluster = source.get(GateKeys.STORM_CLUSTER);
        this.abnormalNamespace = source.get(GateKeys.ABNORMAL_NAMESPACE).strip();
        this.stallTimeout = source.get(GateKeys.STALL_TIMEOUT);
        if (!abnormalNamespace.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") || abnormalNamespace.length() > 63) {
            throw new ConfigException("invalid " + GateKeys.ABNORMAL_NAMESPACE.name() + ": '" + abnormalNamespace
                    + "' is not a Kubernetes namespace name");
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
        keys.add(CommonKeys.INSTANCE_ID);
        keys.add(KubernetesConnection.KUBERNETES);
        keys.add(HTTP_PORT);
        keys.add(GateKeys.REPEAT_INTERVAL);
        keys.add(GateKeys.STORM_PER_NODE);
        keys.add(GateKeys.STORM_CLUSTER);
        keys.add(GateKeys.ABNORMAL_NAMESPACE);
        keys.add(GateKeys.STALL_TIMEOUT);
        return List.copyOf(keys);
    }

    String topicPrefix() {
        return topicPrefix;
    }

    /** This replica's name: its transactional id and static group membership derive from it. */
    String instanceId() {
        return instanceId;
    }

    KubernetesConnection.Mode kubernetes() {
        return kubernetes;
    }

    int httpPort() {
        return httpPort;
    }

    String abnormalNamespace() {
        return abnormalNamespace;
    }

    GateOptions gateOptions() {
        return new GateOptions(repeatInterval, stormPerNode, stormCluster, STATE_SCOPE, (short) replicationFactor, stallTimeout);
    }
}
