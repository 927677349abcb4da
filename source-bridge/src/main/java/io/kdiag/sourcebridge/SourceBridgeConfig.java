package io.kdiag.sourcebridge;

import java.io.IOException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.KafkaNames;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.sourcebridge.gate.GateKeys;
import io.kdiag.sourcebridge.gate.GateOptions;
import io.kdiag.sourcebridge.rules.RuleFiles;

/** The source bridge's typed configuration; Kafka client settings pass through separately ({@code kdiag.kafka.*}). */
public final class SourceBridgeConfig {
    static final ConfigKey<Integer> HTTP_PORT = ConfigKey.integer("kdiag.http-port", 8089, 0, 65_535,
            "Port of the Alertmanager endpoint (POST /api/v1/alerts, /api/v2/alerts, /webhook) and GET /healthz; 0 picks a free one.");
    static final ConfigKey<List<String>> RULES = ConfigKey.list("kdiag.rules", "",
            "Comma-separated AbnormalSource files or folders (of .yaml, .yml, .json files), read at start beside the CRs: "
                    + "rules for a bridge without a cluster. A file that is not an AbnormalSource, or a rule that cannot be used, "
                    + "stops the start with the reason.");
    static final ConfigKey<ZoneId> TEMPLATE_TIME_ZONE = new ConfigKey<>("kdiag.template-time-zone", SourceBridgeConfig::zone, "UTC",
            "Time zone in which AbnormalSource templates see Event times (firstTimestamp, lastTimestamp) and name alert "
                    + "offsets, as Go prints times: KubeDiag's process zone, UTC in its image (e.g. Asia/Shanghai if its "
                    + "pods mounted the host's /etc/localtime).");
    static final ConfigKey<Path> SIGNING_KEY = ConfigKey.path("kdiag.signing-key", null,
            "PEM file of the Ed25519 private key (PKCS#8, as openssl genpkey -algorithm ed25519 writes it; a mounted Secret in a "
                    + "cluster) the bridge signs every record of kdiag.abnormals with. Agents run only records that one of their "
                    + "kdiag.verification-keys verifies.");
    static final ConfigKey<String> APPROVAL_RELAY_KEY = ConfigKey.string("kdiag.approval-relay-key", "",
            "PEM file of the Ed25519 private key the bridge signs the decisions it relays with: the annotations kdiag.io/approval "
                    + "and kdiag.io/approval-by on an Abnormal that waits for approval, which the admission policy "
                    + "kdiag-abnormal-approval admits only from that user, if they may approve abnormals. Agents honour them only "
                    + "if one of their kdiag.approval-relay-keys verifies them. Empty, or no such file (the optional Secret "
                    + "kdiag-source-bridge-relay-key not created): annotations are not relayed.");
    static final ConfigKey<Duration> COMMIT_INTERVAL = ConfigKey.duration("kdiag.bridge-commit-interval", "200ms",
            "How often the bridge commits its ingest offsets, only ever past requests Kafka acknowledged on kdiag.abnormals. "
                    + "A crash reads again what was read since the last commit; what it forwarded is remembered in "
                    + "kdiag.bridge-state and not forwarded again, except what it forwarded in the instant before the crash, "
                    + "which the agents recognise by its uid. Shorter commits more often (a round trip to the broker each).");
    private static final String STATE_SCOPE = "bridge/";

    private final String topicPrefix;
    private final int replicationFactor;
    private final String instanceId;
    private final KubernetesConnection.Mode kubernetes;
    private final int httpPort;
    private final String bindAddress;
    private final Duration repeatInterval;
    private final int stormPerNode;
    private final int stormCluster;
    private final String abnormalNamespace;
    private final ZoneId templateTimeZone;
    private final List<RuleFiles.Rule> ruleFiles;
    private final SigningKey signingKey;
    private final SigningKey approvalRelayKey;
    private final Duration stallTimeout;
    private final Duration commitInterval;

