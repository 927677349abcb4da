package io.kdiag.allinone;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.kdiag.cli.KdiagCommand;
import io.kdiag.cli.StackFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code kdiag up}: the local stack until interrupted, with its data kept across restarts. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run the embedded stack (Kafka broker, source bridge, node agent for this host, status writer) until interrupted. "
                + "Data is kept under <home>/data across restarts.")
final class UpCommand implements Callable<Integer> {
    @ParentCommand
    KdiagCommand kdiag;

    @Option(names = "--port", defaultValue = "19092", description = "Kafka port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--address", defaultValue = LocalStack.LOOPBACK,
            description = "Address every listener binds: Kafka and the ports below (default: ${DEFAULT-VALUE}, this machine only; "
                    + "0.0.0.0 opens them to the network, where anyone who reaches them can submit abnormals).")
    String address;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "The agent's policy file (default: $KDIAG_POLICY_FILE, else the local stack's read-only policy, "
                    + "written to <home>/data/agent-policy.yaml).")
    Path policy;

    @Option(names = "--metrics-port", defaultValue = "10357", description = "Prometheus /metrics port (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--agent-port", defaultValue = "8090",
            description = "The agent's HTTP port: health, processor listings, built-ins (default: ${DEFAULT-VALUE}).")
    int agentPort;

    @Option(names = "--bridge-port", defaultValue = "8089", description = "The bridge's Alertmanager webhook port (default: ${DEFAULT-VALUE}).")
    int bridgePort;

    @Option(names = "--status-port", defaultValue = "8091", description = "The status writer's query port (default: ${DEFAULT-VALUE}).")
    int statusPort;

    @Option(names = "--rules", split = ",", paramLabel = "PATH",
            description = "AbnormalSource files or folders the bridge reads at start (KDIAG_RULES), e.g. examples/rules.")
    List<Path> rules = List.of();

    @Option(names = "--log-monitor", split = ",", paramLabel = "FILE",
            description = "node-problem-detector log monitor files: run this node's log source on them (KDIAG_LOG_MONITORS), "
                    + "e.g. examples/log/app-log-monitor.json.")
    List<Path> logMonitors = List.of();

    @Option(names = "--log-templates", paramLabel = "FILE",
            description = "What a log rule's match starts, by reason (KDIAG_LOG_TEMPLATES), e.g. examples/log/app-log-templates.json.")
    Path logTemplates;

    @Override
    public Integer call() throws Exception {
        Path home = kdiag.home();
        Files.createDirectories(home);
        CountDownLatch stopped = new CountDownLatch(1);
        try (LocalStack stack = LocalStack.start(home.resolve("data"),
                new LocalStack.Ports(port, metricsPort, agentPort, bridgePort, statusPort), address, policy, settings())) {
            new StackFile(stack.bootstrapServers(), stack.nodeName(), stack.topics().prefix()).write(home);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                StackFile.delete(home);
                stack.close();
                stopped.countDown();
            }, "kdiag-up-shutdown"));
            System.out.printf("kdiag is up: Kafka %s, node %s, metrics http://localhost:%d/metrics%n",
                    stack.bootstrapServers(), stack.nodeName(), stack.metricsPort());
            System.out.println(kubernetesLine(System.getenv()));
            System.out.println("Submit with: ./kdiag submit examples/01-collect-processes.yaml --wait   (Ctrl-C stops)");
            stopped.await();
        }
        return 0;
    }

    /** The options as the components' settings; an option not given leaves the environment's value. */
    private Map<String, String> settings() {
        Map<String, String> settings = new HashMap<>();
        if (!rules.isEmpty()) {
            settings.put("KDIAG_RULES", joined(rules));
        }
        if (!logMonitors.isEmpty()) {
            settings.put(LocalStack.LOG_MONITORS, joined(logMonitors));
        }
        if (logTemplates != null) {
            settings.put("KDIAG_LOG_TEMPLATES", logTemplates.toAbsolutePath().toString());
        }
        return settings;
    }

    private static String joined(List<Path> paths) {
        return String.join(",", paths.stream().map(p -> p.toAbsolutePath().toString()).toList());
    }

    /**
     * Whether the stack uses a cluster, said at start: it runs without one unless KDIAG_KUBERNETES asks, and a user with
     * a kubeconfig would otherwise not know it is ignored.
     */
    static String kubernetesLine(Map<String, String> env) {
        String mode = env.getOrDefault("KDIAG_KUBERNETES", "off");
        if (!mode.equalsIgnoreCase("off")) {
            return "Kubernetes: kdiag.kubernetes=" + mode + " (Abnormal resources, pods and registrations of that cluster are used)";
        }
        String kubeconfig = env.get("KUBECONFIG");
        return "Kubernetes: not used (the local stack runs without a cluster"
                + (kubeconfig != null ? "; KUBECONFIG=" + kubeconfig + " is ignored" : "") + "; KDIAG_KUBERNETES=auto uses one)";
    }
}
