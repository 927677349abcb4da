package io.kdiag.statuswriter;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.schemas.Topics;
import io.kdiag.schemas.signing.SigningKey;

/**
 * Configuration of the status writer.
 *
 * @param stateDir where Kafka Streams keeps the fold store; keep it across restarts to avoid rebuilding it
 * @param applicationId Kafka Streams application id: consumer group, transactional id and internal topic prefix; from the
 *     configuration, always {@link KafkaNames#statusWriterApplicationId()} of the topic prefix
 * @param instanceId this replica's name, its static membership in the group
 * @param topicPrefix prefix of every topic name
 * @param partitions partitions of the node-keyed topics when this component creates them
 * @param createTopics whether {@link Main} creates missing topics at start
 * @param replicationFactor replication factor of created topics and of the Streams internal topics
 * @param metricsPort port of the Prometheus endpoint
 * @param httpPort port of the query API (0 picks a free one)
 * @param bindAddress address the query API listens on
 * @param kubernetes whether to project snapshots to Abnormal CRs and reap old CRs
 * @param statusWritesPerSecond most CR status writes per second
 * @param abnormalTtl age after which any Abnormal CR is deleted
 * @param minimumAbnormalTtl how long a finished Abnormal CR is kept at least after it finished
 * @param maximumAbnormalsPerNode most Abnormal CRs kept per node; the oldest beyond it are deleted
 * @param statusFlushInterval how often the latest snapshot of each changed abnormal is published
 * @param stallTimeout how long a stream thread may go without polling before {@code /healthz} fails
 * @param recoveryBudgets the recovery budgets the arbiter enforces; {@code null}: no budget file, no arbiter
 * @param approvalRelayKey the key the query API signs the approvals it relays with; {@code null}: it relays none
 */
