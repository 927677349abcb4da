package io.kdiag.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A node agent in a JVM of its own ({@code io.kdiag.nodeagent.Main} with {@code KDIAG_*} settings), for footprint and scale. */
final class AgentProcess implements AutoCloseable {
    private final Process process;

    private AgentProcess(Process process) {
        this.process = process;
    }

    /** Starts the agent with these JVM flags and {@code trust}'s keys and policy, and waits until it is ready (its partition assigned). */
    static AgentProcess start(List<String> jvmFlags, String node, String bootstrap, String topicPrefix, Path dir, BenchTrust trust)
            throws Exception {
        int httpPort = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.kdiag.nodeagent.Main");
        Files.createDirectories(dir);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.log").toFile());
        Map<String, String> env = builder.environment();
        // only the given flags: neither the environment's JVM options nor its KDIAG_* settings
        env.keySet().removeIf(k -> k.startsWith("KDIAG_") || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("KDIAG_TOPIC_PREFIX", topicPrefix);
        env.put("KDIAG_STATE_DIR", dir.resolve("state").toString());
        env.put("KDIAG_HTTP_PORT", String.valueOf(httpPort));
        env.put("KDIAG_METRICS_PORT", "0");
        env.put("KDIAG_KUBERNETES", "off");
        env.putAll(trust.agentEnv());
        AgentProcess agent = new AgentProcess(builder.start());
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline && agent.process.isAlive()) {
            try {
                HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/readyz"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (ready.statusCode() == 200) {
                    return agent;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        agent.close();
        throw new IllegalStateException("the agent JVM did not become ready; see " + dir.resolve("agent.log"));
    }

    long pid() {
        return process.pid();
    }

    ProcStats stats() throws IOException {
        return ProcStats.of(process.pid());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
