package io.kdiag.sourcebridge.log;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigException;
import io.kdiag.common.config.ConfigKey;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kubernetes.KubernetesConnection;
import io.kdiag.schemas.signing.SigningKey;
import io.kdiag.sourcebridge.gate.GateKeys;
import io.kdiag.sourcebridge.gate.GateOptions;

/** The log source's typed configuration; Kafka client settings pass through separately ({@code kdiag.kafka.*}). */
public final class LogSourceConfig {
    static final ConfigKey<String> NODE_NAME = ConfigKey.string("kdiag.node-name", null,
            "The node this log source runs on (the downward API's spec.nodeName); every abnormal it starts runs there.");
    static final ConfigKey<Path> HOST_ROOT = ConfigKey.path("kdiag.host-root", "/",
            "Where the host's filesystem is mounted: /dev/kmsg, log files and the journal are read under it.");
    static final ConfigKey<Path> STATE_DIR = ConfigKey.path("kdiag.log.state-dir", "/var/lib/kdiag/log-source",
            "Where the read checkpoints are kept (a hostPath, so they survive the pod).");
    static final ConfigKey<List<String>> MONITORS = ConfigKey.list("kdiag.log.monitors", "/etc/kdiag/log/kernel-monitor.json",
            "Comma-separated node-problem-detector system-log-monitor files (kernel-monitor.json, ...) to follow.");
    static final ConfigKey<String> TEMPLATES = ConfigKey.string("kdiag.log.templates", "",
            "JSON file mapping a rule reason to the Abnormal spec template to start; empty: abnormals without processors.");
    static final ConfigKey<String> JOURNALCTL = ConfigKey.string("kdiag.log.journalctl", "journalctl",
            "The journalctl command for journald monitors.");
    static final ConfigKey<Duration> POLL = ConfigKey.duration("kdiag.log.poll-interval", "500ms",
            "How often files are checked for new lines, rotation and truncation.");
    static final ConfigKey<String> SIGNING_KEY = ConfigKey.string("kdiag.log.signing-key", "",
            "PEM file of the Ed25519 private key this log source signs its records of kdiag.abnormals with; generated on first "
                    + "start when missing, with its public key beside it (the name with .pub for .pem), which the agent of the same "
                    + "node trusts for origin Log only (kdiag.log-source-verification-keys): a key of one node signs for no other. "
                    + "Empty: signing-key.pem in kdiag.log.state-dir.");
    static final ConfigKey<Integer> METRICS_PORT = ConfigKey.integer("kdiag.log.metrics-port", 10358, 0, 65_535,
            "Port of GET /metrics of the log source (the node agent in the same pod has 10357); 0 picks a free one.");

    private final String topicPrefix;
    private final int replicationFactor;
    private final String nodeName;
    private final Path hostRoot;
    private final Path stateDir;
    private final List<MonitorConfig> monitors;
    private final LogTemplates templates;
    private final String journalctl;
    private final Duration poll;
    private final KubernetesConnection.Mode kubernetes;
    private final GateOptions gateOptions;
    private final SigningKey signingKey;

    private LogSourceConfig(ConfigSource source) {
        this.topicPrefix = source.get(CommonKeys.TOPIC_PREFIX);
        this.replicationFactor = source.get(CommonKeys.REPLICATION_FACTOR);
        this.nodeName = source.get(NODE_NAME).strip();
        if (nodeName.isEmpty()) {
            throw new ConfigException("invalid " + NODE_NAME.name() + ": must not be blank");
        }
        this.hostRoot = source.get(HOST_ROOT);
        this.stateDir = source.get(STATE_DIR);
        List<String> files = source.get(MONITORS);
        if (files.isEmpty()) {
            throw new ConfigException("invalid " + MONITORS.name() + ": name at least one log monitor file");
        }
        List<MonitorConfig> read = new ArrayList<>();
        for (String file : files) {
            read.add(MonitorConfig.read(Path.of(file)));
        }
        this.monitors = List.copyOf(read);
        String namespace = source.get(GateKeys.ABNORMAL_NAMESPACE);
        String templateFile = source.get(TEMPLATES).strip();
        this.templates = templateFile.isEmpty() ? LogTemplates.none(namespace) : LogTemplates.read(Path.of(templateFile), namespace);
        this.journalctl = source.get(JOURNALCTL);
        this.poll = source.get(POLL);
        this.kubernetes = source.get(KubernetesConnection.KUBERNETES);
        this.gateOptions = new GateOptions(source.get(GateKeys.REPEAT_INTERVAL), source.get(GateKeys.STORM_PER_NODE),
                source.get(GateKeys.STORM_CLUSTER), "log/" + nodeName + "/", (short) replicationFactor, source.get(GateKeys.STALL_TIMEOUT));
        String keyFile = source.get(SIGNING_KEY).strip();
        Path privateKey = keyFile.isEmpty() ? stateDir.resolve("signing-key.pem") : Path.of(keyFile);
        try {
            this.signingKey = SigningKey.readOrCreate(privateKey, publicKeyFile(privateKey));
        } catch (IOException e) {
            throw new ConfigException("invalid " + SIGNING_KEY.name() + "=" + privateKey + ": " + e.getMessage());
        }
    }

    /** Where the public key of {@code privateKey} goes: beside it, {@code .pub} for {@code .pem}. */
    static Path publicKeyFile(Path privateKey) {
        String name = privateKey.getFileName().toString();
        return privateKey.resolveSibling((name.endsWith(".pem") ? name.substring(0, name.length() - 4) : name) + ".pub");
    }

    /**
     * Reads and validates every key, and the monitor and template files they name.
     *
     * @throws ConfigException naming the key or file that is missing or invalid
     */
    public static LogSourceConfig from(ConfigSource source) {
        return new LogSourceConfig(source);
    }

    /** Every key the log source reads, for the configuration reference. */
    public static List<ConfigKey<?>> keys() {
        List<ConfigKey<?>> keys = new ArrayList<>(List.of(CommonKeys.TOPIC_PREFIX, CommonKeys.PARTITIONS, CommonKeys.CREATE_TOPICS,
                CommonKeys.REPLICATION_FACTOR, CommonKeys.BIND_ADDRESS));
        keys.addAll(List.of(NODE_NAME, HOST_ROOT, STATE_DIR, MONITORS, TEMPLATES, JOURNALCTL, POLL, SIGNING_KEY, METRICS_PORT,
                KubernetesConnection.KUBERNETES, GateKeys.REPEAT_INTERVAL, GateKeys.STORM_PER_NODE, GateKeys.STORM_CLUSTER,
                GateKeys.ABNORMAL_NAMESPACE, GateKeys.STALL_TIMEOUT));
        return List.copyOf(keys);
    }

    String topicPrefix() {
        return topicPrefix;
    }

    String nodeName() {
        return nodeName;
    }

    Path hostRoot() {
        return hostRoot;
    }

    Path stateDir() {
        return stateDir;
    }

    List<MonitorConfig> monitors() {
        return monitors;
    }

    LogTemplates templates() {
        return templates;
    }

    String journalctl() {
        return journalctl;
    }

    Duration poll() {
        return poll;
    }

    KubernetesConnection.Mode kubernetes() {
        return kubernetes;
    }

    SigningKey signingKey() {
        return signingKey;
    }

    GateOptions gateOptions() {
        return gateOptions;
    }
}
