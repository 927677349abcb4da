package io.kdiag.allinone.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.kdiag.api.v1.Abnormal;
import io.kdiag.common.config.ConfigSource;
import io.kdiag.common.kafka.TopicAdmin;
import io.kdiag.nodeagent.NodeAgent;
import io.kdiag.nodeagent.NodeAgentConfig;
import io.kdiag.schemas.Topics;
import io.kdiag.sourcebridge.SourceBridge;
import io.kdiag.sourcebridge.SourceBridgeConfig;
import io.kdiag.statuswriter.StatusWriter;
import io.kdiag.statuswriter.StatusWriterConfig;
import io.kdiag.testkit.TestKafka;
import io.kdiag.testkit.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The whole pipeline against a mock Kubernetes API: a broker, a CRUD-mode API server with the CRDs of
 * {@code deploy/base/crds}, and the source bridge, one node agent and the status writer sharing one client of it.
 *
 * <p>The CRUD mock cannot select pods by {@code spec.nodeName} (see {@link NodeSelectorDroppingDispatcher}): tests create
 * only pods of the agent's node.
 */
final class E2ePipeline implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(45);
    private static final Topics TOPICS = Topics.withDefaultPrefix();
    private static final String ABNORMAL_API = "diagnosis.netease.com/v1";

    private final Path state;
    private final TestKafka kafka;
    private final KubernetesMockServer server;
    private final KubernetesClient kube;
    private StatusWriter writer;
    private SourceBridge bridge;
    private NodeAgent agent;

    private E2ePipeline(Path state, TestKafka kafka, KubernetesMockServer server, KubernetesClient kube) {
        this.state = state;
        this.kafka = kafka;
        this.server = server;
        this.kube = kube;
    }

    /** Starts the broker and the API server with the CRDs registered; the components start with {@link #start}. */
    static E2ePipeline cluster(Path state) throws IOException {
        TestKafka kafka = TestKafka.start();
        TopicAdmin.ensureTopics(Map.of("bootstrap.servers", kafka.bootstrapServers()), TOPICS, 12, (short) 1);
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new NodeSelectorDroppingDispatcher(), false);
        server.init();
        KubernetesClient kube = server.createClient();
        try (Stream<Path> crds = Files.list(Path.of("..", "deploy", "base", "crds"))) {
            for (Path crd : crds.sorted().toList()) {
                kube.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
            }
        }
        return new E2ePipeline(state, kafka, server, kube);
    }

    /** A client of the mock API server. */
    KubernetesClient kube() {
        return kube;
    }

    /** Creates pods as given (status, deletion timestamp and uid included) and returns them as the server keeps them. */
    List<Pod> createPods(List<Pod> pods) {
        return pods.stream().map(p -> kube.resource(p).create()).toList();
    }

    /**
     * Starts the status writer, the bridge and the agent of {@code node} with host root {@code hostRoot}, and waits
     * until the agent is ready (partition assigned, pod informer synced).
     */
    void start(String node, Path hostRoot) {
        Map<String, Object> settings = Map.of("bootstrap.servers", kafka.bootstrapServers());
        Map<String, String> env = new HashMap<>();
        env.put("KDIAG_NODE_NAME", node);
        env.put("KDIAG_HOST_ROOT", hostRoot.toString());
        env.put("KDIAG_HTTP_PORT", "0");
        env.put("KDIAG_SIGNING_KEY", TestKeys.signingKeyFile().toString());
        env.put("KDIAG_VERIFICATION_KEYS", TestKeys.verificationKeyFile().toString());
        // the seed's diagnosers and signal-recoverer for Abnormal resources, as an operator's policy would grant them
        try {
            env.put("KDIAG_POLICY_FILE", Files.writeString(state.resolve("policy.yaml"), """
                    allowedSignals: [9, 15]
                    grants:
                    - origins: [CustomResource]
                      processors: ["kube-diagnoser/*"]
                    """).toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        writer = StatusWriter.start(StatusWriterConfig.from(config(env, "status-writer")), settings, registry, kube);
        bridge = SourceBridge.start(SourceBridgeConfig.from(config(env, "bridge")), settings, registry, kube);
        agent = NodeAgent.start(NodeAgentConfig.from(config(env, "agent")), settings, registry, kube);
        HttpClient http = HttpClient.newHttpClient();
        URI readyz = URI.create("http://127.0.0.1:" + agent.httpPort() + "/readyz");
        await().atMost(WAIT).until(() -> http.send(HttpRequest.newBuilder(readyz).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    private ConfigSource config(Map<String, String> env, String dir) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put("KDIAG_STATE_DIR", state.resolve(dir).toString());
        return ConfigSource.of(Map.of(), copy);
    }

    /** Creates an Abnormal CR from a test resource, byte for byte as the file has it. */
    Abnormal createAbnormal(String resource) {
        try (InputStream in = resource(resource)) {
            return kube.resources(Abnormal.class).load(in).create();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the CR's status to reach {@code Succeeded} or {@code Failed} and returns the CR as the server has it. */
    GenericKubernetesResource awaitFinished(String namespace, String name) {
        await().atMost(WAIT).until(() -> {
            Abnormal cr = kube.resources(Abnormal.class).inNamespace(namespace).withName(name).get();
            return cr != null && cr.getStatus() != null
                    && ("Succeeded".equals(cr.getStatus().phase) || "Failed".equals(cr.getStatus().phase));
        });
        return kube.genericKubernetesResources(ABNORMAL_API, "Abnormal").inNamespace(namespace).withName(name).get();
    }

    /** A JSON object of a resource read generically. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    /** A JSON array of a resource read generically. */
    static List<Object> list(Object value) {
        assertThat(value).isInstanceOf(List.class);
        return List.copyOf((List<?>) value);
    }

    /** A test resource of this package's folder, {@code e2e/}. */
    static InputStream resource(String name) {
        InputStream in = E2ePipeline.class.getResourceAsStream("/e2e/" + name);
        if (in == null) {
            throw new IllegalArgumentException("no test resource e2e/" + name);
        }
        return in;
    }

    /** Reads a test resource as a generic Kubernetes object. */
    GenericKubernetesResource read(String name) {
        try (InputStream in = resource(name)) {
            return kube.getKubernetesSerialization().unmarshal(in, GenericKubernetesResource.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The CRUD mock answering the agent's pod informer: the mock matches field selectors against a resource's name and
     * namespace only, so {@code fieldSelector=spec.nodeName=<node>} would select nothing. The selector is dropped
     * (the mock's watch would send every pod anyway), and tests create only pods of the agent's node.
     */
    private static final class NodeSelectorDroppingDispatcher extends KubernetesCrudDispatcher {
        private static final Pattern NODE_SELECTOR = Pattern.compile("fieldSelector=spec\\.nodeName(?:%3D|=)[^&]*");

        @Override
        public MockResponse handleGet(String path) {
            return super.handleGet(withoutNodeSelector(path));
        }

        @Override
        public MockResponse handleWatch(String path) {
            return super.handleWatch(withoutNodeSelector(path));
        }

        private static String withoutNodeSelector(String path) {
            Matcher selector = NODE_SELECTOR.matcher(path);
            if (!selector.find()) {
                return path;
            }
            return selector.replaceFirst("").replace("?&", "?").replace("&&", "&").replaceFirst("[?&]$", "");
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : new AutoCloseable[] {agent, bridge, writer, kube}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        server.destroy();
        kafka.close();
    }
}
