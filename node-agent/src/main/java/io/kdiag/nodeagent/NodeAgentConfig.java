package io.kdiag.nodeagent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.common.recovery.RecoveryBudgets;
import io.kdiag.nodeagent.run.EvidenceBudget;
import io.kdiag.schemas.Evidence;

/** The node agent's configuration, read once and validated at start; an invalid value names its key. */
public final class NodeAgentConfig {
    static final ConfigKey<String> NODE_NAME = ConfigKey.string("kdiag.node-name", null,
            "The node this agent runs on (downward API spec.nodeName); it reads only this node's abnormals.");
    static final ConfigKey<Path> HOST_ROOT = ConfigKey.path("kdiag.host-root", "/",
            "Where the host filesystem is mounted; host paths such as /proc are resolved under it.");
    static final ConfigKey<String> BUILTIN_NAMESPACE = ConfigKey.string("kdiag.builtin-namespace", "kube-diagnoser",
            "Namespace of processor references that name the agent's built-in workers.");
    static final ConfigKey<Path> STATE_DIR = ConfigKey.path("kdiag.state-dir", "/var/lib/kube-diagnoser",
            "Directory of the agent's journal, which keeps an abnormal from running twice across restarts.");
    static final ConfigKey<Duration> STALL_TIMEOUT = CommonKeys.stallTimeout("10m",
            "the agent's consumer loop (a poll, a record handled, an event of the running abnormal acknowledged); longer than "
                    + "the longest single step it runs: a processor call, a command or a profile");
    static final ConfigKey<Integer> MAX_CONTEXT_BYTES = ConfigKey.integer("kdiag.max-context-bytes", 524_288, 1024, 64 * 1024 * 1024,
            "Largest context output (as JSON) of one processor call kept in its event; beyond it the largest values are kept "
                    + "on the evidence topic and the context holds {evidence: {sha256, bytes, contentType, topic, partition, offsets}} instead.");
    static final ConfigKey<Integer> EVIDENCE_MAX_VALUE_BYTES = ConfigKey.integer("kdiag.evidence.max-value-bytes", 16 * 1024 * 1024,
            1024, (int) Evidence.MAX_VALUE_BYTES,
            "Largest context value kept on the evidence topic; a processor whose output needs a larger one fails with reason EvidenceLimit.");
    static final ConfigKey<Integer> EVIDENCE_MAX_ABNORMAL_BYTES = ConfigKey.integer("kdiag.evidence.max-abnormal-bytes", 64 * 1024 * 1024,
            1024, Integer.MAX_VALUE,
            "Most evidence kept for one abnormal; a processor whose output would exceed it fails with reason EvidenceLimit.");
    static final ConfigKey<Integer> EVIDENCE_MAX_NODE_BYTES_PER_DAY = ConfigKey.integer("kdiag.evidence.max-node-bytes-per-day",
            256 * 1024 * 1024, 1024, Integer.MAX_VALUE,
            "Most evidence one node keeps in a UTC day (counted in kdiag.state-dir across restarts); beyond it processors whose "
                    + "output needs evidence fail with reason EvidenceLimit. It bounds the evidence topic: docs/operations.md.");
    static final ConfigKey<Integer> HTTP_PORT = ConfigKey.integer("kdiag.http-port", 8090, 0, 65_535,
            "Port of the agent's HTTP server: health, readiness, processor listings, built-ins over the original protocol. "
                    + "0 picks a free port.");
    static final ConfigKey<String> POLICY_FILE = ConfigKey.string("kdiag.policy-file", "",
            "YAML or JSON policy file (a mounted ConfigMap in a cluster), re-read when it changes. Empty: deny by default: the "
                    + "built-in collectors and diagnosers for origins CustomResource and IngestTopic; no command, profiler, "
                    + "recoverer or signal for anyone, and nothing for any other origin.");
    static final ConfigKey<List<String>> VERIFICATION_KEYS = ConfigKey.list("kdiag.verification-keys", null,
            "Comma-separated PEM files of Ed25519 public keys, or folders of them (a mounted Secret), that verify the source "
                    + "bridge's signature on each record of kdiag.abnormals: records no key verifies are dead-lettered and never "
                    + "run. Several keys at once allow rotating the bridge's key; the files are re-read when they change.");
    static final ConfigKey<List<String>> LOG_SOURCE_VERIFICATION_KEYS = ConfigKey.list("kdiag.log-source-verification-keys", "",
            "Comma-separated PEM files or folders of public keys of this node's log source (the .pub beside its "
                    + "kdiag.log.signing-key), trusted for records of origin Log only; a file that does not exist yet is read when "
                    + "it appears. Empty: records of the log source are refused.");
    static final ConfigKey<List<String>> APPROVER_KEYS = ConfigKey.list("kdiag.approver-keys", "",
            "Comma-separated PEM files of Ed25519 public keys of the people who may approve or deny recoveries, or folders of "
                    + "them (a mounted Secret); each file is named after its approver (alice.pub: alice), the name the status shows "
                    + "as who decided. Decisions no key verifies are dead-lettered. Empty: every wait for approval ends Expired.");
    static final ConfigKey<List<String>> APPROVAL_RELAY_KEYS = ConfigKey.list("kdiag.approval-relay-keys", "",
            "Comma-separated PEM files of Ed25519 public keys of relays (the status writer's HTTP approval), or folders of them "
                    + "(a mounted Secret); each file is named after its relay (status-writer.pub: status-writer). A relay's decision "
                    + "must name the person it authenticated (onBehalfOf) and shows as decided by 'PERSON via RELAY'. Empty: "
                    + "relayed decisions are refused.");
    static final ConfigKey<Duration> APPROVAL_TIMEOUT = ConfigKey.duration("kdiag.approval-timeout", "1h",
            "How long a recovery that requires approval waits for a decision; then it ends Failed (ApprovalExpired) without running.");
    static final ConfigKey<Duration> POLICY_RELOAD_INTERVAL = ConfigKey.duration("kdiag.policy-reload-interval", "5s",
            "How often the policy file is checked for changes.");
    static final ConfigKey<Duration> RECOVERY_BUDGET_TIMEOUT = ConfigKey.duration("kdiag.recovery-budget-timeout", "30s",
            "How long the agent waits for the budget arbiter's answer before a recoverer a budget covers; without one in time the "
                    + "recovery fails (BudgetUnanswered).");

