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

    private LocalStack(Path dataDir, int kafkaPort, int metricsPort) throws IOException {
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), kafkaPort, Map.of());
        started.push(kafka);
        bootstrapServers = kafka.bootstrapServers();
        metrics = MetricsServer.start("0.0.0.0", metricsPort);
        started.push(metrics);

        Map<String, String> env = new HashMap<>(System.getenv());
        env.putIfAbsent("KDIAG_NODE_NAME", localNodeName());
        env.putIfAbsent("KDIAG_COMMAND_ALLOWLIST", LOCAL_COMMAND_ALLOWLIST);
        env.put("KDIAG_HOST_ROOT", env.getOrDefault("KDIAG_HOST_ROOT", "/"));
        env.put("KDIAG_REPLICATION_FACTOR", "1");
        ConfigSource base = ConfigSource.of(Map.of(), env);
        NodeAgentConfig agentConfig = NodeAgentConfig.from(withStateDir(env, dataDir.resolve("agent")));
        nodeName = agentConfig.nodeName();
        topics = new Topics(base.get(CommonKeys.TOPIC_PREFIX));
        Map<String, Object> client = new HashMap<>(base.kafkaProperties());
        client.put("bootstrap.servers", bootstrapServers);
        TopicAdmin.ensureTopics(client, topics, base.get(CommonKeys.PARTITIONS), (short) 1);

        started.push(StatusWriter.start(StatusWriterConfig.from(withStateDir(env, dataDir.resolve("status-writer"))), client,
                metrics.registry()));
        started.push(NodeAgent.start(agentConfig, client, metrics.registry()));
        started.push(SourceBridge.start(SourceBridgeConfig.from(ConfigSource.of(Map.of(), env)), client, metrics.registry()));
        LOG.info("local stack started bootstrapServers={} node={} dataDir={}", bootstrapServers, nodeName, dataDir);
    }

    /** Starts the stack; {@code kafkaPort} and {@code metricsPort} 0 pick free ports. */
    static LocalStack start(Path dataDir, int kafkaPort, int metricsPort) throws IOException {
        return new LocalStack(dataDir, kafkaPort, metricsPort);
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

    private static ConfigSource withStateDir(Map<String, String> env, Path dir) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", dir.toString());
        return ConfigSource.of(Map.of(), copy);
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
