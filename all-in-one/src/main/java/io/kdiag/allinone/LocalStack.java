package io.kdiag.allinone;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
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
import io.kdiag.schemas.signing.SigningKey;
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
 *
 * <p>As in a cluster, the bridge signs what it writes to {@code kdiag.abnormals} and the agent runs only what verifies:
 * the key pair is made in the data folder on the first start ({@code keys/}). Every listener binds the address given
 * (127.0.0.1 unless asked otherwise). Without a policy file of the user's, the agent runs under {@link #LOCAL_POLICY}.
 */
final class LocalStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
    /** The setting that names the log monitors the stack's log source follows; without it the stack runs none. */
    static final String LOG_MONITORS = "KDIAG_LOG_MONITORS";
    /** What every listener binds unless the user asks for another address. */
    static final String LOOPBACK = "127.0.0.1";
    /**
     * The invocations of the local policy's commands: read-only ones only. A tool that can also change the machine
     * ({@code ip}, {@code hostname}, {@code ss}, {@code dmesg}, {@code journalctl}) is allowed only in the forms listed
     * ({@code argv}: one full-match pattern per argument); {@code prefix} is kept for tools no argument of which writes.
     */
    static final String LOCAL_COMMAND_ALLOWLIST = """
            - prefix: [uname]
            - prefix: [uptime]
            - prefix: [df]
            - prefix: [free]
            - prefix: [ps]
            - prefix: [id]
            - prefix: [lsblk]
            # hostname NAME, -F FILE and -b NAME set the host name
            - argv: [hostname]
            - argv: [hostname, "-[fiIsdA]|--fqdn|--long|--ip-address|--all-ip-addresses|--short|--domain|--alias"]
            # ss -K kills sockets, -D writes a file, -N enters another namespace
            - argv: [ss]
            - argv: [ss, "-[tuxwlnpaseiomrH46]+"]
            # ip: showing addresses, links, routes, neighbours and rules; add, del, set, flush, -batch are not these forms
            - argv: [ip, "a|addr|address|l|link|r|route|n|neigh|neighbour|rule"]
            - argv: [ip, "a|addr|address|l|link|r|route|n|neigh|neighbour|rule", "show|list|ls"]
            - argv: [ip, "-(s|d|4|6|br|brief|j|json|o|oneline)", "a|addr|address|l|link|r|route|n|neigh|neighbour|rule"]
            - argv: [ip, "-(s|d|4|6|br|brief|j|json|o|oneline)", "a|addr|address|l|link|r|route|n|neigh|neighbour|rule", "show|list|ls"]
            # dmesg -c/-C clear the ring buffer, -D/-E/-n change the console
            - argv: [dmesg]
            - argv: [dmesg, "-[Ttkuxdr]+"]
            # journalctl --rotate, --vacuum-*, --flush, --sync, --relinquish-var and --cursor-file write
            - argv: [journalctl, --no-pager, -n, "[0-9]{1,5}"]
            - argv: [journalctl, --no-pager, -k, -n, "[0-9]{1,5}"]
            - argv: [journalctl, --no-pager, -b, -n, "[0-9]{1,5}"]
            - argv: [journalctl, --no-pager, -u, "[A-Za-z0-9@_:][A-Za-z0-9@._:-]*", -n, "[0-9]{1,5}"]
            """;
    /**
     * The agent's policy of {@code kdiag up} unless {@code --policy} or {@code KDIAG_POLICY_FILE} names another: what
     * this machine's user submits (the CLI, origin {@code IngestTopic}) or starts through the stack's sources (rule
     * files, the log source) may collect, diagnose and run the read-only commands; no recoverer, signal or profiler.
     */
    static final String LOCAL_POLICY = "# the local stack's read-only policy (kdiag up): all-in-one LocalStack.LOCAL_POLICY\n"
            + "commandAllowlist:\n" + LOCAL_COMMAND_ALLOWLIST.indent(0)
            + """
            allowedSignals: []
            grants:
            - origins: [CustomResource, IngestTopic, KubernetesEvent, PrometheusAlert, Log]
              processors: ["kube-diagnoser/*-collector", "kube-diagnoser/*-diagnoser"]
              commands: ["*"]
            """;

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

    private LocalStack(Path dataDir, Ports ports, String address, Path policyFile, Map<String, String> settings) throws IOException {
        long begin = System.nanoTime();
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(settings);
        env.put("KDIAG_NODE_NAME", configuredNodeName());
        // the bridge's key, made once and kept with the data: the agent trusts no other
        Path keys = dataDir.resolve("keys");
        SigningKey.readOrCreate(keys.resolve("signing-key.pem"), keys.resolve("signing-key.pub"));
        env.put("KDIAG_SIGNING_KEY", keys.resolve("signing-key.pem").toString());
        env.put("KDIAG_VERIFICATION_KEYS", keys.resolve("signing-key.pub").toString());
        // the key of whoever runs the stack: 'kdiag approve' signs with it, and the agent trusts it as that user's
        String approver = System.getProperty("user.name").replaceAll("[^A-Za-z0-9_-]", "-");
        SigningKey.readOrCreate(keys.resolve("approver.pem"), keys.resolve("approvers").resolve(approver + ".pub"));
        env.putIfAbsent("KDIAG_APPROVER_KEYS", keys.resolve("approvers").toString());
        if (policyFile != null) {
            env.put("KDIAG_POLICY_FILE", policyFile.toString());
        } else if (!env.containsKey("KDIAG_POLICY_FILE")) {
            Files.createDirectories(dataDir);
            env.put("KDIAG_POLICY_FILE", Files.writeString(dataDir.resolve("agent-policy.yaml"), LOCAL_POLICY).toString());
        }
        env.put(CommonKeys.BIND_ADDRESS.envName(), address);
        Path logSourceState = dataDir.resolve("log-source");
        if (env.containsKey(LOG_MONITORS)) {
            // the log source makes its key on first start; the agent trusts it for this node's log lines only
            env.put("KDIAG_LOG_SOURCE_VERIFICATION_KEYS", logSourceState.resolve("signing-key.pub").toString());
        }
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), address, ports.kafka(), Map.of());
        started.push(kafka);
        LOG.info("local stack component done action=start component=kafka ms={}", millisSince(begin));
        bootstrapServers = kafka.bootstrapServers();
        metrics = MetricsServer.start(address, ports.metrics());
        started.push(metrics);

        env.putIfAbsent("KDIAG_HOST_ROOT", "/");
        // artifact URLs name the host clients reach the broker by
        env.putIfAbsent("KDIAG_ADVERTISE_ADDRESS", bootstrapServers.substring(0, bootstrapServers.lastIndexOf(':')));
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
            logEnv.put("KDIAG_LOG_STATE_DIR", logSourceState.toString());
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
     * @param address what every listener binds ({@link #LOOPBACK} but on request)
     * @param policyFile the agent's policy; {@code null} for {@code KDIAG_POLICY_FILE}, else {@link #LOCAL_POLICY}
     * @param settings configuration by environment variable name ({@code KDIAG_RULES}, ...), over the process's own;
     *     with {@code KDIAG_LOG_MONITORS} the stack also runs this node's log source
     */
    static LocalStack start(Path dataDir, Ports ports, String address, Path policyFile, Map<String, String> settings) throws IOException {
        return new LocalStack(dataDir, ports, address, policyFile, settings);
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
