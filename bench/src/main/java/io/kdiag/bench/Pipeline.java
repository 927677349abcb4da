package io.kdiag.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The whole pipeline in this JVM on the embedded broker, configured as deployed: source bridge, status writer, and
 * one node agent per simulated node ({@code node-0}, {@code node-1}, ...), each with its own state and registry.
 */
final class Pipeline implements AutoCloseable {
    static final int PARTITIONS = Topics.DEFAULT_PARTITIONS;

    private final Map<String, Object> kafka;
    private final Path dir;
    private final Topics topics = Topics.withDefaultPrefix();
    private final StatusWriter statusWriter;
    private final SourceBridge bridge;
    private final List<NodeAgent> agents = new ArrayList<>();
    private final BenchTrust trust;

    Pipeline(Map<String, Object> kafka, Path dir) {
        this.kafka = kafka;
        this.dir = dir;
        this.trust = BenchTrust.in(dir);
        TopicAdmin.ensureTopics(kafka, topics, PARTITIONS, (short) 1);
        try {
            Leaders.await(kafka, List.of(topics.abnormalRequests().name(), topics.abnormals().name(), topics.diagnosisEvents().name(),
                    topics.abnormalStatus().name()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        statusWriter = StatusWriter.start(StatusWriterConfig.from(config(dir.resolve("status-writer"), Map.of())), kafka,
                new SimpleMeterRegistry(), null);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config(dir.resolve("bridge"), trust.bridgeEnv())), kafka,
                new SimpleMeterRegistry());
    }

    static ConfigSource config(Path stateDir, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>();
        env.put("KDIAG_STATE_DIR", stateDir.toString());
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_METRICS_PORT", "0");
        env.put("KDIAG_KUBERNETES", "off");
        env.put("KDIAG_HOST_ROOT", "/");
        env.putAll(extra);
        return ConfigSource.of(Map.of(), env);
    }

    static String node(int i) {
        return "node-" + i;
    }

    /** Starts agents until {@code n} run; the extra ones read (and skip) their partition like any agent of the cluster. */
    void agents(int n) {
        while (agents.size() < n) {
            String node = node(agents.size());
            Map<String, String> env = new HashMap<>(trust.agentEnv());
            env.put("KDIAG_NODE_NAME", node);
            agents.add(NodeAgent.start(NodeAgentConfig.from(config(dir.resolve("agent-" + node), env)), kafka, new SimpleMeterRegistry()));
        }
    }

    int agentCount() {
        return agents.size();
    }

    Topics topics() {
        return topics;
    }

    @Override
    public void close() {
        agents.parallelStream().forEach(NodeAgent::close);
        bridge.close();
        statusWriter.close();
    }
}