    private final String nodeName;
    private final Path hostRoot;
    private final List<Path> verificationKeys;
    private final List<Path> logSourceVerificationKeys;
    private final List<Path> approverKeys;
    private final List<Path> approvalRelayKeys;
    private final Duration approvalTimeout;
    private final String bindAddress;
    private final String builtinNamespace;
    private final Path stateDir;
    private final Duration stallTimeout;
    private final int maxContextBytes;
    private final KubernetesConnection.Mode kubernetes;
    private final int httpPort;
    private final String policyFile;
    private final Duration policyReloadInterval;
    private final EvidenceBudget.Limits evidenceLimits;
    private final RecoveryBudgets recoveryBudgets;
    private final Duration recoveryBudgetTimeout;
    private final String topicPrefix;
    private final int partitions;
    private final boolean createTopics;
    private final int replicationFactor;
    private final int metricsPort;

    private NodeAgentConfig(ConfigSource source) {
        nodeName = source.get(NODE_NAME).strip();
        if (nodeName.isEmpty()) {
            throw new ConfigException("kdiag.node-name must not be blank");
        }
        hostRoot = source.get(HOST_ROOT);
        verificationKeys = paths(source.get(VERIFICATION_KEYS));
        if (verificationKeys.isEmpty()) {
            throw new ConfigException("kdiag.verification-keys must name at least one key file or folder");
        }
        logSourceVerificationKeys = paths(source.get(LOG_SOURCE_VERIFICATION_KEYS));
        approverKeys = paths(source.get(APPROVER_KEYS));
        approvalRelayKeys = paths(source.get(APPROVAL_RELAY_KEYS));
        approvalTimeout = source.get(APPROVAL_TIMEOUT);
        bindAddress = source.get(CommonKeys.BIND_ADDRESS);
        builtinNamespace = source.get(BUILTIN_NAMESPACE);
        stateDir = source.get(STATE_DIR);
        stallTimeout = source.get(STALL_TIMEOUT);
        maxContextBytes = source.get(MAX_CONTEXT_BYTES);
        kubernetes = source.get(KubernetesConnection.KUBERNETES);
        httpPort = source.get(HTTP_PORT);
        policyFile = source.get(POLICY_FILE).strip();
        policyReloadInterval = source.get(POLICY_RELOAD_INTERVAL);
        evidenceLimits = new EvidenceBudget.Limits(source.get(EVIDENCE_MAX_VALUE_BYTES), source.get(EVIDENCE_MAX_ABNORMAL_BYTES),
                source.get(EVIDENCE_MAX_NODE_BYTES_PER_DAY));
        recoveryBudgets = RecoveryBudgets.configured(source);
        recoveryBudgetTimeout = source.get(RECOVERY_BUDGET_TIMEOUT);
        topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        partitions = source.get(CommonKeys.PARTITIONS);
        createTopics = source.get(CommonKeys.CREATE_TOPICS);
        replicationFactor = source.get(CommonKeys.REPLICATION_FACTOR);
        metricsPort = source.get(CommonKeys.METRICS_PORT);
    }

