package io.kdiag.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.kdiag.common.config.ConfigSource;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.AvroTrust;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The storm's many nodes without a JVM each: {@code AgentHost STATE_ROOT NODE...} runs one {@link NodeAgent} per node in
 * this JVM, configured by the {@code KDIAG_*} environment (Kafka, topic prefix, keys, policy) like the agent's own main,
 * each with its state under {@code STATE_ROOT/NODE}. It prints {@link #READY} once every agent consumes its partition,
 * and stops them all at the end of its standard input or on SIGTERM.
 */
public final class AgentHost {
    /** The start of the line printed once every agent is ready. */
    static final String READY = "agent host ready:";
    /** Agents started at once: more only make them wait for the same two cores and the broker. */
    private static final int STARTING_THREADS = 4;
    /** Agents closed at once: closing is mostly waiting for the clients' threads to end. */
    private static final int CLOSING_THREADS = 16;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private AgentHost() {
    }

    /** Runs the agents; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        AvroTrust.install();
        if (args.length < 2) {
            System.err.println("usage: AgentHost STATE_ROOT NODE...");
            System.exit(2);
        }
        Path root = Path.of(args[0]);
        List<String> nodes = List.of(args).subList(1, args.length);
        List<NodeAgent> agents = new CopyOnWriteArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> close(agents), "agent-host-shutdown"));
        ExecutorService starting = Executors.newFixedThreadPool(STARTING_THREADS);
        try {
            List<Future<NodeAgent>> started = new ArrayList<>();
            for (String node : nodes) {
                started.add(starting.submit(() -> {
                    NodeAgent agent = start(node, root.resolve(node));
                    agents.add(agent);
                    return agent;
                }));
            }
            for (Future<NodeAgent> agent : started) {
                int port = agent.get().httpPort();
                if (!ChildJvm.awaitReady(port, READY_TIMEOUT, () -> true)) {
                    throw new IllegalStateException("an agent was not ready within " + READY_TIMEOUT.toSeconds() + " s (port " + port + ")");
                }
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        } finally {
            starting.shutdown();
        }
        System.out.println(READY + " " + agents.size() + " agents");
        System.out.flush();
        while (System.in.read() != -1) {
            // nothing is read: the end of the input is the signal to stop
        }
        System.exit(0);
    }

    /** Closes the agents many at once: one at a time, a hundred take longer than the bench waits before a SIGKILL. */
    private static void close(List<NodeAgent> agents) {
        ExecutorService closing = Executors.newFixedThreadPool(CLOSING_THREADS);
        agents.forEach(agent -> closing.execute(agent::close));
        closing.shutdown();
        try {
            closing.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static NodeAgent start(String node, Path stateDir) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_STATE_DIR", stateDir.toString());
        env.put("KDIAG_HTTP_PORT", "0");
        ConfigSource source = ConfigSource.of(Map.of(), env);
        return NodeAgent.start(NodeAgentConfig.from(source), source.kafkaProperties(), new SimpleMeterRegistry());
    }

    /** {@code nodes} in {@code hosts} contiguous shares whose sizes differ by one at most, in order. */
    static List<List<String>> shares(List<String> nodes, int hosts) {
        List<List<String>> shares = new ArrayList<>();
        int from = 0;
        for (int h = 0; h < hosts; h++) {
            int to = from + nodes.size() / hosts + (h < nodes.size() % hosts ? 1 : 0);
            shares.add(nodes.subList(from, to));
            from = to;
        }
        return shares;
    }
}
