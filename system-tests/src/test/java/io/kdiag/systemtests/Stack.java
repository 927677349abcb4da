package io.kdiag.systemtests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.kdiag.client.KdiagClient;
import io.kdiag.deploy.ManifestContainers;
import io.kdiag.schemas.signing.SigningKey;

/**
 * Kube Diagnoser as containers on this machine's podman, started from the rendered manifests ({@code deploy/base}
 * with the {@code docker-socket} component, so the agent reaches the engine as on a Docker node): a Kafka broker
 * answering to the name the manifests' ConfigMap gives ({@code kafka.kafka.svc:9092}), the source bridge, the status
 * writer and the node agent, each on one network under its workload's name, as a Service would name it. What the
 * kubelet would provide: {@code spec.nodeName} is {@value #NODE}, {@code status.podIP} and {@code metadata.name} the
 * container's name; hostPath volumes are folders of a per-run "node" folder, except the Docker socket, which is the
 * engine's API socket. The host reaches Kafka and every container port on 127.0.0.1.
 */
final class Stack implements AutoCloseable {
    /** The node the agent runs as. */
    static final String NODE = "system-test-node";
    static final String AGENT = "kdiag-node-agent";
    static final String BRIDGE = "kdiag-source-bridge";
    static final String STATUS_WRITER = "kdiag-status-writer";
    /** Each component's workload and container, in start order. */
    static final Map<String, String> COMPONENTS = new LinkedHashMap<>(Map.of());

    static {
        COMPONENTS.put(BRIDGE, "source-bridge");
        COMPONENTS.put(STATUS_WRITER, "status-writer");
        COMPONENTS.put(AGENT, "node-agent");
    }

    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String prefix = "kdiag-st-" + Podman.RUN.replaceAll("[^A-Za-z0-9_.-]", "-");
    final String network = prefix;
    final String kafka = prefix + "-kafka";
    final Path work;
    final Path socket;
    final ManifestContainers manifests;
    final Map<String, ManifestContainers.Run> runs = new LinkedHashMap<>();
    /** Each component's /metrics right after it first became ready, before any abnormal. */
    final Map<String, String> metricsAtStart = new LinkedHashMap<>();
    private int kafkaPort;
    private KdiagClient client;

    Stack() {
        work = Path.of(System.getProperty("kdiag.work-dir", "target/system-test")).toAbsolutePath().resolve(Podman.RUN);
        String dockerHost = System.getenv("DOCKER_HOST");
        if (dockerHost == null || !dockerHost.startsWith("unix://")) {
            throw new IllegalStateException("DOCKER_HOST must name the engine's unix socket: run the tier in .ci/with-podman");
        }
        socket = Path.of(dockerHost.substring("unix://".length()));
        manifests = ManifestContainers.render(kustomization());
    }