    /**
     * Reads and validates every key.
     *
     * @throws ConfigException naming the first missing or invalid key
     */
    public static NodeAgentConfig from(ConfigSource source) {
        return new NodeAgentConfig(source);
    }

    /** Every key the agent reads, its own and the common ones, for the configuration reference. */
    public static List<ConfigKey<?>> keys() {
        List<ConfigKey<?>> keys = new ArrayList<>(List.of(NODE_NAME, HOST_ROOT, BUILTIN_NAMESPACE, STATE_DIR, STALL_TIMEOUT,
                MAX_CONTEXT_BYTES, EVIDENCE_MAX_VALUE_BYTES, EVIDENCE_MAX_ABNORMAL_BYTES, EVIDENCE_MAX_NODE_BYTES_PER_DAY,
                KubernetesConnection.KUBERNETES, HTTP_PORT, POLICY_FILE, POLICY_RELOAD_INTERVAL,
                VERIFICATION_KEYS, LOG_SOURCE_VERIFICATION_KEYS, APPROVER_KEYS, APPROVAL_RELAY_KEYS, APPROVAL_TIMEOUT,
                RecoveryBudgets.FILE, RECOVERY_BUDGET_TIMEOUT));
        keys.addAll(CommonKeys.ALL);
        return List.copyOf(keys);
    }

    /** The node this agent serves ({@code kdiag.node-name}). */
    public String nodeName() {
        return nodeName;
    }

    /** Where host paths are resolved ({@code kdiag.host-root}). */
    public Path hostRoot() {
        return hostRoot;
    }

    private static List<Path> paths(List<String> names) {
        return names.stream().map(Path::of).toList();
    }

    /** The approvers' public keys ({@code kdiag.approver-keys}): files or folders, each file named after its approver. */
    public List<Path> approverKeys() {
        return approverKeys;
    }

    /** Public keys of the relays that decide on behalf of a person ({@code kdiag.approval-relay-keys}); empty: none. */
    public List<Path> approvalRelayKeys() {
        return approvalRelayKeys;
    }

    /** How long a recovery waits for approval ({@code kdiag.approval-timeout}). */
    public Duration approvalTimeout() {
        return approvalTimeout;
    }

    /** The bridge's public keys ({@code kdiag.verification-keys}): files or folders. */
    public List<Path> verificationKeys() {
        return verificationKeys;
    }

    /** This node's log source's public keys ({@code kdiag.log-source-verification-keys}), for origin Log only. */
    public List<Path> logSourceVerificationKeys() {
        return logSourceVerificationKeys;
    }

    /** Address the HTTP port listens on ({@code kdiag.bind-address}). */
    public String bindAddress() {
        return bindAddress;
    }

