package io.kdiag.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A node agent in a JVM of its own ({@code io.kdiag.nodeagent.Main} with {@code KDIAG_*} settings), for footprint, scale and the storm. */
final class AgentProcess {
    private AgentProcess() {
    }

    /** Starts the agent with these JVM flags and {@code trust}'s keys and policy, its state in {@code dir}, and waits until it is ready (its partition assigned). */
    static ChildJvm start(List<String> jvmFlags, String node, String bootstrap, String topicPrefix, Path dir, Path log, BenchTrust trust)
            throws Exception {
        int httpPort = ChildJvm.freePort();
        Map<String, String> env = new HashMap<>(trust.agentEnv());
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("KDIAG_TOPIC_PREFIX", topicPrefix);
        env.put("KDIAG_STATE_DIR", dir.resolve("state").toString());
        env.put("KDIAG_HTTP_PORT", String.valueOf(httpPort));
        env.put("KDIAG_METRICS_PORT", "0");
        env.put("KDIAG_KUBERNETES", "off");
        ChildJvm agent = ChildJvm.start("the agent of " + node, jvmFlags, "io.kdiag.nodeagent.Main", List.of(), env, log);
        agent.awaitReady(httpPort, Duration.ofSeconds(90));
        return agent;
    }
}
