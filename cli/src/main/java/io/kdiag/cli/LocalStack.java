package io.kdiag.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

import io.kdiag.common.config.CommonKeys;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.common.metrics.MetricsServer;
import io.kdiag.embedded.EmbeddedKafka;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one process: the in-JVM Kafka broker, the source bridge, a node agent for this host and the status
 * writer, each configured as it would be in a cluster. Data lives under one folder and survives restarts.
 */
final class LocalStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
    /** Read-only diagnostic commands the local agent may run unless KDIAG_COMMAND_ALLOWLIST says otherwise. */
    static final String LOCAL_COMMAND_ALLOWLIST = "uname,uptime,df,free,ps,id,hostname,ss,ip,lsblk,dmesg,journalctl";

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final String bootstrapServers;
    private final String nodeName;
    private final Topics topics;
    private final MetricsServer metrics;
    private final int agentHttpPort;

    /**
     * The ports the stack listens on; 0 picks a free one.
     *
     * @param kafka Kafka clients
     * @param metrics Prometheus /metrics of every component
     * @param agent the agent's HTTP (profiles, artifacts, built-ins over the KubeDiag protocol)
     * @param bridge the bridge's HTTP (Alertmanager webhooks)
     * @param statusWriter the status writer's HTTP (queries)
     */
    record Ports(int kafka, int metrics, int agent, int bridge, int statusWriter) {
        /** Free ports, for a stack nobody else needs to find. */
        static final Ports ANY = new Ports(0, 0, 0, 0, 0);
    }

    private LocalStack(Path dataDir, Ports ports) throws IOException {
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), ports.kafka(), Map.of());
        started.push(kafka);
        bootstrapServers = kafka.bootstrapServers();
        metrics = MetricsServer.start("0.0.0.0", ports.metrics());
        started.push(metrics);

        Map<String, String> env = new HashMap<>(System.getenv());
        env.putIfAbsent("KDIAG_NODE_NAME", localNodeName());
        env.putIfAbsent("KDIAG_COMMAND_ALLOWLIST", LOCAL_COMMAND_ALLOWLIST);
        env.putIfAbsent("KDIAG_HOST_ROOT", "/");
        env.putIfAbsent("KDIAG_ADVERTISE_ADDRESS", "127.0.0.1");
        // profiles here live for seconds, not hours: notice their expiry promptly
        env.putIfAbsent("KDIAG_ARTIFACT_SWEEP_INTERVAL", "1s");
        // the local stack is a stand-alone pipeline: it talks to a cluster only when asked to
        env.putIfAbsent("KDIAG_KUBERNETES", "off");
        env.put("KDIAG_REPLICATION_FACTOR", "1");
        ConfigSource base = ConfigSource.of(Map.of(), env);
        NodeAgentConfig agentConfig = NodeAgentConfig.from(component(env, dataDir.resolve("agent"), ports.agent()));
        nodeName = agentConfig.nodeName();
        topics = new Topics(base.get(CommonKeys.TOPIC_PREFIX));
        Map<String, Object> client = new HashMap<>(base.kafkaProperties());
        client.put("bootstrap.servers", bootstrapServers);
        TopicAdmin.ensureTopics(client, topics, base.get(CommonKeys.PARTITIONS), (short) 1);

        started.push(StatusWriter.start(
                StatusWriterConfig.from(component(env, dataDir.resolve("status-writer"), ports.statusWriter())), client,
                metrics.registry()));
        NodeAgent agent = NodeAgent.start(agentConfig, client, metrics.registry());
        started.push(agent);
        agentHttpPort = agent.httpPort();
        started.push(SourceBridge.start(SourceBridgeConfig.from(component(env, dataDir.resolve("bridge"), ports.bridge())),
                client, metrics.registry()));
        LOG.info("local stack started bootstrapServers={} node={} dataDir={}", bootstrapServers, nodeName, dataDir);
    }

    /** Starts the stack with its data under {@code dataDir}. */
    static LocalStack start(Path dataDir, Ports ports) throws IOException {
        return new LocalStack(dataDir, ports);
    }

    /** Each component's configuration: the shared environment with its own state folder and HTTP port. */
    private static ConfigSource component(Map<String, String> env, Path stateDir, int httpPort) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", stateDir.toString());
        copy.put("KDIAG_HTTP_PORT", String.valueOf(httpPort));
        return ConfigSource.of(Map.of(), copy);
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    String nodeName() {
        return nodeName;
    }

    Topics topics() {
        return topics;
    }

    int metricsPort() {
        return metrics.port();
    }

    int agentHttpPort() {
        return agentHttpPort;
    }

    static String localNodeName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Stops the components in reverse order of their start. */
    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable component = started.pop();
            try {
                component.close();
            } catch (Exception e) {
                LOG.warn("stopping a component failed component={}", component.getClass().getSimpleName(), e);
            }
        }
    }
}