    /** Namespace of built-in processor references ({@code kdiag.builtin-namespace}). */
    public String builtinNamespace() {
        return builtinNamespace;
    }

    /** Directory of the journal ({@code kdiag.state-dir}). */
    public Path stateDir() {
        return stateDir;
    }

    /** How long the consumer loop may make no progress while it has work ({@code kdiag.stall-timeout}). */
    public Duration stallTimeout() {
        return stallTimeout;
    }

    /** Cap of one processor call's context output in bytes ({@code kdiag.max-context-bytes}). */
    public int maxContextBytes() {
        return maxContextBytes;
    }

    /** Whether to connect to a cluster ({@code kdiag.kubernetes}). */
    KubernetesConnection.Mode kubernetes() {
        return kubernetes;
    }

    /** Port of the HTTP server ({@code kdiag.http-port}); 0 picks a free one. */
    public int httpPort() {
        return httpPort;
    }

    /** The policy file ({@code kdiag.policy-file}); {@code null} for the defaults. */
    public Path policyFile() {
        return policyFile.isEmpty() ? null : Path.of(policyFile);
    }

    /** How often the policy file is checked ({@code kdiag.policy-reload-interval}). */
    public Duration policyReloadInterval() {
        return policyReloadInterval;
    }

    /** The limits on evidence ({@code kdiag.evidence.*}). */
    public EvidenceBudget.Limits evidenceLimits() {
        return evidenceLimits;
    }

    /** The recovery budgets ({@code kdiag.recovery-budgets-file}); {@code null} for none: the agent asks nothing. */
    public RecoveryBudgets recoveryBudgets() {
        return recoveryBudgets;
    }

    /** How long the agent waits for the budget arbiter's answer ({@code kdiag.recovery-budget-timeout}). */
    public Duration recoveryBudgetTimeout() {
        return recoveryBudgetTimeout;
    }

    /** Prefix of the topic names ({@code kdiag.topic-prefix}). */
    public String topicPrefix() {
        return topicPrefix;
    }

    /** Partitions of the node-keyed topics when the agent creates them ({@code kdiag.partitions}). */
    public int partitions() {
        return partitions;
    }

    /** Whether {@code Main} creates missing topics ({@code kdiag.create-topics}). */
    public boolean createTopics() {
        return createTopics;
    }

    /** Replication factor of topics {@code Main} creates ({@code kdiag.replication-factor}). */
    public int replicationFactor() {
        return replicationFactor;
    }

    /** Port of the Prometheus endpoint ({@code kdiag.metrics-port}). */
    public int metricsPort() {
        return metricsPort;
    }

    @Override
    public String toString() {
        return "node-name=" + nodeName + " host-root=" + hostRoot + " verification-keys=" + verificationKeys
                + " log-source-verification-keys=" + logSourceVerificationKeys
                + " approver-keys=" + approverKeys + " approval-relay-keys=" + approvalRelayKeys + " approval-timeout=" + approvalTimeout + " bind-address=" + bindAddress
                + " builtin-namespace=" + builtinNamespace + " state-dir=" + stateDir + " stall-timeout=" + stallTimeout
                + " max-context-bytes=" + maxContextBytes + " kubernetes=" + kubernetes.name().toLowerCase(java.util.Locale.ROOT)
                + " http-port=" + httpPort + " policy-file=" + policyFile
                + " policy-reload-interval=" + policyReloadInterval + " evidence.max-value-bytes=" + evidenceLimits.maxValueBytes()
                + " evidence.max-abnormal-bytes=" + evidenceLimits.maxAbnormalBytes()
                + " evidence.max-node-bytes-per-day=" + evidenceLimits.maxNodeBytesPerDay()
                + " recovery-budgets="
                + (recoveryBudgets == null ? "none" : recoveryBudgets.budgets().stream().map(RecoveryBudgets.Budget::name).toList())
                + " recovery-budget-timeout=" + recoveryBudgetTimeout + " topic-prefix=" + topicPrefix + " partitions=" + partitions
                + " create-topics=" + createTopics + " replication-factor=" + replicationFactor + " metrics-port=" + metricsPort;
    }
}
