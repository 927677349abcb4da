package io.kdiag.allinone;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

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
import io.kdiag.sourcebridge.log.LogSource;
import io.kdiag.sourcebridge.log.LogSourceConfig;
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
    /** The setting that names the log monitors the stack's log source follows; without it the stack runs none. */
    static final String LOG_MONITORS = "KDIAG_LOG_MONITORS";
    static final String LOCAL_COMMAND_ALLOWLIST = "uname,uptime,df,free,ps,id,hostname,ss,ip,lsblk,dmesg,journalctl";

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final String bootstrapServers;
    private final String nodeName;
    private final Topics topics;
    private final MetricsServer metrics;
    private final int agentHttpPort;
    private final int bridgeHttpPort;

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

    private LocalStack(Path dataDir, Ports ports, Map<String, String> settings) throws IOException {
        long begin = System.nanoTime();
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), ports.kafka(), Map.of());
        started.push(kafka);
        LOG.info("local stack component done action=start component=kafka ms={}", millisSince(begin));
        bootstrapServers = kafka.bootstrapServers();
        metrics = MetricsServer.start("0.0.0.0", ports.metrics());
        started.push(metrics);

        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(settings);
        env.put("KDIAG_NODE_NAME", configuredNodeName());
        env.putIfAbsent("KDIAG_COMMAND_ALLOWLIST", LOCAL_COMMAND_ALLOWLIST);
        env.putIfAbsent("KDIAG_HOST_ROOT", "/");
        env.putIfAbsent("KDIAG_ADVERTISE_ADDRESS", "127.0.0.1");
        // profiles here live for seconds, not hours: notice their expiry promptly
        env.putIfAbsent("KDIAG_ARTIFACT_SWEEP_INTERVAL", "200ms");
        // the local stack is a stand-alone pipeline: it talks to a cluster only when asked to
        env.putIfAbsent("KDIAG_KUBERNETES", "off");
        // one node needs one partition; every further one costs the status writer a task with three RocksDB stores
        env.putIfAbsent("KDIAG_PARTITIONS", "1");
        env.put("KDIAG_REPLICATION_FACTOR", "1");
        ConfigSource base = ConfigSource.of(Map.of(), env);
        NodeAgentConfig agentConfig = NodeAgentConfig.from(component(env, dataDir.resolve("agent"), ports.agent()));
        nodeName = agentConfig.nodeName();
        topics = new Topics(base.get(CommonKeys.TOPIC_PREFIX));
        Map<String, Object> client = new HashMap<>(base.kafkaProperties());
        client.put("bootstrap.servers", bootstrapServers);
        // a consumer's close waits for its fetch in flight, which an idle broker holds for up to this long (500 ms by
        // default); the local stack stops in a fraction of a second with a shorter wait, at the cost of a few empty fetches
        client.putIfAbsent("fetch.max.wait.ms", 100);
        long topicsBegin = System.nanoTime();
        TopicAdmin.ensureTopics(client, topics, base.get(CommonKeys.PARTITIONS), (short) 1);
        LOG.info("local stack component done action=start component=topics ms={}", millisSince(topicsBegin));

        // the three components only share the broker: starting them side by side overlaps their waits on it
        Map<String, CompletableFuture<? extends AutoCloseable>> starting = new LinkedHashMap<>();
        starting.put("status-writer", inThread("start", "status-writer", () -> StatusWriter.start(
                StatusWriterConfig.from(component(env, dataDir.resolve("status-writer"), ports.statusWriter())), client,
                metrics.registry())));
        CompletableFuture<NodeAgent> agent = inThread("start", "node-agent",
                () -> NodeAgent.start(agentConfig, client, metrics.registry()));
        starting.put("node-agent", agent);
        CompletableFuture<SourceBridge> bridge = inThread("start", "source-bridge", () -> SourceBridge.start(
                SourceBridgeConfig.from(component(env, dataDir.resolve("bridge"), ports.bridge())), client, metrics.registry()));
        starting.put("source-bridge", bridge);
        if (env.containsKey(LOG_MONITORS)) {
            // the node's log source, as in the agent pod: only when told which logs to follow
            Map<String, String> logEnv = new HashMap<>(env);
            logEnv.put("KDIAG_LOG_STATE_DIR", dataDir.resolve("log-source").toString());
            starting.put("log-source", inThread("start", "log-source", () -> LogSource.start(
                    LogSourceConfig.from(ConfigSource.of(Map.of(), logEnv)), client, metrics.registry(), null)));
        }
        Map<String, AutoCloseable> running = new LinkedHashMap<>();
        RuntimeException failure = null;
        for (Map.Entry<String, CompletableFuture<? extends AutoCloseable>> component : starting.entrySet()) {
            try {
                running.put(component.getKey(), component.getValue().join());
            } catch (CompletionException e) {
                failure = failure == null ? unwrap(e) : failure;
            }
        }
        started.push(() -> closeSideBySide(running));
        if (failure != null) {
            close();
            throw failure;
        }
        agentHttpPort = agent.join().httpPort();
        bridgeHttpPort = bridge.join().httpPort();
        LOG.info("local stack started bootstrapServers={} node={} dataDir={} ms={}", bootstrapServers, nodeName, dataDir,
                millisSince(begin));
    }

    /** Runs {@code work} (the {@code action} of a {@code component}) in a thread of its own and logs how long it took. */
    private static <T> CompletableFuture<T> inThread(String action, String component, Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            long begin = System.nanoTime();
            try {
                result.complete(work.get());
                LOG.info("local stack component done action={} component={} ms={}", action, component, millisSince(begin));
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        }, "kdiag-" + action + "-" + component);
        thread.start();
        return result;
    }

    /** Stops the components at the same time: each stops on its own, only the broker has to outlive them all. */
    private static void closeSideBySide(Map<String, AutoCloseable> components) {
        List<CompletableFuture<Object>> stopping = new ArrayList<>();
        components.forEach((name, component) -> stopping.add(inThread("stop", name, () -> {
            try {
                component.close();
            } catch (Exception e) {
                LOG.warn("stopping a component failed component={}", name, e);
            }
            return null;
        })));
        stopping.forEach(CompletableFuture::join);
    }

    private static RuntimeException unwrap(CompletionException e) {
        return e.getCause() instanceof RuntimeException r ? r : e;
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /**
     * Starts the stack with its data under {@code dataDir}.
     *
     * @param settings configuration by environment variable name ({@code KDIAG_RULES}, ...), over the process's own;
     *     with {@code KDIAG_LOG_MONITORS} the stack also runs this node's log source
     */
    static LocalStack start(Path dataDir, Ports ports, Map<String, String> settings) throws IOException {
        return new LocalStack(dataDir, ports, settings);
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

    /** The port of the bridge's Alertmanager webhook. */
    int bridgeHttpPort() {
        return bridgeHttpPort;
    }

    /** The node the stack's agent runs as: {@code KDIAG_NODE_NAME}, else this host's name. */
    static String configuredNodeName() {
        return System.getenv().getOrDefault("KDIAG_NODE_NAME", localNodeName());
    }

    static String localNodeName() {
        try {
            // node names are DNS-1123 names: a host named "Laptop" serves node "laptop"
            return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Stops the components, then the metrics server, then the broker; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (started.isEmpty()) {
            return;
        }
        long begin = System.nanoTime();
        while (!started.isEmpty()) {
            AutoCloseable component = started.pop();
            try {
                component.close();
            } catch (Exception e) {
                LOG.warn("stopping a component failed component={}", component.getClass().getSimpleName(), e);
            }
        }
        LOG.info("local stack stopped ms={}", millisSince(begin));
    }
}