    private SourceBridgeConfig(ConfigSource source) {
        this.topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        this.replicationFactor = source.get(CommonKeys.REPLICATION_FACTOR);
        this.instanceId = KafkaNames.instanceId(source.get(CommonKeys.INSTANCE_ID));
        this.kubernetes = source.get(KubernetesConnection.KUBERNETES);
        this.httpPort = source.get(HTTP_PORT);
        this.bindAddress = source.get(CommonKeys.BIND_ADDRESS);
        this.repeatInterval = source.get(GateKeys.REPEAT_INTERVAL);
        this.stormPerNode = source.get(GateKeys.STORM_PER_NODE);
        this.stormCluster = source.get(GateKeys.STORM_CLUSTER);
        this.abnormalNamespace = source.get(GateKeys.ABNORMAL_NAMESPACE).strip();
        this.stallTimeout = source.get(GateKeys.STALL_TIMEOUT);
        this.commitInterval = source.get(COMMIT_INTERVAL);
        if (!abnormalNamespace.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") || abnormalNamespace.length() > 63) {
            throw new ConfigException("invalid " + GateKeys.ABNORMAL_NAMESPACE.name() + ": '" + abnormalNamespace
                    + "' is not a Kubernetes namespace name");
        }
        this.templateTimeZone = source.get(TEMPLATE_TIME_ZONE);
        this.ruleFiles = RuleFiles.read(source.get(RULES).stream().map(String::strip).filter(p -> !p.isEmpty()).map(Path::of).toList());
        Path keyFile = source.get(SIGNING_KEY);
        try {
            this.signingKey = SigningKey.read(keyFile);
        } catch (IOException e) {
            throw new ConfigException("invalid " + SIGNING_KEY.name() + "=" + keyFile + ": " + e.getMessage());
        }
        this.approvalRelayKey = source.optionalSigningKey(APPROVAL_RELAY_KEY).orElse(null);
    }

    private static ZoneId zone(String text) {
        try {
            return ZoneId.of(text.strip());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("must be a time zone such as UTC or Asia/Shanghai");
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
        keys.add(SIGNING_KEY);
        keys.add(APPROVAL_RELAY_KEY);
        keys.add(KubernetesConnection.KUBERNETES);
        keys.add(HTTP_PORT);
        keys.add(GateKeys.REPEAT_INTERVAL);
        keys.add(GateKeys.STORM_PER_NODE);
        keys.add(GateKeys.STORM_CLUSTER);
        keys.add(GateKeys.ABNORMAL_NAMESPACE);
        keys.add(TEMPLATE_TIME_ZONE);
        keys.add(RULES);
        keys.add(GateKeys.STALL_TIMEOUT);
        keys.add(COMMIT_INTERVAL);
        return List.copyOf(keys);
    }

    String topicPrefix() {
        return topicPrefix;
    }

    /** This replica's name: its static group membership derives from it. */
    String instanceId() {
        return instanceId;
    }

    KubernetesConnection.Mode kubernetes() {
        return kubernetes;
    }

    int httpPort() {
        return httpPort;
    }

    String bindAddress() {
        return bindAddress;
    }

    String abnormalNamespace() {
        return abnormalNamespace;
    }

    List<RuleFiles.Rule> ruleFiles() {
        return ruleFiles;
    }

    ZoneId templateTimeZone() {
        return templateTimeZone;
    }

    Duration repeatInterval() {
        return repeatInterval;
    }

    SigningKey signingKey() {
        return signingKey;
    }

    /** The key relayed approval decisions are signed with; empty when annotations are not relayed. */
    Optional<SigningKey> approvalRelayKey() {
        return Optional.ofNullable(approvalRelayKey);
    }

    Duration commitInterval() {
        return commitInterval;
    }

    GateOptions gateOptions() {
        return new GateOptions(repeatInterval, stormPerNode, stormCluster, STATE_SCOPE, (short) replicationFactor, stallTimeout);
    }
}