    /** deploy/base plus the docker-socket component, as a user's overlay for a Docker node would be. */
    private Path kustomization() {
        try {
            Path dir = Files.createDirectories(work.resolve("overlay"));
            Files.writeString(dir.resolve("kustomization.yml"), """
                    resources: [%s]
                    components: [%s]
                    """.formatted(Images.REPO.resolve("deploy/base"), Images.REPO.resolve("deploy/components/docker-socket")));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Name of the container of a workload. */
    String container(String workload) {
        return prefix + "-" + workload.replaceFirst("^kdiag-", "");
    }

    Stack start() {
        String image = Images.project();
        Podman.podman("network", "create", "--label", Podman.RUN_LABEL, network);
        startKafka(Images.kafka());
        for (Map.Entry<String, String> c : COMPONENTS.entrySet()) {
            String workload = c.getKey();
            ManifestContainers.Kubelet kubelet = new ManifestContainers.Kubelet(path -> fieldRef(workload, path), this::hostPath,
                    this::secret, work.resolve("volumes"));
            ManifestContainers.Run run = manifests.container(workload, c.getValue(), kubelet);
            if (!run.image().equals(image)) {
                throw new IllegalStateException(c.getKey() + " runs " + run.image() + ", not the image make image built (" + image + ")");
            }
            runs.put(c.getKey(), run);
        }
        // all three start together and become ready together: two cores, three JVMs
        runs.forEach((workload, run) -> Podman.run(run.command(container(workload), List.of("--label", Podman.RUN_LABEL,
                "--network", network, "--network-alias", workload)), Duration.ofMinutes(2), null).orThrow(List.of("podman", "run", workload)));
        for (String workload : runs.keySet()) {
            awaitReady(workload);
            metricsAtStart.put(workload, get(workload, "metrics", "/metrics"));
        }
        return this;
    }

    private void startKafka(String image) {
        kafkaPort = freePort();
        List<String> command = new ArrayList<>(List.of("podman", "run", "-d", "--name", kafka, "--label", Podman.RUN_LABEL,
                "--network", network, "--network-alias", "kafka.kafka.svc", "-p", "127.0.0.1:" + kafkaPort + ":19092"));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_NODE_ID", "1");
        env.put("KAFKA_PROCESS_ROLES", "broker,controller");
        env.put("KAFKA_LISTENERS", "INTERNAL://:9092,EXTERNAL://:19092,CONTROLLER://:9093");
        env.put("KAFKA_ADVERTISED_LISTENERS", "INTERNAL://kafka.kafka.svc:9092,EXTERNAL://127.0.0.1:" + kafkaPort);
        env.put("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
        env.put("KAFKA_INTER_BROKER_LISTENER_NAME", "INTERNAL");
        env.put("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER");
        env.put("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093");
        env.put("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1");
        env.put("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1");
        env.put("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1");
        env.put("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        env.forEach((k, v) -> command.addAll(List.of("-e", k + "=" + v)));
        command.add(image);
        Podman.run(command, Duration.ofMinutes(1), null).orThrow(command);
        awaitKafka(0);
    }

    /** Waits until the broker's log says it started once more than the {@code earlierStarts} it said before. */
    private void awaitKafka(int earlierStarts) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (kafkaStarts() > earlierStarts) {
                return;
            }
            requireRunning(kafka);
            sleep(500);
        }
        throw new IllegalStateException("Kafka did not start within " + READY_TIMEOUT + ":\n" + tail(kafka));
    }

    private String fieldRef(String workload, String path) {
        return switch (path) {
            case "spec.nodeName" -> NODE;
            // the workload's name resolves on the network, as a pod IP is routable in a cluster
            case "status.podIP" -> workload;
            case "metadata.name" -> container(workload);
            default -> throw new IllegalArgumentException("fieldRef " + path + " is not provided");
        };
    }

    private Path hostPath(String path, String type) {
        if (path.equals("/var/run/docker.sock")) {
            return socket;
        }
        if (type != null && !type.isEmpty() && !type.equals("Directory") && !type.equals("DirectoryOrCreate")) {
            throw new IllegalArgumentException("hostPath " + path + " of type " + type + " is not provided");
        }
        try {
            return Files.createDirectories(work.resolve("node" + path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The Secrets docs/install.md has the operator make: the bridge's signing key and, for the agents, its public key,
     * made once per run; readable by the containers' users, as the kubelet's fsGroup would make them.
     */
    private Path secret(String name) {
        try {
            Path secrets = work.resolve("secrets");
            Path signing = secrets.resolve("kdiag-signing-key/signing-key.pem");
            Path verification = secrets.resolve("kdiag-verification-keys/bridge.pem");
            if (!Files.exists(signing)) {
                SigningKey.readOrCreate(signing, verification);
                Files.setPosixFilePermissions(signing, PosixFilePermissions.fromString("r--r--r--"));
            }
            return switch (name) {
                case "kdiag-signing-key" -> signing.getParent();
                case "kdiag-verification-keys" -> verification.getParent();
                case "kdiag-approver-keys" -> {
                    // one approver, as an operator's Secret holds them: the file's name is the approver's
                    Path approver = secrets.resolve("kdiag-approver-keys/ci-approver.pub");
                    if (!Files.exists(approver)) {
                        SigningKey.readOrCreate(work.resolve("ci-approver.pem"), approver);
                    }
                    yield approver.getParent();
                }
                // the relays' keys: each relay's private key, and their public keys for the agents, named after them
                case "kdiag-source-bridge-relay-key", "kdiag-status-writer-relay-key" -> {
                    String relay = name.substring("kdiag-".length(), name.length() - "-relay-key".length());
                    Path key = secrets.resolve(name).resolve("approval-relay-key.pem");
                    if (!Files.exists(key)) {
                        SigningKey.readOrCreate(key, secrets.resolve("kdiag-approval-relay-keys").resolve(relay + ".pub"));
                        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--r--r--"));
                    }
                    yield key.getParent();
                }
                case "kdiag-approval-relay-keys" -> {
                    for (String relay : List.of("source-bridge", "status-writer")) {
                        secret("kdiag-" + relay + "-relay-key");
                    }
                    yield secrets.resolve(name);
                }
                default -> throw new IllegalArgumentException("Secret " + name + " is not provided");
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the host reaches a component's named container port. */
    int port(String workload, String portName) {
        return Podman.hostPort(container(workload), runs.get(workload).ports().get(portName));
    }

    /** GET of a component's named port; the body of a 200, else an exception. */
    String get(String workload, String portName, String path) {
        String url = "http://127.0.0.1:" + port(workload, portName) + path;
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + url + " answered " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the component's readiness probe (as the manifest declares it) answers 200. */
    void awaitReady(String workload) {
        ManifestContainers.HttpProbe probe = runs.get(workload).readiness();
        String name = container(workload);
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            requireRunning(name);
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + Podman.hostPort(name, probe.port()) + probe.path())).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(500);
        }
        throw new IllegalStateException(workload + " not ready within " + READY_TIMEOUT + " (" + last + "):\n" + tail(name));
    }

    private static void requireRunning(String name) {
        String state = Podman.inspect(name, "{{.State.Status}}");
        if (!state.equals("running")) {
            throw new IllegalStateException(name + " is " + state + ":\n" + tail(name));
        }
    }

    /** The last lines a container logged. */
    static String tail(String name) {
        Podman.Result logs = Podman.tryPodman("logs", "--tail", "60", name);
        return logs.out() + logs.err();
    }

    /** Restarts a component's container (SIGTERM, then the manifest's grace) and waits until it is ready again. */
    void restart(String workload) {
        Podman.podman("restart", "-t", "30", container(workload));
        awaitReady(workload);
    }

    /** Restarts the broker and waits until it runs again. */
    void restartKafka() {
        // the log keeps the first start's line: only a further one says the restarted broker is up
        int starts = kafkaStarts();
        Podman.podman("restart", "-t", "30", kafka);
        awaitKafka(starts);
    }

    private int kafkaStarts() {
        Podman.Result logs = Podman.tryPodman("logs", kafka);
        return (logs.out() + logs.err()).split("Kafka Server started", -1).length - 1;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort;
    }

    /** A client on the host, as a user's would be (the ingest topic, the status and event topics). */
    synchronized KdiagClient client() {
        if (client == null) {
            client = KdiagClient.builder().bootstrapServers(bootstrapServers()).build();
        }
        return client;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        for (String workload : runs.keySet()) {
            Podman.remove(container(workload));
        }
        Podman.remove(kafka);
        Podman.tryPodman("network", "rm", "-f", network);
    }
}