public record StatusWriterConfig(Path stateDir, String applicationId, String instanceId, String topicPrefix, int partitions,
        boolean createTopics, short replicationFactor, int metricsPort, int httpPort, String bindAddress, KubernetesConnection.Mode kubernetes,
        int statusWritesPerSecond, Duration abnormalTtl, Duration minimumAbnormalTtl, int maximumAbnormalsPerNode,
        Duration statusFlushInterval, Duration stallTimeout, RecoveryBudgets recoveryBudgets, SigningKey approvalRelayKey) {

    /** Where Kafka Streams keeps the fold store. */
    public static final ConfigKey<Path> STATE_DIR = ConfigKey.path("kdiag.state-dir", "/var/lib/kube-diagnoser/status-writer",
            "Directory of the fold store (RocksDB); keep it on a volume so a restart does not rebuild it from the changelog.");
    /** Port of the query API. */
    public static final ConfigKey<Integer> HTTP_PORT = ConfigKey.integer("kdiag.http-port", 8091, 0, 65_535,
            "Port of the query API (GET /api/v1/abnormals..., /healthz, /readyz); 0 picks a free one.");
    /** Rate limit of CR status writes. */
    public static final ConfigKey<Integer> STATUS_WRITES_PER_SECOND = ConfigKey.integer("kdiag.status-writes-per-second", 20, 1, 10_000,
            "Most Abnormal status writes per second; snapshots of one abnormal that arrive faster are coalesced.");
    /** Age after which an Abnormal CR is deleted. */
    public static final ConfigKey<Duration> ABNORMAL_TTL = ConfigKey.duration("kdiag.abnormal-ttl", "240h",
            "Abnormal CRs older than this are deleted (their history stays in Kafka); the reaper runs every ttl/4.");
    /** How long a finished Abnormal CR is kept at least. */
    public static final ConfigKey<Duration> MINIMUM_ABNORMAL_TTL = ConfigKey.duration("kdiag.minimum-abnormal-ttl", "30m",
            "Succeeded or Failed Abnormal CRs are deleted this long after they finished.");
    /** Most Abnormal CRs kept per node. */
    public static final ConfigKey<Integer> MAXIMUM_ABNORMALS_PER_NODE = ConfigKey.integer("kdiag.maximum-abnormals-per-node", 20, 1,
            1_000_000, "Most Abnormal CRs kept per node (spec.nodeName); the oldest beyond it are deleted.");
    /** How often changed snapshots are published. */
    public static final ConfigKey<Duration> STATUS_FLUSH_INTERVAL = ConfigKey.duration("kdiag.status-flush-interval", "100ms",
            "How often the latest snapshot of each abnormal that changed is published to the status topic (and its CR); "
                    + "events of one abnormal within an interval yield one snapshot. A final snapshot (Succeeded, Failed) is published at once.");

    /** How long a stream thread may go without polling. */
    public static final ConfigKey<Duration> STALL_TIMEOUT = CommonKeys.stallTimeout("2m",
            "a Kafka Streams thread of the fold (it polls even when idle)");

    /** The key of the status writer as a relay of approvals. */
    public static final ConfigKey<String> APPROVAL_RELAY_KEY = ConfigKey.string("kdiag.approval-relay-key", "",
            "PEM file of the Ed25519 private key (PKCS#8, as openssl genpkey -algorithm ed25519 writes it; a mounted Secret) the "
                    + "query API signs the decisions of POST .../abnormals/NAME/approve|deny with, on behalf of the Kubernetes user "
                    + "it authenticated (TokenReview) and authorized (verb approve on abnormals). Agents trust it through their "
                    + "kdiag.approval-relay-keys. Empty, or no such file (the optional Secret kdiag-status-writer-relay-key not created): "
                    + "those endpoints answer 501 and nothing is relayed.");

    /** Reads and validates every key; a bad value throws a {@link io.kdiag.common.config.ConfigException} naming it. */
    public static StatusWriterConfig from(ConfigSource source) {
        String topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        return new StatusWriterConfig(
                source.get(STATE_DIR),
                new KafkaNames(topicPrefix).statusWriterApplicationId(),
                KafkaNames.instanceId(source.get(CommonKeys.INSTANCE_ID)),
                topicPrefix,
                source.get(CommonKeys.PARTITIONS),
                source.get(CommonKeys.CREATE_TOPICS),
                source.get(CommonKeys.REPLICATION_FACTOR).shortValue(),
                source.get(CommonKeys.METRICS_PORT),
                source.get(HTTP_PORT),
                source.get(CommonKeys.BIND_ADDRESS),
                source.get(KubernetesConnection.KUBERNETES),
                source.get(STATUS_WRITES_PER_SECOND),
                source.get(ABNORMAL_TTL),
                source.get(MINIMUM_ABNORMAL_TTL),
                source.get(MAXIMUM_ABNORMALS_PER_NODE),
                source.get(STATUS_FLUSH_INTERVAL),
                source.get(STALL_TIMEOUT),
                RecoveryBudgets.configured(source),
                source.optionalSigningKey(APPROVAL_RELAY_KEY).orElse(null));
    }

    /** A configuration with every other setting at its default and metrics on a free port, for tests. */
    static StatusWriterConfig of(Path stateDir, String applicationId, String topicPrefix, int httpPort, KubernetesConnection.Mode kubernetes) {
        StatusWriterConfig defaults = from(ConfigSource.of(Map.of(), Map.of()));
        return new StatusWriterConfig(stateDir, applicationId, defaults.instanceId(), topicPrefix, defaults.partitions(), defaults.createTopics(),
                defaults.replicationFactor(), 0, httpPort, defaults.bindAddress(), kubernetes, defaults.statusWritesPerSecond(), defaults.abnormalTtl(),
                defaults.minimumAbnormalTtl(), defaults.maximumAbnormalsPerNode(), defaults.statusFlushInterval(), defaults.stallTimeout(), null, null);
    }

    /** Every key the status writer reads, for the configuration reference. */
    public static List<ConfigKey<?>> keys() {
        return Stream.concat(Stream.of(STATE_DIR, CommonKeys.INSTANCE_ID, HTTP_PORT, KubernetesConnection.KUBERNETES, STATUS_WRITES_PER_SECOND, ABNORMAL_TTL,
                MINIMUM_ABNORMAL_TTL, MAXIMUM_ABNORMALS_PER_NODE, STATUS_FLUSH_INTERVAL, STALL_TIMEOUT, RecoveryBudgets.FILE,
                APPROVAL_RELAY_KEY), CommonKeys.ALL.stream()).toList();
    }

    /**
     * This configuration under another application id, for a second fold of the same topics next to the first (the
     * bench's rounds, each from the start); a deployed writer always has the one its topic prefix gives.
     */
    public StatusWriterConfig withApplicationId(String otherApplicationId) {
        return new StatusWriterConfig(stateDir, otherApplicationId, instanceId, topicPrefix, partitions, createTopics, replicationFactor,
                metricsPort, httpPort, bindAddress, kubernetes, statusWritesPerSecond, abnormalTtl, minimumAbnormalTtl, maximumAbnormalsPerNode,
                statusFlushInterval, stallTimeout, recoveryBudgets, approvalRelayKey);
    }

    /** This configuration with these recovery budgets ({@code null}: none), for tests that run an arbiter. */
    public StatusWriterConfig withRecoveryBudgets(RecoveryBudgets budgets) {
        return new StatusWriterConfig(stateDir, applicationId, instanceId, topicPrefix, partitions, createTopics, replicationFactor,
                metricsPort, httpPort, bindAddress, kubernetes, statusWritesPerSecond, abnormalTtl, minimumAbnormalTtl, maximumAbnormalsPerNode,
                statusFlushInterval, stallTimeout, budgets, approvalRelayKey);
    }

    /** This configuration with this approval relay key ({@code null}: none), for tests that approve over HTTP. */
    public StatusWriterConfig withApprovalRelayKey(SigningKey key) {
        return new StatusWriterConfig(stateDir, applicationId, instanceId, topicPrefix, partitions, createTopics, replicationFactor,
                metricsPort, httpPort, bindAddress, kubernetes, statusWritesPerSecond, abnormalTtl, minimumAbnormalTtl, maximumAbnormalsPerNode,
                statusFlushInterval, stallTimeout, recoveryBudgets, key);
    }

    /** The topic catalogue under this prefix. */
    public Topics topics() {
        return new Topics(topicPrefix);
    }
}
